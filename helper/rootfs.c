#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "launch/launch.h"

/* The sandbox's own scratch space: a tmpfs mounted over /tmp of the new
 * mount namespace (the host never sees it). Every host path the plan names
 * is opened before it goes up, so images and bind sources below /tmp work. */
#define BASE "/tmp"

struct host_fds {
	int image;
	int persist;    /* the named sandbox's directory, or -1 */
	int tmp;        /* a clone of the caller's /tmp, for rootfs.tmp = host */
	int *binds;     /* a clone of each plan->binds source */
};

static void close_host_fds(struct host_fds *h, size_t n_binds)
{
	if (h->image >= 0)
		close(h->image);
	if (h->tmp >= 0)
		close(h->tmp);
	if (h->persist >= 0)
		close(h->persist);
	for (size_t i = 0; h->binds && i < n_binds; i++)
		if (h->binds[i] >= 0)
			close(h->binds[i]);
	free(h->binds);
}

static int open_host_fds(const struct sbx_plan *plan, const struct sbx_image *img,
			 struct host_fds *h, struct sbx_err *err)
{
	/* A squashfs mount is attached below the scratch tmpfs later. */
	if (img->dir) {
		h->image = open(img->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (h->image < 0)
			return sbx_err_sys(err, "check the path", "image '%s'", plan->image);
	}
	if (plan->persist) {
		h->persist = open(plan->persist, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (h->persist < 0)
			return sbx_err_sys(err, NULL, "persist '%s'", plan->persist);
	}
	/* Clones, not paths: the scratch tmpfs goes over /tmp next, and a
	 * later clone of /tmp (or of /) would show it instead of the host's. */
	if (plan->tmp == SBX_SHARE_HOST) {
		h->tmp = sbx_clone_tree(AT_FDCWD, "/tmp", "/tmp (rootfs.tmp = host)", err);
		if (h->tmp < 0)
			return -1;
	}
	h->binds = calloc(plan->n_binds + 1, sizeof(int));
	if (!h->binds)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < plan->n_binds; i++)
		h->binds[i] = -1;
	for (size_t i = 0; i < plan->n_binds; i++) {
		char what[PATH_MAX * 2 + 16];

		snprintf(what, sizeof(what), "'%s:%s': source", plan->binds[i].src,
			 plan->binds[i].dst);
		h->binds[i] = sbx_clone_tree(AT_FDCWD, plan->binds[i].src, what, err);
		if (h->binds[i] < 0)
			return -1;
	}
	return 0;
}

/* Every mount point and file the sandbox adds, made in the skeleton layer
 * before the overlay exists. */
static int build_skeleton(const struct sbx_plan *plan, const struct sbx_image *img,
			  const struct host_fds *h, struct sbx_err *err)
{
	static const char *const dirs[] = { "/proc", "/dev", "/tmp", SBX_SHIM_DIR, NULL };
	int skel, rc = -1;

	if (mkdir(BASE "/skel", 0755) < 0)
		return sbx_err_sys(err, NULL, "prepare the sandbox's skeleton");
	skel = open(BASE "/skel", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (skel < 0)
		return sbx_err_sys(err, NULL, "prepare the sandbox's skeleton");
	for (size_t i = 0; dirs[i]; i++)
		if (sbx_skel_add(skel, h->image, dirs[i], SBX_SKEL_DIR, err) < 0)
			goto out;
	if (plan->sys != SBX_SYS_NONE && sbx_skel_add(skel, h->image, "/sys", SBX_SKEL_DIR, err) < 0)
		goto out;
	/* The image's WorkingDir exists, as docker makes sure it does. */
	if (img->cfg.workdir && img->cfg.workdir[0] == '/' &&
	    sbx_skel_add(skel, h->image, img->cfg.workdir, SBX_SKEL_DIR, err) < 0)
		goto out;
	/* The etc files, or a named sandbox's placeholders for them. */
	if (!plan->persist && sbx_etc_skel(skel, h->image, plan, err) < 0)
		goto out;
	for (size_t i = 0; plan->persist && sbx_etc_files[i]; i++)
		if (sbx_skel_add(skel, h->image, sbx_etc_files[i], SBX_SKEL_OWN_FILE, err) < 0)
			goto out;
	if (sbx_fakeroot_skel(skel, h->image, plan, err) < 0)
		goto out;
	for (size_t i = 0; i < plan->n_binds; i++) {
		struct stat st;

		if (fstat(h->binds[i], &st) < 0) {
			sbx_err_sys(err, NULL, "mount '%s:%s': source", plan->binds[i].src,
				    plan->binds[i].dst);
			goto out;
		}
		if (sbx_skel_add(skel, h->image, plan->binds[i].dst,
				 S_ISDIR(st.st_mode) ? SBX_SKEL_DIR : SBX_SKEL_FILE, err) < 0) {
			sbx_err_prefix(err, "mount '%s:%s': destination", plan->binds[i].src,
				       plan->binds[i].dst);
			goto out;
		}
	}
	rc = 0;
out:
	close(skel);
	return rc;
}

static bool upper_on_overlayfs(int dir_fd)
{
	struct statfs st;
	int saved = errno;
	bool on = fstatfs(dir_fd, &st) == 0 && st.f_type == OVERLAYFS_SUPER_MAGIC;

	errno = saved;
	return on;
}

static int mount_overlay(const struct sbx_plan *plan, const struct sbx_image *img,
			 struct host_fds *h, struct sbx_err *err)
{
	char opts[256], size[64], upper[64] = BASE "/upper", work[64] = BASE "/work";
	int image_fd = h->image, persist_fd = h->persist;

	snprintf(size, sizeof(size), "mode=0755,size=%llu",
		 (unsigned long long)plan->writable_size);
	if (mount("sandbox", BASE, "tmpfs", MS_NOSUID | MS_NODEV, size) < 0)
		return sbx_err_sys(err, NULL, "mount the sandbox's scratch tmpfs");
	if (SBX_FAILPOINT("mount.scratch", err) < 0)
		return -1;
	if (mkdir(BASE "/root", 0755) < 0 || mkdir(BASE "/files", 0755) < 0)
		return sbx_err_sys(err, NULL, "prepare the sandbox's scratch tmpfs");
	/* overlayfs takes lower layers from the mount namespace only, so the
	 * detached squashfs mount is attached here first. */
	if (img->mnt_fd >= 0) {
		if (mkdir(BASE "/image", 0755) < 0 ||
		    syscall(SYS_move_mount, img->mnt_fd, "", AT_FDCWD, BASE "/image",
			    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return sbx_err_sys(err, NULL, "image '%s': attach the squashfs mount", plan->image);
		h->image = open(BASE "/image", O_PATH | O_DIRECTORY | O_CLOEXEC);
		image_fd = h->image;
		if (h->image < 0)
			return sbx_err_sys(err, NULL, "image '%s': open the squashfs mount", plan->image);
	}
	if (build_skeleton(plan, img, h, err) < 0)
		return -1;
	if (persist_fd >= 0) {
		/* A named sandbox: the writable layer lives on in its directory. */
		if ((mkdirat(persist_fd, "upper", 0755) < 0 && errno != EEXIST) ||
		    (mkdirat(persist_fd, "work", 0755) < 0 && errno != EEXIST))
			return sbx_err_sys(err, NULL, "persist '%s'", plan->persist);
		snprintf(upper, sizeof(upper), "/proc/self/fd/%d/upper", persist_fd);
		snprintf(work, sizeof(work), "/proc/self/fd/%d/work", persist_fd);
	} else if (mkdir(BASE "/upper", 0755) < 0 || mkdir(BASE "/work", 0755) < 0) {
		return sbx_err_sys(err, NULL, "prepare the sandbox's scratch tmpfs");
	}
	/* userxattr: unprivileged overlayfs keeps whiteouts in user.* xattrs;
	 * older kernels without the option still mount without it. */
	snprintf(opts, sizeof(opts),
		 "userxattr,lowerdir=" BASE "/skel:/proc/self/fd/%d,upperdir=%s,workdir=%s",
		 image_fd, upper, work);
	if (mount("overlay", BASE "/root", "overlay", MS_NOSUID | MS_NODEV, opts) == 0)
		return SBX_FAILPOINT("mount.overlay", err);
	if (errno == EINVAL &&
	    mount("overlay", BASE "/root", "overlay", MS_NOSUID | MS_NODEV, opts + 10) == 0)
		return SBX_FAILPOINT("mount.overlay", err);
	/* overlayfs refuses an upper directory on overlayfs (EINVAL), as a
	 * named_dir on a container's or a VM's overlay root would be. */
	if (errno == EINVAL && persist_fd >= 0 && upper_on_overlayfs(persist_fd))
		return sbx_err_set(err, EINVAL, "put named_dir in sandbox.conf on a filesystem other than overlayfs",
				   "persist '%s': overlayfs takes no upper directory on overlayfs", plan->persist);
	return sbx_err_sys(err, "the kernel needs overlayfs in user namespaces (5.11+); see sandbox-run info",
			   "image '%s': overlay mount", plan->image);
}

static int mount_dir_fs(int root_fd, const char *path, const char *fstype,
			unsigned long flags, const char *data, struct sbx_err *err)
{
	int fd = sbx_open_in_root(root_fd, path, O_PATH | O_DIRECTORY, err);
	int rc;

	if (fd < 0)
		return -1;
	rc = sbx_mount_fs_at(fd, fstype, flags, data, path, err);
	close(fd);
	return rc;
}

/* bubblewrap's practice: parts of /proc that control the host kernel stay
 * read-only even where the user namespace would allow writing. */
static int cover_proc(int root_fd, struct sbx_err *err)
{
	static const char *const covered[] = {
		"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", NULL,
	};

	for (size_t i = 0; covered[i]; i++) {
		int fd = sbx_open_in_root(root_fd, covered[i], O_PATH, NULL);
		int rc;

		if (fd < 0)
			continue;
		rc = sbx_bind_fd(fd, fd, SBX_BIND_RO, covered[i], err);
		close(fd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The sandbox's own cgroup, as tools inside look for it (JVMs, Python read
 * /sys/fs/cgroup/memory.max): the cgroup namespace starts there. Read-only,
 * so the payload cannot raise its own limits (runc CVE-2023-25809). */
static int mount_cgroup(int root_fd, struct sbx_err *err)
{
	int fd = sbx_open_in_root(root_fd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, NULL), rc;
	struct statfs sf;

	if (fd < 0)
		return 0;       /* a sysfs without it: nothing to cover */
	/* The host's /sys (with --net host) has cgroup2 there already, and the
	 * kernel refuses a filesystem over itself (EBUSY): cover it first. */
	if (fstatfs(fd, &sf) == 0 && sf.f_type == 0x63677270) {
		rc = sbx_mount_fs_at(fd, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k",
				     "/sys/fs/cgroup", err);
		close(fd);
		if (rc < 0)
			return -1;
		fd = sbx_open_in_root(root_fd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, err);
		if (fd < 0)
			return -1;
	}
	rc = sbx_mount_fs_at(fd, "cgroup2", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			     "/sys/fs/cgroup", err);
	close(fd);
	return rc;
}

static int mount_sys(int root_fd, const struct sbx_plan *plan, int own_cgroup,
		     struct sbx_err *err)
{
	int fd, host, rc;

	if (plan->sys == SBX_SYS_NONE)
		return 0;
	fd = sbx_open_in_root(root_fd, "/sys", O_PATH | O_DIRECTORY, err);
	if (fd < 0)
		return -1;
	/* A fresh sysfs needs a network namespace of our own; with the host's
	 * network, bind the host's /sys read-only instead. */
	if (plan->net == SBX_NET_NONE &&
	    sbx_mount_fs_at(fd, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    NULL, "/sys", NULL) == 0) {
		close(fd);
		return own_cgroup ? mount_cgroup(root_fd, err) : 0;
	}
	host = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (host < 0) {
		close(fd);
		return sbx_err_sys(err, "set rootfs.sys = none", "/sys");
	}
	rc = sbx_bind_fd(host, fd, SBX_BIND_RO, "/sys", err);
	close(host);
	close(fd);
	if (rc == 0 && own_cgroup)
		rc = mount_cgroup(root_fd, err);
	return rc;
}

static int mount_tmp(int root_fd, const struct sbx_plan *plan, int host_tmp,
		     struct sbx_err *err)
{
	char opts[64];
	int fd, rc;

	if (plan->tmp == SBX_SHARE_PRIVATE) {
		snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
			 (unsigned long long)plan->tmp_size);
		return mount_dir_fs(root_fd, "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts, err);
	}
	fd = sbx_open_in_root(root_fd, "/tmp", O_PATH | O_DIRECTORY, err);
	if (fd < 0)
		return -1;
	rc = sbx_attach_tree(host_tmp, fd, 0, "/tmp", err);
	close(fd);
	return rc;
}

static int mount_binds(int root_fd, const struct sbx_plan *plan,
		       const struct host_fds *h, struct sbx_err *err)
{
	for (size_t i = 0; i < plan->n_binds; i++) {
		const struct sbx_bind *b = &plan->binds[i];
		char what[PATH_MAX * 2 + 16];
		struct stat st;
		int fd, rc;

		snprintf(what, sizeof(what), "'%s:%s'", b->src, b->dst);
		if (fstat(h->binds[i], &st) < 0)
			return sbx_err_sys(err, NULL, "mount %s: source", what);
		fd = sbx_make_in_root(root_fd, b->dst, !S_ISDIR(st.st_mode), err);
		if (fd < 0)
			return sbx_err_prefix(err, "mount %s: destination", what);
		/* A device node as the source (/dev/null over a file of the
		 * image): the plan checked that the caller may open it. */
		rc = sbx_attach_tree(h->binds[i], fd, (b->readonly ? SBX_BIND_RO : 0) |
				     (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? SBX_BIND_DEV : 0),
				     what, err);
		close(fd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* /.sandbox: the run configuration every task's shim reads after joining, and the
 * compiled seccomp filter, read-only. */
static int mount_shim_dir(int root_fd, int files_fd, const struct sbx_plan *plan,
			  const struct sbx_image *img,
			  struct sbx_err *err)
{
	int fd = -1, dst = -1, rc = -1;

	fd = openat(files_fd, SBX_RUNCONF_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || sbx_runconf_write(plan, &img->cfg, fd, err) < 0) {
		if (fd < 0)
			sbx_err_sys(err, NULL, "write the sandbox config");
		goto out;
	}
	close(fd);
	fd = -1;
	if (plan->seccomp) {
		fd = openat(files_fd, SBX_SECCOMP_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			sbx_err_sys(err, NULL, "write the seccomp filter");
			goto out;
		}
		if (sbx_seccomp_export(plan, fd, err) < 0)
			goto out;
		close(fd);
		fd = -1;
	}
	dst = sbx_open_in_root(root_fd, SBX_SHIM_DIR, O_PATH | O_DIRECTORY, err);
	if (dst < 0)
		goto out;
	rc = sbx_bind_fd(files_fd, dst, SBX_BIND_RO, SBX_SHIM_DIR, err);
out:
	if (fd >= 0)
		close(fd);
	if (dst >= 0)
		close(dst);
	return rc;
}

static int enter_root(int root_fd, struct sbx_err *err)
{
	/* pivot_root(".", "."): the old root ends up stacked under the new
	 * one and is detached at once; no directory for it is needed. */
	if (fchdir(root_fd) < 0)
		return sbx_err_sys(err, NULL, "enter the new root");
	if (SBX_FAILPOINT("pivot_root.before", err) < 0)
		return -1;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_err_sys(err, NULL, "pivot_root");
	if (SBX_FAILPOINT("pivot_root.after", err) < 0)
		return -1;
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_err_sys(err, NULL, "detach the old root");
	if (chdir("/") < 0)
		return sbx_err_sys(err, NULL, "chdir /");
	return 0;
}

int sbx_rootfs_build(const struct sbx_plan *plan, const struct sbx_image *img, int own_cgroup,
		     struct sbx_err *err)
{
	struct host_fds h = { .image = -1, .persist = -1, .tmp = -1, .binds = NULL };
	int root_fd = -1, files_fd = -1, proc_fd = -1, rc = -1;

	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		sbx_err_sys(err, NULL, "make / private");
		goto out;
	}
	if (open_host_fds(plan, img, &h, err) < 0 || mount_overlay(plan, img, &h, err) < 0)
		goto out;
	root_fd = open(BASE "/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	files_fd = open(BASE "/files", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0 || files_fd < 0) {
		sbx_err_sys(err, NULL, "open the new root");
		goto out;
	}
	proc_fd = sbx_open_in_root(root_fd, "/proc", O_PATH | O_DIRECTORY, err);
	if (proc_fd < 0 || sbx_mount_fs_at(proc_fd, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
					   NULL, "/proc", err) < 0) {
		if (err && err->errnum == EPERM)
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 " (the host's /proc has covered paths, e.g. inside a container)");
		goto out;
	}
	if (cover_proc(root_fd, err) < 0 || sbx_dev_setup(root_fd, plan, err) < 0 ||
	    mount_sys(root_fd, plan, own_cgroup, err) < 0 || mount_tmp(root_fd, plan, h.tmp, err) < 0 ||
	    (plan->persist && sbx_etc_setup(root_fd, h.image, files_fd, plan, err) < 0) ||
	    mount_binds(root_fd, plan, &h, err) < 0 ||
	    mount_shim_dir(root_fd, files_fd, plan, img, err) < 0 ||
	    sbx_hooks_run(BASE "/root", err) < 0)
		goto out;
	if (!plan->writable && sbx_set_readonly(root_fd, "/", err) < 0)
		goto out;
	if (enter_root(root_fd, err) < 0)
		goto out;
	rc = 0;
out:
	if (proc_fd >= 0)
		close(proc_fd);
	if (root_fd >= 0)
		close(root_fd);
	if (files_fd >= 0)
		close(files_fd);
	close_host_fds(&h, plan->n_binds);
	return rc;
}
