/* Getting an image ready for the helper: directories and squashfs files are
 * used in place; archives, OCI layouts and registry images are imported
 * once into the user's cache (lib/cache.c) as a squashfs, unpacked rootless
 * by lib/layer.c, with the OCI config beside it. Runs in sandbox-helper, as
 * the user, before any namespace exists. */
#ifndef SBX_IMPORT_H
#define SBX_IMPORT_H

#include "cache.h"
#include "error.h"
#include "oci.h"
#include "plan.h"
#include "policy.h"

struct sbx_image {
	const char *dir;              /* a root directory used in place, or NULL */
	char *squashfs;               /* the squashfs to mount, or NULL */
	struct sbx_image_config cfg;  /* the OCI config; empty for directories and squashfs files */
	int mnt_fd;                   /* the helper's mount of squashfs, or -1 */
	struct sbx_cache cache;
	struct sbx_cache_entry entry; /* held (shared) while the sandbox lives */
	int cached;
};

void sbx_image_init(struct sbx_image *img);
/* Resolve plan->image to something mountable, importing it first when
 * needed. Progress goes to stderr ("sandbox: importing ..."). */
int sbx_image_prepare(const struct sbx_policy *pol, const struct sbx_plan *plan,
		      struct sbx_image *img, struct sbx_err *err);
void sbx_image_release(struct sbx_image *img);

#endif
