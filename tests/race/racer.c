/* racer: what a hostile job user runs next to the plugin's root code, in
 * tests/race/ and tests/slurm/. Run it as the job user; it stops by itself.
 *
 *   racer exchange A B ITERATIONS|--seconds N [--group GID]
 *       swap A and B (renameat2 RENAME_EXCHANGE) in a tight loop: a directory
 *       the user owns and a symlink the user planted trade places millions of
 *       times, so root finds either one at any path lookup. --group: every
 *       64 swaps, put both (not what a symlink points to) back in group GID,
 *       one of the user's supplementary groups, should root have changed it.
 *   racer forge-status PID --seconds N
 *       write "ready PID PID -" and "ready PID -" (the records of the old and
 *       the new status protocol) into fds 3 and 5 (the status and progress
 *       pipes) of every sandbox-helper process of this user it can open, as
 *       any process of the user could through /proc/<helper>/fd/N.
 *
 * Failed swaps and writes are expected (a path is missing for a moment, a
 * helper is gone) and only counted. SIGTERM or SIGINT end the loop early; the
 * summary line on stdout comes either way. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopped;

static void stop(int sig)
{
	(void)sig;
	stopped = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: racer exchange A B ITERATIONS|--seconds N [--group GID]\n"
			"       racer forge-status PID --seconds N\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		perror("racer: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "racer: '%s': not a positive number\n", s);
		exit(2);
	}
	return v;
}

/* Whatever happens to the test that started us: never outlive it by more
 * than a minute. */
static void backstop(double seconds)
{
	alarm(seconds > 0 ? (unsigned)seconds + 60 : 600);
}

static int race_exchange(const char *a, const char *b, long iterations, double seconds,
			 long group)
{
	double start = now(), end = start + seconds;
	long swaps = 0, failed = 0, regroup_failed = 0, i;

	printf("racer: exchange %s %s: started\n", a, b);

	for (i = 0; !stopped && (iterations == 0 || i < iterations); i++) {
		if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0)
			swaps++;
		else
			failed++;
		if (group >= 0 && (i & 63) == 0) {
			/* Fails while a path is missing: the next round retries. */
			if (fchownat(AT_FDCWD, a, (uid_t)-1, (gid_t)group, AT_SYMLINK_NOFOLLOW) < 0 ||
			    fchownat(AT_FDCWD, b, (uid_t)-1, (gid_t)group, AT_SYMLINK_NOFOLLOW) < 0)
				regroup_failed++;
		}
		if (seconds > 0 && (i & 1023) == 0 && now() >= end)
			break;
	}
	printf("racer: exchange %s %s: %ld swaps, %ld failed, in %.1f s", a, b, swaps, failed,
	       now() - start);
	if (group >= 0)
		printf(" (group %ld put back, %ld times failed)", group, regroup_failed);
	printf("\n");
	return 0;
}

/* Is /proc/<pid> a sandbox-helper of ours? */
static int is_our_helper(int proc, const char *pid)
{
	char path[NAME_MAX + 16], comm[64] = "";
	struct stat st;
	ssize_t n;
	int fd;

	if (fstatat(proc, pid, &st, 0) < 0 || st.st_uid != getuid())
		return 0;
	snprintf(path, sizeof(path), "%s/comm", pid);
	fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	return n > 0 && strncmp(comm, "sandbox-helper\n", 15) == 0;
}

/* Its fd, when that is a pipe (3: status, 5: progress), opened for writing. */
static int open_status_pipe(int proc, const char *pid, int fd)
{
	char path[NAME_MAX + 32], link[64] = "";
	ssize_t n;

	snprintf(path, sizeof(path), "%s/fd/%d", pid, fd);
	n = readlinkat(proc, path, link, sizeof(link) - 1);
	if (n <= 5 || strncmp(link, "pipe:", 5) != 0)
		return -1;
	return openat(proc, path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

static int forge_status(long victim, double seconds)
{
	double start = now(), end = start + seconds;
	long scans = 0, seen = 0, writes = 0;
	char line[96];
	int proc, len;

	len = snprintf(line, sizeof(line), "ready %ld %ld -\nready %ld -\n", victim, victim, victim);
	proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0) {
		perror("racer: /proc");
		return 1;
	}
	printf("racer: forge-status %ld: started\n", victim);
	while (!stopped && now() < end) {
		int dfd = dup(proc);
		struct dirent *e;
		DIR *d;

		if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0 || !(d = fdopendir(dfd))) {
			perror("racer: read /proc");
			return 1;
		}
		while ((e = readdir(d))) {
			int fd;

			if (e->d_name[0] < '1' || e->d_name[0] > '9' || !is_our_helper(proc, e->d_name))
				continue;
			seen++;
			for (int n = 3; n <= 5; n += 2) {
				fd = open_status_pipe(proc, e->d_name, n);
				if (fd < 0)
					continue;
				if (write(fd, line, (size_t)len) == len)
					writes++;
				close(fd);
			}
		}
		if (closedir(d) < 0) {
			perror("racer: read /proc");
			return 1;
		}
		scans++;
		/* Fast enough to land inside any import, slow enough to leave
		 * the 2-core test machine to the steps. */
		usleep(2000);
	}
	if (close(proc) < 0) {
		perror("racer: /proc");
		return 1;
	}
	printf("racer: forge-status %ld: %ld forged lines written, %ld sightings of a helper"
	       " in %ld scans of /proc, in %.1f s\n", victim, writes, seen, scans, now() - start);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = stop };
	long iterations = 0, group = -1;
	double seconds = 0;
	int i;

	/* A pipe whose reader has just gone fails the write (EPIPE), counted
	 * as any failed write: it must not end the racer. */
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("racer: sigaction");
		return 1;
	}
	/* The summary must reach a file even when the loop is cut short. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4)
		usage();
	i = strcmp(argv[1], "exchange") == 0 ? 4 : 3;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = (double)number(argv[++i]);
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc && argv[1][0] == 'e')
			group = number(argv[++i]);
		else if (argv[i][0] != '-' && iterations == 0 && argv[1][0] == 'e')
			iterations = number(argv[i]);
		else
			usage();
	}
	if ((iterations > 0) == (seconds > 0))
		usage();
	backstop(seconds);
	if (strcmp(argv[1], "exchange") == 0)
		return race_exchange(argv[2], argv[3], iterations, seconds, group);
	if (strcmp(argv[1], "forge-status") == 0)
		return forge_status(number(argv[2]), seconds);
	usage();
	return 2;
}
