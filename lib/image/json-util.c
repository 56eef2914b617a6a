/* Reading an image's small JSON documents (see json-util.h): bounded
 * reads, strict parsing, typed field getters, and their messages. */
#include "image/json-util.h"
#include "image/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sbx_json_fail(const struct sbx_json_ctx *c, struct sbx_err *err, int errnum, const char *hint,
		  const char *fmt, ...)
{
	char where[SBX_ERR_MAX];
	va_list ap;

	snprintf(where, sizeof(where), "image '%s': %s", c->what, c->where);
	va_start(ap, fmt);
	sbx_err_vset_in(err, errnum, hint, where, fmt, ap);
	va_end(ap);
	return -1;
}

/* The whole of a regular file below dfd, at most SBX_OCI_JSON_MAX bytes,
 * NUL-terminated. in_layout: O_NOFOLLOW, as a layout may not point outside
 * itself. O_NONBLOCK: a FIFO in place of a file must not hang the import. */
int sbx_json_read_file(const struct sbx_json_ctx *c, int dfd, const char *name, int in_layout,
		       char **data, size_t *len, struct sbx_err *err)
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
			sbx_json_fail(c, err, 0, SBX_JSON_HINT_INSIDE, "is a symbolic link");
		else
			sbx_json_fail(c, err, errno, errno == ENOENT ? SBX_JSON_HINT_DAMAGED : NULL,
				      "open");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		sbx_json_fail(c, err, errno, NULL, "stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED, "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)SBX_OCI_JSON_MAX) {
		sbx_json_fail(c, err, 0, "manifests, indexes and configs are small JSON files",
			      "%lld bytes, more than the limit of %u", (long long)st.st_size,
			      SBX_OCI_JSON_MAX);
		goto out;
	}
	/* Room for one byte more than fstat saw tells a file that grew. */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		sbx_json_fail(c, err, errno, NULL, "read");
		goto out;
	}
	while (got <= (size_t)st.st_size &&
	       (n = read(fd, buf + got, (size_t)st.st_size + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sbx_json_fail(c, err, errno, NULL, "read");
			goto out;
		}
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		sbx_json_fail(c, err, 0, NULL, "changed while being read");
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
int sbx_json_parse_object(const struct sbx_json_ctx *c, const char *data, size_t len, json_object **out,
			  struct sbx_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int rc = -1;

	if (!tok) {
		sbx_json_fail(c, err, ENOMEM, NULL, "parse");
		goto out;
	}
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr != json_tokener_success) {
		sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED, "invalid JSON at byte %zu: %s",
			      json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	end += strspn(data + end, " \t\r\n");
	if (end < len) {
		sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED,
			      "invalid JSON: data after the end at byte %zu", end);
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED, "not a JSON object");
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

const char *sbx_json_type_name(json_type type)
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
const char *sbx_json_field(char *buf, size_t len, const char *prefix, const char *key)
{
	snprintf(buf, len, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
	return buf;
}

/* obj[key] of the given type; *out = NULL when missing or null. */
int sbx_json_get_typed(const struct sbx_json_ctx *c, json_object *obj, const char *prefix,
		       const char *key, json_type type, json_object **out, struct sbx_err *err)
{
	json_object *val = NULL;
	char f[128];

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &val) || !val)
		return 0;
	if (!json_object_is_type(val, type))
		return sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED, "%s is %s, not %s",
				     sbx_json_field(f, sizeof(f), prefix, key),
				     sbx_json_type_name(json_object_get_type(val)),
				     sbx_json_type_name(type));
	*out = val;
	return 0;
}

/* The C string of a JSON string; a NUL inside would silently cut it short. */
int sbx_json_string_value(const struct sbx_json_ctx *c, json_object *val, const char *prefix,
			  const char *key, const char **out, struct sbx_err *err)
{
	const char *s = json_object_get_string(val);
	char f[128];

	if ((size_t)json_object_get_string_len(val) != strlen(s))
		return sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED, "%s contains a NUL byte",
				     sbx_json_field(f, sizeof(f), prefix, key));
	*out = s;
	return 0;
}

int sbx_json_get_string(const struct sbx_json_ctx *c, json_object *obj, const char *prefix,
			const char *key, const char **out, struct sbx_err *err)
{
	json_object *val;

	*out = NULL;
	if (sbx_json_get_typed(c, obj, prefix, key, json_type_string, &val, err) < 0)
		return -1;
	return val ? sbx_json_string_value(c, val, prefix, key, out, err) : 0;
}
