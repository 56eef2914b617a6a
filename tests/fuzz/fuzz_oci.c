/* libFuzzer target: an OCI image layout's JSON (lib/image/oci.c,
 * oci-config.c, json-util.c). The input is up to three documents split by
 * lines "%%": index.json, a manifest, a config. Blobs must match their
 * digests, which a fuzzer cannot forge, so the harness writes the manifest
 * and config as blobs under their real digests and replaces, in the index,
 * $MD/$MS by the manifest's digest/size and, in the manifest, $CD/$CS by the
 * config's and $LD/$LS by those of a small layer blob. The config is also
 * read on its own by sbx_image_config_load. */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/digest.h"
#include "image/oci.h"
#include "spec/image.h"

#define SEP "\n%%\n"
#define LAYER "fuzz layer\n"

static char layout[PATH_MAX];
static char layer_hex[65];

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (len && write(fd, data, len) != (ssize_t)len)
		rc = -1;
	close(fd);
	return rc;
}

static void setup(void)
{
	char path[PATH_MAX];
	const char *ol = "{\"imageLayoutVersion\": \"1.0.0\"}";

	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	/* Blob paths add 90 characters to layout: a longer TMPDIR is a setup
	 * error, named, not a finding. */
	if (strlen(tmp) > PATH_MAX - 128) {
		fprintf(stderr, "fuzz_oci: TMPDIR '%s' is too long; use a shorter one\n", tmp);
		exit(2);
	}
	snprintf(layout, sizeof(layout), "%s/fuzz-oci.XXXXXX", tmp);
	if (!mkdtemp(layout)) {
		perror("fuzz_oci: mkdtemp");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/blobs", layout);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", layout);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/oci-layout", layout);
	if (write_file(path, ol, strlen(ol)) < 0)
		abort();
	sbx_sha256_buf(LAYER, strlen(LAYER), layer_hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, layer_hex);
	if (write_file(path, LAYER, strlen(LAYER)) < 0)
		abort();
}

/* s with every key replaced by val, in a malloc'd copy (NULL: no memory). */
static char *replace(const char *s, const char *key, const char *val)
{
	size_t klen = strlen(key), vlen = strlen(val), n = 0, len;
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, key)); p += klen)
		n++;
	len = strlen(s) + n * vlen + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	for (o = out, p = s;;) {
		const char *hit = strstr(p, key);

		if (!hit) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, val, vlen);
		o += vlen;
		p = hit + klen;
	}
	return out;
}

/* Replace $<c>D and $<c>S by the digest and size of data. */
static char *with_blob(char *s, char c, const char *hex, size_t size)
{
	char key[4] = { '$', c, 'D', '\0' }, val[80], *a, *b;

	snprintf(val, sizeof(val), "sha256:%s", hex);
	a = replace(s, key, val);
	free(s);
	if (!a)
		return NULL;
	key[2] = 'S';
	snprintf(val, sizeof(val), "%zu", size);
	b = replace(a, key, val);
	free(a);
	return b;
}

static int write_blob(const char *data, char hex[65])
{
	char path[PATH_MAX];

	sbx_sha256_buf(data, strlen(data), hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, hex);
	return write_file(path, data, strlen(data));
}

static void remove_blob(const char *hex)
{
	char path[PATH_MAX];

	if (strcmp(hex, layer_hex) == 0)
		return;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, hex);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *part[3] = { NULL, NULL, NULL }, *p, *index = NULL, *manifest = NULL;
	char cfg_hex[65] = "", man_hex[65] = "", path[PATH_MAX];
	struct sbx_image_config cfg = { 0 };
	struct sbx_oci_image img;
	struct sbx_err err = { 0 };
	int i;

	if (!layout[0])
		setup();
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0, p = buf; i < 3 && p; i++) {
		char *sep = i < 2 ? strstr(p, SEP) : NULL;

		part[i] = p;
		if (sep) {
			*sep = '\0';
			p = sep + strlen(SEP);
		} else {
			p = NULL;
		}
	}

	/* The config, alone and as the manifest's blob. */
	if (part[2]) {
		if (write_blob(part[2], cfg_hex) < 0)
			goto out;
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, cfg_hex);
		sbx_image_config_load(path, "fuzz", &cfg, &err);
		sbx_image_config_free(&cfg);
	}
	manifest = strdup(part[1] ? part[1] : "{}");
	if (!manifest)
		goto out;
	if (cfg_hex[0] && !(manifest = with_blob(manifest, 'C', cfg_hex, strlen(part[2]))))
		goto out;
	if (!(manifest = with_blob(manifest, 'L', layer_hex, strlen(LAYER))))
		goto out;
	if (write_blob(manifest, man_hex) < 0)
		goto out;
	index = strdup(part[0]);
	if (!index || !(index = with_blob(index, 'M', man_hex, strlen(manifest))))
		goto out;
	snprintf(path, sizeof(path), "%s/index.json", layout);
	if (write_file(path, index, strlen(index)) < 0)
		goto out;

	/* FUZZ_VERBOSE=1: say what a seed does. */
	if (sbx_oci_open(layout, NULL, "fuzz", &img, &err) < 0 && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_oci: %s\n", err.msg);
	else if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_oci: ok, %zu layers\n", img.layers.n);
	sbx_oci_image_free(&img);
	sbx_oci_open(layout, "latest", "fuzz", &img, &err);
	sbx_oci_image_free(&img);
out:
	if (man_hex[0])
		remove_blob(man_hex);
	if (cfg_hex[0])
		remove_blob(cfg_hex);
	free(index);
	free(manifest);
	free(buf);
	return 0;
}
