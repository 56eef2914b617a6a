/* OCI image layouts (a directory with oci-layout, index.json and
 * blobs/sha256/...): find an image's manifest, layers and config, and read
 * the config's run settings. Layouts come from users or from skopeo and are
 * untrusted: every digest is validated before it names a file, and the small
 * JSON blobs are size-limited and checked against their digests. */
#ifndef SBX_OCI_H
#define SBX_OCI_H

#include <stdint.h>
#include "util/error.h"
#include "util/strv.h"
#include "spec/image.h"
#include "image/digest.h"

/* The largest index.json, manifest or config read (untrusted input). */
#define SBX_OCI_JSON_MAX (8u << 20)

struct sbx_oci_image {
	char digest[72];            /* "sha256:<hex>" of the manifest chosen (after following an index) */
	char *config_path;          /* absolute path of the config blob */
	struct sbx_strv layers;     /* absolute paths of the layer blobs, bottom first */
	uint64_t layers_size;       /* sum of the manifest's layer sizes */
};

/* Open an OCI image layout directory. tag: match the "org.opencontainers.image.ref.name" annotation of an
 * index.json entry; NULL: the only entry (several entries and no tag -> error listing the available names).
 * Follows image indexes / docker manifest lists (nested) to the manifest for linux + this machine's
 * architecture (amd64 on x86_64, arm64 on aarch64, ...; variant ignored). Checks: oci-layout exists with
 * imageLayoutVersion 1.0.x; every digest valid (sbx_digest_valid) before it becomes blobs/sha256/<hex>; the
 * manifest and config blobs' sha256 match their digests (they are small; layers are NOT hashed here); every
 * layer blob exists and is a regular file; media types known: manifests
 * application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json; indexes
 * application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json; layers
 * application/vnd.oci.image.layer.v1.tar, ...tar+gzip, ...tar+zstd, the .nondistributable. variants,
 * application/vnd.docker.image.rootfs.diff.tar.gzip (and .tar). An unknown layer type (e.g. encrypted
 * "+encrypted") -> error naming it. Messages: "image 'WHAT': index.json: ...". what = how to name the image.
 *
 * Also: blobs (and the blobs/sha256 directories) must not be symbolic links, so a layout cannot point
 * outside itself; each blob's size must match its descriptor; the config's media type must be an image
 * config (OCI or docker), not an artifact's. On error *img is left empty (safe to free). */
int sbx_oci_open(const char *layout_dir, const char *tag, const char *what, struct sbx_oci_image *img,
		 struct sbx_err *err);
void sbx_oci_image_free(struct sbx_oci_image *img);

/* Read an OCI image config (the blob) or a file holding just "{}" (no config: all empty). Fields are under
 * "config": Env, WorkingDir, Entrypoint, Cmd; null and missing mean none. Wrong JSON types -> error.
 * Strings holding a NUL byte are refused; Env entries with an empty name ("=x") are dropped too.
 * On error *cfg is left empty. */
int sbx_image_config_load(const char *path, const char *what, struct sbx_image_config *cfg,
			  struct sbx_err *err);

/* The OCI name of this machine's architecture ("amd64", "arm64", ...), as the
 * platform of an image index says it. */
const char *sbx_oci_native_arch(void);

#endif
