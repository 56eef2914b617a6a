/* OCI image layouts: from oci-layout and index.json through nested indexes
 * to the manifest for this machine, its layers and its config blob (see
 * oci.h). The config's run settings are read by oci-config.c; the JSON
 * itself by json-util.c. */
#include "image/oci.h"
#include "image/json-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REF_NAME "org.opencontainers.image.ref.name"
/* Indexes nest (an index.json entry naming a multi-arch index); content
 * addressing rules out loops, the limit bounds the work on a hostile layout. */
#define MAX_NESTING 4
#define QUOTE_MAX 80
#define LIST_MAX 400

#define HINT_LAYOUT "not an OCI image layout; make one with skopeo copy ... oci:DIR:TAG"

static const char *const index_types[] = {
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	NULL,
};
static const char *const manifest_types[] = {
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	NULL,
};
static const char *const config_types[] = {
	"application/vnd.oci.image.config.v1+json",
	"application/vnd.docker.container.image.v1+json",
	NULL,
};
static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.diff.tar",
	NULL,
};

/* The layout being read. */
struct ctx {
	struct sbx_json_ctx msg; /* who and where, for messages: "image 'WHAT': WHERE: ..." */
	char *root;      /* the layout directory, absolute and symlink-free */
	int dirfd;
	int blobfd;      /* blobs/sha256 */
};

/* A descriptor; its strings point into the JSON document it came from. */
struct desc {
	const char *media_type;
	const char *digest;
	uint64_t size;
	const char *ref_name;  /* NULL: untagged */
	const char *os;        /* platform; NULL when not given */
	const char *arch;
};

/* A printable, bounded copy of an untrusted string: messages stay one line. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < len && i < QUOTE_MAX; i++)
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] && n + 4 <= len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

const char *sbx_oci_native_arch(void)
{
	/* GOARCH names, as the OCI image index spec uses them. */
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__loongarch64)
	return "loong64";
#else
	return "unknown";
#endif
}

static int desc_parse(const struct ctx *c, json_object *obj, const char *name, struct desc *d,
		      struct sbx_err *err)
{
	char f[96], q[QUOTE_MAX + 8];
	json_object *val, *annotations, *platform;
	int64_t size;

	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(obj, json_type_object))
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "%s is not an object",
				     name);
	if (sbx_json_get_string(&c->msg, obj, name, "mediaType", &d->media_type, err) < 0 ||
	    sbx_json_get_string(&c->msg, obj, name, "digest", &d->digest, err) < 0 ||
	    sbx_json_get_typed(&c->msg, obj, name, "size", json_type_int, &val, err) < 0 ||
	    sbx_json_get_typed(&c->msg, obj, name, "annotations", json_type_object, &annotations,
			       err) < 0 ||
	    sbx_json_get_typed(&c->msg, obj, name, "platform", json_type_object, &platform, err) < 0)
		return -1;
	if (!d->media_type || !d->digest || !val)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED,
				     "%s lacks a mediaType, digest or size", name);
	if (!sbx_digest_valid(d->digest))
		return sbx_json_fail(&c->msg, err, 0,
				     "only sha256 digests of 64 lowercase hex digits are supported",
				     "%s: bad digest '%s'", name, quote(d->digest, q, sizeof(q)));
	size = json_object_get_int64(val);
	if (size < 0 || size == INT64_MAX)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "%s: bad size", name);
	d->size = (uint64_t)size;
	if (annotations &&
	    sbx_json_get_string(&c->msg, annotations, sbx_json_field(f, sizeof(f), name, "annotations"),
				REF_NAME, &d->ref_name, err) < 0)
		return -1;
	if (!platform)
		return 0;
	sbx_json_field(f, sizeof(f), name, "platform");
	if (sbx_json_get_string(&c->msg, platform, f, "os", &d->os, err) < 0 ||
	    sbx_json_get_string(&c->msg, platform, f, "architecture", &d->arch, err) < 0)
		return -1;
	if (!d->os || !d->arch)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "%s lacks os or architecture",
				     f);
	return 0;
}

/* The manifests[] of an index, parsed; *n = 0 is an error. */
static int index_entries(const struct ctx *c, json_object *index, struct desc **out, size_t *n,
			 struct sbx_err *err)
{
	json_object *list;
	struct desc *d = NULL;
	size_t count;
	char f[32];
	int rc = -1;

	if (sbx_json_get_typed(&c->msg, index, NULL, "manifests", json_type_array, &list, err) < 0)
		goto out;
	count = list ? json_object_array_length(list) : 0;
	if (count == 0) {
		sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "no images listed");
		goto out;
	}
	d = calloc(count, sizeof(*d));
	if (!d) {
		sbx_json_fail(&c->msg, err, errno, NULL, "read");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(f, sizeof(f), "manifests[%zu]", i);
		if (desc_parse(c, json_object_array_get_idx(list, i), f, &d[i], err) < 0)
			goto out;
	}
	*out = d;
	*n = count;
	d = NULL;
	rc = 0;
out:
	free(d);
	return rc;
}

/* schemaVersion 2, and a mediaType, when the document names its own, equal
 * to the one its descriptor gave (OCI image spec, "mediaType" property). */
static int check_header(const struct ctx *c, json_object *doc, const char *expected_type,
			struct sbx_err *err)
{
	char q[QUOTE_MAX + 8];
	json_object *val;
	const char *type;

	if (sbx_json_get_typed(&c->msg, doc, NULL, "schemaVersion", json_type_int, &val, err) < 0)
		return -1;
	if (!val || json_object_get_int64(val) != 2)
		return sbx_json_fail(&c->msg, err, 0, "only schemaVersion 2 images are supported",
				     "schemaVersion is not 2");
	if (sbx_json_get_string(&c->msg, doc, NULL, "mediaType", &type, err) < 0)
		return -1;
	if (type && expected_type && strcmp(type, expected_type) != 0)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED,
				     "mediaType '%s' differs from its descriptor's",
				     quote(type, q, sizeof(q)));
	return 0;
}

/* "a, b, c" of the entries' names or platforms, bounded for one line. */
static void describe_entries(const struct desc *d, size_t n, int platforms, char *buf, size_t len)
{
	char q[QUOTE_MAX + 8], p[2 * QUOTE_MAX + 16];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used + 5 < len; i++) {
		const char *item;

		if (platforms && d[i].os)
			item = (snprintf(p, sizeof(p), "%s/%s", quote(d[i].os, q, sizeof(q)),
					 d[i].arch), p);
		else if (platforms)
			item = "no platform";
		else
			item = d[i].ref_name ? quote(d[i].ref_name, q, sizeof(q)) : "(untagged)";
		if (used + strlen(item) + 2 + 4 >= LIST_MAX || used + strlen(item) + 6 >= len) {
			snprintf(buf + used, len - used, "%s...", used ? ", " : "");
			return;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
	}
}

/* The entry for linux on this machine; a lone entry without a platform is
 * taken as it is (single-image layouts rarely say their platform). */
static int choose_platform(const struct ctx *c, const struct desc *d, size_t n, struct desc *out,
			   struct sbx_err *err)
{
	const char *arch = sbx_oci_native_arch();
	char found[LIST_MAX + 8], hint[64];

	for (size_t i = 0; i < n; i++)
		if (d[i].os && strcmp(d[i].os, "linux") == 0 && strcmp(d[i].arch, arch) == 0) {
			*out = d[i];
			return 0;
		}
	if (n == 1 && !d[0].os) {
		*out = d[0];
		return 0;
	}
	describe_entries(d, n, 1, found, sizeof(found));
	snprintf(hint, sizeof(hint), "use an image built for linux/%s", arch);
	return sbx_json_fail(&c->msg, err, 0, hint, "no image for linux/%s (found: %s)", arch, found);
}

/* The index.json entry named tag, or its only entry. Several entries that
 * all carry a platform are one multi-arch image written flat. */
static int choose_tagged(const struct ctx *c, struct desc *d, size_t n, const char *tag,
			 struct desc *out, struct sbx_err *err)
{
	char names[LIST_MAX + 8], q[QUOTE_MAX + 8];
	size_t matches = 0, with_platform = 0;

	for (size_t i = 0; i < n; i++)
		if (!tag || (d[i].ref_name && strcmp(d[i].ref_name, tag) == 0))
			d[matches++] = d[i];
	for (size_t i = 0; i < matches; i++)
		with_platform += d[i].os != NULL;
	if (matches == 1) {
		*out = d[0];
		return 0;
	}
	if (matches > 1 && with_platform == matches)
		return choose_platform(c, d, matches, out, err);
	if (matches > 1 && tag)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "%zu images are tagged '%s'",
				     matches, quote(tag, q, sizeof(q)));
	describe_entries(d, n, 0, names, sizeof(names));
	if (matches > 1)
		return sbx_json_fail(&c->msg, err, 0, "choose one by its tag",
				     "%zu images and no tag given (tags: %s)", matches, names);
	return sbx_json_fail(&c->msg, err, 0, "choose one of the tags the layout has",
			     "no image tagged '%s' (tags: %s)", quote(tag, q, sizeof(q)), names);
}

static void set_where(struct ctx *c, const char *kind, const char *digest)
{
	snprintf(c->msg.where, sizeof(c->msg.where), "%s %s", kind, digest);
}

/* A small blob, checked against its descriptor's size and digest, parsed
 * when out is given. The digest was validated by desc_parse(). */
static int load_blob(const struct ctx *c, const struct desc *d, json_object **out,
		     struct sbx_err *err)
{
	const char *hex = sbx_digest_hex(d->digest);
	char *data = NULL;
	char sum[SBX_SHA256_HEX_LEN + 1];
	size_t len;
	int rc = -1;

	if (d->size > SBX_OCI_JSON_MAX) {
		sbx_json_fail(&c->msg, err, 0, "manifests, indexes and configs are small JSON files",
			      "size %llu is more than the limit of %u", (unsigned long long)d->size,
			      SBX_OCI_JSON_MAX);
		goto out;
	}
	if (sbx_json_read_file(&c->msg, c->blobfd, hex, 1, &data, &len, err) < 0)
		goto out;
	if (len != d->size) {
		sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED,
			      "blob is %zu bytes, its descriptor says %llu", len,
			      (unsigned long long)d->size);
		goto out;
	}
	sbx_sha256_buf(data, len, sum);
	if (strcmp(sum, hex) != 0) {
		sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "content has sha256:%s", sum);
		goto out;
	}
	if (out && sbx_json_parse_object(&c->msg, data, len, out, err) < 0)
		goto out;
	rc = 0;
out:
	free(data);
	return rc;
}

static int blob_path(const struct ctx *c, const char *digest, char **out, struct sbx_err *err)
{
	if (asprintf(out, "%s/blobs/sha256/%s", c->root, sbx_digest_hex(digest)) < 0) {
		*out = NULL;
		return sbx_json_fail(&c->msg, err, ENOMEM, NULL, "path");
	}
	return 0;
}

/* A layer: known type, present as a regular file of the descriptor's size. */
static int add_layer(const struct ctx *c, const struct desc *d, size_t i, struct sbx_oci_image *img,
		     struct sbx_err *err)
{
	char q[QUOTE_MAX + 8], *path = NULL;
	struct stat st;
	int rc = -1;

	if (!in_list(d->media_type, layer_types)) {
		sbx_json_fail(&c->msg, err, 0,
			      "only plain, gzip and zstd tar layers are supported, not encrypted ones",
			      "layer %zu (%s): unsupported media type '%s'", i + 1, d->digest,
			      quote(d->media_type, q, sizeof(q)));
		goto out;
	}
	if (fstatat(c->blobfd, sbx_digest_hex(d->digest), &st, AT_SYMLINK_NOFOLLOW) < 0) {
		sbx_json_fail(&c->msg, err, errno, SBX_JSON_HINT_DAMAGED, "layer %zu (%s)", i + 1,
			      d->digest);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_INSIDE, "layer %zu (%s): %s", i + 1,
			      d->digest,
			      S_ISLNK(st.st_mode) ? "is a symbolic link" : "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size != d->size) {
		sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED,
			      "layer %zu (%s): blob is %lld bytes, the manifest says %llu",
			      i + 1, d->digest, (long long)st.st_size, (unsigned long long)d->size);
		goto out;
	}
	if (img->layers_size + d->size < img->layers_size) {
		sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "layer sizes overflow");
		goto out;
	}
	img->layers_size += d->size;
	if (blob_path(c, d->digest, &path, err) < 0)
		goto out;
	if (sbx_strv_push(&img->layers, path) < 0) {
		sbx_json_fail(&c->msg, err, errno, NULL, "layer %zu", i + 1);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* The config and layers of one (verified, parsed) manifest. */
static int read_manifest(struct ctx *c, json_object *manifest, const struct desc *md,
			 struct sbx_oci_image *img, struct sbx_err *err)
{
	char q[QUOTE_MAX + 8], manifest_where[sizeof(c->msg.where)];
	json_object *obj, *layers;
	struct desc d;
	size_t n;

	if (check_header(c, manifest, md->media_type, err) < 0)
		return -1;
	if (sbx_json_get_typed(&c->msg, manifest, NULL, "config", json_type_object, &obj, err) < 0)
		return -1;
	if (!obj)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "no config");
	if (desc_parse(c, obj, "config", &d, err) < 0)
		return -1;
	if (!in_list(d.media_type, config_types))
		return sbx_json_fail(&c->msg, err, 0, "this is an OCI artifact, not a container image",
				     "config media type '%s' is not an image config",
				     quote(d.media_type, q, sizeof(q)));
	memcpy(manifest_where, c->msg.where, sizeof(manifest_where));
	set_where(c, "config", d.digest);
	if (load_blob(c, &d, NULL, err) < 0 || blob_path(c, d.digest, &img->config_path, err) < 0)
		return -1;
	memcpy(c->msg.where, manifest_where, sizeof(c->msg.where));

	if (sbx_json_get_typed(&c->msg, manifest, NULL, "layers", json_type_array, &layers, err) < 0)
		return -1;
	if (!layers)
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED, "no layers list");
	n = json_object_array_length(layers);
	for (size_t i = 0; i < n; i++) {
		char f[32];

		snprintf(f, sizeof(f), "layers[%zu]", i);
		if (desc_parse(c, json_object_array_get_idx(layers, i), f, &d, err) < 0 ||
		    add_layer(c, &d, i, img, err) < 0)
			return -1;
	}
	return 0;
}

/* Follow d through nested indexes to a manifest and read it. */
static int resolve(struct ctx *c, struct desc d, struct sbx_oci_image *img, struct sbx_err *err)
{
	json_object *docs[MAX_NESTING + 1] = { 0 };
	struct desc *entries = NULL;
	char q[QUOTE_MAX + 8];
	size_t n;
	int depth, rc = -1;

	for (depth = 0;; depth++) {
		int is_index = in_list(d.media_type, index_types);

		if (!is_index && !in_list(d.media_type, manifest_types)) {
			sbx_json_fail(&c->msg, err, 0,
				      "only OCI and docker v2 image manifests and indexes are supported",
				      "%s: unsupported media type '%s'", d.digest,
				      quote(d.media_type, q, sizeof(q)));
			goto out;
		}
		if (depth > MAX_NESTING) {
			sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_DAMAGED,
				      "indexes nested more than %d deep", MAX_NESTING);
			goto out;
		}
		set_where(c, is_index ? "index" : "manifest", d.digest);
		if (load_blob(c, &d, &docs[depth], err) < 0)
			goto out;
		if (!is_index)
			break;
		free(entries);
		entries = NULL;
		/* d's strings point into docs[depth]: kept until the end. */
		if (check_header(c, docs[depth], d.media_type, err) < 0 ||
		    index_entries(c, docs[depth], &entries, &n, err) < 0 ||
		    choose_platform(c, entries, n, &d, err) < 0)
			goto out;
	}
	snprintf(img->digest, sizeof(img->digest), "%s", d.digest);
	rc = read_manifest(c, docs[depth], &d, img, err);
out:
	free(entries);
	for (int i = 0; i <= MAX_NESTING; i++)
		json_object_put(docs[i]);
	return rc;
}

static int check_layout_file(struct ctx *c, struct sbx_err *err)
{
	json_object *doc = NULL;
	const char *version, *minor;
	char *data = NULL, q[QUOTE_MAX + 8];
	size_t len;
	int rc = -1;

	snprintf(c->msg.where, sizeof(c->msg.where), "oci-layout");
	if (sbx_json_read_file(&c->msg, c->dirfd, "oci-layout", 1, &data, &len, err) < 0) {
		if (err && err->errnum == ENOENT)
			sbx_json_fail(&c->msg, err, ENOENT, HINT_LAYOUT, "open");
		goto out;
	}
	if (sbx_json_parse_object(&c->msg, data, len, &doc, err) < 0 ||
	    sbx_json_get_string(&c->msg, doc, NULL, "imageLayoutVersion", &version, err) < 0)
		goto out;
	if (!version) {
		sbx_json_fail(&c->msg, err, 0, HINT_LAYOUT, "no imageLayoutVersion");
		goto out;
	}
	minor = strncmp(version, "1.0.", 4) == 0 ? version + 4 : NULL;
	if (!minor || !*minor || strspn(minor, "0123456789") != strlen(minor)) {
		sbx_json_fail(&c->msg, err, 0, "only image layout version 1.0.x is supported",
			      "imageLayoutVersion '%s'", quote(version, q, sizeof(q)));
		goto out;
	}
	rc = 0;
out:
	json_object_put(doc);
	free(data);
	return rc;
}

/* A directory below dfd that is not a symbolic link (O_NOFOLLOW then fails
 * with ENOTDIR, hence the lstat to say so). */
static int open_dir(const struct ctx *c, int dfd, const char *name, struct sbx_err *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd >= 0)
		return fd;
	if (errno == ENOTDIR && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return sbx_json_fail(&c->msg, err, 0, SBX_JSON_HINT_INSIDE, "is a symbolic link");
	return sbx_json_fail(&c->msg, err, errno, errno == ENOENT ? SBX_JSON_HINT_DAMAGED : NULL, "open");
}

/* blobs/sha256, refusing symbolic links so that blob paths stay inside. */
static int open_blob_dir(struct ctx *c, struct sbx_err *err)
{
	int blobs;

	snprintf(c->msg.where, sizeof(c->msg.where), "blobs/sha256");
	blobs = open_dir(c, c->dirfd, "blobs", err);
	if (blobs < 0)
		return -1;
	c->blobfd = open_dir(c, blobs, "sha256", err);
	close(blobs);
	return c->blobfd < 0 ? -1 : 0;
}

static int read_index(struct ctx *c, const char *tag, struct sbx_oci_image *img,
		      struct sbx_err *err)
{
	json_object *index = NULL;
	struct desc *entries = NULL, chosen;
	char *data = NULL;
	size_t len, n;
	int rc = -1;

	snprintf(c->msg.where, sizeof(c->msg.where), "index.json");
	if (sbx_json_read_file(&c->msg, c->dirfd, "index.json", 1, &data, &len, err) < 0 ||
	    sbx_json_parse_object(&c->msg, data, len, &index, err) < 0 ||
	    check_header(c, index, index_types[0], err) < 0 ||
	    index_entries(c, index, &entries, &n, err) < 0 ||
	    choose_tagged(c, entries, n, tag, &chosen, err) < 0)
		goto out;
	rc = resolve(c, chosen, img, err);
out:
	free(entries);
	json_object_put(index);
	free(data);
	return rc;
}

int sbx_oci_open(const char *layout_dir, const char *tag, const char *what, struct sbx_oci_image *img,
		 struct sbx_err *err)
{
	struct ctx c = { .msg.what = what ? what : layout_dir, .dirfd = -1, .blobfd = -1 };
	int rc = -1;

	memset(img, 0, sizeof(*img));
	c.root = realpath(layout_dir, NULL);
	if (!c.root) {
		sbx_err_sys(err, NULL, "image '%s': %s", c.msg.what, layout_dir);
		goto out;
	}
	c.dirfd = open(c.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dirfd < 0) {
		sbx_err_sys(err, NULL, "image '%s': %s", c.msg.what, c.root);
		goto out;
	}
	if (check_layout_file(&c, err) < 0 || open_blob_dir(&c, err) < 0 ||
	    read_index(&c, tag, img, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		sbx_oci_image_free(img);
	if (c.blobfd >= 0)
		close(c.blobfd);
	if (c.dirfd >= 0)
		close(c.dirfd);
	free(c.root);
	return rc;
}

void sbx_oci_image_free(struct sbx_oci_image *img)
{
	if (!img)
		return;
	free(img->config_path);
	sbx_strv_clear(&img->layers);
	memset(img, 0, sizeof(*img));
}
