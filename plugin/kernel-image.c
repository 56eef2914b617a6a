/* images.kernel_squashfs: an admin's squashfs image mounted with the
 * kernel's driver instead of squashfuse (no FUSE round trip per file). Only
 * root may do that, so it happens here, in slurmstepd's privileged
 * init_post_opt, and only for files the admin alone controls: the file and
 * every directory above it owned by root and writable by nobody else. User
 * images never reach the kernel's squashfs code.
 *
 * Root reaches the file once, by fd, through root-owned directories only
 * (util/rootdir.h), checks that the job's user may read it by opening it
 * with the user's credentials (util/asuser.h), and mounts from that fd: a
 * loop device configured on the fd (LOOP_CONFIGURE), then fsopen/fsmount.
 * The mount is attached below a root-only directory (0700), so no other
 * user reaches it; the task hands the mount's fd to the helper, which
 * enters it as its working directory before it unshares its mount
 * namespace: the kernel then gives it the copy in the new namespace, with
 * ro, nosuid and nodev locked (it cannot clear them there). */
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <slurm/slurm.h>
#include "spec/policy.h"
#include "util/strv.h"
#include "util/asuser.h"
#include "util/rootdir.h"

#define KERNEL_MNT_BASE "/run/slurm-sandbox"

static int mount_fd = -1;          /* the attached mount, held by slurmstepd */
static char mounted_name[32];      /* JOB.STEP below KERNEL_MNT_BASE */

/* The image file, opened by root through root's directories only; -1 and
 * why when it does not qualify for the kernel's driver. */
static int open_trusted(const char *real, char *why, size_t len)
{
	struct sbx_err err = { 0 };
	char dir[PATH_MAX];
	const char *base = strrchr(real, '/');
	struct stat st;
	char magic[4];
	int dfd, fd = -1;

	snprintf(dir, sizeof(dir), "%.*s", base == real ? 1 : (int)(base - real), real);
	dfd = sbx_rootdir_open(dir, 0, 0, "images.kernel_squashfs", &err);
	if (dfd < 0) {
		snprintf(why, len, "%s", err.msg);
		return -1;
	}
	/* O_NONBLOCK: a FIFO where the image should be must not hang root. */
	fd = openat(dfd, base + 1, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(dfd);
	if (fd < 0) {
		snprintf(why, len, "%s: %s", real, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, len, "%s is not a regular file owned by root and writable by root only", real);
		goto fail;
	}
	if (pread(fd, magic, sizeof(magic), 0) != 4 || memcmp(magic, "hsqs", 4) != 0) {
		snprintf(why, len, "%s is not a squashfs image", real);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* What the job's user sees at the image path: the file it resolves to and
 * whether they may read it. */
struct user_view {
	const char *image;
	const struct sbx_strv *allowed;  /* images.kernel_squashfs */
};

/* out: "" when the path is none of the admin's kernel images, else
 * "<dev> <ino> <real path>" of the file the user opened. */
static int user_opens(void *arg, char *out, struct sbx_err *err)
{
	const struct user_view *v = arg;
	char *real = realpath(v->image, NULL);
	struct stat st;
	int fd, rc = 0;

	if (!real) {
		if (errno == EACCES)
			rc = sbx_err_sys(err, "ask the admin for read access to the image", "image '%s'",
					 v->image);
		goto out;
	}
	if (!sbx_path_allowed(real, v->allowed))
		goto out;
	fd = open(real, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		rc = sbx_err_sys(err, "ask the admin for read access to the image", "image '%s'", v->image);
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		snprintf(out, SBX_ASUSER_OUT, "%llu %llu %s", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, real);
	close(fd);
out:
	free(real);
	return rc;
}

/* A read-only loop device on the file, freed with the last mount of it. */
static int loop_attach(int file_fd, char *dev, size_t len, struct sbx_err *err)
{
	struct loop_config cfg = {
		.fd = (unsigned)file_fd,
		.info = { .lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR },
	};
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), loop = -1;

	if (ctl < 0)
		return sbx_err_sys(err, NULL, "kernel squashfs: /dev/loop-control");
	/* Another process may take the free device first: EBUSY, next one. */
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			sbx_err_sys(err, NULL, "kernel squashfs: no free loop device");
			break;
		}
		snprintf(dev, len, "/dev/loop%d", n);
		loop = open(dev, O_RDONLY | O_CLOEXEC);
		if (loop < 0) {
			sbx_err_sys(err, NULL, "kernel squashfs: %s", dev);
			break;
		}
		if (ioctl(loop, LOOP_CONFIGURE, &cfg) == 0)
			break;
		if (errno != EBUSY) {
			sbx_err_sys(err, NULL, "kernel squashfs: configure %s", dev);
			close(loop);
			loop = -1;
			break;
		}
		close(loop);
		loop = -1;
	}
	close(ctl);
	return loop;
}

/* fsopen/fsmount of the loop device: a detached mount, ro,nosuid,nodev. */
static int squashfs_mount(const char *dev, struct sbx_err *err)
{
	int fs = (int)syscall(SYS_fsopen, "squashfs", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return sbx_err_sys(err, NULL, "kernel squashfs: fsopen");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", dev, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		sbx_err_sys(err, NULL, "kernel squashfs: mount %s", dev);
		goto out;
	}
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		sbx_err_sys(err, NULL, "kernel squashfs: fsmount %s", dev);
out:
	close(fs);
	return mnt;
}

/* Attach mnt at KERNEL_MNT_BASE/JOB.STEP, in a directory only root may
 * enter, so that the host namespace holds it (the helper's copy comes
 * from there) but no other user reaches it. */
static int attach(int mnt, struct sbx_err *err)
{
	int base = sbx_rootdir_open(KERNEL_MNT_BASE, 0700, 0, "kernel squashfs mounts", err), dir = -1;
	int rc = -1;

	if (base < 0)
		return -1;
	if (fchmod(base, 0700) < 0) {
		sbx_err_sys(err, NULL, "kernel squashfs: chmod " KERNEL_MNT_BASE);
		goto out;
	}
	snprintf(mounted_name, sizeof(mounted_name), "%u.%u", sbx_plugin.job_id, sbx_plugin.step_id);
	if (mkdirat(base, mounted_name, 0700) < 0 && errno != EEXIST) {
		sbx_err_sys(err, NULL, "kernel squashfs: mkdir %s/%s", KERNEL_MNT_BASE, mounted_name);
		goto out;
	}
	dir = openat(base, mounted_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0 || syscall(SYS_move_mount, mnt, "", dir, "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		sbx_err_sys(err, NULL, "kernel squashfs: attach at %s/%s", KERNEL_MNT_BASE, mounted_name);
		unlinkat(base, mounted_name, AT_REMOVEDIR);
		mounted_name[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	if (dir >= 0)
		close(dir);
	close(base);
	return rc;
}

int sbx_kernel_image_mount(const struct sbx_policy *pol, struct sbx_request *req,
			   const struct sbx_cred *cred, struct sbx_err *err)
{
	struct user_view view = { .image = req->image, .allowed = &pol->kernel_squashfs };
	char seen[SBX_ASUSER_OUT], why[PATH_MAX + 256], dev[32];
	unsigned long long user_dev, user_ino;
	struct sbx_err local = { 0 };
	int fd = -1, loop = -1, mnt = -1, off = 0;
	const char *real;
	struct stat st;

	if (pol->kernel_squashfs.n == 0 || !req->image || req->image[0] != '/')
		return 0;
	/* The user's view names the file (and says whether they may read
	 * it); root then walks that name again through root's directories
	 * only and must meet the very same file. */
	if (sbx_as_user(cred, user_opens, &view, seen, err) < 0)
		return -1;
	if (!seen[0] || sscanf(seen, "%llu %llu %n", &user_dev, &user_ino, &off) != 2 || !off)
		return 0;
	real = seen + off;
	/* The name came from the user's side: root checks it against the
	 * admin's list itself before walking it. */
	if (!sbx_path_allowed(real, &pol->kernel_squashfs))
		return 0;
	fd = open_trusted(real, why, sizeof(why));
	if (fd < 0) {
		slurm_info("sandbox: %s: not mounted with the kernel's squashfs (%s); squashfuse instead",
			   real, why);
		return 0;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != (dev_t)user_dev || st.st_ino != (ino_t)user_ino) {
		close(fd);
		return sbx_err_set(err, 0, "try again", "image '%s': changed while it was checked",
				   req->image);
	}
	loop = loop_attach(fd, dev, sizeof(dev), &local);
	if (loop >= 0)
		mnt = squashfs_mount(dev, &local);
	if (mnt < 0 || attach(mnt, &local) < 0) {
		slurm_info("sandbox: %s: %s; squashfuse instead", real, local.msg);
		goto out;
	}
	mount_fd = mnt;
	mnt = -1;
	req->premounted = 1;
	slurm_info("sandbox: %s mounted with the kernel's squashfs at %s/%s", real, KERNEL_MNT_BASE,
		   mounted_name);
out:
	if (mnt >= 0)
		close(mnt);
	if (loop >= 0)
		close(loop);
	close(fd);
	return 0;
}

int sbx_kernel_image_fd(void)
{
	return mount_fd;
}

void sbx_kernel_image_umount(void)
{
	char path[sizeof(KERNEL_MNT_BASE) + sizeof(mounted_name) + 1];
	int base;

	if (mount_fd >= 0) {
		close(mount_fd);
		mount_fd = -1;
	}
	if (!mounted_name[0])
		return;
	/* Every component is root's and writable by root only: a path is
	 * safe here. */
	snprintf(path, sizeof(path), KERNEL_MNT_BASE "/%s", mounted_name);
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		slurm_error("sandbox: umount %s: %s", path, strerror(errno));
	base = open(KERNEL_MNT_BASE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (base >= 0) {
		unlinkat(base, mounted_name, AT_REMOVEDIR);
		close(base);
	}
	mounted_name[0] = '\0';
}
