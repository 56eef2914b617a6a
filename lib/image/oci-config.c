/* The run settings of an image: its OCI image config's Env, WorkingDir,
 * Entrypoint and Cmd (oci.c finds the config in a layout). */
#include "image/json-util.h"
#include "image/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list of strings (Entrypoint, Cmd, Env); null or missing: empty. */
static int get_strings(const struct sbx_json_ctx *c, json_object *obj, const char *key, int env,
		       struct sbx_strv *out, struct sbx_err *err)
{
	json_object *list;
	const char *s = NULL;
	char f[48];
	size_t n;

	if (sbx_json_get_typed(c, obj, NULL, key, json_type_array, &list, err) < 0)
		return -1;
	n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(list, i);

		snprintf(f, sizeof(f), "%s[%zu]", key, i);
		if (!json_object_is_type(item, json_type_string))
			return sbx_json_fail(c, err, 0, SBX_JSON_HINT_DAMAGED, "%s is %s, not a string", f,
					     sbx_json_type_name(json_object_get_type(item)));
		if (sbx_json_string_value(c, item, NULL, f, &s, err) < 0)
			return -1;
		/* "NAME=VALUE" only: a bare word or an empty name cannot be exported. */
		if (env && (!strchr(s, '=') || s[0] == '='))
			continue;
		if (sbx_strv_push(out, s) < 0)
			return sbx_json_fail(c, err, errno, NULL, "%s", f);
	}
	return 0;
}

int sbx_image_config_load(const char *path, const char *what, struct sbx_image_config *cfg,
			  struct sbx_err *err)
{
	struct sbx_json_ctx c = { .what = what ? what : path };
	json_object *doc = NULL, *config;
	const char *workdir;
	char *data = NULL;
	size_t len;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(c.where, sizeof(c.where), "config");
	if (sbx_json_read_file(&c, AT_FDCWD, path, 0, &data, &len, err) < 0 ||
	    sbx_json_parse_object(&c, data, len, &doc, err) < 0 ||
	    sbx_json_get_typed(&c, doc, NULL, "config", json_type_object, &config, err) < 0)
		goto out;
	if (!config) {
		rc = 0;
		goto out;
	}
	if (get_strings(&c, config, "Env", 1, &cfg->env, err) < 0 ||
	    get_strings(&c, config, "Entrypoint", 0, &cfg->entrypoint, err) < 0 ||
	    get_strings(&c, config, "Cmd", 0, &cfg->cmd, err) < 0 ||
	    sbx_json_get_string(&c, config, NULL, "WorkingDir", &workdir, err) < 0)
		goto out;
	if (workdir && *workdir && !(cfg->workdir = strdup(workdir))) {
		sbx_json_fail(&c, err, errno, NULL, "WorkingDir");
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
