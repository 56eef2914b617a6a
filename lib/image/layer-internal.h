/* Private to the layer unpacker: the records (layer-records.c) that
 * layer.c (applying archives) and layer-pseudo.c (the mksquashfs pseudo
 * file) both use; neither calls the other. Not part of its interface, which
 * is layer.h. */
#ifndef SBX_LAYER_INTERNAL_H
#define SBX_LAYER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "image/layer.h"

#define HOSTILE "the archive is hostile or broken"
#define MAX_DEPTH 256           /* directory levels; walks hold one fd per level */

struct rec {
	struct rec *next;
	uint64_t hash;
	uint32_t mode;          /* type | permission bits, as the archive says */
	uint32_t uid, gid;
	uint32_t mtime;
	uint32_t stamp;         /* the layer that last wrote it or went through it */
	char path[];            /* image path: no leading '/', "" is the root */
};

struct sbx_unpack_priv {
	struct rec **buckets;
	size_t nbuckets, nrecs;
	uint32_t stamp;
	int index;
	char *what;
	char *root_real;        /* root_fd's host path, read from /proc when needed */
	/* The last parent resolved, as tar files list a directory's entries
	 * together. stale: something was removed, resolve again next time. */
	char *pc_name, *pc_real;
	int pc_fd, pc_stale;
	char ctx[1024];         /* "image 'R': layer N: entry 'NAME'" */
};

/* Records (layer-records.c). sbx_layer_rec_get creates a missing one as a
 * plain directory (0755 0 0); NULL only when out of memory. */
int sbx_layer_recs_init(struct sbx_unpack_priv *p);
void sbx_layer_recs_free(struct sbx_unpack_priv *p);
struct rec *sbx_layer_rec_find(struct sbx_unpack_priv *p, const char *path);
struct rec *sbx_layer_rec_get(struct sbx_unpack_priv *p, const char *path);
void sbx_layer_rec_del(struct sbx_unpack_priv *p, const char *path);
/* Stamp path and every directory above it as written by this layer. */
int sbx_layer_rec_stamp(struct sbx_unpack_priv *p, const char *path);

#endif
