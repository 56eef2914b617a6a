/* The per-user image cache (see cache.h for the layout): opening it,
 * acquiring, publishing and releasing entries, their locks and checks, and
 * the ref index. Listing, removal and gc are in cache-gc.c; both work on
 * the entries through cache-store.c.
 *
 * Locking: each digest has a lock file, locked with fcntl OFD locks
 * (fcntl(2) F_OFD_SETLK): they belong to the open file description, not the
 * process, so two users of the same image in one process still conflict, and
 * NFS carries them as POSIX locks. A user of an entry holds it shared for as
 * long as its sandbox runs; an importer, rm and gc need it exclusive. Waiting
 * is done by polling F_OFD_SETLK rather than F_OFD_SETLKW, so the wait has a
 * limit and a waiter can say who it is waiting for.
 *
 * gc may unlink a lock file (an orphan, or a removed entry's) while holding
 * it; whoever locked the old inode then sees it is no longer at the path and
 * opens the new one. */
#include "image/cache.h"
#include "util/fsutil.h"
#include "image/cache-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQFS_MAGIC "hsqs"
#define SQFS_BYTES_USED_AT 40     /* little-endian u64 in the squashfs superblock */
#define POLL_MS 100
#define SAY_WAITING_AFTER_MS 250  /* gc and rm hold a lock for moments: not worth a line */

static const char *const layout[] = { "images", "tmp", "locks", "refs" };

static int parse_key(const char *key, char hex[65])
{
	if (!key || strncmp(key, "sha256:", 7) != 0 || strlen(key + 7) != 64 ||
	    !sbx_cache_is_hex(key + 7, 64))
		return -1;
	memcpy(hex, key + 7, 64);
	hex[64] = '\0';
	return 0;
}


static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	/* An early wake-up by a signal only makes the next poll sooner. */
	nanosleep(&ts, NULL);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	int rc = -1;

	if (!copy)
		return -1;
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			goto out;
		*p = c;
		if (!c)
			break;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* The site's cache_dir: root's, or the user's own; shared ones sticky. */
static int open_site_dir(const char *dir, uid_t uid, struct sbx_err *err)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && uid == 0) {
		if (mkdir_p(dir, 0755) < 0 || chmod(dir, 01777) < 0)
			return sbx_err_sys(err, "check images.cache_dir", "image cache '%s': create", dir);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0 && errno == ENOENT)
		return sbx_err_set(err, 0, "an admin creates it, root-owned, mode 1777; or set images.cache_dir",
				   "image cache '%s': missing", dir);
	if (fd < 0)
		return sbx_err_sys(err, "an admin makes it a root-owned directory, mode 1777",
				   "image cache '%s'", dir);
	if (fstat(fd, &st) < 0) {
		sbx_err_sys(err, NULL, "image cache '%s'", dir);
		goto bad;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		sbx_err_set(err, 0, "its owner could read or replace your images; an admin makes it root-owned, mode 1777",
			    "image cache '%s': owned by uid %u, another user", dir, (unsigned)st.st_uid);
		goto bad;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		sbx_err_set(err, 0, "other users could replace your cache; an admin runs chmod 1777 on it",
			    "image cache '%s': writable by others without the sticky bit (mode %04o)",
			    dir, (unsigned)(st.st_mode & 07777));
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

/* The user's own cache directory at/name (shown as path): created 0700 when
 * missing, refused when another user owns it or may enter it. */
static int open_user_dir(int at, const char *name, const char *path, uid_t uid,
			 struct sbx_err *err)
{
	struct stat st;
	int created = mkdirat(at, name, 0700) == 0;
	int fd;

	if (!created && errno != EEXIST)
		return sbx_err_sys(err, NULL, "image cache '%s': create", path);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return sbx_err_set(err, 0, "remove it; the cache is created again",
				   "image cache '%s': not a directory", path);
	if (fd < 0 || fstat(fd, &st) < 0 || (created && fchmod(fd, 0700) < 0)) {
		sbx_err_sys(err, NULL, "image cache '%s'", path);
		goto bad;
	}
	if (st.st_uid != uid) {
		sbx_err_set(err, 0, "it must be yours, mode 0700: an admin removes it",
			    "image cache '%s': owned by uid %u, not you (uid %u)", path,
			    (unsigned)st.st_uid, (unsigned)uid);
		goto bad;
	}
	if (st.st_mode & 077) {
		sbx_err_set(err, 0, "run chmod 700 on it", "image cache '%s': mode %04o lets other users in",
			    path, (unsigned)(st.st_mode & 07777));
		goto bad;
	}
	return fd;
bad:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ${XDG_CACHE_HOME:-$HOME/.cache}; relative values are ignored, as the XDG
 * base directory spec says. */
static char *default_base(uid_t uid, struct sbx_err *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *base = NULL;

	if (xdg && xdg[0] == '/')
		base = strdup(xdg);
	else {
		if (!home || home[0] != '/') {
			pw = getpwuid(uid);
			if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/') {
				sbx_err_set(err, 0, "set HOME, or an admin sets images.cache_dir",
					    "image cache: no home directory for uid %u", (unsigned)uid);
				return NULL;
			}
			home = pw->pw_dir;
		}
		if (asprintf(&base, "%s/.cache", home) < 0)
			base = NULL;
	}
	if (!base)
		sbx_err_sys(err, NULL, "image cache");
	return base;
}

static int open_root(const struct sbx_policy *pol, struct sbx_cache *c, struct sbx_err *err)
{
	uid_t uid = geteuid();
	char *base = NULL, name[16];
	int base_fd = -1, rc = -1;

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	if (pol->cache_dir && *pol->cache_dir) {
		base = strdup(pol->cache_dir);
		if (!base) {
			sbx_err_sys(err, NULL, "image cache");
			goto out;
		}
		for (size_t n = strlen(base); n > 1 && base[n - 1] == '/'; n--)
			base[n - 1] = '\0';
		base_fd = open_site_dir(base, uid, err);
	} else {
		strcpy(name, "slurm-sandbox");
		base = default_base(uid, err);
		if (!base)
			goto out;
		if (mkdir_p(base, 0700) < 0) {
			sbx_err_sys(err, "set XDG_CACHE_HOME to a directory you can write", "image cache '%s': create", base);
			goto out;
		}
		base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (base_fd < 0)
			sbx_err_sys(err, NULL, "image cache '%s'", base);
	}
	if (base_fd < 0)
		goto out;
	if (asprintf(&c->root, "%s%s%s", base, strcmp(base, "/") ? "/" : "", name) < 0) {
		c->root = NULL;
		sbx_err_sys(err, NULL, "image cache");
		goto out;
	}
	c->root_fd = open_user_dir(base_fd, name, c->root, uid, err);
	rc = c->root_fd < 0 ? -1 : 0;
out:
	if (base_fd >= 0)
		close(base_fd);
	free(base);
	return rc;
}

int sbx_cache_open(const struct sbx_policy *pol, struct sbx_cache *c, struct sbx_err *err)
{
	memset(c, 0, sizeof(*c));
	c->root_fd = -1;
	c->max_size = pol->cache_max_size;
	c->wait = pol->cache_wait;
	if (open_root(pol, c, err) < 0)
		goto bad;
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		if (mkdirat(c->root_fd, layout[i], 0700) < 0 && errno != EEXIST) {
			sbx_err_sys(err, NULL, "image cache '%s': create %s/", c->root, layout[i]);
			goto bad;
		}
	return 0;
bad:
	sbx_cache_close(c);
	return -1;
}

void sbx_cache_close(struct sbx_cache *c)
{
	if (c->root_fd >= 0)
		close(c->root_fd);
	c->root_fd = -1;
	free(c->root);
	c->root = NULL;
}

/* NULL when the entry directory rel is whole, else what is wrong with it.
 * Checked on every use: a crash can leave a renamed entry whose data never
 * reached the disk, and a squashfs superblock knows its own length. */
static const char *entry_flaw(int at, const char *rel)
{
	unsigned char sb[SQFS_BYTES_USED_AT + 8];
	char path[PATH_MAX];
	struct stat st;
	uint64_t used = 0;
	ssize_t n;
	int fd;

	if (sbx_cache_fmt_path(path, sizeof(path), "%s/image.sqfs", rel) < 0)
		return "path too long";
	fd = openat(at, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return "image.sqfs is missing";
	n = pread(fd, sb, sizeof(sb), 0);
	if (fstat(fd, &st) < 0)
		n = -1;
	close(fd);
	if (n != (ssize_t)sizeof(sb) || memcmp(sb, SQFS_MAGIC, 4) != 0)
		return "image.sqfs is not a squashfs";
	for (int i = 7; i >= 0; i--)
		used = used << 8 | sb[SQFS_BYTES_USED_AT + i];
	if (used == 0 || used > (uint64_t)st.st_size)
		return "image.sqfs is truncated";
	if (sbx_cache_fmt_path(path, sizeof(path), "%s/config.json", rel) < 0 ||
	    fstatat(at, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return "config.json is missing";
	return NULL;
}

/* Holding the lock exclusively: clear what a crash or a damaged entry left,
 * and give the caller a fresh directory to import into. */
static int begin_import(struct sbx_cache *c, struct sbx_cache_entry *e, const char *what,
			struct sbx_err *err)
{
	char host[SBX_CACHE_HOST_MAX + 1], rel[PATH_MAX];

	sbx_cache_holder_write(e->lock_fd);
	sbx_cache_this_host(host);
	if (sbx_cache_drop_entry(c, e->hex) < 0 || sbx_cache_clean_stale_tmp(c, e->hex) < 0)
		return sbx_err_sys(err, "remove it with sandbox-run cache rm",
				   "image %s: clear the cache entry '%s/images/%s'", what, c->root, e->hex);
	if (sbx_cache_fmt_path(rel, sizeof(rel), "tmp/%s.%s.%ld", e->hex, host, (long)getpid()) < 0 ||
	    mkdirat(c->root_fd, rel, 0700) < 0)
		return sbx_err_sys(err, NULL, "image %s: create '%s/%s'", what, c->root, rel);
	if (asprintf(&e->tmp, "%s/%s", c->root, rel) < 0) {
		e->tmp = NULL;
		return sbx_err_sys(err, NULL, "image %s", what);
	}
	return 0;
}

/* Record the use for gc's LRU order. Best effort: a cache on a read-only
 * mount still serves its images. */
static void touch_used(struct sbx_cache *c, const char *hex)
{
	char rel[96];
	int fd;

	snprintf(rel, sizeof(rel), "images/%s/used", hex);
	if (utimensat(c->root_fd, rel, NULL, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return;
	fd = openat(c->root_fd, rel, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

/* 1 published and whole, 0 missing or damaged. */
static int entry_ok(struct sbx_cache *c, const char *hex)
{
	char rel[80];

	snprintf(rel, sizeof(rel), "images/%s", hex);
	return faccessat(c->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	       entry_flaw(c->root_fd, rel) == NULL;
}

/* Seconds since the holder started; clocks of two nodes may disagree. */
static long long held_for(const struct sbx_cache_holder *h)
{
	long long s = (long long)time(NULL) - h->start;

	return s > 0 ? s : 0;
}

static int wait_timeout(struct sbx_cache *c, const char *hex, const char *what, int users,
			long long waited_ms, struct sbx_err *err)
{
	struct sbx_cache_holder h;
	char rel[80];

	snprintf(rel, sizeof(rel), "images/%s", hex);
	if (users && faccessat(c->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return sbx_err_set(err, 0, "try again when the sandboxes using it have ended",
				   "image %s: cache entry %.12s is damaged but in use", what, hex);
	if (users || sbx_cache_holder_read(c, hex, &h) < 0)
		return sbx_err_set(err, 0, NULL,
				   "image %s: other processes have kept the cache lock busy for %lld s; "
				   "try again later, or an admin raises images.cache_wait",
				   what, waited_ms / 1000);
	return sbx_err_set(err, 0, NULL,
			   "image %s: another import has held the cache lock for %lld s (pid %ld on %s); "
			   "try again later, or an admin raises images.cache_wait",
			   what, held_for(&h), h.pid, h.host);
}

static void say_waiting(struct sbx_cache *c, const char *hex, const char *what)
{
	struct sbx_cache_holder h;

	if (sbx_cache_holder_read(c, hex, &h) == 0)
		fprintf(stderr, "sandbox: waiting for another import of %s (started %lld s ago)\n",
			what, held_for(&h));
	else
		fprintf(stderr, "sandbox: waiting for another import of %s\n", what);
}

int sbx_cache_acquire(struct sbx_cache *c, const char *key, const char *what, int quiet,
		      struct sbx_cache_entry *e, struct sbx_err *err)
{
	long long start = mono_ms(), waited;
	int fd = -1, r, said = quiet, users;

	memset(e, 0, sizeof(*e));
	e->lock_fd = -1;
	what = what ? what : key ? key : "";
	if (parse_key(key, e->hex) < 0)
		return sbx_err_set(err, 0, "the importer must give sha256:<64 lowercase hex>",
				   "image %s: bad cache key '%s'", what, key ? key : "");
	for (;;) {
		r = sbx_cache_lock_entry(c, e->hex, F_RDLCK, &fd);
		if (r < 0)
			return sbx_err_sys(err, NULL, "image %s: lock '%s/locks/%s'", what, c->root, e->hex);
		users = r == 0;
		if (r == 0 && entry_ok(c, e->hex)) {
			touch_used(c, e->hex);
			if (asprintf(&e->dir, "%s/images/%s", c->root, e->hex) < 0) {
				e->dir = NULL;
				close(fd);
				return sbx_err_sys(err, NULL, "image %s", what);
			}
			e->lock_fd = fd;
			e->published = 1;
			return 1;
		}
		/* Missing or damaged: upgrade in place, so nothing can change
		 * between the look and the import. Other holders mean other
		 * acquirers looking too, or a sandbox still using a damaged entry. */
		if (r == 0 && (r = sbx_cache_lock_try(fd, F_WRLCK)) == 0) {
			e->lock_fd = fd;
			if (begin_import(c, e, what, err) < 0) {
				sbx_cache_release(e);
				return -1;
			}
			return 0;
		}
		if (fd >= 0)
			close(fd);
		fd = -1;
		if (r < 0)
			return sbx_err_sys(err, NULL, "image %s: lock '%s/locks/%s'", what, c->root, e->hex);
		waited = mono_ms() - start;
		/* Acquirers colliding on a missing entry clear within moments,
		 * even where the site does not wait for imports. */
		if ((uint64_t)waited >= c->wait * 1000 && (!users || waited >= 2000))
			return wait_timeout(c, e->hex, what, users, waited, err);
		if (!users && !said && waited >= SAY_WAITING_AFTER_MS) {
			say_waiting(c, e->hex, what);
			said = 1;
		}
		/* Acquirers that collided back off by different amounts. */
		nap_ms(users ? 5 + (mono_ms() ^ getpid()) % 40 : POLL_MS);
	}
}

static int write_file(int at, const char *rel, const char *text)
{
	size_t len = strlen(text);
	int fd = openat(at, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

int sbx_cache_publish(struct sbx_cache *c, struct sbx_cache_entry *e, const char *source,
		      struct sbx_err *err)
{
	char rel[PATH_MAX], path[PATH_MAX], to[80], *line = NULL;
	const char *flaw, *src = source ? source : "";
	struct sbx_err ignored;

	if (e->lock_fd < 0 || !e->tmp || e->published)
		return sbx_err_set(err, 0, "this is a bug in the importer",
				   "image %s: publish without an import in progress", src);
	if (sbx_cache_fmt_path(rel, sizeof(rel), "tmp/%s", strrchr(e->tmp, '/') + 1) < 0)
		return sbx_err_sys(err, NULL, "image %s", src);
	flaw = entry_flaw(c->root_fd, rel);
	if (flaw)
		return sbx_err_set(err, 0, "this is a bug in the importer",
				   "image %s: import into '%s': %s", src, e->tmp, flaw);
	/* One line, whatever the reference held. */
	if (asprintf(&line, "%.*s\n", (int)strcspn(src, "\r\n"), src) < 0) {
		line = NULL;
		goto sys;
	}
	if (sbx_cache_fmt_path(path, sizeof(path), "%s/source", rel) < 0 ||
	    write_file(c->root_fd, path, line) < 0 ||
	    sbx_cache_fmt_path(path, sizeof(path), "%s/used", rel) < 0 ||
	    write_file(c->root_fd, path, "") < 0)
		goto sys;
	snprintf(to, sizeof(to), "images/%s", e->hex);
	if (renameat(c->root_fd, rel, c->root_fd, to) < 0)
		goto sys;
	free(line);
	line = NULL;
	/* Downgrading an OFD lock is atomic: no importer or gc can slip in. */
	if (sbx_cache_lock_try(e->lock_fd, F_RDLCK) != 0 ||
	    asprintf(&e->dir, "%s/%s", c->root, to) < 0) {
		e->dir = NULL;
		goto sys;
	}
	free(e->tmp);
	e->tmp = NULL;
	e->published = 1;
	/* The image is in place and usable; failing to trim is not its fault. */
	if (c->max_size)
		sbx_cache_gc(c, c->max_size, 0, NULL, NULL, &ignored);
	return 0;
sys:
	sbx_err_sys(err, NULL, "image %s: publish '%s' in the cache '%s'", src, e->hex, c->root);
	free(line);
	return -1;
}

void sbx_cache_release(struct sbx_cache_entry *e)
{
	if (e->lock_fd >= 0) {
		/* Still under the lock, so no new import of it can have started. */
		if (!e->published && e->tmp && sbx_rmtree_at(AT_FDCWD, e->tmp) < 0) {
			/* The next importer of this digest removes it. */
		}
		close(e->lock_fd);
		e->lock_fd = -1;
	}
	free(e->dir);
	free(e->tmp);
	e->dir = e->tmp = NULL;
}

static void ref_name(const char *ref, char out[80])
{
	static const char digits[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	char *p = out + strlen("refs/");

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(ref), (const uint8_t *)ref);
	sha256_digest(&ctx, sizeof(d), d);
	strcpy(out, "refs/");
	for (size_t i = 0; i < sizeof(d); i++) {
		*p++ = digits[d[i] >> 4];
		*p++ = digits[d[i] & 15];
	}
	*p = '\0';
}

int sbx_cache_ref_get(struct sbx_cache *c, const char *ref, char key[72])
{
	char rel[80], buf[80], hex[65];
	ssize_t n;
	int fd;

	ref_name(ref, rel);
	fd = openat(c->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_key(buf, hex) < 0)
		return 0;
	memcpy(key, buf, 72);
	return 1;
}

long sbx_cache_ref_age(struct sbx_cache *c, const char *ref)
{
	struct stat st;
	char rel[80];

	ref_name(ref, rel);
	if (fstatat(c->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return time(NULL) >= st.st_mtime ? (long)(time(NULL) - st.st_mtime) : 0;
}

int sbx_cache_ref_put(struct sbx_cache *c, const char *ref, const char *key, struct sbx_err *err)
{
	char rel[80], tmp[PATH_MAX], hex[65], line[80], host[SBX_CACHE_HOST_MAX + 1];

	if (parse_key(key, hex) < 0)
		return sbx_err_set(err, 0, "the importer must give sha256:<64 lowercase hex>",
				   "image %s: bad cache key '%s'", ref, key ? key : "");
	ref_name(ref, rel);
	/* Written aside and renamed, so a reader never sees half a key. */
	sbx_cache_this_host(host);
	snprintf(tmp, sizeof(tmp), "refs/.%s.%s.%ld", rel + 5, host, (long)getpid());
	snprintf(line, sizeof(line), "%s\n", key);
	if (write_file(c->root_fd, tmp, line) < 0 ||
	    renameat(c->root_fd, tmp, c->root_fd, rel) < 0) {
		sbx_err_sys(err, NULL, "image %s: record it in '%s/refs'", ref, c->root);
		unlinkat(c->root_fd, tmp, 0);
		return -1;
	}
	return 0;
}
