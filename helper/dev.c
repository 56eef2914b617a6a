#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* An unprivileged user namespace cannot mknod, so the usual character
 * devices are bound from the host, one file each; nothing else of the
 * host's /dev is visible. */
static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty", NULL,
};

static const struct { const char *name, *target; } dev_links[] = {
	{ "fd", "/proc/self/fd" },
	{ "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
	{ "ptmx", "pts/ptmx" },
	{ NULL, NULL },
};

static int bind_node(int dev_fd, const char *name, struct sbx_err *err)
{
	char host[64], what[80];
	int src = -1, dst = -1, f, rc = -1;

	snprintf(host, sizeof(host), "/dev/%s", name);
	snprintf(what, sizeof(what), "/dev/%s", name);
	src = open(host, O_PATH | O_CLOEXEC);
	if (src < 0) {
		sbx_err_sys(err, "the host must provide it", "device %s", host);
		goto out;
	}
	f = openat(dev_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (f < 0) {
		sbx_err_sys(err, NULL, "device %s: create", what);
		goto out;
	}
	close(f);
	dst = openat(dev_fd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (dst < 0) {
		sbx_err_sys(err, NULL, "device %s", what);
		goto out;
	}
	rc = sbx_bind_fd(src, dst, SBX_BIND_DEV, what, err);
out:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	return rc;
}

static int mount_sub(int dev_fd, const char *name, const char *fstype,
		     unsigned long flags, const char *data, struct sbx_err *err)
{
	char what[32];
	int fd, rc;

	snprintf(what, sizeof(what), "/dev/%s", name);
	if (mkdirat(dev_fd, name, 0755) < 0)
		return sbx_err_sys(err, NULL, "create %s", what);
	fd = openat(dev_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sbx_err_sys(err, NULL, "open %s", what);
	rc = sbx_mount_fs_at(fd, fstype, flags, data, what, err);
	close(fd);
	return rc;
}

int sbx_dev_setup(int root_fd, const struct sbx_plan *plan, struct sbx_err *err)
{
	char opts[64];
	int dev_fd = -1, rc = -1, shm_src = -1, shm_dst = -1;

	dev_fd = sbx_open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY, err);
	if (dev_fd < 0)
		goto out;
	if (sbx_mount_fs_at(dev_fd, "tmpfs", MS_NOSUID | MS_NOEXEC,
			    "mode=0755,size=1m,nr_inodes=256", "/dev", err) < 0)
		goto out;
	/* Reopen: the old fd still points below the new tmpfs. */
	close(dev_fd);
	dev_fd = sbx_open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY, err);
	if (dev_fd < 0)
		goto out;
	{
		int real = openat(dev_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (real < 0) {
			sbx_err_sys(err, NULL, "open /dev");
			goto out;
		}
		close(dev_fd);
		dev_fd = real;
	}
	for (size_t i = 0; dev_nodes[i]; i++)
		if (bind_node(dev_fd, dev_nodes[i], err) < 0)
			goto out;
	for (size_t i = 0; dev_links[i].name; i++)
		if (symlinkat(dev_links[i].target, dev_fd, dev_links[i].name) < 0) {
			sbx_err_sys(err, NULL, "link /dev/%s", dev_links[i].name);
			goto out;
		}
	/* A private devpts instance: ptys of the sandbox only. */
	if (mount_sub(dev_fd, "pts", "devpts", MS_NOSUID | MS_NOEXEC,
		      "newinstance,ptmxmode=0666,mode=0620", err) < 0)
		goto out;
	if (plan->shm == SBX_SHARE_HOST) {
		if (mkdirat(dev_fd, "shm", 01777) < 0) {
			sbx_err_sys(err, NULL, "create /dev/shm");
			goto out;
		}
		shm_src = open("/dev/shm", O_PATH | O_DIRECTORY | O_CLOEXEC);
		shm_dst = openat(dev_fd, "shm", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (shm_src < 0 || shm_dst < 0) {
			sbx_err_sys(err, "rootfs.shm = host needs the caller's /dev/shm", "/dev/shm");
			goto out;
		}
		if (sbx_bind_fd(shm_src, shm_dst, 0, "/dev/shm", err) < 0)
			goto out;
	} else {
		snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
			 (unsigned long long)plan->tmp_size);
		if (mount_sub(dev_fd, "shm", "tmpfs", MS_NOSUID | MS_NODEV, opts, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (dev_fd >= 0)
		close(dev_fd);
	if (shm_src >= 0)
		close(shm_src);
	if (shm_dst >= 0)
		close(shm_dst);
	return rc;
}
