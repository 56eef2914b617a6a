/* The site's devices and host files ([devices], [binds] in the policy):
 * added to the plan's binds before the sandbox is built, so they take the
 * path of every other bind (taken as fds first, a device node keeps dev,
 * everything else nosuid,nodev). A device node bound here is still only a
 * name: the kernel checks its own permissions against the user's ids, and
 * Slurm's GRES restriction (the devices controller of the task's cgroup,
 * where every task stays) still decides which devices can be opened. */
#include "helper.h"
#include "spec/site.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int add_bind(struct sbx_plan *plan, const char *src, const char *dst, int readonly,
		    struct sbx_err *err)
{
	struct sbx_bind *grown = realloc(plan->binds, (plan->n_binds + 1) * sizeof(*grown));

	if (!grown)
		return sbx_err_set(err, ENOMEM, NULL, "site bind '%s'", src);
	plan->binds = grown;
	grown[plan->n_binds].src = strdup(src);
	grown[plan->n_binds].dst = strdup(dst);
	grown[plan->n_binds].readonly = readonly;
	if (!grown[plan->n_binds].src || !grown[plan->n_binds].dst) {
		free(grown[plan->n_binds].src);
		free(grown[plan->n_binds].dst);
		return sbx_err_set(err, ENOMEM, NULL, "site bind '%s'", src);
	}
	plan->n_binds++;
	return 0;
}

/* Every device node the glob matches on this node, at the same path inside;
 * none is fine (a CPU node has no /dev/nvidia*). */
static int expose_devices(struct sbx_plan *plan, const struct sbx_site_item *it,
			  struct sbx_err *err)
{
	glob_t g = { 0 };
	int rc = 0;

	if (glob(it->src, GLOB_NOSORT, NULL, &g) != 0)
		goto out;
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) {
		struct stat st;

		/* lstat: a symlink in /dev (/dev/fd, /dev/stdin) is not a node. */
		if (lstat(g.gl_pathv[i], &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
			continue;
		rc = add_bind(plan, g.gl_pathv[i], g.gl_pathv[i], 0, err);
	}
out:
	globfree(&g);
	return rc;
}

/* A host file or directory; missing on this node: skipped, so that one
 * policy serves nodes with and without the driver. */
static int bind_host(struct sbx_plan *plan, const struct sbx_site_item *it, struct sbx_err *err)
{
	char *real = realpath(it->src, NULL);
	int rc;

	if (!real)
		return 0;
	rc = add_bind(plan, real, it->dst, it->readonly, err);
	free(real);
	return rc;
}

static int apply_list(struct sbx_plan *plan, const struct sbx_strv *list, enum sbx_site_kind kind,
		      const char *key, struct sbx_err *err)
{
	struct sbx_site_item it;

	for (size_t i = 0; i < list->n; i++) {
		if (sbx_site_item_parse(kind, list->v[i], &it) < 0)
			return sbx_err_set(err, 0, "see docs/policy.md", "policy %s: bad item '%s'", key,
					   list->v[i]);
		if (!sbx_site_item_applies(&it))
			continue;
		if ((kind == SBX_SITE_DEVICE || kind == SBX_SITE_DEVICE_IF ?
		     expose_devices(plan, &it, err) : bind_host(plan, &it, err)) < 0)
			return -1;
	}
	return 0;
}

int sbx_site_apply(const struct sbx_policy *pol, struct sbx_plan *plan, struct sbx_err *err)
{
	if (apply_list(plan, &pol->dev_expose, SBX_SITE_DEVICE, "devices.expose", err) < 0 ||
	    apply_list(plan, &pol->dev_expose_if_set, SBX_SITE_DEVICE_IF, "devices.expose_if_set", err) < 0 ||
	    apply_list(plan, &pol->host_binds, SBX_SITE_BIND, "binds.host", err) < 0 ||
	    apply_list(plan, &pol->host_binds_if_set, SBX_SITE_BIND_IF, "binds.host_if_set", err) < 0)
		return -1;
	return 0;
}
