/* sandbox-exec, the shim: the static binary every sandboxed task execs to
 * join its sandbox and start the command (see shim.c). It links the core
 * library only (util, spec, launch). */
#ifndef SBX_SHIM_H
#define SBX_SHIM_H

int sbx_shim_main(int argc, char **argv);

/* slurm.c: close every fd above 2 but Slurm's PMI_FD (of env), and put the
 * host's Slurm client (/.sandbox-slurm/bin) first on env's PATH when the
 * sandbox has it (*entry: the new PATH entry, the caller's to free; left
 * as it was when the sandbox has no client). -1 with errno set. */
int sbx_shim_close_fds(char *const *env);
int sbx_shim_slurm_path(char ***env, char **entry);

/* ready.c: wait for a sandbox whose start was deferred to this task
 * (SBX_ENV_READY, SBX_ENV_GATE); 0 to go on, -1 when it did not start (the
 * reason printed by the task that started it). 0 at once without them. */
int sbx_shim_wait_ready(void);

#endif
