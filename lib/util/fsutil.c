#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int empty_dir(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* Removing the entry just read is fine for readdir(). */
		if (sbx_rmtree_at(dirfd(d), e->d_name) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

int sbx_rmtree_at(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	/* An image may hold directories its owner cannot write (0555).
	 * AT_SYMLINK_NOFOLLOW: a name swapped for a symlink since the stat
	 * is refused, not followed. */
	if ((st.st_mode & 0700) != 0700 &&
	    fchmodat(dirfd, name, (st.st_mode & 07777) | 0700, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (empty_dir(fd) < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
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
