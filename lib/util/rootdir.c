#include "util/rootdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINKS 40

/* One component below dir, never following anything: O_PATH so that a
 * symlink comes back as itself and a mode-0700 directory still opens. */
static int open_component(int dir, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

static int trusted(const struct stat *st)
{
	return st->st_uid == 0 && (S_ISLNK(st->st_mode) || !(st->st_mode & (S_IWGRP | S_IWOTH)));
}

/* Walk path (absolute) from "/", following only root's symlinks. */
static int walk(const char *path, mode_t create_mode, int flags, const char *what,
		struct sbx_err *err)
{
	char todo[PATH_MAX * 2], shown[PATH_MAX];
	const char *hint = "it and every directory above it must be owned by root and writable by root only";
	int dir = -1, links = 0;
	size_t off = 0;
	struct stat st;

	if (!path || path[0] != '/' || strlen(path) >= PATH_MAX)
		return sbx_err_set(err, 0, "give an absolute path", "%s '%s': not an absolute path",
				   what, path ? path : "");
	snprintf(todo, sizeof(todo), "%s", path);
	for (;;) {
		char comp[NAME_MAX + 1];
		size_t len;
		int next;

		if (todo[off] == '/') {
			/* An absolute path (or symlink target) starts over at "/". */
			if (dir >= 0)
				close(dir);
			dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dir < 0)
				return sbx_err_sys(err, NULL, "%s '%s': open /", what, path);
			snprintf(shown, sizeof(shown), "/");
			while (todo[off] == '/')
				off++;
		}
		if (fstat(dir, &st) < 0) {
			sbx_err_sys(err, NULL, "%s '%s': %s", what, path, shown);
			goto fail;
		}
		if (!S_ISDIR(st.st_mode) ||
		    !(trusted(&st) || (!todo[off] && (flags & SBX_ROOTDIR_STICKY) && st.st_uid == 0 &&
				       (st.st_mode & S_ISVTX)))) {
			sbx_err_set(err, 0, hint, "%s '%s': %s is %s", what, path, shown,
				    !S_ISDIR(st.st_mode) ? "not a directory"
				    : st.st_uid != 0 ? "not owned by root" : "writable by others");
			goto fail;
		}
		if (!todo[off])
			break;
		len = strcspn(todo + off, "/");
		if (len > NAME_MAX) {
			sbx_err_set(err, ENAMETOOLONG, NULL, "%s '%s'", what, path);
			goto fail;
		}
		memcpy(comp, todo + off, len);
		comp[len] = '\0';
		off += len;
		while (todo[off] == '/')
			off++;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			sbx_err_set(err, 0, "write the path without '..'", "%s '%s': '..' in the path",
				    what, path);
			goto fail;
		}
		next = open_component(dir, comp);
		if (next < 0 && errno == ENOENT && create_mode) {
			if (mkdirat(dir, comp, create_mode) < 0 && errno != EEXIST) {
				sbx_err_sys(err, NULL, "%s '%s': create %s", what, path, comp);
				goto fail;
			}
			next = open_component(dir, comp);
		}
		if (next < 0) {
			sbx_err_sys(err, errno == ENOENT ? "create it, owned by root" : NULL, "%s '%s'",
				    what, path);
			goto fail;
		}
		if (fstat(next, &st) < 0) {
			close(next);
			sbx_err_sys(err, NULL, "%s '%s'", what, path);
			goto fail;
		}
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "%s%s",
			 strcmp(shown, "/") ? "/" : "", comp);
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], rest[PATH_MAX * 2];
			ssize_t n;

			if (!trusted(&st) || ++links > MAX_LINKS) {
				close(next);
				sbx_err_set(err, links > MAX_LINKS ? ELOOP : 0, hint,
					    "%s '%s': symlink %s is not root's", what, path, shown);
				goto fail;
			}
			n = readlinkat(next, "", target, sizeof(target) - 1);
			close(next);
			if (n <= 0) {
				sbx_err_sys(err, NULL, "%s '%s': read symlink %s", what, path, shown);
				goto fail;
			}
			target[n] = '\0';
			/* The target, then what was left of the path. */
			snprintf(rest, sizeof(rest), "%s/%s", target, todo + off);
			snprintf(todo, sizeof(todo), "%s", rest);
			off = 0;
			continue;
		}
		close(dir);
		dir = next;
	}
	/* Upgrade the O_PATH fd to a real directory fd for *at() calls. */
	{
		int real = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (real < 0) {
			sbx_err_sys(err, NULL, "%s '%s'", what, path);
			goto fail;
		}
		close(dir);
		return real;
	}
fail:
	if (dir >= 0)
		close(dir);
	return -1;
}

int sbx_rootdir_open(const char *path, mode_t create_mode, int flags, const char *what,
		     struct sbx_err *err)
{
	return walk(path, create_mode, flags, what, err);
}

int sbx_rootdir_subdir(int at, const char *name, uid_t uid, gid_t gid, mode_t mode,
		       const char *what, struct sbx_err *err)
{
	struct stat st;
	int fd;

	if (mkdirat(at, name, mode) < 0 && errno != EEXIST)
		return sbx_err_sys(err, NULL, "%s: create '%s'", what, name);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_err_sys(err, errno == ENOTDIR || errno == ELOOP ? "remove it" : NULL,
				   "%s: '%s'", what, name);
	if (fstat(fd, &st) < 0) {
		sbx_err_sys(err, NULL, "%s: '%s'", what, name);
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		sbx_err_set(err, 0, "another user made it first: an admin removes it",
			    "%s: '%s' is owned by uid %u", what, name, (unsigned)st.st_uid);
		goto fail;
	}
	if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0) {
		sbx_err_sys(err, NULL, "%s: chown '%s'", what, name);
		goto fail;
	}
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0) {
		sbx_err_sys(err, NULL, "%s: chmod '%s'", what, name);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}
