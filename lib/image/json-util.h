/* Reading the small, untrusted JSON documents of an image (an OCI layout's
 * oci-layout, index, manifests and config): size-limited files, one object
 * each, fields of the expected JSON type, and messages of the form
 * "image 'WHAT': WHERE: ...". Needs json-c: the importer's side only. */
#ifndef SBX_JSON_UTIL_H
#define SBX_JSON_UTIL_H

#include <json-c/json.h>
#include <stddef.h>
#include "util/error.h"

#define SBX_JSON_HINT_DAMAGED "the image is damaged or incomplete; copy or rebuild it"
#define SBX_JSON_HINT_INSIDE "an image layout's files must be regular files inside it, not symbolic links"

/* Who is being read, for messages. */
struct sbx_json_ctx {
	const char *what;  /* how to name the image */
	char where[128];   /* the file or blob being read */
};

/* Fill err with "image 'WHAT': WHERE: <fmt>". Always returns -1. */
int sbx_json_fail(const struct sbx_json_ctx *c, struct sbx_err *err, int errnum, const char *hint,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The whole of a regular file below dfd, at most SBX_OCI_JSON_MAX bytes,
 * NUL-terminated, in *data (the caller frees it). in_layout: a symbolic link
 * is refused. */
int sbx_json_read_file(const struct sbx_json_ctx *c, int dfd, const char *name, int in_layout,
		       char **data, size_t *len, struct sbx_err *err);

/* One JSON object filling all of data (NUL-terminated; trailing blanks aside). */
int sbx_json_parse_object(const struct sbx_json_ctx *c, const char *data, size_t len,
			  json_object **out, struct sbx_err *err);

/* "a string", "an array", ...: a JSON type as a message names it. */
const char *sbx_json_type_name(json_type type);

/* "prefix.key" for messages; prefix NULL: key alone. */
const char *sbx_json_field(char *buf, size_t len, const char *prefix, const char *key);

/* obj[key] of the given type; *out = NULL when missing or null. prefix names
 * obj in messages (NULL: the document itself). */
int sbx_json_get_typed(const struct sbx_json_ctx *c, json_object *obj, const char *prefix,
		       const char *key, json_type type, json_object **out, struct sbx_err *err);

/* The C string of the JSON string val (prefix.key, for messages); one
 * holding a NUL byte is refused. */
int sbx_json_string_value(const struct sbx_json_ctx *c, json_object *val, const char *prefix,
			  const char *key, const char **out, struct sbx_err *err);

/* obj[key] as a C string; *out = NULL when missing or null. */
int sbx_json_get_string(const struct sbx_json_ctx *c, json_object *obj, const char *prefix,
			const char *key, const char **out, struct sbx_err *err);

#endif
