/* The command's environment: the one precedence model (docs/images.md,
 * "Environment") for the Slurm plugin and sandbox-run alike. The shim
 * applies it in each task, from the sandbox's run configuration and the
 * task's own environment: under Slurm that is the job's environment as
 * Slurm's --export left it, with this task's SLURM_PROCID, PMI_RANK, ...;
 * under sandbox-run the caller's. */
#ifndef SBX_ENVIRONMENT_H
#define SBX_ENVIRONMENT_H

#include "util/error.h"
#include "launch/runconf.h"

/* Variables the job never gives the command: the image's value (or the
 * built-in PATH) stands unless the user names them (--env NAME). A host
 * PATH, library path or preload is wrong inside another distribution.
 * NULL-terminated. */
extern const char *const sbx_env_from_image[];

/* The run configuration's records, lowest first; each level overrides the
 * ones before it:
 *   1. "base"      NAME=VALUE  the built-in PATH
 *   2. "image"     NAME=VALUE  the image's Env
 *   3. the job's variables (job, an environ-like array): all of them, or
 *      with "clean:1" only those matching a "passthrough" glob; never
 *      SANDBOX_EXEC_* (the shim's own), sbx_env_from_image, nor those
 *      matching a "deny" glob
 *   4. "identity"  NAME=VALUE  HOME, USER, LOGNAME of the sandbox's user
 *   5. "user"      NAME        the job's value, when the job has one
 *                  NAME=VALUE  this value
 * *out: a NULL-terminated array (free() it alone) pointing into cfg and
 * job. -1 with err on ENOMEM. */
int sbx_env_build(const struct sbx_runconf *cfg, char *const *job, char ***out,
		  struct sbx_err *err);

#endif
