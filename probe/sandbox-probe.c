/* sandbox-probe: a static multi-call program copied into test images, by
 * the test suite (as sbx-probe) and by `sandbox-run selftest`, which needs
 * no compiler on the node: it is installed in LIBEXECDIR.
 *
 * Each subcommand tries one thing and prints what the kernel answered on a
 * single line ("NAME: ok" or "NAME: ERRNO"), so a bats test can compare the
 * line with what it expects. Exit status: 0 when the probe ran (whatever the
 * answer was), 2 for a usage error, 1 when the probe itself could not run.
 *
 * Where the kernel itself may refuse an unprivileged caller with EPERM, the
 * probe passes arguments that make the kernel fail differently (a bad
 * pointer: EFAULT, a bogus flag: EINVAL, a non-tty fd: ENOTTY). A seccomp
 * filter answers before the kernel looks at the arguments, so EPERM then
 * means "refused by the filter", and the same probe run on the host shows
 * what an unfiltered kernel says. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* From <linux/keyctl.h>, spelled out so the probe needs no kernel headers. */
#define PROBE_KEYCTL_GET_KEYRING_ID 0
#define PROBE_KEY_SPEC_SESSION_KEYRING (-3)
/* From <linux/bpf.h>. */
#define PROBE_BPF_MAP_CREATE 0
/* From <linux/userfaultfd.h>: allowed for unprivileged callers. */
#define PROBE_UFFD_USER_MODE_ONLY 1

struct errno_name {
	int num;
	const char *name;
};

static const struct errno_name errno_names[] = {
	{ EPERM, "EPERM" },         { ENOENT, "ENOENT" },
	{ ESRCH, "ESRCH" },         { EINTR, "EINTR" },
	{ EIO, "EIO" },             { ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },         { ENOEXEC, "ENOEXEC" },
	{ EBADF, "EBADF" },         { ECHILD, "ECHILD" },
	{ EAGAIN, "EAGAIN" },       { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },       { EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" },         { EEXIST, "EEXIST" },
	{ EXDEV, "EXDEV" },         { ENODEV, "ENODEV" },
	{ ENOTDIR, "ENOTDIR" },     { EISDIR, "EISDIR" },
	{ EINVAL, "EINVAL" },       { ENFILE, "ENFILE" },
	{ EMFILE, "EMFILE" },       { ENOTTY, "ENOTTY" },
	{ ETXTBSY, "ETXTBSY" },     { EFBIG, "EFBIG" },
	{ ENOSPC, "ENOSPC" },       { ESPIPE, "ESPIPE" },
	{ EROFS, "EROFS" },         { EMLINK, "EMLINK" },
	{ EPIPE, "EPIPE" },         { ERANGE, "ERANGE" },
	{ ENAMETOOLONG, "ENAMETOOLONG" },
	{ ENOSYS, "ENOSYS" },       { ELOOP, "ELOOP" },
	{ ENOTSOCK, "ENOTSOCK" },   { EOPNOTSUPP, "EOPNOTSUPP" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" },
	{ EADDRINUSE, "EADDRINUSE" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
	{ ENETDOWN, "ENETDOWN" },   { ENETUNREACH, "ENETUNREACH" },
	{ ECONNABORTED, "ECONNABORTED" },
	{ ECONNRESET, "ECONNRESET" },
	{ ETIMEDOUT, "ETIMEDOUT" }, { ECONNREFUSED, "ECONNREFUSED" },
	{ EHOSTDOWN, "EHOSTDOWN" }, { EHOSTUNREACH, "EHOSTUNREACH" },
	{ EDQUOT, "EDQUOT" },       { ENOKEY, "ENOKEY" },
	{ EKEYREVOKED, "EKEYREVOKED" },
	{ EKEYREJECTED, "EKEYREJECTED" },
};

static const char *errno_name(int num)
{
	static char unknown[32];
	size_t i;

	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].num == num)
			return errno_names[i].name;
	snprintf(unknown, sizeof(unknown), "errno-%d", num);
	return unknown;
}

/* "NAME: ok" when rc >= 0, else "NAME: ERRNO"; errno is read here. */
static int report(const char *what, long rc)
{
	if (rc >= 0)
		printf("%s: ok\n", what);
	else
		printf("%s: %s\n", what, errno_name(errno));
	return 0;
}

static int probe_keyctl(void)
{
	long rc = syscall(SYS_keyctl, PROBE_KEYCTL_GET_KEYRING_ID,
			  PROBE_KEY_SPEC_SESSION_KEYRING, 0);
	return report("keyctl", rc);
}

static int probe_add_key(void)
{
	/* A bad pointer for the key type: the kernel answers EFAULT. */
	long rc = syscall(SYS_add_key, (const char *)1, "sbx-probe", "x", 1,
			  PROBE_KEY_SPEC_SESSION_KEYRING);
	return report("add-key", rc);
}

static int probe_unshare_user(void)
{
	return report("unshare-user", unshare(CLONE_NEWUSER));
}

/* 1 when running as root of the initial user namespace (the host's root),
 * where mounting over /tmp would really hide the host's /tmp. */
static int is_host_root(void)
{
	char map[128] = "";
	FILE *f = fopen("/proc/self/uid_map", "r");
	unsigned long inside, outside, count;
	int host;

	if (!f)
		return geteuid() == 0;
	host = fgets(map, sizeof(map), f) &&
	       sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 &&
	       inside == 0 && outside == 0 && count == 4294967295UL;
	fclose(f);
	return host && geteuid() == 0;
}

static int probe_mount(void)
{
	if (is_host_root()) {
		fputs("sbx-probe: not mounting over the host's /tmp as root\n", stderr);
		return 1;
	}
	return report("mount", mount("sbx-probe", "/tmp", "tmpfs", 0, NULL));
}

static int probe_tiocsti(void)
{
	char c = ' ';
	long plain, high;
	int plain_errno, high_errno;

	errno = 0;
	plain = ioctl(0, TIOCSTI, &c);
	plain_errno = errno;
	/* The kernel takes the ioctl request as an unsigned int, so a filter
	 * that compares all 64 bits misses a TIOCSTI with junk in the upper
	 * half (CVE-2017-5226). */
	errno = 0;
	high = syscall(SYS_ioctl, 0, (0x123UL << 32) | (unsigned long)TIOCSTI, &c);
	high_errno = errno;

	printf("tiocsti: %s high-bits: %s\n",
	       plain >= 0 ? "ok" : errno_name(plain_errno),
	       high >= 0 ? "ok" : errno_name(high_errno));
	return 0;
}

static int probe_bpf(void)
{
	/* A bad attribute pointer: the kernel answers EFAULT when copying it. */
	long rc = syscall(SYS_bpf, PROBE_BPF_MAP_CREATE, (void *)1, 64);
	return report("bpf", rc);
}

static int probe_perf(void)
{
	/* A NULL attribute: the kernel answers EFAULT when copying it. */
	long rc = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0UL);
	return report("perf", rc);
}

static int probe_userfaultfd(void)
{
	/* User-mode-only is open to unprivileged callers; the bogus extra flag
	 * then makes the kernel answer EINVAL instead of creating an fd. */
	long rc = syscall(SYS_userfaultfd, PROBE_UFFD_USER_MODE_ONLY | 0x40000000);
	return report("userfaultfd", rc);
}

static int probe_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *ent;
	int self, n = 0, fds[1024];
	int i, j;

	if (!dir) {
		printf("fds: %s\n", errno_name(errno));
		return 1;
	}
	self = dirfd(dir);
	while ((ent = readdir(dir)) != NULL) {
		char *end;
		long fd;

		if (ent->d_name[0] == '.')
			continue;
		fd = strtol(ent->d_name, &end, 10);
		if (*end || fd == self || n == (int)(sizeof(fds) / sizeof(fds[0])))
			continue;
		fds[n++] = (int)fd;
	}
	closedir(dir);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	fputs("fds:", stdout);
	for (i = 0; i < n; i++)
		printf(" %d", fds[i]);
	putchar('\n');
	return 0;
}

static int probe_status(void)
{
	static const char *const keys[] = {
		"CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp",
	};
	char line[512];
	FILE *f = fopen("/proc/self/status", "r");
	size_t k;

	if (!f) {
		printf("status: %s\n", errno_name(errno));
		return 1;
	}
	/* Print in a fixed order, "Key: value", whitespace normalised. */
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t len = strlen(keys[k]);

		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			char *v;

			if (strncmp(line, keys[k], len) || line[len] != ':')
				continue;
			v = line + len + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			printf("%s: %s\n", keys[k], v);
			break;
		}
	}
	fclose(f);
	return 0;
}

static int probe_ns(void)
{
	static const char *const names[] = {
		"user", "mnt", "pid", "ipc", "uts", "net", "cgroup",
	};
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64], target[128];
		ssize_t len;
		unsigned long ino;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0) {
			printf("%s:%s\n", names[i], errno_name(errno));
			rc = 1;
			continue;
		}
		target[len] = '\0';
		/* target reads "user:[4026531837]" */
		if (sscanf(target, "%*[^[][%lu]", &ino) != 1) {
			printf("%s:unparsed\n", names[i]);
			rc = 1;
			continue;
		}
		printf("%s:%lu\n", names[i], ino);
	}
	return rc;
}

static int probe_connect(const char *host, const char *port)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	struct sockaddr *addr;
	socklen_t addrlen;
	char *end;
	long p = strtol(port, &end, 10);
	int fd, rc;

	if (*end || p <= 0 || p > 65535) {
		fprintf(stderr, "sbx-probe: bad port %s\n", port);
		return 2;
	}
	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, host, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		in4.sin_port = htons((uint16_t)p);
		addr = (struct sockaddr *)&in4;
		addrlen = sizeof(in4);
	} else if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons((uint16_t)p);
		addr = (struct sockaddr *)&in6;
		addrlen = sizeof(in6);
	} else {
		fprintf(stderr, "sbx-probe: %s is not a numeric address\n", host);
		return 2;
	}
	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report("connect", -1);
	rc = connect(fd, addr, addrlen);
	report("connect", rc);
	close(fd);
	return 0;
}

static int probe_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd >= 0 && write(fd, "sbx-probe\n", 10) != 10) {
		int saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	return report("write", fd);
}

static int probe_sleep_fork(const char *arg)
{
	char *end;
	long secs = strtol(arg, &end, 10);
	pid_t pid;

	if (*end || secs <= 0) {
		fprintf(stderr, "sbx-probe: bad duration %s\n", arg);
		return 2;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("sleep-fork: %s\n", errno_name(errno));
		return 1;
	}
	if (pid == 0) {
		struct timespec ts = { .tv_sec = secs, .tv_nsec = 0 };
		int null;

		/* Leave the session and let go of the caller's pipes, so only
		 * the sandbox teardown can end this process and a leak shows as
		 * a live process rather than a hung reader. */
		setsid();
		null = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++) {
			if (null >= 0)
				dup2(null, fd);
			else
				close(fd);
		}
		if (null > 2)
			close(null);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	printf("sleep-fork: %ld\n", (long)pid);
	return 0;
}

static int probe_uid(void)
{
	printf("uid: %lu gid: %lu\n", (unsigned long)getuid(),
	       (unsigned long)getgid());
	return 0;
}

static int usage(void)
{
	fputs("usage: sbx-probe keyctl|add-key|unshare-user|mount|tiocsti|bpf|perf|\n"
	      "                 userfaultfd|fds|status|ns|uid\n"
	      "       sbx-probe connect HOST PORT | write PATH | read PATH | sleep-fork SECONDS\n"
	      "       sbx-probe spawn COUNT NAME exit|hold\n",
	      stderr);
	return 2;
}

/* The file's bytes on stdout (a /proc file has no size to trust). */
static int probe_read(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return report("read", -1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	close(fd);
	return n < 0 ? report("read", -1) : 0;
}

/* Start COUNT children named NAME (their comm, seen from the host too) that
 * wait forever; say "spawn: COUNT" once every one has its name (a pipe, not
 * a sleep). Then "exit": leave them to the sandbox's init; "hold": wait, as
 * NAME too, until killed. */
static int probe_spawn(const char *count, const char *name, const char *mode)
{
	char *end;
	long n = strtol(count, &end, 10), i;
	int ready[2];
	char c;

	if (*end || n <= 0 || n > 10000 || (strcmp(mode, "exit") && strcmp(mode, "hold"))) {
		fprintf(stderr, "sbx-probe: spawn COUNT NAME exit|hold\n");
		return 2;
	}
	if (pipe(ready) < 0)
		return report("spawn", -1);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			printf("spawn: %s after %ld\n", errno_name(errno), i);
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_NAME, name, 0, 0, 0);
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	for (i = 0; i < n && read(ready[0], &c, 1) == 1; i++)
		;
	printf("spawn: %ld\n", i);
	fflush(stdout);
	if (strcmp(mode, "hold") == 0) {
		prctl(PR_SET_NAME, name, 0, 0, 0);
		for (;;)
			pause();
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];

	if (argc == 2) {
		if (!strcmp(cmd, "keyctl"))
			return probe_keyctl();
		if (!strcmp(cmd, "add-key"))
			return probe_add_key();
		if (!strcmp(cmd, "unshare-user"))
			return probe_unshare_user();
		if (!strcmp(cmd, "mount"))
			return probe_mount();
		if (!strcmp(cmd, "tiocsti"))
			return probe_tiocsti();
		if (!strcmp(cmd, "bpf"))
			return probe_bpf();
		if (!strcmp(cmd, "perf"))
			return probe_perf();
		if (!strcmp(cmd, "userfaultfd"))
			return probe_userfaultfd();
		if (!strcmp(cmd, "fds"))
			return probe_fds();
		if (!strcmp(cmd, "status"))
			return probe_status();
		if (!strcmp(cmd, "ns"))
			return probe_ns();
		if (!strcmp(cmd, "uid"))
			return probe_uid();
	}
	if (argc == 3) {
		if (!strcmp(cmd, "write"))
			return probe_write(argv[2]);
		if (!strcmp(cmd, "sleep-fork"))
			return probe_sleep_fork(argv[2]);
		if (!strcmp(cmd, "read"))
			return probe_read(argv[2]);
	}
	if (argc == 4 && !strcmp(cmd, "connect"))
		return probe_connect(argv[2], argv[3]);
	if (argc == 5 && !strcmp(cmd, "spawn"))
		return probe_spawn(argv[2], argv[3], argv[4]);
	return usage();
}
