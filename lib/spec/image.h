/* Image references: what --image / --sandbox-image names, told apart by
 * content (never by file name) without reading more than a header, so the
 * plugin and srun can check a reference cheaply; and what a reference
 * becomes once it is ready to mount (struct sbx_image). Importing
 * (lib/image/import.c) happens in the helper only. */
#ifndef SBX_IMAGE_H
#define SBX_IMAGE_H

#include "util/error.h"
#include "util/strv.h"
#include "spec/policy.h"

enum sbx_image_kind {
	SBX_IMAGE_DIR = 0,     /* a root filesystem directory, used in place */
	SBX_IMAGE_SQUASHFS,    /* a squashfs file, mounted (FUSE); later starts may use an unpacked copy */
	SBX_IMAGE_OCI_DIR,     /* an OCI image layout directory */
	SBX_IMAGE_ARCHIVE,     /* a tar (any compression): rootfs, docker save or OCI archive */
	SBX_IMAGE_REGISTRY,    /* docker://[REGISTRY/]REPO[:TAG|@sha256:...] */
};

#define SBX_REGISTRY_PREFIX "docker://"
#define SBX_DEFAULT_REGISTRY "docker.io"

/* A parsed registry reference. */
struct sbx_registry_ref {
	char host[256];        /* registry host[:port] */
	char repo[512];        /* repository path */
	char tag[129];         /* "" when a digest is given */
	char digest[72];       /* "sha256:<hex>" or "" */
};

/* "docker://..." -> its parts; a missing registry is docker.io and a
 * missing tag "latest" (as docker does). */
int sbx_registry_ref_parse(const char *ref, struct sbx_registry_ref *out, struct sbx_err *err);

/* Classify ref and check it against the policy (images.allowed for local
 * paths, images.registries for registry references). *resolved gets the
 * absolute, symlink-free path, or the docker:// reference as given. */
int sbx_image_resolve(const struct sbx_policy *pol, const char *ref,
		      enum sbx_image_kind *kind, char **resolved, struct sbx_err *err);

/* 1 when host[:port] matches one of the globs in list. */
int sbx_registry_listed(const struct sbx_strv *list, const char *host);

const char *sbx_image_kind_name(enum sbx_image_kind kind);

/* What an image asks to run: its OCI config's run settings (read by
 * lib/image/oci-config.c, written into the sandbox's run configuration). */
struct sbx_image_config {
	struct sbx_strv env;        /* config.Env, "NAME=VALUE" entries as given (entries without '=' dropped) */
	char *workdir;              /* config.WorkingDir; NULL when absent or "" */
	struct sbx_strv entrypoint; /* config.Entrypoint (n == 0: none) */
	struct sbx_strv cmd;        /* config.Cmd (n == 0: none) */
};

void sbx_image_config_free(struct sbx_image_config *cfg);

/* The image's place in the user's cache while the sandbox lives (import.c). */
struct sbx_image_hold;

/* An image ready to mount: made by sbx_image_prepare (lib/image/import.h)
 * in the helper. */
struct sbx_image {
	const char *dir;              /* a root directory used in place, or NULL */
	char *squashfs;               /* the squashfs to mount, or NULL */
	struct sbx_image_config cfg;  /* the OCI config; empty for directories and squashfs files */
	int mnt_fd;                   /* the helper's mount of squashfs, or -1 */
	struct sbx_image_hold *hold;  /* the cache entry, held (shared) while the sandbox lives; or NULL */
	char *unpacked;               /* dir is a node-local unpacked copy of a squashfs (images.unpack_dir) */
	int unpacked_fd;              /* that copy, held (flock shared) while the sandbox lives; or -1 */
};

#endif
