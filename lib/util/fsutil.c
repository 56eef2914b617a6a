#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct rm {
	void (*removed)(void *ctx, const char *path);
	void *ctx;
	char path[PATH_MAX];
};

static int remove_at(struct rm *r, int at, const char *name, size_t plen, int depth);

/* Everything in the directory fd (closed here); r->path[0..plen) is its path. */
static int empty_dir(struct rm *r, int fd, size_t plen, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int rc = 0, saved;

	if (!d) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e) {
			rc = errno ? -1 : 0;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* Removing the entry just read is fine for readdir(). */
		if (remove_at(r, dirfd(d), e->d_name, plen, depth + 1) < 0) {
			rc = -1;
			break;
		}
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

static int remove_at(struct rm *r, int at, const char *name, size_t plen, int depth)
{
	struct stat st;
	size_t len = plen;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (r->removed) {
		int n = snprintf(r->path + plen, sizeof(r->path) - plen, "%s%s", plen ? "/" : "", name);

		if (n < 0 || (size_t)n >= sizeof(r->path) - plen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		len = plen + (size_t)n;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= SBX_RMTREE_MAX_DEPTH) {
			errno = ELOOP;
			return -1;
		}
		/* An image may hold directories its owner cannot write (0555).
		 * AT_SYMLINK_NOFOLLOW: a name swapped for a symlink since the
		 * stat is refused, not followed. */
		if ((st.st_mode & 0700) != 0700 &&
		    fchmodat(at, name, (st.st_mode & 07777) | 0700, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || empty_dir(r, fd, len, depth) < 0)
			return -1;
		if (unlinkat(at, name, AT_REMOVEDIR) < 0)
			return errno == ENOENT ? 0 : -1;
	} else if (unlinkat(at, name, 0) < 0) {
		return errno == ENOENT ? 0 : -1;
	}
	if (r->removed) {
		r->path[len] = '\0';
		r->removed(r->ctx, r->path);
	}
	return 0;
}

int sbx_rmtree_at_each(int dirfd, const char *name, const char *prefix,
		       void (*removed)(void *ctx, const char *path), void *ctx)
{
	struct rm *r = calloc(1, sizeof(*r));
	size_t plen = 0;
	int rc, saved;

	if (!r)
		return -1;
	r->removed = removed;
	r->ctx = ctx;
	if (removed && prefix) {
		plen = strlen(prefix);
		if (plen >= sizeof(r->path)) {
			free(r);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(r->path, prefix, plen);
	}
	rc = remove_at(r, dirfd, name, plen, 0);
	saved = errno;
	free(r);
	errno = saved;
	return rc;
}

int sbx_rmtree_at(int dirfd, const char *name)
{
	return sbx_rmtree_at_each(dirfd, name, NULL, NULL, NULL);
}

int sbx_openat_in_root(int root_fd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
	};
	int fd, tries = 0;

	do
		fd = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 128);
	return fd;
}

/* bytes in the largest of units[0..n_units) (each 1024 times the one
 * before) that leaves at least 1: whole in units[0], else to one decimal. */
static const char *format_size(uint64_t bytes, const char *const *units, unsigned n_units,
			       const char *sep, char *buf, unsigned len)
{
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024.0 && u + 1 < n_units) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu%s%s", (unsigned long long)bytes, sep, units[0]);
	else
		snprintf(buf, len, "%.1f%s%s", v, sep, units[u]);
	return buf;
}

const char *sbx_human_size(uint64_t bytes, char *buf, unsigned len)
{
	static const char *const units[] = { "B", "K", "M", "G", "T", "P" };

	return format_size(bytes, units, sizeof(units) / sizeof(units[0]), "", buf, len);
}

const char *sbx_human_size_iec(uint64_t bytes, char *buf, unsigned len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

	return format_size(bytes, units, sizeof(units) / sizeof(units[0]), " ", buf, len);
}
