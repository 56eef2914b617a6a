/* Private to the image cache: its store of entries on disk, their lock
 * files and dead imports (cache-store.c), used by cache.c (acquire,
 * publish, release) and cache-gc.c (list, remove, gc); neither calls the
 * other back. Not part of the cache's interface, which is cache.h. */
#ifndef SBX_CACHE_STORE_H
#define SBX_CACHE_STORE_H

#include <stddef.h>
#include "image/cache.h"

#define SBX_CACHE_HOST_MAX 64     /* HOST_NAME_MAX on Linux */

/* Who holds an entry's lock, for a waiter's message. */
struct sbx_cache_holder {
	char host[SBX_CACHE_HOST_MAX + 1];
	long pid;
	long long start;
};

/* snprintf into buf; -1 with ENAMETOOLONG when it does not fit. */
int sbx_cache_fmt_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* This host's name as it appears in tmp/ and lock files ('/' and ' ' replaced). */
void sbx_cache_this_host(char host[SBX_CACHE_HOST_MAX + 1]);

/* 0 locked, 1 another open file description holds a conflicting lock, -1 error. */
int sbx_cache_lock_try(int fd, short type);

typedef int (*sbx_cache_name_fn)(int dfd, const char *name, void *ctx);

/* 1 when the n characters of s are all lowercase hex digits. */
int sbx_cache_is_hex(const char *s, size_t n);

/* Call fn for each name in at/dir but "." and ".."; stops at its first error. */
int sbx_cache_each_name(int at, const char *dir, sbx_cache_name_fn fn, void *ctx);

/* Allocated bytes of everything below at/name, added to *total (cache-gc.c;
 * also the unpacked copies' gc). */
int sbx_cache_du_tree(int at, const char *name, uint64_t *total);

/* Open locks/<hex> (created when missing) and lock it (F_RDLCK or F_WRLCK)
 * without waiting: 0 locked (*fdp set), 1 busy, -1 error. */
int sbx_cache_lock_entry(struct sbx_cache *c, const char *hex, short type, int *fdp);

/* Note this process in the lock file fd, for a waiter's message. */
void sbx_cache_holder_write(int fd);
/* Read who holds locks/<hex>: 0, or -1 when unknown. */
int sbx_cache_holder_read(struct sbx_cache *c, const char *hex, struct sbx_cache_holder *h);

/* Under the exclusive lock: remove the digest's dead imports (tmp/<hex>.*). */
int sbx_cache_clean_stale_tmp(struct sbx_cache *c, const char *hex);

/* Under the exclusive lock: remove images/<hex> (gone already is fine). */
int sbx_cache_drop_entry(struct sbx_cache *c, const char *hex);

#endif
