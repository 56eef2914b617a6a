/* Small filesystem helpers shared by the importer, the unpacker and the
 * cache. */
#ifndef SBX_FSUTIL_H
#define SBX_FSUTIL_H

#include <stdint.h>

/* Remove name (relative to dirfd) and everything below it, never following
 * a symlink; a missing name is fine. Directories without write or search
 * permission for their owner are opened up first. -1 with errno (ELOOP
 * past SBX_RMTREE_MAX_DEPTH levels: each holds an fd). The one recursive
 * remover of the tree: the cache, the importer, the layer applier and the
 * plugin's epilog (as the job's user) all use it. */
int sbx_rmtree_at(int dirfd, const char *name);

#define SBX_RMTREE_MAX_DEPTH 256

/* The same, calling removed(ctx, path) for each entry gone, path being
 * name's path prefix + "/" + the entry's relative path (prefix "" gives
 * relative paths). */
int sbx_rmtree_at_each(int dirfd, const char *name, const char *prefix,
		       void (*removed)(void *ctx, const char *path), void *ctx);

/* Open path inside the tree at root_fd, as the tree sees it: "/", ".." and
 * absolute symlinks stop at root_fd (openat2 RESOLVE_IN_ROOT), so a hostile
 * image cannot send a write to a host path (runc CVE-2021-30465 class);
 * magic links (/proc/self/...) are refused; resolve adds flags (e.g.
 * RESOLVE_NO_SYMLINKS). A rename racing the walk (EAGAIN) is retried. The
 * one in-root resolver: the helper's mounts and the layer applier use it.
 * -1 with errno. */
int sbx_openat_in_root(int root_fd, const char *path, int flags, unsigned long long resolve);

/* "12.3M"-style size (binary units) in buf. */
const char *sbx_human_size(uint64_t bytes, char *buf, unsigned len);

/* "12.3 MiB"-style size, "512 bytes" below 1 KiB, for messages. */
const char *sbx_human_size_iec(uint64_t bytes, char *buf, unsigned len);

#endif
