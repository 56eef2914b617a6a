#include "helper.h"
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* util/fsutil.h: the one in-root resolver. */
static int openat_in_root(int root_fd, const char *path, int flags)
{
	return sbx_openat_in_root(root_fd, path, flags, 0);
}

int sbx_open_in_root(int root_fd, const char *path, int flags, struct sbx_err *err)
{
	int fd = openat_in_root(root_fd, path, flags);

	if (fd < 0)
		sbx_err_sys(err, NULL, "path '%s' in the sandbox", path);
	return fd;
}

int sbx_make_in_root(int root_fd, const char *path, int want_file, struct sbx_err *err)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path), pos = 0;
	int fd;

	fd = openat_in_root(root_fd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0)
			sbx_err_sys(err, NULL, "path '%s' in the sandbox", path);
		return fd;
	}
	if (len >= sizeof(prefix))
		return sbx_err_set(err, ENAMETOOLONG, NULL, "path '%s' in the sandbox", path);
	/* Create what is missing one component at a time, each time resolving
	 * the parent from the root again, so a symlink anywhere stays inside. */
	while (pos < len) {
		size_t start, end;
		int parent, last;

		while (path[pos] == '/')
			pos++;
		start = pos;
		while (pos < len && path[pos] != '/')
			pos++;
		end = pos;
		if (end == start)
			break;
		memcpy(prefix, path, end);
		prefix[end] = '\0';
		fd = openat_in_root(root_fd, prefix, O_PATH);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ENOENT)
			return sbx_err_sys(err, NULL, "path '%s' in the sandbox", prefix);
		prefix[start] = '\0';
		parent = openat_in_root(root_fd, start ? prefix : "/", O_PATH | O_DIRECTORY);
		if (parent < 0)
			return sbx_err_sys(err, NULL, "path '%s' in the sandbox", path);
		memcpy(prefix, path + start, end - start);
		prefix[end - start] = '\0';
		while (path[pos] == '/')
			pos++;
		last = pos >= len;
		if (last && want_file) {
			int f = openat(parent, prefix, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
				       | O_NOFOLLOW, 0644);

			if (f >= 0)
				close(f);
			else if (errno != EEXIST) {
				sbx_err_sys(err, "the image must allow creating it",
					    "create '%s' in the sandbox", path);
				close(parent);
				return -1;
			}
		} else if (mkdirat(parent, prefix, 0755) < 0 && errno != EEXIST) {
			sbx_err_sys(err, "the image must allow creating it",
				    "create '%s' in the sandbox", path);
			close(parent);
			return -1;
		}
		close(parent);
	}
	fd = openat_in_root(root_fd, path, O_PATH);
	if (fd < 0)
		sbx_err_sys(err, "is it a dangling symlink in the image?",
			    "path '%s' in the sandbox", path);
	return fd;
}

int sbx_clone_tree(int dirfd, const char *path, const char *what, struct sbx_err *err)
{
	/* A recursive clone: a non-recursive one would expose what the host
	 * mounted over (and the kernel refuses it for locked mounts). */
	int tree = open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
			     (*path ? 0 : AT_EMPTY_PATH));

	if (tree < 0)
		sbx_err_sys(err, "create it or fix the path", "mount %s", what);
	return tree;
}

int sbx_attach_tree(int tree, int dst_fd, int flags, const char *what, struct sbx_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID };

	/* A device node opens only on a mount without nodev (may_open() in
	 * fs/namei.c gives EACCES): only device nodes bound from the host keep
	 * dev. Whether the caller may open the node is then the inode's own
	 * permission check against the caller's unchanged uid, gid and groups;
	 * root inside a user namespace gains nothing over an owner it does
	 * not map (capable_wrt_inode_uidgid). */
	if (!(flags & SBX_BIND_DEV))
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (flags & SBX_BIND_RO)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return sbx_err_sys(err, NULL, "mount %s: set flags", what);
	if (move_mount(tree, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sbx_err_sys(err, NULL, "mount %s", what);
	return SBX_FAILPOINT("mount.bind", err);
}

int sbx_bind_fd(int src_fd, int dst_fd, int flags, const char *what,
		struct sbx_err *err)
{
	int tree = sbx_clone_tree(src_fd, "", what, err), rc;

	if (tree < 0)
		return -1;
	rc = sbx_attach_tree(tree, dst_fd, flags, what, err);
	close(tree);
	return rc;
}

int sbx_set_readonly(int fd, const char *what, struct sbx_err *err)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};

	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return sbx_err_sys(err, NULL, "read-only %s", what);
	return 0;
}

int sbx_mount_fs_at(int dst_fd, const char *fstype, unsigned long flags,
		    const char *data, const char *what, struct sbx_err *err)
{
	char target[64];

	/* The fd pins the target resolved inside the root; mount(2) takes a
	 * path, and the magic link leads back to exactly that directory. */
	snprintf(target, sizeof(target), "/proc/self/fd/%d", dst_fd);
	if (mount(fstype, target, fstype, flags, data) < 0)
		return sbx_err_sys(err, NULL, "mount %s (%s)", what, fstype);
	return SBX_FAILPOINT("mount.fs", err);
}
