#include "image/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

int sbx_digest_valid(const char *digest)
{
	const char *hex;
	size_t i;

	if (!digest || strncmp(digest, SBX_DIGEST_PREFIX, strlen(SBX_DIGEST_PREFIX)) != 0)
		return 0;
	hex = digest + strlen(SBX_DIGEST_PREFIX);
	/* Lowercase only: the OCI spec's canonical form, and one name per blob. */
	for (i = 0; i < SBX_SHA256_HEX_LEN; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	return hex[i] == '\0';
}

const char *sbx_digest_hex(const char *digest)
{
	return sbx_digest_valid(digest) ? digest + strlen(SBX_DIGEST_PREFIX) : NULL;
}

static void sha256_hex(struct sha256_ctx *ctx, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t sum[SHA256_DIGEST_SIZE];

	sha256_digest(ctx, sizeof(sum), sum);
	for (size_t i = 0; i < sizeof(sum); i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 0xf];
	}
	hex[2 * SHA256_DIGEST_SIZE] = '\0';
}

void sbx_sha256_buf(const void *data, size_t len, char hex[65])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_hex(&ctx, hex);
}

int sbx_sha256_file(const char *path, char hex[65], struct sbx_err *err)
{
	struct sha256_ctx ctx;
	uint8_t *buf = NULL;
	int fd, rc = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		sbx_err_sys(err, NULL, "sha256 of '%s': open", path);
		goto out;
	}
	buf = malloc(READ_CHUNK);
	if (!buf) {
		sbx_err_sys(err, NULL, "sha256 of '%s'", path);
		goto out;
	}
	sha256_init(&ctx);
	while ((n = read(fd, buf, READ_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sbx_err_sys(err, NULL, "sha256 of '%s': read", path);
			goto out;
		}
		sha256_update(&ctx, (size_t)n, buf);
	}
	sha256_hex(&ctx, hex);
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
