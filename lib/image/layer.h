/* The safe layer unpacker: applies image tarballs and OCI/docker layers,
 * rootless, to a directory that becomes a squashfs image. Whatever an archive
 * says (.., absolute names, symlinks out of the tree, hard links to host
 * files, devices, setuid bits, bombs), nothing is written outside root_fd and
 * no entry gains privileges in the image. */
#ifndef SBX_LAYER_H
#define SBX_LAYER_H

#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct sbx_unpack_priv;

struct sbx_unpack {
	int root_fd;            /* the rootfs being built (O_DIRECTORY), owned by the caller */
	uint64_t max_size;      /* refuse once entries' apparent sizes add up past this (0: no limit) */
	const char *what;       /* "image 'REF'", starts every message (a private copy) */
	uint64_t files, dirs, symlinks, hardlinks, bytes, whiteouts, skipped; /* stats, all layers */
	uint64_t entries;       /* every entry applied, counted against max_size too */
	/* private state: records of mode/uid/gid per path, current layer's created paths, ... */
	struct sbx_unpack_priv *priv;
};

int  sbx_unpack_init(struct sbx_unpack *u, int root_fd, uint64_t max_size, const char *what, struct sbx_err *err);
/* Apply one layer on top of what is there. index: 1-based layer number for messages ("layer 2: ..."), 0 for a plain
 * rootfs tarball (messages then say just "entry ..."). whiteouts: 1 for OCI/docker layers (".wh.NAME" deletes NAME
 * from lower layers, ".wh..wh..opq" makes its directory opaque: lower layers' contents of it go; neither marker is
 * ever stored), 0 for a plain tarball (names kept as they are). Any compression/tar flavour libarchive reads. */
int  sbx_unpack_layer(struct sbx_unpack *u, const char *archive_path, int index, int whiteouts, struct sbx_err *err);
/* The mksquashfs pseudo file (-pf) that gives every path now in the tree its recorded mode (setuid/setgid bits
 * stripped), uid and gid from the archive. Paths with no record (parents the archive never listed) get 0755 0 0.
 * Non-directories also get the archive's mtime ("M" lines); directories get theirs on disk here, as the last
 * change to the tree. The root is not in the file (mksquashfs 4.5 ignores "/" there): see sbx_unpack_root(). */
int  sbx_unpack_write_pseudo(struct sbx_unpack *u, const char *pseudo_path, struct sbx_err *err);
/* The root directory's mode (setuid/setgid stripped), uid and gid, for mksquashfs -root-mode/-root-uid/-root-gid:
 * the archive's "./" entry, else 0755 0 0. */
void sbx_unpack_root(const struct sbx_unpack *u, mode_t *mode, uid_t *uid, gid_t *gid);
void sbx_unpack_free(struct sbx_unpack *u);

/* A name (an archive's entry, an image file's) for a one-line message:
 * control bytes become \xNN, so that no name can start a line of its own
 * (layer-records.c). */
void sbx_layer_show(const char *name, char *buf, size_t len);

#endif
