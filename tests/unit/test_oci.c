/* OCI image layouts as skopeo, umoci and users hand them to us: the image a
 * tag or this machine's platform picks, its layers and config, and the
 * message a user sees for each kind of broken or hostile layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/digest.h"
#include "image/oci.h"

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DESC_MAX 1024
#define PATH_BUF (PATH_MAX + 128)

struct fixture {
	char dir[64];                /* the layout, removed by teardown */
	char real[PATH_MAX];         /* its absolute, symlink-free path */
	struct sbx_oci_image img;
	struct sbx_image_config cfg;
	struct sbx_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/sbx-oci-XXXXXX");
	if (!mkdtemp(fx->dir) || !realpath(fx->dir, fx->real))
		return -1;
	*state = fx;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	sbx_oci_image_free(&fx->img);
	sbx_image_config_free(&fx->cfg);
	free(fx);
	return 0;
}

/* ---- building layouts ---- */

static void write_file(struct fixture *fx, const char *rel, const void *data, size_t len)
{
	char path[PATH_BUF];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void make_blob_dirs(struct fixture *fx)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/blobs", fx->dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/blobs/sha256", fx->dir);
	mkdir(dir, 0755);
}

/* Store data as a blob; digest gets "sha256:<hex>". */
static void put_blob(struct fixture *fx, const char *data, char digest[72])
{
	char hex[65], rel[128];

	make_blob_dirs(fx);
	sbx_sha256_buf(data, strlen(data), hex);
	snprintf(digest, 72, "sha256:%s", hex);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	write_file(fx, rel, data, strlen(data));
}

/* Store data as a blob and return its descriptor; extra ("" or
 * ",\"platform\":{...}") is added to it. Static: one use at a time per buf. */
static const char *blob_desc(struct fixture *fx, char buf[DESC_MAX], const char *type,
			     const char *data, const char *extra)
{
	char digest[72];

	put_blob(fx, data, digest);
	snprintf(buf, DESC_MAX, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu%s}", type,
		 digest, strlen(data), extra);
	return buf;
}

/* A manifest of the given types with a config and layers (contents given),
 * stored as a blob; returns its descriptor. */
static const char *manifest_desc(struct fixture *fx, char buf[DESC_MAX], const char *mtype,
				 const char *ctype, const char *config, const char *ltype,
				 const char *const *layers, const char *extra)
{
	char manifest[4 * DESC_MAX], d[DESC_MAX];
	size_t n;

	n = (size_t)snprintf(manifest, sizeof(manifest),
			     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":%s,\"layers\":[",
			     mtype, blob_desc(fx, d, ctype, config, ""));
	for (size_t i = 0; layers && layers[i]; i++)
		n += (size_t)snprintf(manifest + n, sizeof(manifest) - n, "%s%s", i ? "," : "",
				      blob_desc(fx, d, ltype, layers[i], ""));
	snprintf(manifest + n, sizeof(manifest) - n, "]}");
	return blob_desc(fx, buf, mtype, manifest, extra);
}

static const char *const two_layers[] = { "bottom layer", "top layer!", NULL };

/* An OCI manifest with two layers and a config saying which image it is. */
static const char *simple_manifest(struct fixture *fx, char buf[DESC_MAX], const char *name,
				   const char *extra)
{
	char config[128];

	snprintf(config, sizeof(config), "{\"config\":{\"Env\":[\"NAME=%s\"]}}", name);
	return manifest_desc(fx, buf, OCI_MANIFEST, OCI_CONFIG, config, OCI_LAYER, two_layers,
			     extra);
}

/* oci-layout and an index.json listing the given descriptors. */
static void write_layout(struct fixture *fx, const char *entries)
{
	char index[8 * DESC_MAX];

	make_blob_dirs(fx);
	write_file(fx, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	snprintf(index, sizeof(index), "{\"schemaVersion\":2,\"manifests\":[%s]}", entries);
	write_file(fx, "index.json", index, strlen(index));
}

static const char *blob_path(struct fixture *fx, const char *data, char path[PATH_BUF])
{
	char hex[65];

	sbx_sha256_buf(data, strlen(data), hex);
	snprintf(path, PATH_BUF, "%s/blobs/sha256/%s", fx->real, hex);
	return path;
}

static void assert_error(struct fixture *fx, const char *part)
{
	if (!strstr(fx->err.msg, part))
		fail_msg("error '%s' lacks '%s'", fx->err.msg, part);
	assert_null(strchr(fx->err.msg, '\n'));
}

static int open_fails(struct fixture *fx, const char *tag)
{
	int rc = sbx_oci_open(fx->dir, tag, "img", &fx->img, &fx->err);

	if (rc == 0)
		fail_msg("sbx_oci_open succeeded");
	assert_null(fx->img.config_path);
	assert_int_equal(fx->img.layers.n, 0);
	return rc;
}

static void open_ok(struct fixture *fx, const char *tag)
{
	if (sbx_oci_open(fx->dir, tag, "img", &fx->img, &fx->err) != 0)
		fail_msg("sbx_oci_open: %s", fx->err.msg);
}

/* The Env of the chosen image's config names it. */
static void assert_image_named(struct fixture *fx, const char *name)
{
	char want[64];

	assert_int_equal(sbx_image_config_load(fx->img.config_path, "img", &fx->cfg, &fx->err), 0);
	snprintf(want, sizeof(want), "NAME=%s", name);
	assert_int_equal(fx->cfg.env.n, 1);
	assert_string_equal(fx->cfg.env.v[0], want);
	sbx_image_config_free(&fx->cfg);
}

/* ---- digests ---- */

static void test_sha256_of_a_string_and_a_file(void **state)
{
	struct fixture *fx = *state;
	char hex[65], path[PATH_BUF];

	sbx_sha256_buf("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sbx_sha256_buf("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	write_file(fx, "abc", "abc", 3);
	snprintf(path, sizeof(path), "%s/abc", fx->dir);
	assert_int_equal(sbx_sha256_file(path, hex, &fx->err), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	snprintf(path, sizeof(path), "%s/missing", fx->dir);
	assert_int_equal(sbx_sha256_file(path, hex, &fx->err), -1);
	assert_error(fx, "/missing': open: No such file");
}

static void test_sha256_of_a_file_larger_than_one_read(void **state)
{
	struct fixture *fx = *state;
	size_t len = 200000;
	char *data = malloc(len), hex[65], want[65], path[PATH_BUF];

	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7);
	write_file(fx, "big", data, len);
	sbx_sha256_buf(data, len, want);
	snprintf(path, sizeof(path), "%s/big", fx->dir);
	assert_int_equal(sbx_sha256_file(path, hex, &fx->err), 0);
	assert_string_equal(hex, want);
	free(data);
}

static void test_only_lowercase_sha256_digests_are_valid(void **state)
{
	const char *hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char d[128];

	(void)state;
	snprintf(d, sizeof(d), "sha256:%s", hex);
	assert_int_equal(sbx_digest_valid(d), 1);
	assert_string_equal(sbx_digest_hex(d), hex);
	snprintf(d, sizeof(d), "sha256:%sa", hex);
	assert_int_equal(sbx_digest_valid(d), 0);
	snprintf(d, sizeof(d), "sha256:%.63s", hex);
	assert_int_equal(sbx_digest_valid(d), 0);
	snprintf(d, sizeof(d), "sha256:BA%s", hex + 2);
	assert_int_equal(sbx_digest_valid(d), 0);
	snprintf(d, sizeof(d), "sha512:%s", hex);
	assert_int_equal(sbx_digest_valid(d), 0);
	snprintf(d, sizeof(d), "SHA256:%s", hex);
	assert_int_equal(sbx_digest_valid(d), 0);
	assert_int_equal(sbx_digest_valid("sha256:../../etc"), 0);
	assert_int_equal(sbx_digest_valid("sha256:"), 0);
	assert_int_equal(sbx_digest_valid(""), 0);
	assert_int_equal(sbx_digest_valid(NULL), 0);
	assert_null(sbx_digest_hex("sha256:../../etc"));
}

/* ---- choosing the image ---- */

static void test_a_single_manifest_layout_gives_its_layers_bottom_first(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX], path[PATH_BUF];

	write_layout(fx, simple_manifest(fx, d, "only", ""));
	open_ok(fx, NULL);
	assert_int_equal(fx->img.layers.n, 2);
	assert_string_equal(fx->img.layers.v[0], blob_path(fx, "bottom layer", path));
	assert_string_equal(fx->img.layers.v[1], blob_path(fx, "top layer!", path));
	assert_null(fx->img.layers.v[2]);
	assert_int_equal(fx->img.layers_size, strlen("bottom layer") + strlen("top layer!"));
	assert_string_equal(fx->img.config_path,
			    blob_path(fx, "{\"config\":{\"Env\":[\"NAME=only\"]}}", path));
	/* The manifest's digest is the one index.json named. */
	assert_int_equal(sbx_digest_valid(fx->img.digest), 1);
	assert_non_null(strstr(d, fx->img.digest));
	assert_image_named(fx, "only");
	/* Freeing twice is harmless (the importer frees on every path). */
	sbx_oci_image_free(&fx->img);
	sbx_oci_image_free(&fx->img);
}

static void test_a_tag_picks_one_of_several_images(void **state)
{
	struct fixture *fx = *state;
	char a[DESC_MAX], b[DESC_MAX], entries[2 * DESC_MAX];

	simple_manifest(fx, a, "first", ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"a\"}");
	simple_manifest(fx, b, "second", ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"b\"}");
	snprintf(entries, sizeof(entries), "%s,%s", a, b);
	write_layout(fx, entries);

	open_ok(fx, "b");
	assert_image_named(fx, "second");
	sbx_oci_image_free(&fx->img);
	open_ok(fx, "a");
	assert_image_named(fx, "first");
	sbx_oci_image_free(&fx->img);

	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: 2 images and no tag given (tags: a, b) (choose one");
	open_fails(fx, "c");
	assert_error(fx, "image 'img': index.json: no image tagged 'c' (tags: a, b)");
}

static void test_an_index_leads_to_the_manifest_for_this_machine(void **state)
{
	struct fixture *fx = *state;
	const char *native = sbx_oci_native_arch();
	const char *other = strcmp(native, "arm64") ? "arm64" : "amd64";
	char m1[DESC_MAX], m2[DESC_MAX], m3[DESC_MAX], index[4 * DESC_MAX], outer[2 * DESC_MAX];
	char d[DESC_MAX], p[128];

	snprintf(p, sizeof(p), ",\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\",\"variant\":\"v8\"}",
		 other);
	simple_manifest(fx, m1, other, p);
	snprintf(p, sizeof(p), ",\"platform\":{\"os\":\"windows\",\"architecture\":\"%s\"}", native);
	simple_manifest(fx, m2, "windows", p);
	snprintf(p, sizeof(p), ",\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}", native);
	simple_manifest(fx, m3, native, p);
	snprintf(index, sizeof(index), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s,%s,%s]}",
		 OCI_INDEX, m1, m2, m3);
	write_layout(fx, blob_desc(fx, d, OCI_INDEX, index,
				   ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"}"));
	open_ok(fx, "t");
	assert_image_named(fx, native);
	assert_non_null(strstr(m3, fx->img.digest));
	sbx_oci_image_free(&fx->img);

	/* An index inside an index, its lone entry without a platform. */
	snprintf(outer, sizeof(outer), "{\"schemaVersion\":2,\"manifests\":[%s]}",
		 blob_desc(fx, d, OCI_INDEX, index, ""));
	write_layout(fx, blob_desc(fx, d, OCI_INDEX, outer, ""));
	open_ok(fx, NULL);
	assert_image_named(fx, native);
	sbx_oci_image_free(&fx->img);

	/* The same as a docker manifest list. */
	snprintf(index, sizeof(index), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s,%s]}",
		 DOCKER_LIST, m1, m3);
	write_layout(fx, blob_desc(fx, d, DOCKER_LIST, index, ""));
	open_ok(fx, NULL);
	assert_image_named(fx, native);
}

static void test_an_index_without_this_machine_names_the_platforms_found(void **state)
{
	struct fixture *fx = *state;
	char m1[DESC_MAX], m2[DESC_MAX], index[4 * DESC_MAX], d[DESC_MAX], want[128];

	simple_manifest(fx, m1, "a", ",\"platform\":{\"os\":\"linux\",\"architecture\":\"mips\"}");
	simple_manifest(fx, m2, "b", ",\"platform\":{\"os\":\"plan9\",\"architecture\":\"s390x\"}");
	snprintf(index, sizeof(index), "{\"schemaVersion\":2,\"manifests\":[%s,%s]}", m1, m2);
	write_layout(fx, blob_desc(fx, d, OCI_INDEX, index, ""));
	open_fails(fx, NULL);
	snprintf(want, sizeof(want), "no image for linux/%s (found: linux/mips, plan9/s390x)",
		 sbx_oci_native_arch());
	assert_error(fx, want);
	assert_error(fx, "image 'img': index sha256:");
}

static void test_a_flat_multi_platform_index_json_picks_this_machine(void **state)
{
	struct fixture *fx = *state;
	char m1[DESC_MAX], m2[DESC_MAX], entries[2 * DESC_MAX], p[128];

	simple_manifest(fx, m1, "other", ",\"platform\":{\"os\":\"linux\",\"architecture\":\"riscv32\"}");
	snprintf(p, sizeof(p), ",\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}",
		 sbx_oci_native_arch());
	simple_manifest(fx, m2, "native", p);
	snprintf(entries, sizeof(entries), "%s,%s", m1, m2);
	write_layout(fx, entries);
	open_ok(fx, NULL);
	assert_image_named(fx, "native");
}

static void test_docker_v2_media_types_are_read(void **state)
{
	struct fixture *fx = *state;
	static const char *const layers[] = { "docker layer", NULL };
	char d[DESC_MAX], path[PATH_BUF];

	write_layout(fx, manifest_desc(fx, d, DOCKER_MANIFEST, DOCKER_CONFIG,
				       "{\"config\":{\"Cmd\":[\"sh\"]}}", DOCKER_LAYER, layers, ""));
	open_ok(fx, NULL);
	assert_int_equal(fx->img.layers.n, 1);
	assert_string_equal(fx->img.layers.v[0], blob_path(fx, "docker layer", path));
	assert_int_equal(fx->img.layers_size, strlen("docker layer"));
}

static void test_every_listed_layer_type_is_accepted(void **state)
{
	struct fixture *fx = *state;
	static const char *const types[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.docker.image.rootfs.diff.tar",
	};
	static const char *const layers[] = { "l", NULL };
	char d[DESC_MAX];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		write_layout(fx, manifest_desc(fx, d, OCI_MANIFEST, OCI_CONFIG, "{}", types[i], layers, ""));
		open_ok(fx, NULL);
		assert_int_equal(fx->img.layers.n, 1);
		sbx_oci_image_free(&fx->img);
	}
}

/* ---- broken and hostile layouts ---- */

static void test_a_digest_that_is_a_path_is_refused(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX], entry[2 * DESC_MAX], *p;

	write_layout(fx, "{\"mediaType\":\"" OCI_MANIFEST "\",\"digest\":\"sha256:../../etc\",\"size\":3}");
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: manifests[0]: bad digest 'sha256:../../etc' (only sha256");

	/* A real blob named in uppercase hex is refused too. */
	simple_manifest(fx, d, "x", "");
	snprintf(entry, sizeof(entry), "%s", d);
	for (p = strstr(entry, "sha256:") + 7; *p != '"'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	write_layout(fx, entry);
	open_fails(fx, NULL);
	assert_error(fx, "bad digest 'sha256:");

	/* In a manifest's layer list as well. */
	snprintf(entry, sizeof(entry), "{\"schemaVersion\":2,\"config\":%s,\"layers\":[{\"mediaType\":\""
		 OCI_LAYER "\",\"digest\":\"sha256:../../../../etc/shadow\",\"size\":1}]}",
		 blob_desc(fx, d, OCI_CONFIG, "{}", ""));
	write_layout(fx, blob_desc(fx, d, OCI_MANIFEST, entry, ""));
	open_fails(fx, NULL);
	assert_error(fx, ": layers[0]: bad digest 'sha256:../../../../etc/shadow'");
}

static void test_a_manifest_not_matching_its_digest_is_refused(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX], hex[65], rel[128], path[PATH_BUF], manifest[2048];
	FILE *f;

	write_layout(fx, simple_manifest(fx, d, "x", ""));
	/* Change one byte of the manifest blob, keeping its size. */
	snprintf(hex, sizeof(hex), "%.64s", strstr(d, "sha256:") + 7);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", fx->dir, hex);
	f = fopen(path, "r");
	assert_non_null(f);
	manifest[fread(manifest, 1, sizeof(manifest) - 1, f)] = '\0';
	fclose(f);
	manifest[strlen(manifest) - 2] = ' ';
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	write_file(fx, rel, manifest, strlen(manifest));
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': manifest sha256:");
	assert_error(fx, ": content has sha256:");

	/* A size other than the descriptor's. */
	write_file(fx, rel, manifest, strlen(manifest) - 1);
	open_fails(fx, NULL);
	assert_error(fx, "its descriptor says");
}

static void test_a_missing_layer_blob_is_reported(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX], path[PATH_BUF];

	write_layout(fx, simple_manifest(fx, d, "x", ""));
	assert_int_equal(unlink(blob_path(fx, "top layer!", path)), 0);
	open_fails(fx, NULL);
	assert_error(fx, ": layer 2 (sha256:");
	assert_error(fx, "): No such file or directory (the image is damaged");
}

static void test_a_layer_that_is_a_symlink_or_a_directory_is_refused(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX], path[PATH_BUF];

	write_layout(fx, simple_manifest(fx, d, "x", ""));
	blob_path(fx, "bottom layer", path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	open_fails(fx, NULL);
	assert_error(fx, "layer 1 (sha256:");
	assert_error(fx, "is a symbolic link");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	open_fails(fx, NULL);
	assert_error(fx, "not a regular file");
}

static void test_a_symlinked_blob_dir_or_a_fifo_index_is_refused(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX], path[PATH_BUF], moved[PATH_BUF];

	write_layout(fx, simple_manifest(fx, d, "x", ""));
	snprintf(path, sizeof(path), "%s/blobs/sha256", fx->dir);
	snprintf(moved, sizeof(moved), "%s/elsewhere", fx->dir);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(symlink(moved, path), 0);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': blobs/sha256: is a symbolic link (an image layout's files must be");

	/* A FIFO would block a reader forever. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rename(moved, path), 0);
	snprintf(path, sizeof(path), "%s/index.json", fx->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: not a regular file");
}

static void test_an_encrypted_layer_is_an_unknown_type(void **state)
{
	struct fixture *fx = *state;
	static const char *const layers[] = { "secret", NULL };
	char d[DESC_MAX];

	write_layout(fx, manifest_desc(fx, d, OCI_MANIFEST, OCI_CONFIG, "{}",
				       "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", layers, ""));
	open_fails(fx, NULL);
	assert_error(fx, "unsupported media type 'application/vnd.oci.image.layer.v1.tar+gzip+encrypted'");
	assert_error(fx, ": layer 1 (sha256:");
}

static void test_unknown_manifest_and_config_types_are_refused(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX];

	write_layout(fx, blob_desc(fx, d, "application/vnd.docker.distribution.manifest.v1+prettyjws",
				   "{}", ""));
	open_fails(fx, NULL);
	assert_error(fx, "unsupported media type 'application/vnd.docker.distribution.manifest.v1+prettyjws'");

	write_layout(fx, manifest_desc(fx, d, OCI_MANIFEST, "application/vnd.cncf.helm.config.v1+json",
				       "{}", OCI_LAYER, NULL, ""));
	open_fails(fx, NULL);
	assert_error(fx, "config media type 'application/vnd.cncf.helm.config.v1+json' is not an image config");
}

static void test_a_directory_without_oci_layout_is_not_a_layout(void **state)
{
	struct fixture *fx = *state;
	char d[DESC_MAX];

	write_layout(fx, simple_manifest(fx, d, "x", ""));
	write_file(fx, "oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}", 30);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': oci-layout: imageLayoutVersion '2.0.0' (only image layout version 1.0.x");
	write_file(fx, "oci-layout", "{\"imageLayoutVersion\":\"1.0.2\"}", 30);
	open_ok(fx, NULL);
	sbx_oci_image_free(&fx->img);

	write_file(fx, "oci-layout", "{\"imageLayoutVersion\":", 22);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': oci-layout: invalid JSON");
	write_file(fx, "oci-layout", "{} {}", 5);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': oci-layout: invalid JSON: data after the end at byte 3");

	snprintf(d, sizeof(d), "%s/oci-layout", fx->dir);
	unlink(d);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': oci-layout: open: No such file or directory (not an OCI image layout");
}

static void test_an_oversized_index_json_is_refused(void **state)
{
	struct fixture *fx = *state;
	size_t len = SBX_OCI_JSON_MAX + 1;
	char *big = malloc(len);

	assert_non_null(big);
	memset(big, ' ', len);
	write_layout(fx, "");
	write_file(fx, "index.json", big, len);
	free(big);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: 8388609 bytes, more than the limit of 8388608");
}

static void test_an_empty_or_malformed_index_json_is_reported(void **state)
{
	struct fixture *fx = *state;

	write_layout(fx, "");
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: no images listed");
	write_file(fx, "index.json", "{\"schemaVersion\":2,\"manifests\":{}}", 34);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: manifests is an object, not an array");
	write_file(fx, "index.json", "{\"schemaVersion\":1,\"manifests\":[]}", 34);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: schemaVersion is not 2");
	write_file(fx, "index.json", "[]", 2);
	open_fails(fx, NULL);
	assert_error(fx, "image 'img': index.json: not a JSON object");
}

/* ---- the image config ---- */

static const char *write_config(struct fixture *fx, const char *json)
{
	write_file(fx, "config.json", json, strlen(json));
	snprintf(fx->real, sizeof(fx->real), "%s/config.json", fx->dir);
	return fx->real;
}

static void test_a_config_gives_env_workdir_entrypoint_and_cmd(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_config(fx,
		"{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\",\"EMPTY=\","
		"\"NOEQUALS\",\"=nameless\",\"A=b=c\"],\"WorkingDir\":\"/work\","
		"\"Entrypoint\":[\"/bin/tini\",\"--\"],\"Cmd\":[\"python3\",\"-c\",\"print(1)\"],"
		"\"Labels\":{\"x\":\"y\"}}}");

	assert_int_equal(sbx_image_config_load(path, "img", &fx->cfg, &fx->err), 0);
	assert_int_equal(fx->cfg.env.n, 3);
	assert_string_equal(fx->cfg.env.v[0], "PATH=/usr/bin:/bin");
	assert_string_equal(fx->cfg.env.v[1], "EMPTY=");
	assert_string_equal(fx->cfg.env.v[2], "A=b=c");
	assert_string_equal(fx->cfg.workdir, "/work");
	assert_int_equal(fx->cfg.entrypoint.n, 2);
	assert_string_equal(fx->cfg.entrypoint.v[1], "--");
	assert_int_equal(fx->cfg.cmd.n, 3);
	assert_string_equal(fx->cfg.cmd.v[2], "print(1)");
	assert_null(fx->cfg.cmd.v[3]);
}

static void test_nulls_empty_strings_and_no_config_mean_none(void **state)
{
	struct fixture *fx = *state;
	static const char *const none[] = {
		"{\"config\":{\"Env\":null,\"WorkingDir\":null,\"Entrypoint\":null,\"Cmd\":null}}",
		"{\"config\":{\"WorkingDir\":\"\",\"Entrypoint\":[],\"Cmd\":[]}}",
		"{\"config\":null}",
		"{\"config\":{}}",
		"{}",
		"  {}\n",
	};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		const char *path = write_config(fx, none[i]);

		if (sbx_image_config_load(path, "img", &fx->cfg, &fx->err) != 0)
			fail_msg("%s: %s", none[i], fx->err.msg);
		assert_int_equal(fx->cfg.env.n, 0);
		assert_null(fx->cfg.workdir);
		assert_int_equal(fx->cfg.entrypoint.n, 0);
		assert_int_equal(fx->cfg.cmd.n, 0);
		sbx_image_config_free(&fx->cfg);
	}
}

static void test_a_config_with_wrong_types_is_refused(void **state)
{
	struct fixture *fx = *state;
	static const char *const cases[][2] = {
		{ "{\"config\":{\"Env\":\"PATH=/bin\"}}", "config: Env is a string, not an array" },
		{ "{\"config\":{\"Cmd\":[\"sh\",1]}}", "config: Cmd[1] is an integer, not a string" },
		{ "{\"config\":{\"Entrypoint\":[null]}}", "config: Entrypoint[0] is null, not a string" },
		{ "{\"config\":{\"WorkingDir\":5}}", "config: WorkingDir is an integer, not a string" },
		{ "{\"config\":[]}", "config: config is an array, not an object" },
		{ "{\"config\":{\"Cmd\":[\"a\\u0000b\"]}}", "config: Cmd[0] contains a NUL byte" },
		{ "[]", "config: not a JSON object" },
		{ "", "config: invalid JSON" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_config(fx, cases[i][0]);

		assert_int_equal(sbx_image_config_load(path, "img", &fx->cfg, &fx->err), -1);
		assert_error(fx, "image 'img': ");
		assert_error(fx, cases[i][1]);
		assert_int_equal(fx->cfg.env.n + fx->cfg.cmd.n + fx->cfg.entrypoint.n, 0);
	}
	assert_int_equal(sbx_image_config_load("/nonexistent/config", "img", &fx->cfg, &fx->err), -1);
	assert_error(fx, "image 'img': config: open: No such file or directory");
}

/* ---- the real tools ---- */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void test_layouts_made_by_umoci_and_skopeo_are_read(void **state)
{
	struct fixture *fx = *state;
	const char *q = ">/dev/null 2>&1";
	char l[PATH_BUF], hex[65];

	if (run("command -v umoci >/dev/null && command -v skopeo >/dev/null") != 0) {
		print_message("[  SKIPPED ] umoci or skopeo not installed\n");
		skip();
	}
	/* umoci init wants to create the layout itself. */
	snprintf(l, sizeof(l), "%s/L", fx->dir);
	assert_int_equal(run("cd %s && umoci init --layout L %s && umoci new --image L:t %s &&"
			     " umoci unpack --rootless --image L:t B %s && echo hi > B/rootfs/hello &&"
			     " umoci repack --image L:t B %s && umoci config --image L:t"
			     " --config.env FOO=bar --config.workingdir /w --config.cmd sh %s",
			     fx->dir, q, q, q, q, q), 0);
	assert_int_equal(sbx_oci_open(l, "t", "umoci", &fx->img, &fx->err), 0);
	assert_int_equal(fx->img.layers.n, 1);
	assert_int_equal(sbx_sha256_file(fx->img.config_path, hex, &fx->err), 0);
	assert_int_equal(sbx_image_config_load(fx->img.config_path, "umoci", &fx->cfg, &fx->err), 0);
	assert_true(sbx_strv_contains(&fx->cfg.env, "FOO=bar"));
	assert_string_equal(fx->cfg.workdir, "/w");
	assert_int_equal(fx->cfg.cmd.n, 1);
	assert_string_equal(fx->cfg.cmd.v[0], "sh");
	sbx_image_config_free(&fx->cfg);
	sbx_oci_image_free(&fx->img);

	/* docker save -> OCI, as the importer does it, and a docker v2 manifest kept as such. */
	assert_int_equal(run("cd %s && skopeo --insecure-policy copy oci:L:t docker-archive:x.tar:img:t %s &&"
			     " skopeo --insecure-policy copy docker-archive:x.tar oci:D:img %s &&"
			     " skopeo --insecure-policy copy --format v2s2 oci:L:t oci:V:v2 %s",
			     fx->dir, q, q, q), 0);
	snprintf(l, sizeof(l), "%s/D", fx->dir);
	assert_int_equal(sbx_oci_open(l, NULL, "docker-archive", &fx->img, &fx->err), 0);
	assert_int_equal(fx->img.layers.n, 1);
	sbx_oci_image_free(&fx->img);
	snprintf(l, sizeof(l), "%s/V", fx->dir);
	assert_int_equal(sbx_oci_open(l, "v2", "v2s2", &fx->img, &fx->err), 0);
	assert_int_equal(fx->img.layers.n, 1);
	assert_int_equal(sbx_image_config_load(fx->img.config_path, "v2s2", &fx->cfg, &fx->err), 0);
	assert_string_equal(fx->cfg.workdir, "/w");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sha256_of_a_string_and_a_file),
		T(test_sha256_of_a_file_larger_than_one_read),
		T(test_only_lowercase_sha256_digests_are_valid),
		T(test_a_single_manifest_layout_gives_its_layers_bottom_first),
		T(test_a_tag_picks_one_of_several_images),
		T(test_an_index_leads_to_the_manifest_for_this_machine),
		T(test_an_index_without_this_machine_names_the_platforms_found),
		T(test_a_flat_multi_platform_index_json_picks_this_machine),
		T(test_docker_v2_media_types_are_read),
		T(test_every_listed_layer_type_is_accepted),
		T(test_a_digest_that_is_a_path_is_refused),
		T(test_a_manifest_not_matching_its_digest_is_refused),
		T(test_a_missing_layer_blob_is_reported),
		T(test_a_layer_that_is_a_symlink_or_a_directory_is_refused),
		T(test_a_symlinked_blob_dir_or_a_fifo_index_is_refused),
		T(test_an_encrypted_layer_is_an_unknown_type),
		T(test_unknown_manifest_and_config_types_are_refused),
		T(test_a_directory_without_oci_layout_is_not_a_layout),
		T(test_an_oversized_index_json_is_refused),
		T(test_an_empty_or_malformed_index_json_is_reported),
		T(test_a_config_gives_env_workdir_entrypoint_and_cmd),
		T(test_nulls_empty_strings_and_no_config_mean_none),
		T(test_a_config_with_wrong_types_is_refused),
		T(test_layouts_made_by_umoci_and_skopeo_are_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
