#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A squashfs image, mounted without unpacking and without privileges: the
 * helper makes a FUSE mount in its user namespace (fsopen, so there is no
 * mount point to race for and nothing appears in any host path) and hands
 * the /dev/fuse fd to squashfuse as "/dev/fd/N" (libfuse 3 then serves an
 * existing mount). The daemon is the helper's child, dies with it
 * (PDEATHSIG) and is stopped with the sandbox.
 *
 * The daemon gets a mount namespace of its own: in the helper's, the
 * sandbox's pid 1 pivot_roots, which moves the root and cwd of every
 * process standing in the old root, the daemon's too, into the sandbox's
 * root, i.e. onto the mount the daemon serves. Its later lookups then
 * wait for answers from itself: stopped, squashfuse 0.5 (Debian 13,
 * libfuse 3.17, worker threads) opens a file while its workers are being
 * ended, and hangs in request_wait_answer, the helper waiting for it. */

static const char *const daemons[] = { "squashfuse_ll", "squashfuse", NULL };

static int set_opt(int fs, const char *key, const char *value)
{
	return (int)syscall(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG,
			    key, value, 0);
}

static int open_fuse(const char *what, struct sbx_err *err)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == EACCES || errno == EPERM)
		return sbx_err_sys(err, "an admin makes it usable with 'chmod 0666 /dev/fuse', the "
				   "distributions' default; see sandbox-run info",
				   "%s: a squashfs image needs /dev/fuse", what);
	return sbx_err_sys(err, "load the fuse module (modprobe fuse); see sandbox-run info",
			   "%s: a squashfs image needs /dev/fuse", what);
}

/* A detached, read-only FUSE mount served through fuse_fd. */
static int fuse_mount(int fuse_fd, const char *what, struct sbx_err *err)
{
	char num[32];
	int fs, mnt = -1;

	fs = (int)syscall(SYS_fsopen, "fuse", FSOPEN_CLOEXEC);
	if (fs < 0)
		return sbx_err_sys(err, "the kernel needs FUSE in user namespaces (4.18+); see sandbox-run info",
				   "%s: FUSE mount", what);
	snprintf(num, sizeof(num), "%d", fuse_fd);
	if (set_opt(fs, "fd", num) < 0 || set_opt(fs, "rootmode", "40000") < 0)
		goto fail;
	snprintf(num, sizeof(num), "%u", (unsigned)getuid());
	if (set_opt(fs, "user_id", num) < 0)
		goto fail;
	snprintf(num, sizeof(num), "%u", (unsigned)getgid());
	/* default_permissions: the kernel checks modes, as on any filesystem. */
	if (set_opt(fs, "group_id", num) < 0 || set_opt(fs, "default_permissions", NULL) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto fail;
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		goto fail;
	close(fs);
	return mnt;
fail:
	sbx_err_sys(err, NULL, "%s: FUSE mount", what);
	close(fs);
	return -1;
}

static void run_daemon(const char *image, int fuse_fd, int log_fd, pid_t parent)
{
	char dev[32];
	int null = open("/dev/null", O_RDWR);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent || null < 0)
		_exit(127);
	/* fd 3 for the FUSE connection, nothing else of ours. */
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(log_fd, 2) < 0 || dup2(fuse_fd, 3) < 0)
		_exit(127);
	if (unshare(CLONE_NEWNS) < 0) {
		dprintf(2, "mount namespace for squashfuse: %s\n", strerror(errno));
		_exit(127);
	}
	syscall(SYS_close_range, 4U, ~0U, 0);
	snprintf(dev, sizeof(dev), "/dev/fd/3");
	for (size_t i = 0; daemons[i]; i++) {
		char *argv[] = { (char *)daemons[i], "-f", (char *)image, dev, NULL };

		execvp(argv[0], argv);
	}
	dprintf(2, "cannot run squashfuse: %s\n", strerror(errno));
	_exit(127);
}

/* squashfuse's last line, for the error. */
static void daemon_message(int log_fd, char *buf, size_t len)
{
	ssize_t n = pread(log_fd, buf, len - 1, 0);
	char *nl;

	buf[n > 0 ? n : 0] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	nl = strrchr(buf, '\n');
	if (nl)
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
}

int sbx_squashfs_mount(const char *image, const char *what, struct sbx_fuse *f, struct sbx_err *err)
{
	int fuse_fd = -1, log_fd = -1, probe = -1, rc = -1;
	pid_t parent = getpid();
	char buf[4096];

	f->pid = 0;
	f->mnt_fd = -1;
	fuse_fd = open_fuse(what, err);
	if (fuse_fd < 0)
		goto out;
	f->mnt_fd = fuse_mount(fuse_fd, what, err);
	if (f->mnt_fd < 0)
		goto out;
	log_fd = memfd_create("squashfuse-log", MFD_CLOEXEC);
	if (log_fd < 0) {
		sbx_err_sys(err, NULL, "%s: squashfuse", what);
		goto out;
	}
	f->pid = fork();
	if (f->pid < 0) {
		f->pid = 0;
		sbx_err_sys(err, NULL, "%s: start squashfuse", what);
		goto out;
	}
	if (f->pid == 0)
		run_daemon(image, fuse_fd, log_fd, parent);
	/* Only the daemon holds the connection now: if it dies, requests
	 * fail (ENOTCONN) instead of hanging. */
	close(fuse_fd);
	fuse_fd = -1;
	/* The first request waits for the daemon's answer: a bad image or a
	 * missing squashfuse shows here, not later inside the sandbox. */
	probe = openat(f->mnt_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (probe < 0 || syscall(SYS_getdents64, probe, buf, sizeof(buf)) < 0) {
		int saved = errno, status;

		kill(f->pid, SIGKILL);
		waitpid(f->pid, &status, 0);
		f->pid = 0;
		daemon_message(log_fd, buf, sizeof(buf));
		if (strstr(buf, "cannot run"))
			sbx_err_set(err, 0, "install squashfuse", "%s: %s", what, buf);
		else if (strstr(buf, "mount namespace for squashfuse"))
			sbx_err_set(err, 0, "is user.max_mnt_namespaces reached? see sandbox-run info", "%s: %s",
				    what, buf);
		else
			sbx_err_set(err, saved, "is it a valid squashfs image?", "%s: squashfuse: %s",
				    what, *buf ? buf : "failed");
		goto out;
	}
	rc = 0;
out:
	if (probe >= 0)
		close(probe);
	if (fuse_fd >= 0)
		close(fuse_fd);
	if (log_fd >= 0)
		close(log_fd);
	if (rc < 0 && f->mnt_fd >= 0) {
		close(f->mnt_fd);
		f->mnt_fd = -1;
	}
	return rc;
}

void sbx_squashfs_stop(struct sbx_fuse *f)
{
	int status;

	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
		;
	f->pid = 0;
}
