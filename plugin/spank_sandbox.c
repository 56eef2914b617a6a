/* spank_sandbox.so: runs Slurm job steps in the sandbox sandbox-run builds.
 * One entry point per SPANK callback; the context decides what it does. */
#include "plugin.h"

#include <slurm/slurm.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "spec/plan.h"
#include "spec/policy.h"

SPANK_PLUGIN(sandbox, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();

	if (sbx_args_parse(ac, av) < 0)
		return -1;
	if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR || ctx == S_CTX_REMOTE)
		return sbx_options_register(sp);
	return 0;
}

/* srun/sbatch/salloc: check everything that needs no node before anything
 * is launched, against the same site policy the nodes use. */
static int check_locally(spank_t sp)
{
	struct sbx_policy pol = { 0 };
	struct sbx_err err = { 0 };
	int rc = -1;

	if (sbx_options_apply_presets(sp, &err) < 0)
		goto out;
	if (!sbx_options_wanted()) {
		rc = 0;
		goto out;
	}
	if (sbx_plugin.name && sbx_named_companion_check(&err) < 0)
		goto out;
	/* A submit host without the file checks against the built-in
	 * defaults; the nodes, where the file is required, decide. */
	if (sbx_policy_open(&pol, sbx_plugin.policy_path, 0, &err) < 0 ||
	    sbx_plan_check(&pol, &sbx_plugin.req, &err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		sbx_plugin_report(&err);
	sbx_policy_free(&pol);
	return rc;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	struct sbx_err err = { 0 };

	(void)ac;
	(void)av;
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
		return check_locally(sp);
	case S_CTX_REMOTE:
		if (sbx_step_prepare(sp, &err) < 0)
			sbx_err_line(&err, sbx_plugin.error, sizeof(sbx_plugin.error));
		return 0;
	default:
		return 0;
	}
}

/* 22.05 execs --multi-prog ranks from per-task argv the plugin cannot
 * reach, so they would run outside the sandbox: refuse. srun hands such a
 * step the --multi-prog file's name and its contents as argv[0] and argv[1]. */
static int is_multi_prog(spank_t sp)
{
	char buf[65536];
	int argc = 0, fd, same = 0;
	char **argv = NULL;
	ssize_t n;

	if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS || argc != 2 ||
	    !strchr(argv[1], '\n'))
		return 0;
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n >= 0) {
		buf[n] = '\0';
		same = strcmp(buf, argv[1]) == 0;
	}
	return same;
}

int slurm_spank_local_user_init(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (!sbx_options_wanted() || !is_multi_prog(sp))
		return 0;
	slurm_error("sandbox: --multi-prog: not supported with a sandbox (start the ranks' programs from one script run in the sandbox)");
	return -1;
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	struct sbx_err err = { 0 };

	(void)ac;
	(void)av;
	if (!sbx_plugin.enabled || sbx_plugin.error[0])
		return 0;
	if (sbx_step_user_init(sp, &err) < 0)
		sbx_err_line(&err, sbx_plugin.error, sizeof(sbx_plugin.error));
	return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (!sbx_plugin.enabled)
		return 0;
	return sbx_step_task_init(sp);
}

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (sbx_plugin.enabled && !sbx_plugin.error[0])
		sbx_step_task_post_fork(sp);
	return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (sbx_plugin.enabled)
		sbx_step_task_exit(sp);
	return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	if (spank_context() == S_CTX_REMOTE && sbx_plugin.enabled)
		sbx_step_exit();
	sbx_plugin_free();
	return 0;
}
