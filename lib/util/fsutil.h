/* Small filesystem helpers shared by the importer, the unpacker and the
 * cache. */
#ifndef SBX_FSUTIL_H
#define SBX_FSUTIL_H

#include <stdint.h>

/* Remove name (relative to dirfd) and everything below it, never following
 * a symlink; a missing name is fine. Directories without write or search
 * permission for their owner are opened up first. -1 with errno. */
int sbx_rmtree_at(int dirfd, const char *name);

/* "12.3M"-style size (binary units) in buf. */
const char *sbx_human_size(uint64_t bytes, char *buf, unsigned len);

/* "12.3 MiB"-style size, "512 bytes" below 1 KiB, for messages. */
const char *sbx_human_size_iec(uint64_t bytes, char *buf, unsigned len);

#endif
