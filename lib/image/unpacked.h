/* Node-local unpacked copies of squashfs images (images.unpack_dir).
 *
 * Every open on a squashfuse mount is a round trip to the daemon, and the
 * FUSE page cache is dropped on open, so many small files read 4-7 times
 * slower than from a directory (docs/performance.md). A squashfs image
 * started once on a node is therefore unpacked, by the user and in the
 * background (idle priority), into <unpack_dir>/<uid>/<name>; later starts
 * use that directory as the lower layer, exactly like a directory image.
 * The first start never waits for it, and no failure here fails a launch.
 *
 * <name> is the image's identity: "c<hex>" for a cache entry (its digest),
 * "f<sha256 of dev:ino:size:mtime:ctime>" for a user's file, so a replaced
 * or rewritten file has another name and is never served from a stale copy.
 * Layout: <name>/ the published copy (its mtime: last use); .tmp.<pid>.<name>/
 * an unpack in progress; <name>.failed: unpack failed, not tried again for a
 * day (or until the gc removes the mark). */
#ifndef SBX_UNPACKED_H
#define SBX_UNPACKED_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"
#include "spec/policy.h"

/* The copy's name for the squashfs at path: from cache_key ("sha256:<hex>")
 * when it is a cache entry, else from the file's identity. -1 when path
 * cannot be stat'ed or the key is not a digest. */
int sbx_unpacked_name(const char *path, const char *cache_key, char name[72]);

/* The copy of path to use instead of mounting it (malloc'ed, its last use
 * updated; *hold_fd keeps it from the gc until closed), or NULL: then,
 * unless the policy turns copies off or an unpack failed before, an unpack
 * is started in the background. Never fails. */
char *sbx_unpacked_use(const struct sbx_policy *pol, const char *path, const char *cache_key,
		       int *hold_fd);

/* Open <unpack_dir>/<uid> (created 0700) and refuse one another user owns
 * or may enter. -1 with err; *root gets its path (malloc'ed). */
int sbx_unpacked_open(const struct sbx_policy *pol, char **root, struct sbx_err *err);

struct sbx_unpacked_item {
	char name[72];
	uint64_t bytes;
	time_t last_use;
	int failed;   /* a <name>.failed mark */
};

/* The copies and marks under root_fd (unsorted). */
int sbx_unpacked_list(int root_fd, struct sbx_unpacked_item **items, size_t *n);

/* Remove copies unused for more than max_age days (0: none), then the least
 * recently used until the rest fit max_size (0: no cap), and unpacks left by
 * dead processes; keep and copies a sandbox holds are never removed (keep
 * NULL: none). *freed gets bytes. */
int sbx_unpacked_gc(int root_fd, uint64_t max_size, uint64_t max_age, const char *keep,
		    uint64_t *freed);

#endif
