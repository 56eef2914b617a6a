#include "launch/environment.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

const char *const sbx_env_from_image[] = { "PATH", "LD_LIBRARY_PATH", "LD_PRELOAD", NULL };

/* What sbx_task_wrap hands the shim (launch.h): never the command's. */
#define INTERNAL_PREFIX "SANDBOX_EXEC_"

struct env_vec {
	char **v;
	size_t n;
};

static size_t name_len(const char *entry)
{
	return strcspn(entry, "=");
}

/* The name of entry matches the glob (fnmatch over the name alone: "*A"
 * must not match "B=A=1"). */
static int name_matches(const char *entry, const char *glob)
{
	size_t len = name_len(entry);
	char small[256], *name = small;
	int rc;

	/* cppcheck-suppress redundantInitialization ; only for long names */
	if (len >= sizeof(small) && !(name = strndup(entry, len)))
		return 0;
	if (name == small) {
		memcpy(small, entry, len);
		small[len] = '\0';
	}
	rc = fnmatch(glob, name, 0) == 0;
	if (name != small)
		free(name);
	return rc;
}

static int matches_record(const char *entry, const struct sbx_runconf *cfg, const char *key)
{
	size_t pos = 0;
	const char *glob;

	while ((glob = sbx_runconf_next(cfg, &pos, key)))
		if (name_matches(entry, glob))
			return 1;
	return 0;
}

static int is_internal(const char *entry)
{
	return strncmp(entry, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0;
}

static int from_image(const char *entry)
{
	size_t len = name_len(entry);

	for (size_t i = 0; sbx_env_from_image[i]; i++)
		if (strlen(sbx_env_from_image[i]) == len &&
		    strncmp(entry, sbx_env_from_image[i], len) == 0)
			return 1;
	return 0;
}

/* A later level replaces a variable where it stands. */
static int put(struct env_vec *env, const char *entry)
{
	size_t len = name_len(entry);
	char **grown;

	if (entry[len] != '=' || is_internal(entry))
		return 0;
	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], entry, len) == 0 && env->v[i][len] == '=') {
			env->v[i] = (char *)entry;
			return 0;
		}
	}
	grown = realloc(env->v, (env->n + 2) * sizeof(char *));
	if (!grown)
		return -1;
	grown[env->n++] = (char *)entry;
	grown[env->n] = NULL;
	env->v = grown;
	return 0;
}

static int put_records(struct env_vec *env, const struct sbx_runconf *cfg, const char *key)
{
	size_t pos = 0;
	const char *v;

	while ((v = sbx_runconf_next(cfg, &pos, key)))
		if (put(env, v) < 0)
			return -1;
	return 0;
}

static int inherited(const char *entry, const struct sbx_runconf *cfg, int clean)
{
	if (is_internal(entry) || from_image(entry) || matches_record(entry, cfg, "deny"))
		return 0;
	return !clean || matches_record(entry, cfg, "passthrough");
}

/* --env NAME: the job's value of NAME, or NULL. */
static const char *job_value(char *const *job, const char *name)
{
	size_t len = strlen(name);

	for (char *const *e = job; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e;
	return NULL;
}

int sbx_env_build(const struct sbx_runconf *cfg, char *const *job, char ***out,
		  struct sbx_err *err)
{
	struct env_vec env = { .v = calloc(1, sizeof(char *)) };
	const char *v = sbx_runconf_get(cfg, "clean");
	int clean = v && strcmp(v, "1") == 0;
	size_t pos = 0;

	*out = NULL;
	if (!env.v || put_records(&env, cfg, "base") < 0 || put_records(&env, cfg, "image") < 0)
		goto oom;
	for (char *const *e = job; e && *e; e++)
		if (inherited(*e, cfg, clean) && put(&env, *e) < 0)
			goto oom;
	if (put_records(&env, cfg, "identity") < 0)
		goto oom;
	while ((v = sbx_runconf_next(cfg, &pos, "user"))) {
		const char *entry = strchr(v, '=') ? v : job_value(job, v);

		if (entry && put(&env, entry) < 0)
			goto oom;
	}
	*out = env.v;
	return 0;
oom:
	free(env.v);
	return sbx_err_set(err, ENOMEM, NULL, "exec: the command's environment: out of memory");
}
