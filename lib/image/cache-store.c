/* The image cache's store (cache-store.c): the entries on disk, their lock
 * files and the dead imports, as both cache.c (acquire, publish, release)
 * and cache-gc.c (list, remove, gc) use them. Not part of the cache's
 * interface, which is cache.h. */
#include "image/cache-store.h"
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sbx_cache_fmt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int sbx_cache_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void sbx_cache_this_host(char host[SBX_CACHE_HOST_MAX + 1])
{
	char name[SBX_CACHE_HOST_MAX + 1] = "";

	if (gethostname(name, sizeof(name) - 1) < 0 || !name[0])
		strcpy(name, "unknown");
	for (char *p = name; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	memcpy(host, name, sizeof(name));
}

/* Call fn for each name in at/dir but "." and ".."; stops at its first error. */
int sbx_cache_each_name(int at, const char *dir, sbx_cache_name_fn fn, void *ctx)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0, saved;

	fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = fn(dirfd(d), de->d_name, ctx);
	if (rc == 0 && errno)
		rc = -1;
	saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

/* Create every missing directory of an absolute path. */
/* 0 locked, 1 another open file description holds a conflicting lock, -1 error. */
int sbx_cache_lock_try(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : -1;
}

/* Open locks/<hex> (created when missing) and lock it without waiting:
 * 0 locked (*fdp set), 1 busy, -1 error. */
int sbx_cache_lock_entry(struct sbx_cache *c, const char *hex, short type, int *fdp)
{
	struct stat held, now;
	char rel[80];
	int fd, r;

	snprintf(rel, sizeof(rel), "locks/%s", hex);
	for (int tries = 0; tries < 100; tries++) {
		fd = openat(c->root_fd, rel, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		r = sbx_cache_lock_try(fd, type);
		if (r == 0 && fstat(fd, &held) < 0)
			r = -1;
		if (r == 0 && fstatat(c->root_fd, rel, &now, AT_SYMLINK_NOFOLLOW) < 0)
			r = errno == ENOENT ? 2 : -1;
		if (r == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
			*fdp = fd;
			return 0;
		}
		close(fd);
		if (r == 1 || r < 0)
			return r;
		/* gc removed or replaced the file after we opened it: lock the new one. */
	}
	return 1;
}

/* Who holds the lock, for a waiter's message. Best effort: a waiter does
 * without when it cannot be written. */
void sbx_cache_holder_write(int fd)
{
	char host[SBX_CACHE_HOST_MAX + 1], buf[SBX_CACHE_HOST_MAX + 64];
	int n;

	sbx_cache_this_host(host);
	n = snprintf(buf, sizeof(buf), "%s %ld %lld\n", host, (long)getpid(), (long long)time(NULL));
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return;
}

int sbx_cache_holder_read(struct sbx_cache *c, const char *hex, struct sbx_cache_holder *h)
{
	char rel[80], buf[SBX_CACHE_HOST_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(rel, sizeof(rel), "locks/%s", hex);
	fd = openat(c->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sscanf(buf, "%64s %ld %lld", h->host, &h->pid, &h->start) == 3 ? 0 : -1;
}

static int stale_child(int dfd, const char *name, void *hex)
{
	if (strncmp(name, hex, 64) != 0 || name[64] != '.')
		return 0;
	return sbx_rmtree_at(dfd, name);
}

/* Remove tmp/<hex>.* : under the exclusive lock they are all dead imports. */
int sbx_cache_clean_stale_tmp(struct sbx_cache *c, const char *hex)
{
	return sbx_cache_each_name(c->root_fd, "tmp", stale_child, (void *)hex);
}

/* Move images/<hex> out of sight at once, then delete it at leisure: a crash
 * midway leaves only a stale tmp dir. */
int sbx_cache_drop_entry(struct sbx_cache *c, const char *hex)
{
	char host[SBX_CACHE_HOST_MAX + 1], from[80], to[PATH_MAX];

	sbx_cache_this_host(host);
	snprintf(from, sizeof(from), "images/%s", hex);
	if (sbx_cache_fmt_path(to, sizeof(to), "tmp/%s.%s.%ld.old", hex, host, (long)getpid()) < 0)
		return -1;
	if (renameat(c->root_fd, from, c->root_fd, to) < 0)
		return errno == ENOENT ? 0 : -1;
	return sbx_rmtree_at(c->root_fd, to);
}
