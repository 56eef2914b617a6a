/* The image cache as a whole: listing its entries, removing one, and gc
 * (by age and least-recently-used down to a size cap), with the clearing of
 * dead imports and orphan lock files, on the store (cache-store.c). Entries
 * in use, their import and the ref index are in cache.c. */
#include "image/cache-store.h"
#include "image/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "<64 hex>" or "<64 hex>.<anything>": the digest a tmp or lock name is for. */
static int name_hex(const char *name, char hex[65])
{
	if (strlen(name) < 64 || !sbx_cache_is_hex(name, 64) || (name[64] && name[64] != '.'))
		return -1;
	memcpy(hex, name, 64);
	hex[64] = '\0';
	return 0;
}

static int du_child(int dfd, const char *name, void *total)
{
	return sbx_cache_du_tree(dfd, name, total) < 0 && errno != ENOENT ? -1 : 0;
}

int sbx_cache_du_tree(int at, const char *name, uint64_t *total)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	*total += (uint64_t)st.st_blocks * 512;
	return S_ISDIR(st.st_mode) ? sbx_cache_each_name(at, name, du_child, total) : 0;
}

/* Some open file description holds locks/<hex>: a sandbox, an import or a removal. */
static int entry_in_use(struct sbx_cache *c, const char *hex)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char rel[80];
	int fd, busy;

	snprintf(rel, sizeof(rel), "locks/%s", hex);
	fd = openat(c->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	busy = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return busy;
}

static time_t mtime_at(int at, const char *rel, time_t fallback)
{
	struct stat st;

	return fstatat(at, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mtim.tv_sec : fallback;
}

static int item_load(struct sbx_cache *c, const char *hex, struct sbx_cache_item *it)
{
	char rel[80], path[96], buf[4096] = "";
	ssize_t n;
	int fd;

	memset(it, 0, sizeof(*it));
	memcpy(it->hex, hex, 65);
	snprintf(rel, sizeof(rel), "images/%s", hex);
	if (sbx_cache_du_tree(c->root_fd, rel, &it->size) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/source", rel);
	fd = openat(c->root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
	}
	it->created = mtime_at(c->root_fd, path, mtime_at(c->root_fd, rel, 0));
	snprintf(path, sizeof(path), "%s/used", rel);
	it->last_used = mtime_at(c->root_fd, path, it->created);
	it->in_use = entry_in_use(c, hex);
	it->source = strdup(buf);
	return it->source ? 0 : -1;
}

static int by_last_use(const void *a, const void *b)
{
	const struct sbx_cache_item *x = a, *y = b;

	if (x->last_used != y->last_used)
		return x->last_used > y->last_used ? -1 : 1;
	return strcmp(x->hex, y->hex);
}

struct listing {
	struct sbx_cache *c;
	struct sbx_cache_item *v;
	size_t n, cap;
};

static int list_child(int dfd, const char *name, void *ctx)
{
	struct listing *l = ctx;
	struct sbx_cache_item *grown;
	char hex[65];

	(void)dfd;
	if (name_hex(name, hex) < 0 || name[64])
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		grown = realloc(l->v, l->cap * sizeof(*grown));
		if (!grown)
			return -1;
		l->v = grown;
	}
	if (item_load(l->c, hex, &l->v[l->n]) == 0) {
		l->n++;
		return 0;
	}
	free(l->v[l->n].source);
	return errno == ENOENT ? 0 : -1;   /* ENOENT: removed meanwhile */
}

int sbx_cache_list(struct sbx_cache *c, struct sbx_cache_item **items, size_t *n,
		   struct sbx_err *err)
{
	struct listing l = { .c = c };

	if (sbx_cache_each_name(c->root_fd, "images", list_child, &l) < 0) {
		sbx_err_sys(err, NULL, "image cache '%s': list images/", c->root);
		sbx_cache_items_free(l.v, l.n);
		return -1;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), by_last_use);
	*items = l.v;
	*n = l.n;
	return 0;
}

void sbx_cache_items_free(struct sbx_cache_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].source);
	free(items);
}

/* 1 removed (or already gone), 0 in use, -1 error (errno). */
static int remove_entry(struct sbx_cache *c, const char *hex)
{
	char rel[80];
	int fd = -1, r = sbx_cache_lock_entry(c, hex, F_WRLCK, &fd);

	if (r != 0)
		return r < 0 ? -1 : 0;
	sbx_cache_holder_write(fd);
	snprintf(rel, sizeof(rel), "locks/%s", hex);
	r = sbx_cache_drop_entry(c, hex) == 0 && unlinkat(c->root_fd, rel, 0) == 0 ? 1 : -1;
	close(fd);
	return r;
}

int sbx_cache_remove(struct sbx_cache *c, const char *hex_prefix, struct sbx_err *err)
{
	const char *p = hex_prefix ? hex_prefix : "";
	struct sbx_cache_item *items = NULL;
	size_t n = 0, hits = 0, len, hit = 0;
	int rc = -1, r;

	if (strncmp(p, "sha256:", 7) == 0)
		p += 7;
	len = strlen(p);
	if (len < 4 || len > 64 || !sbx_cache_is_hex(p, len))
		return sbx_err_set(err, 0, "give at least 4 lowercase hex digits, as sandbox-run cache ls shows",
				   "image cache: bad digest '%s'", hex_prefix ? hex_prefix : "");
	if (sbx_cache_list(c, &items, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strncmp(items[i].hex, p, len) == 0) {
			hits++;
			hit = i;
		}
	if (hits != 1) {
		sbx_err_set(err, 0, hits ? "give more digits" : "sandbox-run cache ls shows the images",
			    hits ? "image cache '%s': '%s' matches %zu images" : "image cache '%s': no image matches '%s'",
			    c->root, p, hits);
		goto out;
	}
	r = remove_entry(c, items[hit].hex);
	if (r < 0)
		sbx_err_sys(err, NULL, "image cache '%s': remove %.12s", c->root, items[hit].hex);
	else if (r == 0)
		sbx_err_set(err, 0, "stop the sandboxes using it, or remove it later",
			    "image cache '%s': %.12s is in use", c->root, items[hit].hex);
	else
		rc = 0;
out:
	sbx_cache_items_free(items, n);
	return rc;
}

/* With the digest's lock free: remove its dead imports, and its lock file
 * when no image is left. 0 done or busy, -1 error. */
static int tidy(struct sbx_cache *c, const char *hex)
{
	char rel[80];
	int fd = -1, r = sbx_cache_lock_entry(c, hex, F_WRLCK, &fd);

	if (r != 0)
		return r < 0 ? -1 : 0;
	r = sbx_cache_clean_stale_tmp(c, hex);
	snprintf(rel, sizeof(rel), "images/%s", hex);
	if (r == 0 && faccessat(c->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		snprintf(rel, sizeof(rel), "locks/%s", hex);
		r = unlinkat(c->root_fd, rel, 0);
	}
	close(fd);
	return r;
}

static int tidy_child(int dfd, const char *name, void *c)
{
	char hex[65];

	(void)dfd;
	return name_hex(name, hex) == 0 ? tidy(c, hex) : 0;
}

int sbx_cache_gc(struct sbx_cache *c, uint64_t max_size, uint64_t older_than, uint64_t *freed,
		 size_t *removed, struct sbx_err *err)
{
	struct sbx_cache_item *items = NULL;
	uint64_t total = 0, gone = 0;
	size_t n = 0, count = 0;
	time_t now = time(NULL);
	int rc = -1, r;

	if (sbx_cache_list(c, &items, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		total += items[i].size;
	/* Oldest use first: the age rule and the size rule agree on the order. */
	for (size_t i = n; i-- > 0;) {
		struct sbx_cache_item *it = &items[i];
		int old = older_than && now - it->last_used >= (time_t)older_than;

		if (!old && !(max_size && total > max_size))
			continue;
		r = remove_entry(c, it->hex);
		if (r < 0) {
			sbx_err_sys(err, NULL, "image cache '%s': remove %.12s", c->root, it->hex);
			goto out;
		}
		if (r == 0)
			continue;
		total -= it->size;
		gone += it->size;
		count++;
	}
	if (sbx_cache_each_name(c->root_fd, "tmp", tidy_child, c) < 0 ||
	    sbx_cache_each_name(c->root_fd, "locks", tidy_child, c) < 0) {
		sbx_err_sys(err, NULL, "image cache '%s': remove stale imports", c->root);
		goto out;
	}
	rc = 0;
out:
	if (freed)
		*freed = gone;
	if (removed)
		*removed = count;
	sbx_cache_items_free(items, n);
	return rc;
}
