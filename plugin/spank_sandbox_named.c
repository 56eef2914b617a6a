/* spank_sandbox_named.so: the job epilog that removes named sandboxes.
 * Its own plugin because slurmd spawns `slurmstepd spank epilog` for every
 * job once any plugin in plugstack.conf defines slurm_spank_job_epilog:
 * only a site that allows named sandboxes lists it and pays for that.
 * spank_sandbox.so refuses --sandbox-name when this plugin is not loaded
 * (named.c sbx_named_companion_check). */
#include "plugin.h"

SPANK_PLUGIN(sandbox_named, 1);

/* The job's end on each node (root): named sandboxes go with it. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	struct sbx_err err = { 0 };
	uint32_t job_id;
	uid_t uid;

	/* The same plugstack arguments as spank_sandbox.so (named_dir). */
	if (sbx_args_parse(ac, av) < 0)
		return 0;
	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS)
		goto out;
	/* An epilog failure drains the node: log, never fail. */
	if (sbx_named_cleanup(uid, job_id, &err) < 0)
		sbx_plugin_report(&err);
out:
	sbx_plugin_free();
	return 0;
}
