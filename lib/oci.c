#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
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

#define HINT_DAMAGED "the image is damaged or incomplete; copy or rebuild it"
#define HINT_INSIDE "an image layout's files must be regular files inside it, not symbolic links"
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

/* Who is being read, for messages: "image 'WHAT': WHERE: ...". */
struct ctx {
	const char *what;
	char where[128];
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

static int fail(const struct ctx *c, struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(const struct ctx *c, struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, ...)
{
	char reason[SBX_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return sbx_err_set(err, errnum, hint, "image '%s': %s: %s", c->what, c->where, reason);
}

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

/* The whole of a regular file below dfd, at most SBX_OCI_JSON_MAX bytes,
 * NUL-terminated. in_layout: O_NOFOLLOW, as a layout may not point outside
 * itself. O_NONBLOCK: a FIFO in place of a file must not hang the import. */
static int read_small(const struct ctx *c, int dfd, const char *name, int in_layout, char **data,
		      size_t *len, struct sbx_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
		    (in_layout ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == ELOOP && in_layout)
			fail(c, err, 0, HINT_INSIDE, "is a symbolic link");
		else
			fail(c, err, errno, errno == ENOENT ? HINT_DAMAGED : NULL, "open");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		fail(c, err, errno, NULL, "stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(c, err, 0, HINT_DAMAGED, "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)SBX_OCI_JSON_MAX) {
		fail(c, err, 0, "manifests, indexes and configs are small JSON files",
		     "%lld bytes, more than the limit of %u", (long long)st.st_size, SBX_OCI_JSON_MAX);
		goto out;
	}
	/* Room for one byte more than fstat saw tells a file that grew. */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		fail(c, err, errno, NULL, "read");
		goto out;
	}
	while (got <= (size_t)st.st_size &&
	       (n = read(fd, buf + got, (size_t)st.st_size + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(c, err, errno, NULL, "read");
			goto out;
		}
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		fail(c, err, 0, NULL, "changed while being read");
		goto out;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* One JSON object filling all of data (NUL-terminated; trailing blanks aside). */
static int parse_object(const struct ctx *c, const char *data, size_t len, json_object **out,
			struct sbx_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int rc = -1;

	if (!tok) {
		fail(c, err, ENOMEM, NULL, "parse");
		goto out;
	}
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr != json_tokener_success) {
		fail(c, err, 0, HINT_DAMAGED, "invalid JSON at byte %zu: %s",
		     json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	end += strspn(data + end, " \t\r\n");
	if (end < len) {
		fail(c, err, 0, HINT_DAMAGED, "invalid JSON: data after the end at byte %zu", end);
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		fail(c, err, 0, HINT_DAMAGED, "not a JSON object");
		goto out;
	}
	*out = obj;
	obj = NULL;
	rc = 0;
out:
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

static const char *type_name(json_type type)
{
	switch (type) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

/* "prefix.key" for messages; prefix NULL: key alone. */
static const char *field(char *buf, size_t len, const char *prefix, const char *key)
{
	snprintf(buf, len, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
	return buf;
}

/* obj[key] of the given type; *out = NULL when missing or null. */
static int get_typed(const struct ctx *c, json_object *obj, const char *prefix, const char *key,
		     json_type type, json_object **out, struct sbx_err *err)
{
	json_object *val = NULL;
	char f[128];

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &val) || !val)
		return 0;
	if (!json_object_is_type(val, type))
		return fail(c, err, 0, HINT_DAMAGED, "%s is %s, not %s", field(f, sizeof(f), prefix, key),
			    type_name(json_object_get_type(val)), type_name(type));
	*out = val;
	return 0;
}

/* The C string of a JSON string; a NUL inside would silently cut it short. */
static int string_value(const struct ctx *c, json_object *val, const char *prefix, const char *key,
			const char **out, struct sbx_err *err)
{
	const char *s = json_object_get_string(val);
	char f[128];

	if ((size_t)json_object_get_string_len(val) != strlen(s))
		return fail(c, err, 0, HINT_DAMAGED, "%s contains a NUL byte",
			    field(f, sizeof(f), prefix, key));
	*out = s;
	return 0;
}

static int get_string(const struct ctx *c, json_object *obj, const char *prefix, const char *key,
		      const char **out, struct sbx_err *err)
{
	json_object *val;

	*out = NULL;
	if (get_typed(c, obj, prefix, key, json_type_string, &val, err) < 0)
		return -1;
	return val ? string_value(c, val, prefix, key, out, err) : 0;
}

static int desc_parse(const struct ctx *c, json_object *obj, const char *name, struct desc *d,
		      struct sbx_err *err)
{
	char f[96], q[QUOTE_MAX + 8];
	json_object *val, *annotations, *platform;
	int64_t size;

	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(obj, json_type_object))
		return fail(c, err, 0, HINT_DAMAGED, "%s is not an object", name);
	if (get_string(c, obj, name, "mediaType", &d->media_type, err) < 0 ||
	    get_string(c, obj, name, "digest", &d->digest, err) < 0 ||
	    get_typed(c, obj, name, "size", json_type_int, &val, err) < 0 ||
	    get_typed(c, obj, name, "annotations", json_type_object, &annotations, err) < 0 ||
	    get_typed(c, obj, name, "platform", json_type_object, &platform, err) < 0)
		return -1;
	if (!d->media_type || !d->digest || !val)
		return fail(c, err, 0, HINT_DAMAGED, "%s lacks a mediaType, digest or size", name);
	if (!sbx_digest_valid(d->digest))
		return fail(c, err, 0, "only sha256 digests of 64 lowercase hex digits are supported",
			    "%s: bad digest '%s'", name, quote(d->digest, q, sizeof(q)));
	size = json_object_get_int64(val);
	if (size < 0 || size == INT64_MAX)
		return fail(c, err, 0, HINT_DAMAGED, "%s: bad size", name);
	d->size = (uint64_t)size;
	if (annotations &&
	    get_string(c, annotations, field(f, sizeof(f), name, "annotations"), REF_NAME,
		       &d->ref_name, err) < 0)
		return -1;
	if (!platform)
		return 0;
	field(f, sizeof(f), name, "platform");
	if (get_string(c, platform, f, "os", &d->os, err) < 0 ||
	    get_string(c, platform, f, "architecture", &d->arch, err) < 0)
		return -1;
	if (!d->os || !d->arch)
		return fail(c, err, 0, HINT_DAMAGED, "%s lacks os or architecture", f);
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

	if (get_typed(c, index, NULL, "manifests", json_type_array, &list, err) < 0)
		goto out;
	count = list ? json_object_array_length(list) : 0;
	if (count == 0) {
		fail(c, err, 0, HINT_DAMAGED, "no images listed");
		goto out;
	}
	d = calloc(count, sizeof(*d));
	if (!d) {
		fail(c, err, errno, NULL, "read");
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

	if (get_typed(c, doc, NULL, "schemaVersion", json_type_int, &val, err) < 0)
		return -1;
	if (!val || json_object_get_int64(val) != 2)
		return fail(c, err, 0, "only schemaVersion 2 images are supported",
			    "schemaVersion is not 2");
	if (get_string(c, doc, NULL, "mediaType", &type, err) < 0)
		return -1;
	if (type && expected_type && strcmp(type, expected_type) != 0)
		return fail(c, err, 0, HINT_DAMAGED, "mediaType '%s' differs from its descriptor's",
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
	return fail(c, err, 0, hint, "no image for linux/%s (found: %s)", arch, found);
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
		return fail(c, err, 0, HINT_DAMAGED, "%zu images are tagged '%s'", matches,
			    quote(tag, q, sizeof(q)));
	describe_entries(d, n, 0, names, sizeof(names));
	if (matches > 1)
		return fail(c, err, 0, "choose one by its tag",
			    "%zu images and no tag given (tags: %s)", matches, names);
	return fail(c, err, 0, "choose one of the tags the layout has",
		    "no image tagged '%s' (tags: %s)", quote(tag, q, sizeof(q)), names);
}

static void set_where(struct ctx *c, const char *kind, const char *digest)
{
	snprintf(c->where, sizeof(c->where), "%s %s", kind, digest);
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
		fail(c, err, 0, "manifests, indexes and configs are small JSON files",
		     "size %llu is more than the limit of %u", (unsigned long long)d->size,
		     SBX_OCI_JSON_MAX);
		goto out;
	}
	if (read_small(c, c->blobfd, hex, 1, &data, &len, err) < 0)
		goto out;
	if (len != d->size) {
		fail(c, err, 0, HINT_DAMAGED, "blob is %zu bytes, its descriptor says %llu", len,
		     (unsigned long long)d->size);
		goto out;
	}
	sbx_sha256_buf(data, len, sum);
	if (strcmp(sum, hex) != 0) {
		fail(c, err, 0, HINT_DAMAGED, "content has sha256:%s", sum);
		goto out;
	}
	if (out && parse_object(c, data, len, out, err) < 0)
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
		return fail(c, err, ENOMEM, NULL, "path");
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
		fail(c, err, 0, "only plain, gzip and zstd tar layers are supported, not encrypted ones",
		     "layer %zu (%s): unsupported media type '%s'", i + 1, d->digest,
		     quote(d->media_type, q, sizeof(q)));
		goto out;
	}
	if (fstatat(c->blobfd, sbx_digest_hex(d->digest), &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fail(c, err, errno, HINT_DAMAGED, "layer %zu (%s)", i + 1, d->digest);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(c, err, 0, HINT_INSIDE, "layer %zu (%s): %s", i + 1, d->digest,
		     S_ISLNK(st.st_mode) ? "is a symbolic link" : "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size != d->size) {
		fail(c, err, 0, HINT_DAMAGED, "layer %zu (%s): blob is %lld bytes, the manifest says %llu",
		     i + 1, d->digest, (long long)st.st_size, (unsigned long long)d->size);
		goto out;
	}
	if (img->layers_size + d->size < img->layers_size) {
		fail(c, err, 0, HINT_DAMAGED, "layer sizes overflow");
		goto out;
	}
	img->layers_size += d->size;
	if (blob_path(c, d->digest, &path, err) < 0)
		goto out;
	if (sbx_strv_push(&img->layers, path) < 0) {
		fail(c, err, errno, NULL, "layer %zu", i + 1);
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
	char q[QUOTE_MAX + 8], manifest_where[sizeof(c->where)];
	json_object *obj, *layers;
	struct desc d;
	size_t n;

	if (check_header(c, manifest, md->media_type, err) < 0)
		return -1;
	if (get_typed(c, manifest, NULL, "config", json_type_object, &obj, err) < 0)
		return -1;
	if (!obj)
		return fail(c, err, 0, HINT_DAMAGED, "no config");
	if (desc_parse(c, obj, "config", &d, err) < 0)
		return -1;
	if (!in_list(d.media_type, config_types))
		return fail(c, err, 0, "this is an OCI artifact, not a container image",
			    "config media type '%s' is not an image config",
			    quote(d.media_type, q, sizeof(q)));
	memcpy(manifest_where, c->where, sizeof(manifest_where));
	set_where(c, "config", d.digest);
	if (load_blob(c, &d, NULL, err) < 0 || blob_path(c, d.digest, &img->config_path, err) < 0)
		return -1;
	memcpy(c->where, manifest_where, sizeof(c->where));

	if (get_typed(c, manifest, NULL, "layers", json_type_array, &layers, err) < 0)
		return -1;
	if (!layers)
		return fail(c, err, 0, HINT_DAMAGED, "no layers list");
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
			fail(c, err, 0, "only OCI and docker v2 image manifests and indexes are supported",
			     "%s: unsupported media type '%s'", d.digest,
			     quote(d.media_type, q, sizeof(q)));
			goto out;
		}
		if (depth > MAX_NESTING) {
			fail(c, err, 0, HINT_DAMAGED, "indexes nested more than %d deep", MAX_NESTING);
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

	snprintf(c->where, sizeof(c->where), "oci-layout");
	if (read_small(c, c->dirfd, "oci-layout", 1, &data, &len, err) < 0) {
		if (err && err->errnum == ENOENT)
			fail(c, err, ENOENT, HINT_LAYOUT, "open");
		goto out;
	}
	if (parse_object(c, data, len, &doc, err) < 0 ||
	    get_string(c, doc, NULL, "imageLayoutVersion", &version, err) < 0)
		goto out;
	if (!version) {
		fail(c, err, 0, HINT_LAYOUT, "no imageLayoutVersion");
		goto out;
	}
	minor = strncmp(version, "1.0.", 4) == 0 ? version + 4 : NULL;
	if (!minor || !*minor || strspn(minor, "0123456789") != strlen(minor)) {
		fail(c, err, 0, "only image layout version 1.0.x is supported",
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
		return fail(c, err, 0, HINT_INSIDE, "is a symbolic link");
	return fail(c, err, errno, errno == ENOENT ? HINT_DAMAGED : NULL, "open");
}

/* blobs/sha256, refusing symbolic links so that blob paths stay inside. */
static int open_blob_dir(struct ctx *c, struct sbx_err *err)
{
	int blobs;

	snprintf(c->where, sizeof(c->where), "blobs/sha256");
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

	snprintf(c->where, sizeof(c->where), "index.json");
	if (read_small(c, c->dirfd, "index.json", 1, &data, &len, err) < 0 ||
	    parse_object(c, data, len, &index, err) < 0 ||
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
	struct ctx c = { .what = what ? what : layout_dir, .dirfd = -1, .blobfd = -1 };
	int rc = -1;

	memset(img, 0, sizeof(*img));
	c.root = realpath(layout_dir, NULL);
	if (!c.root) {
		sbx_err_sys(err, NULL, "image '%s': %s", c.what, layout_dir);
		goto out;
	}
	c.dirfd = open(c.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dirfd < 0) {
		sbx_err_sys(err, NULL, "image '%s': %s", c.what, c.root);
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

/* A list of strings (Entrypoint, Cmd, Env); null or missing: empty. */
static int get_strings(const struct ctx *c, json_object *obj, const char *key, int env,
		       struct sbx_strv *out, struct sbx_err *err)
{
	json_object *list;
	const char *s = NULL;
	char f[48];
	size_t n;

	if (get_typed(c, obj, NULL, key, json_type_array, &list, err) < 0)
		return -1;
	n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(list, i);

		snprintf(f, sizeof(f), "%s[%zu]", key, i);
		if (!json_object_is_type(item, json_type_string))
			return fail(c, err, 0, HINT_DAMAGED, "%s is %s, not a string", f,
				    type_name(json_object_get_type(item)));
		if (string_value(c, item, NULL, f, &s, err) < 0)
			return -1;
		/* "NAME=VALUE" only: a bare word or an empty name cannot be exported. */
		if (env && (!strchr(s, '=') || s[0] == '='))
			continue;
		if (sbx_strv_push(out, s) < 0)
			return fail(c, err, errno, NULL, "%s", f);
	}
	return 0;
}

int sbx_image_config_load(const char *path, const char *what, struct sbx_image_config *cfg,
			  struct sbx_err *err)
{
	struct ctx c = { .what = what ? what : path };
	json_object *doc = NULL, *config;
	const char *workdir;
	char *data = NULL;
	size_t len;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(c.where, sizeof(c.where), "config");
	if (read_small(&c, AT_FDCWD, path, 0, &data, &len, err) < 0 ||
	    parse_object(&c, data, len, &doc, err) < 0 ||
	    get_typed(&c, doc, NULL, "config", json_type_object, &config, err) < 0)
		goto out;
	if (!config) {
		rc = 0;
		goto out;
	}
	if (get_strings(&c, config, "Env", 1, &cfg->env, err) < 0 ||
	    get_strings(&c, config, "Entrypoint", 0, &cfg->entrypoint, err) < 0 ||
	    get_strings(&c, config, "Cmd", 0, &cfg->cmd, err) < 0 ||
	    get_string(&c, config, NULL, "WorkingDir", &workdir, err) < 0)
		goto out;
	if (workdir && *workdir && !(cfg->workdir = strdup(workdir))) {
		fail(&c, err, errno, NULL, "WorkingDir");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		sbx_image_config_free(cfg);
	json_object_put(doc);
	free(data);
	return rc;
}

void sbx_image_config_free(struct sbx_image_config *cfg)
{
	if (!cfg)
		return;
	sbx_strv_clear(&cfg->env);
	free(cfg->workdir);
	sbx_strv_clear(&cfg->entrypoint);
	sbx_strv_clear(&cfg->cmd);
	memset(cfg, 0, sizeof(*cfg));
}
