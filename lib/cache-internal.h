/* Private to the image cache: the helpers cache.c (entries, locks) and
 * cache-gc.c (list, remove, gc) both use. Not part of its interface, which
 * is cache.h. Defined in cache.c. */
#ifndef SBX_CACHE_INTERNAL_H
#define SBX_CACHE_INTERNAL_H

#include <stddef.h>
#include "cache.h"

typedef int (*sbx_cache_name_fn)(int dfd, const char *name, void *ctx);

/* 1 when the n characters of s are all lowercase hex digits. */
int sbx_cache_is_hex(const char *s, size_t n);

/* Call fn for each name in at/dir but "." and ".."; stops at its first error. */
int sbx_cache_each_name(int at, const char *dir, sbx_cache_name_fn fn, void *ctx);

/* Open locks/<hex> (created when missing) and lock it (F_RDLCK or F_WRLCK)
 * without waiting: 0 locked (*fdp set), 1 busy, -1 error. */
int sbx_cache_lock_entry(struct sbx_cache *c, const char *hex, short type, int *fdp);

/* Note this process in the lock file fd, for a waiter's message. */
void sbx_cache_holder_write(int fd);

/* Under the exclusive lock: remove the digest's dead imports (tmp/<hex>.*). */
int sbx_cache_clean_stale_tmp(struct sbx_cache *c, const char *hex);

/* Under the exclusive lock: remove images/<hex> (gone already is fine). */
int sbx_cache_drop_entry(struct sbx_cache *c, const char *hex);

#endif
