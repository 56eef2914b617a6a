#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spec/policy.h"

struct sbx_plugin sbx_plugin = { 0 };

static int set_str(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* plugstack.conf: "required spank_sandbox.so config=FILE helper=PATH named_dir=DIR".
 * A typo there is an admin's mistake: fail loudly in every context. */
int sbx_args_parse(int ac, char **av)
{
	/* Unset, not 0, so a flag given once in remote context is not taken
	 * for a conflict with a "no" that nobody gave. */
	sbx_request_init(&sbx_plugin.req);
	for (int i = 0; i < ac; i++) {
		int rc;

		if (strncmp(av[i], "config=", 7) == 0)
			rc = set_str(&sbx_plugin.policy_path, av[i] + 7);
		else if (strncmp(av[i], "helper=", 7) == 0)
			rc = set_str(&sbx_plugin.helper, av[i] + 7);
		else if (strncmp(av[i], "named_dir=", 10) == 0)
			rc = set_str(&sbx_plugin.named_dir, av[i] + 10);
		else {
			slurm_error("sandbox: plugstack.conf argument '%s': unknown (use config=FILE, helper=PATH or named_dir=DIR)",
				    av[i]);
			return -1;
		}
		if (rc < 0) {
			slurm_error("sandbox: out of memory");
			return -1;
		}
	}
	return 0;
}

void sbx_plugin_report(const struct sbx_err *err)
{
	char line[SBX_ERR_MAX + 16];

	slurm_error("%s", sbx_err_line(err, line, sizeof(line)));
}

/* In srun/sbatch (remote == 0) a later value replaces an earlier one: Slurm
 * hands an inherited sbatch option (from the environment) first and the
 * step's own command line after it. Remotely, 22.05 calls each callback
 * twice with the same value, which the setters accept. */
static int finish(int rc, struct sbx_err *err, const char *opt)
{
	if (rc < 0) {
		char line[SBX_ERR_MAX + 16];

		(void)opt;
		slurm_error("%s", sbx_err_line(err, line, sizeof(line)));
		return -1;
	}
	return 0;
}

static int opt_image(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote) {
		free(sbx_plugin.req.image);
		sbx_plugin.req.image = NULL;
	}
	return finish(sbx_request_set_image(&sbx_plugin.req, arg, &err), &err, "--sandbox-image");
}

static int opt_mounts(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	(void)remote;
	return finish(sbx_request_add_mounts(&sbx_plugin.req, "--sandbox-mounts", arg, &err), &err,
		      "--sandbox-mounts");
}

static int opt_workdir(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote) {
		free(sbx_plugin.req.workdir);
		sbx_plugin.req.workdir = NULL;
	}
	return finish(sbx_request_set_workdir(&sbx_plugin.req, arg, &err), &err, "--sandbox-workdir");
}

static int opt_writable(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)arg;
	(void)remote;
	if (sbx_plugin.req.writable != SBX_UNSET && sbx_plugin.req.writable != val) {
		sbx_err_set(&err, 0, "choose one", "--sandbox-%s: conflicts with --sandbox-%s",
			    val ? "writable" : "readonly", val ? "readonly" : "writable");
		return finish(-1, &err, "--sandbox-writable");
	}
	return finish(sbx_request_set_writable(&sbx_plugin.req, val, &err), &err,
		      val ? "--sandbox-writable" : "--sandbox-readonly");
}

static int opt_remap(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)arg;
	if (!remote)
		sbx_plugin.req.remap_root = SBX_UNSET;
	return finish(sbx_request_set_remap_root(&sbx_plugin.req, val, &err), &err,
		      "--[no-]sandbox-remap-root");
}

static int opt_entrypoint(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)arg;
	if (!remote)
		sbx_plugin.req.entrypoint = SBX_UNSET;
	return finish(sbx_request_set_entrypoint(&sbx_plugin.req, val, &err), &err,
		      "--[no-]sandbox-entrypoint");
}

static int opt_home(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)arg;
	if (!remote)
		sbx_plugin.req.mount_home = SBX_UNSET;
	return finish(sbx_request_set_mount_home(&sbx_plugin.req, val, &err), &err,
		      "--[no-]sandbox-mount-home");
}

static int opt_env(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	(void)remote;
	return finish(sbx_request_add_env_list(&sbx_plugin.req, "--sandbox-env", arg, &err), &err,
		      "--sandbox-env");
}

static int opt_net(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote)
		sbx_plugin.req.net = SBX_NET_UNSET;
	return finish(sbx_request_set_net(&sbx_plugin.req, arg, &err), &err, "--sandbox-net");
}

static int opt_hostname(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote) {
		free(sbx_plugin.req.hostname);
		sbx_plugin.req.hostname = NULL;
	}
	return finish(sbx_request_set_hostname(&sbx_plugin.req, arg, &err), &err, "--sandbox-hostname");
}

static int opt_name(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (sbx_named_valid(arg, &err) < 0)
		return finish(-1, &err, "--sandbox-name");
	if (remote && sbx_plugin.name && strcmp(sbx_plugin.name, arg) != 0) {
		sbx_err_set(&err, 0, "give it once", "name '%s': conflicts with '%s'", arg,
			    sbx_plugin.name);
		return finish(-1, &err, "--sandbox-name");
	}
	if (set_str(&sbx_plugin.name, arg) < 0) {
		sbx_err_set(&err, ENOMEM, NULL, "out of memory");
		return finish(-1, &err, "--sandbox-name");
	}
	return 0;
}

static int opt_per_task(int val, const char *arg, int remote)
{
	(void)val;
	(void)arg;
	(void)remote;
	sbx_plugin.req.per_task = 1;
	return 0;
}

static int opt_save(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote) {
		free(sbx_plugin.req.save);
		sbx_plugin.req.save = NULL;
	}
	/* slurmstepd's working directory is not srun's: no relative names. */
	if (!arg || arg[0] != '/') {
		sbx_err_set(&err, 0, "give an absolute file name, such as $PWD/NAME.sqfs",
			    "save '%s': not an absolute path", arg ? arg : "");
		return finish(-1, &err, "--sandbox-save");
	}
	return finish(sbx_request_set_save(&sbx_plugin.req, arg, &err), &err, "--sandbox-save");
}

static int opt_memory(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote)
		sbx_plugin.req.memory = 0;
	return finish(sbx_request_set_memory(&sbx_plugin.req, arg, &err), &err, "--sandbox-memory");
}

static int opt_cpus(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote)
		sbx_plugin.req.cpus = 0;
	return finish(sbx_request_set_cpus(&sbx_plugin.req, arg, &err), &err, "--sandbox-cpus");
}

static int opt_pids(int val, const char *arg, int remote)
{
	struct sbx_err err = { 0 };

	(void)val;
	if (!remote)
		sbx_plugin.req.pids = 0;
	return finish(sbx_request_set_pids(&sbx_plugin.req, arg, &err), &err, "--sandbox-pids");
}

static struct spank_option options[] = {
	{ "sandbox-image", "IMAGE", "Run the step in a sandbox made from this image: a directory, squashfs "
	  "file, tar archive, OCI layout or docker://[REGISTRY/]REPO[:TAG].", 1, 0, opt_image },
	{ "sandbox-mounts", "SRC[:DST[:ro|rw]][,...]", "Bind host paths into the sandbox.", 1, 0, opt_mounts },
	{ "sandbox-workdir", "DIR", "Working directory inside the sandbox.", 1, 0, opt_workdir },
	{ "sandbox-writable", NULL, "Writable root (changes vanish at the end of the step).", 0, 1, opt_writable },
	{ "sandbox-readonly", NULL, "Read-only root.", 0, 0, opt_writable },
	{ "sandbox-remap-root", NULL, "Appear as root (uid 0) inside the sandbox.", 0, 1, opt_remap },
	{ "no-sandbox-remap-root", NULL, "Keep your own uid inside the sandbox.", 0, 0, opt_remap },
	{ "sandbox-mount-home", NULL, "Bind your home directory into the sandbox.", 0, 1, opt_home },
	{ "no-sandbox-mount-home", NULL, "Do not bind your home directory.", 0, 0, opt_home },
	{ "sandbox-entrypoint", NULL, "Run the image's Entrypoint before the command.", 0, 1, opt_entrypoint },
	{ "no-sandbox-entrypoint", NULL, "Do not run the image's Entrypoint.", 0, 0, opt_entrypoint },
	{ "sandbox-env", "NAME[=VALUE][,...]",
	  "Pass these variables' values from the job (PATH too), or set them.", 1, 0, opt_env },
	{ "sandbox-net", "host|none", "Network: the host's, or loopback only.", 1, 0, opt_net },
	{ "sandbox-hostname", "NAME", "Hostname inside the sandbox.", 1, 0, opt_hostname },
	{ "sandbox-name", "NAME", "Named sandbox: later steps of the job reuse its root.", 1, 0, opt_name },
	{ "sandbox-per-task", NULL, "Each task gets its own writable layer over the node's sandbox "
	  "(ranks that write the same path do not see each other's files).", 0, 1, opt_per_task },
	{ "sandbox-save", "FILE", "Before the step runs, write the named sandbox's root (image and "
	  "writes so far) to FILE as a squashfs image.", 1, 0, opt_save },
	{ "sandbox-memory", "SIZE", "memory.max of each task's cgroup (cgroup v2).", 1, 0, opt_memory },
	{ "sandbox-cpus", "N", "cpu.max of each task's cgroup, as a CPU count (cgroup v2).", 1, 0, opt_cpus },
	{ "sandbox-pids", "N", "pids.max of each task's cgroup (cgroup v2).", 1, 0, opt_pids },
	SPANK_OPTIONS_TABLE_END
};

int sbx_options_register(spank_t sp)
{
	for (struct spank_option *o = options; o->name; o++) {
		spank_err_t rc = spank_option_register(sp, o);

		if (rc != ESPANK_SUCCESS) {
			slurm_error("sandbox: register --%s: %s", o->name, spank_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* SANDBOX_* presets: srun reads its own environment; slurmstepd the job's. */
static const char *preset(spank_t sp, const char *name, char *buf, size_t len)
{
	if (!spank_remote(sp))
		return getenv(name);
	if (spank_getenv(sp, name, buf, (int)len) != ESPANK_SUCCESS)
		return NULL;
	return buf;
}

static int preset_flag(const char *var, const char *v, int *slot, struct sbx_err *err)
{
	int b;

	if (*slot != SBX_UNSET)
		return 0;
	b = sbx_parse_bool(v);
	if (b < 0)
		return sbx_err_set(err, 0, "use 1 or 0", "%s '%s': not a yes/no value", var, v);
	*slot = b;
	return 0;
}

int sbx_options_apply_presets(spank_t sp, struct sbx_err *err)
{
	struct sbx_request *req = &sbx_plugin.req;
	char buf[4096];
	const char *v;

	if (!req->image && (v = preset(sp, "SANDBOX_IMAGE", buf, sizeof(buf))) &&
	    sbx_request_set_image(req, v, err) < 0)
		return -1;
	if (req->n_mounts == 0 && (v = preset(sp, "SANDBOX_MOUNTS", buf, sizeof(buf))) &&
	    sbx_request_add_mounts(req, "SANDBOX_MOUNTS", v, err) < 0)
		return -1;
	if (!req->workdir && (v = preset(sp, "SANDBOX_WORKDIR", buf, sizeof(buf))) &&
	    sbx_request_set_workdir(req, v, err) < 0)
		return -1;
	if ((v = preset(sp, "SANDBOX_WRITABLE", buf, sizeof(buf))) &&
	    preset_flag("SANDBOX_WRITABLE", v, &req->writable, err) < 0)
		return -1;
	if ((v = preset(sp, "SANDBOX_REMAP_ROOT", buf, sizeof(buf))) &&
	    preset_flag("SANDBOX_REMAP_ROOT", v, &req->remap_root, err) < 0)
		return -1;
	if ((v = preset(sp, "SANDBOX_ENTRYPOINT", buf, sizeof(buf))) &&
	    preset_flag("SANDBOX_ENTRYPOINT", v, &req->entrypoint, err) < 0)
		return -1;
	if ((v = preset(sp, "SANDBOX_MOUNT_HOME", buf, sizeof(buf))) &&
	    preset_flag("SANDBOX_MOUNT_HOME", v, &req->mount_home, err) < 0)
		return -1;
	if (req->env.n == 0 && (v = preset(sp, "SANDBOX_ENV", buf, sizeof(buf))) &&
	    sbx_request_add_env_list(req, "SANDBOX_ENV", v, err) < 0)
		return -1;
	if (req->net == SBX_NET_UNSET && (v = preset(sp, "SANDBOX_NET", buf, sizeof(buf))) &&
	    sbx_request_set_net(req, v, err) < 0)
		return -1;
	if (!req->hostname && (v = preset(sp, "SANDBOX_HOSTNAME", buf, sizeof(buf))) &&
	    sbx_request_set_hostname(req, v, err) < 0)
		return -1;
	if (!req->memory && (v = preset(sp, "SANDBOX_MEMORY", buf, sizeof(buf))) &&
	    sbx_request_set_memory(req, v, err) < 0)
		return -1;
	if (!req->cpus && (v = preset(sp, "SANDBOX_CPUS", buf, sizeof(buf))) &&
	    sbx_request_set_cpus(req, v, err) < 0)
		return -1;
	if (!req->pids && (v = preset(sp, "SANDBOX_PIDS", buf, sizeof(buf))) &&
	    sbx_request_set_pids(req, v, err) < 0)
		return -1;
	if (!sbx_plugin.name && (v = preset(sp, "SANDBOX_NAME", buf, sizeof(buf)))) {
		if (sbx_named_valid(v, err) < 0)
			return -1;
		if (set_str(&sbx_plugin.name, v) < 0)
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	}
	return 0;
}

/* Steps that name no image and no sandbox are left alone, at no cost. */
int sbx_options_wanted(void)
{
	return sbx_plugin.req.image != NULL || sbx_plugin.name != NULL;
}

void sbx_plugin_free(void)
{
	sbx_strv_clear(&sbx_plugin.site_vars);
	free(sbx_plugin.policy_path);
	free(sbx_plugin.helper);
	free(sbx_plugin.named_dir);
	free(sbx_plugin.name);
	free(sbx_plugin.groups);
	sbx_plugin.groups = NULL;
	sbx_plugin.cred.groups = NULL;
	sbx_plugin.cred.ngroups = 0;
	sbx_request_free(&sbx_plugin.req);
	sbx_plugin.policy_path = sbx_plugin.helper = sbx_plugin.named_dir = sbx_plugin.name = NULL;
}
