/* Content digests: the "sha256:<hex>" strings of OCI images and the sha256
 * sums (nettle) that check them. A digest from an image becomes a file name
 * (blobs/sha256/<hex>, cache keys), so it is validated before any use. */
#ifndef SBX_DIGEST_H
#define SBX_DIGEST_H

#include <stddef.h>
#include "util/error.h"

#define SBX_DIGEST_PREFIX "sha256:"
#define SBX_SHA256_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define SBX_DIGEST_MAX 72

/* "sha256:" + 64 lowercase hex: 1; anything else 0. */
int sbx_digest_valid(const char *digest);

/* The 64-hex part of a valid digest; NULL when sbx_digest_valid() says 0. */
const char *sbx_digest_hex(const char *digest);

/* sha256 of a file / a buffer as 64 lowercase hex + NUL (nettle). */
int sbx_sha256_file(const char *path, char hex[65], struct sbx_err *err);
void sbx_sha256_buf(const void *data, size_t len, char hex[65]);

#endif
