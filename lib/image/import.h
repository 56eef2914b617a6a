/* Getting an image ready for the helper: directories and squashfs files are
 * used in place; archives, OCI layouts and registry images are imported
 * once into the user's cache (cache.c) as a squashfs, unpacked rootless by
 * layer.c, with the OCI image config beside it. Runs in sandbox-helper, as
 * the user, before any namespace exists. struct sbx_image is with the image
 * references, in spec/image.h. */
#ifndef SBX_IMPORT_H
#define SBX_IMPORT_H

#include "util/error.h"
#include "spec/plan.h"
#include "spec/policy.h"
#include "image/cache.h"
#include "image/oci.h"

void sbx_image_init(struct sbx_image *img);
/* Resolve plan->image to something mountable, importing it first when
 * needed. Progress goes to stderr ("sandbox: importing ..."). */
int sbx_image_prepare(const struct sbx_policy *pol, const struct sbx_plan *plan,
		      struct sbx_image *img, struct sbx_err *err);
void sbx_image_release(struct sbx_image *img);

#endif
