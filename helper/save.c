/* --sandbox-save=FILE: a named sandbox's root as it stands (the image with
 * the writable layer earlier steps left in its directory) written as a new
 * squashfs image that the user owns and can run again. Done by a child of
 * the helper, as the user, before the sandbox is built: in a user and mount
 * namespace of its own it mounts a read-only overlay of the layer over the
 * image (overlayfs reads the layer's whiteouts and opaque directories, so
 * what was deleted stays deleted) and runs mksquashfs on it. The user's
 * files are stored as root's (the namespace maps the user to 0), as in the
 * images the cache imports. FILE is written under a temporary name beside
 * it and renamed when complete: no half-written image can be run. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCRATCH "/tmp"

static int write_proc(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

static int map_to_root(uid_t uid, gid_t gid, struct sbx_err *err)
{
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return sbx_err_sys(err, "see sandbox-run info", "save: namespaces");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_proc("/proc/self/setgroups", "deny") < 0 || write_proc("/proc/self/uid_map", map) < 0)
		return sbx_err_sys(err, NULL, "save: uid map");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (write_proc("/proc/self/gid_map", map) < 0)
		return sbx_err_sys(err, NULL, "save: gid map");
	return 0;
}

/* mksquashfs to completion, with keep_fd open (dst names it through
 * /proc/self/fd); its last line of stderr is the message. */
static int run_mksquashfs(const char *src, const char *dst, int keep_fd, struct sbx_err *err)
{
	char *argv[] = { "mksquashfs", (char *)src, (char *)dst, "-comp", "zstd", "-Xcompression-level",
			 "3", "-no-xattrs", "-noappend", "-quiet", "-no-progress", "-mem", "256M", NULL };
	char msg[512] = "";
	int errfd = memfd_create("sandbox-save-stderr", MFD_CLOEXEC), status;
	pid_t pid;

	if (errfd < 0)
		return sbx_err_sys(err, NULL, "save: mksquashfs");
	pid = fork();
	if (pid < 0) {
		close(errfd);
		return sbx_err_sys(err, NULL, "save: mksquashfs");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(errfd, 2) < 0 ||
		    fcntl(keep_fd, F_SETFD, 0) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "cannot run mksquashfs: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			close(errfd);
			return sbx_err_sys(err, NULL, "save: mksquashfs");
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		close(errfd);
		return 0;
	}
	{
		ssize_t n = pread(errfd, msg, sizeof(msg) - 1, 0);
		char *nl;

		msg[n > 0 ? n : 0] = '\0';
		while ((nl = strrchr(msg, '\n')) && nl[1] == '\0')
			*nl = '\0';
		if ((nl = strrchr(msg, '\n')))
			memmove(msg, nl + 1, strlen(nl + 1) + 1);
	}
	close(errfd);
	return sbx_err_set(err, 0, WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
			   "install squashfs-tools" : NULL, "save: mksquashfs: %s", *msg ? msg : "failed");
}

/* The saver itself, in its own child: returns the exit status. */
static int save_child(const struct sbx_plan *plan, const struct sbx_image *img, const char *out,
		      struct sbx_err *err)
{
	struct sbx_fuse fuse = { .pid = 0, .mnt_fd = -1 };
	char opts[PATH_MAX + 128], image[64], target[PATH_MAX], tmp_name[NAME_MAX + 1];
	char *copy = strdup(out), *base, *dir;
	int upper = -1, image_fd = -1, out_dir = -1, rc = -1;

	if (!copy) {
		sbx_err_set(err, ENOMEM, NULL, "save");
		goto out;
	}
	base = basename(copy);
	snprintf(tmp_name, sizeof(tmp_name), ".%.200s.partial-%d", base, (int)getpid());
	{
		char *copy2 = strdup(out);

		if (!copy2) {
			sbx_err_set(err, ENOMEM, NULL, "save");
			goto out;
		}
		dir = dirname(copy2);
		out_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		free(copy2);
	}
	if (out_dir < 0) {
		sbx_err_sys(err, "save into an existing directory", "save '%s'", out);
		goto out;
	}
	/* overlayfs takes its layers from the mount namespace it is mounted
	 * in (a mount of the old one cannot be cloned): open them after
	 * unshare, and before the scratch tmpfs covers /tmp. */
	if (map_to_root(plan->uid, plan->gid, err) < 0)
		goto out;
	upper = openat(AT_FDCWD, plan->persist, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (upper >= 0) {
		int u = openat(upper, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		close(upper);
		upper = u;
	}
	if (upper < 0) {
		sbx_err_sys(err, "run a step of the named sandbox first", "save '%s': the sandbox's layer", out);
		goto out;
	}
	if (img->dir && (image_fd = open(img->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sbx_err_sys(err, NULL, "save: image '%s'", plan->image);
		goto out;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("sandbox-save", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m") < 0 ||
	    mkdir(SCRATCH "/image", 0700) < 0 || mkdir(SCRATCH "/root", 0700) < 0) {
		sbx_err_sys(err, NULL, "save: scratch");
		goto out;
	}
	if (img->squashfs) {
		if (sbx_squashfs_mount(img->squashfs, "save: image", &fuse, err) < 0)
			goto out;
		if (syscall(SYS_move_mount, fuse.mnt_fd, "", AT_FDCWD, SCRATCH "/image",
			    MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			sbx_err_sys(err, NULL, "save: attach the image");
			goto out;
		}
		snprintf(image, sizeof(image), SCRATCH "/image");
	} else if (image_fd >= 0) {
		snprintf(image, sizeof(image), "/proc/self/fd/%d", image_fd);
	} else {
		sbx_err_set(err, 0, "save a sandbox of a directory, squashfs or imported image",
			    "save '%s': a kernel-mounted image cannot be saved", out);
		goto out;
	}
	/* Two lower layers, no upper: a read-only overlay of the layer over
	 * the image. userxattr: the layer's whiteouts are user.* xattrs. */
	snprintf(opts, sizeof(opts), "userxattr,lowerdir=/proc/self/fd/%d:%s", upper, image);
	if (mount("overlay", SCRATCH "/root", "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0 &&
	    (errno != EINVAL ||
	     mount("overlay", SCRATCH "/root", "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts + 10) < 0)) {
		sbx_err_sys(err, NULL, "save: overlay of the layer and the image");
		goto out;
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d/%s", out_dir, tmp_name);
	if (run_mksquashfs(SCRATCH "/root", target, out_dir, err) < 0) {
		unlinkat(out_dir, tmp_name, 0);
		goto out;
	}
	if (renameat(out_dir, tmp_name, out_dir, base) < 0) {
		sbx_err_sys(err, NULL, "save '%s'", out);
		unlinkat(out_dir, tmp_name, 0);
		goto out;
	}
	rc = 0;
out:
	sbx_squashfs_stop(&fuse);
	if (upper >= 0)
		close(upper);
	if (image_fd >= 0)
		close(image_fd);
	if (out_dir >= 0)
		close(out_dir);
	free(copy);
	return rc < 0 ? 1 : 0;
}

int sbx_save_root(const struct sbx_plan *plan, const struct sbx_image *img, const char *out,
		  struct sbx_err *err)
{
	char msg[SBX_ERR_MAX];
	int pipefd[2], status;
	pid_t pid;
	ssize_t n;

	if (!plan->persist)
		return sbx_err_set(err, 0, "name the sandbox (--sandbox-name)",
				   "save '%s': only a named sandbox can be saved", out);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sbx_err_sys(err, NULL, "save");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return sbx_err_sys(err, NULL, "save");
	}
	if (pid == 0) {
		struct sbx_err child = { 0 };
		int st;

		close(pipefd[0]);
		st = save_child(plan, img, out, &child);
		if (st != 0 && write(pipefd[1], child.msg, strlen(child.msg)) < 0)
			st = 2;
		_exit(st);
	}
	close(pipefd[1]);
	/* The child's whole message, hint included, in one write. */
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sbx_err_sys(err, NULL, "save: wait");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (n > 0) {
		msg[n] = '\0';
		return sbx_err_set(err, 0, NULL, "%s", msg);
	}
	return sbx_err_set(err, 0, NULL, "save '%s': failed", out);
}
