/* sandbox-run info's probes: each runs in a forked child (a user namespace,
 * an overlay, a fresh /proc...) and answers through a pipe, so nothing
 * touches the caller or the host. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "info-probe.h"

/* The child's private scratch tmpfs; see mount_scratch(). */
#define SCRATCH "/tmp"
#define OVL_LAYERS "lowerdir=" SCRATCH "/lower,upperdir=" SCRATCH "/upper," \
		   "workdir=" SCRATCH "/work"

/* A probe stuck in the kernel (say, a mount waiting on a dead NFS server)
 * must not hang `info`; a healthy probe takes about a millisecond. */
#define PROBE_TIMEOUT_MS 3000

/* Closing a descriptor we only read from cannot lose data; keep the errno
 * of the step that actually failed. */
void close_quietly(int fd)
{
	int saved = errno;

	if (fd >= 0)
		(void)close(fd);
	errno = saved;
}

/* /proc files such as uid_map must be written in a single write(2). */
static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t put;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	put = write(fd, text, len);
	if (put < 0 || (size_t)put != len) {
		if (put >= 0)
			errno = EIO;
		close_quietly(fd);
		return -1;
	}
	return close(fd);
}

static int probe_fail(struct probe *p, const char *step)
{
	p->ok = false;
	p->err = errno;
	snprintf(p->step, sizeof(p->step), "%s", step);
	return -1;
}

/* The sandbox's own first steps: new user + mount namespace, map ourselves. */
static int enter_userns(struct probe *p, int more_flags)
{
	/* Read before unshare(): until the maps are written we are the
	 * overflow uid (65534) inside the new namespace. */
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | more_flags) < 0)
		return probe_fail(p, "unshare");
	/* An unprivileged gid_map write is refused until setgroups is denied
	 * (user_namespaces(7)); the file does not exist before Linux 3.19. */
	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return probe_fail(p, "write /proc/self/setgroups");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return probe_fail(p, "write /proc/self/uid_map");
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return probe_fail(p, "write /proc/self/gid_map");
	/* A mount namespace made by an unprivileged user already turns the
	 * host's shared mounts into slaves (mount_namespaces(7)); making them
	 * all private as well guarantees nothing mounted here propagates. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return probe_fail(p, "make mounts private");
	return 0;
}

/* Covering /tmp in the child's private namespace gives an empty, writable
 * tree that disappears with the child: no temp file ever reaches the host. */
static int mount_scratch(struct probe *p)
{
	if (mount("sandbox-info", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0700,size=4m") < 0)
		return probe_fail(p, "mount tmpfs on " SCRATCH);
	return 0;
}

int probe_userns(struct probe *p)
{
	if (enter_userns(p, 0) < 0)
		return -1;
	p->ok = true;
	return 0;
}

int probe_overlay(struct probe *p)
{
	static const char *const dirs[] = {
		SCRATCH "/lower", SCRATCH "/upper", SCRATCH "/work", SCRATCH "/merged",
	};
	size_t i;
	int fd;

	if (enter_userns(p, 0) < 0 || mount_scratch(p) < 0)
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0700) < 0)
			return probe_fail(p, "mkdir on the scratch tmpfs");
	/* An unprivileged overlay keeps opaque-directory marks in user.overlay.*
	 * xattrs on its upper layer; tmpfs has user xattrs only since Linux 6.6.
	 * Tried on the tmpfs root so the layers themselves stay pristine. */
	p->xattr_err = setxattr(SCRATCH, "user.sandbox-info", "1", 1, 0) < 0 ? errno : 0;
	/* userxattr (Linux 5.11) stores overlay metadata in the user.* xattrs an
	 * unprivileged mounter may write; older kernels reject it with EINVAL. */
	if (mount("overlay", SCRATCH "/merged", "overlay", 0,
		  "userxattr," OVL_LAYERS) == 0)
		p->userxattr = true;
	else if (errno != EINVAL)
		return probe_fail(p, "mount overlay (userxattr)");
	else if (mount("overlay", SCRATCH "/merged", "overlay", 0, OVL_LAYERS) < 0)
		return probe_fail(p, "mount overlay (with and without userxattr)");
	/* A mount that cannot copy up is useless for a writable sandbox. */
	fd = open(SCRATCH "/merged/probe", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return probe_fail(p, "create a file in the overlay");
	if (close(fd) < 0)
		return probe_fail(p, "close a file in the overlay");
	p->ok = true;
	return 0;
}

int probe_proc(struct probe *p)
{
	int status;
	pid_t pid;

	if (enter_userns(p, CLONE_NEWPID) < 0 || mount_scratch(p) < 0)
		return -1;
	if (mkdir(SCRATCH "/proc", 0700) < 0)
		return probe_fail(p, "mkdir " SCRATCH "/proc");
	/* unshare(CLONE_NEWPID) moves only our future children: the next one
	 * is pid 1 there, and proc must be mounted from inside the namespace. */
	pid = fork();
	if (pid < 0)
		return probe_fail(p, "fork into the pid namespace");
	if (pid == 0)
		_exit(mount("proc", SCRATCH "/proc", "proc",
			    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ? errno : 0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return probe_fail(p, "wait for pid 1");
	if (!WIFEXITED(status)) {
		errno = EINTR;
		return probe_fail(p, "pid 1 of the new namespace died");
	}
	if (WEXITSTATUS(status) != 0) {
		errno = WEXITSTATUS(status);
		return probe_fail(p, "mount proc");
	}
	p->ok = true;
	return 0;
}

int probe_seccomp(struct probe *p)
{
	struct sock_filter allow_all = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow_all };

	p->nnp_err = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		p->nnp_err = errno;
	else if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		p->nnp_err = EINVAL;
	/* Without no_new_privs only CAP_SYS_ADMIN may load a filter
	 * (seccomp(2)), so this follows the sandbox's own order. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return probe_fail(p, "load a seccomp filter");
	p->ok = true;
	return 0;
}

/* The child sends its answer in one write below PIPE_BUF, which pipe(7)
 * makes atomic: one poll and one read get all of it or nothing. */
static bool read_answer(int fd, struct probe *answer, bool *timed_out)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t got;
	int ready;

	do
		ready = poll(&pfd, 1, PROBE_TIMEOUT_MS);
	while (ready < 0 && errno == EINTR);
	*timed_out = ready == 0;
	if (ready <= 0)
		return false;
	do
		got = read(fd, answer, sizeof(*answer));
	while (got < 0 && errno == EINTR);
	return got == (ssize_t)sizeof(*answer);
}

/* Run probe_fn in a forked child and collect its struct probe. The child is
 * always reaped, and killed first if it has not answered in time. */
void run_probe(int (*probe_fn)(struct probe *), struct probe *out)
{
	int fds[2] = { -1, -1 };
	bool timed_out = false, answered;
	struct probe got;
	int status = 0;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	out->xattr_err = out->nnp_err = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		probe_fail(out, "pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		probe_fail(out, "fork");
		goto out;
	}
	if (pid == 0) {
		/* _exit(): no atexit handlers, no stdio buffers flushed twice.
		 * A struct probe is far below PIPE_BUF, so one write suffices. */
		close_quietly(fds[0]);
		probe_fn(out);
		_exit(write(fds[1], out, sizeof(*out)) == (ssize_t)sizeof(*out) ? 0 : 1);
	}
	close_quietly(fds[1]);
	fds[1] = -1;
	answered = read_answer(fds[0], &got, &timed_out);
	/* Hung, or already a zombie: kill(2) of our own child cannot fail in a
	 * way that matters, and waitpid() below reaps it either way. */
	if (!answered)
		(void)kill(pid, SIGKILL);
	/* ECHILD means the caller ignores SIGCHLD, which reaps for us. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (answered) {
		*out = got;
	} else {
		errno = 0;
		probe_fail(out, timed_out ? "probe: no answer in time" : "probe: died");
		if (!timed_out && WIFSIGNALED(status))
			snprintf(out->step, sizeof(out->step), "probe: killed by signal %d",
				 WTERMSIG(status));
	}
out:
	close_quietly(fds[0]);
	close_quietly(fds[1]);
	if (!out->ok)
		snprintf(out->why, sizeof(out->why), "%s%s%s", out->step,
			 out->err ? ": " : "", out->err ? strerror(out->err) : "");
}

bool find_program(const char *name, char *found, size_t len)
{
	const char *path = getenv("PATH"), *dir, *end;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (dir = path; *dir; dir = *end ? end + 1 : end) {
		end = strchrnul(dir, ':');
		if (end == dir)
			continue;
		if ((size_t)snprintf(found, len, "%.*s/%s", (int)(end - dir), dir, name) < len &&
		    access(found, X_OK) == 0)
			return true;
	}
	return false;
}
