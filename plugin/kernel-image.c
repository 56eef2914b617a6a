/* images.kernel_squashfs: an admin's squashfs image mounted with the
 * kernel's driver instead of squashfuse (no FUSE round trip per file). Only
 * root may do that, so it happens here, in slurmstepd's privileged
 * init_post_opt, and only for files the admin alone controls: the file and
 * every directory above it owned by root and writable by nobody else. User
 * images never reach the kernel's squashfs code. */
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <slurm/slurm.h>
#include "spec/policy.h"

#define KERNEL_MNT_BASE "/run/slurm-sandbox"

static char mounted_at[PATH_MAX];

/* Owned by root, writable by root only: the file and each parent. */
static int trusted_path(const char *real, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s", real);
	for (;;) {
		if (lstat(path, &st) < 0) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			return 0;
		}
		if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
			snprintf(why, len, "%s is not owned by root and writable by root only", path);
			return 0;
		}
		if (strcmp(path, "/") == 0)
			return 1;
		*strrchr(path, '/') = '\0';
		if (!path[0])
			snprintf(path, sizeof(path), "/");
	}
}

static int is_squashfs(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ok;

	if (fd < 0)
		return 0;
	ok = read(fd, magic, sizeof(magic)) == 4 && memcmp(magic, "hsqs", 4) == 0;
	close(fd);
	return ok;
}

/* mount(8) sets up the loop device (and frees it at umount). */
static int loop_mount(const char *file, const char *dir)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execl("/bin/mount", "mount", "-t", "squashfs", "-o", "ro,nodev,nosuid,loop", file, dir,
		      (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int sbx_kernel_image_mount(const struct sbx_policy *pol, struct sbx_request *req)
{
	char why[PATH_MAX + 64], dir[PATH_MAX];
	char *real = NULL;
	int rc = 0;

	if (pol->kernel_squashfs.n == 0 || !req->image || req->image[0] != '/')
		return 0;
	real = realpath(req->image, NULL);
	if (!real || !sbx_path_allowed(real, &pol->kernel_squashfs) || !is_squashfs(real))
		goto out;
	if (!trusted_path(real, why, sizeof(why))) {
		slurm_info("sandbox: %s: not mounted with the kernel's squashfs (%s); squashfuse instead",
			   real, why);
		goto out;
	}
	snprintf(dir, sizeof(dir), KERNEL_MNT_BASE "/%u.%u", sbx_plugin.job_id, sbx_plugin.step_id);
	if ((mkdir(KERNEL_MNT_BASE, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST) || loop_mount(real, dir) < 0) {
		slurm_info("sandbox: %s: kernel squashfs mount at %s failed; squashfuse instead", real, dir);
		rmdir(dir);
		goto out;
	}
	snprintf(mounted_at, sizeof(mounted_at), "%s", dir);
	slurm_info("sandbox: %s mounted with the kernel's squashfs at %s", real, dir);
out:
	free(real);
	return rc;
}

/* Interim, until the mount is handed over as an fd: none (squashfuse). */
int sbx_kernel_image_fd(void)
{
	return -1;
}

void sbx_kernel_image_umount(void)
{
	if (!mounted_at[0])
		return;
	if (umount2(mounted_at, MNT_DETACH) < 0)
		slurm_error("sandbox: umount %s: %s", mounted_at, strerror(errno));
	rmdir(mounted_at);
	mounted_at[0] = '\0';
}
