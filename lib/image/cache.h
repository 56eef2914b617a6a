/* The per-user image cache: squashfs images keyed by content digest,
 * published atomically, imported once at a time across processes and nodes
 * (the cache may be on NFS), and cut back least-recently-used first.
 *
 * Layout under the root (<cache_dir>/<uid>, or ~/.cache/slurm-sandbox):
 *   images/<hex>/   image.sqfs, config.json, source (the reference), used
 *   tmp/<hex>.<host>.<pid>/   an import in progress
 *   locks/<hex>     fcntl OFD lock: shared = in use, exclusive = import/removal
 *   refs/<sha256 of a reference>   the key it last resolved to */
#ifndef SBX_CACHE_H
#define SBX_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "util/error.h"
#include "spec/policy.h"

struct sbx_cache {
	char *root;        /* absolute path of this user's cache */
	int root_fd;       /* O_DIRECTORY fd of root; every access is relative to it */
	uint64_t max_size; /* bytes; 0: no cap */
	uint64_t wait;     /* seconds to wait for another import; 0: none */
};

/* Find (creating when missing) the caller's cache from the policy and refuse
 * one another user could read or plant images in. */
int sbx_cache_open(const struct sbx_policy *pol, struct sbx_cache *c, struct sbx_err *err);
void sbx_cache_close(struct sbx_cache *c);

struct sbx_cache_entry {
	char hex[65];
	char *dir;         /* images/<hex>, absolute: set when the entry is usable */
	char *tmp;         /* tmp/<hex>.<host>.<pid>, absolute: set when the caller imports */
	int lock_fd;       /* O_CLOEXEC: clear it to keep the lock across an exec */
	int published;
};

#define SBX_CACHE_ENTRY_INIT { .lock_fd = -1 }

/* key: "sha256:<hex>" (64 lowercase hex). what: the image reference for messages.
 * 1: found and valid: e->dir set, lock held shared until release.
 * 0: not there: lock held exclusively, e->tmp is a fresh empty directory;
 *    import into it, then publish.
 * -1: error.
 * e is always initialised, so sbx_cache_release(e) is safe after any result.
 * Waits up to c->wait s for another import, saying so once on stderr unless quiet. */
int sbx_cache_acquire(struct sbx_cache *c, const char *key, const char *what, int quiet,
		      struct sbx_cache_entry *e, struct sbx_err *err);

/* Verify e->tmp (image.sqfs is a whole squashfs, config.json exists), write
 * source, rename to images/<hex>, lock -> shared, e->dir set; then cut the
 * cache back to c->max_size (best effort: the new image is usable anyway). */
int sbx_cache_publish(struct sbx_cache *c, struct sbx_cache_entry *e, const char *source,
		      struct sbx_err *err);

/* Drop the lock (closes lock_fd); removes e->tmp when it was never published.
 * Safe to call twice. */
void sbx_cache_release(struct sbx_cache_entry *e);

/* The ref index, to skip re-hashing a reference seen before.
 * get: 1 and key filled when found, 0 when none (or unreadable). */
int sbx_cache_ref_get(struct sbx_cache *c, const char *ref, char key[72]);
/* Seconds since ref was last recorded, or -1 when it never was. */
long sbx_cache_ref_age(struct sbx_cache *c, const char *ref);
int sbx_cache_ref_put(struct sbx_cache *c, const char *ref, const char *key, struct sbx_err *err);

struct sbx_cache_item {
	char hex[65];
	char *source;      /* "" when unknown */
	uint64_t size;     /* allocated bytes of its files */
	time_t created;
	time_t last_used;
	int in_use;        /* a sandbox holds it (or it is being replaced/removed) */
};

/* Every published entry, most recently used first. */
int sbx_cache_list(struct sbx_cache *c, struct sbx_cache_item **items, size_t *n,
		   struct sbx_err *err);
void sbx_cache_items_free(struct sbx_cache_item *items, size_t n);

/* hex_prefix: at least 4 hex chars ("sha256:" may lead), must match exactly
 * one entry; in use -> error. */
int sbx_cache_remove(struct sbx_cache *c, const char *hex_prefix, struct sbx_err *err);

/* Remove entries unused for older_than seconds (0: no age rule), then LRU
 * until the total <= max_size (0: no size rule); entries in use are skipped.
 * Also removes stale tmp dirs and orphan lock files. freed/removed may be NULL. */
int sbx_cache_gc(struct sbx_cache *c, uint64_t max_size, uint64_t older_than, uint64_t *freed,
		 size_t *removed, struct sbx_err *err);

#endif
