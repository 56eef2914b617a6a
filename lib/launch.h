/* The launch path shared by sandbox-run and the SPANK plugin:
 *   1. sbx_sandbox_start: spawn sandbox-helper, which builds the sandbox and
 *      leaves a pid-1 init holding it; wait until it reports ready.
 *   2. sbx_sandbox_join (in each task process): setns into the sandbox's
 *      namespaces through the helper's /proc/PID/ns, user first, and chdir.
 *   3. exec SBX_SHIM_PATH with the original argv[0] in SBX_ENV_ARGV0: the shim
 *      forks the command into the pid namespace, applies the environment,
 *      capabilities, no_new_privs and seccomp, and relays signals and status.
 *   4. sbx_sandbox_stop when the last task is done: the helper kills the
 *      sandbox's init, which ends every process and mount in it. */
#ifndef SBX_LAUNCH_H
#define SBX_LAUNCH_H

#include <sys/types.h>
#include "error.h"
#include "request.h"

#ifndef SBX_HELPER_PATH
#define SBX_HELPER_PATH "/usr/local/libexec/sandbox-helper"
#endif

#define SBX_SHIM_DIR "/.sandbox"
#define SBX_SHIM_PATH "/.sandbox/exec"
#define SBX_ENV_ARGV0 "SANDBOX_ARGV0"
/* fds the helper is started with */
#define SBX_STATUS_FD 3
#define SBX_CONTROL_FD 4

struct sbx_launch_opts {
	const char *helper_path;  /* NULL: $SANDBOX_HELPER, else SBX_HELPER_PATH */
	const char *config_path;  /* NULL: the compiled-in default */
	int die_with_parent;      /* the sandbox ends when the caller's thread dies */
	int detach;               /* double-fork the helper (Slurm: outlive task 0) */
};

struct sbx_sandbox {
	pid_t helper_pid;         /* the helper (monitor); 0 once reaped or detached */
	pid_t init_pid;           /* pid 1 of the sandbox, in the caller's pid namespace */
	int control_fd;           /* closing it (or "stop") ends the sandbox; -1 if none */
};

int sbx_sandbox_start(const struct sbx_launch_opts *opts,
		      const struct sbx_request *req, struct sbx_sandbox *sb,
		      struct sbx_err *err);

/* In the process that will exec the shim; helper_pid is sb->helper_pid (the
 * helper's pid as the caller sees it). workdir may be NULL: the current
 * directory when it exists inside the sandbox, else "/". */
int sbx_sandbox_join(pid_t helper_pid, const char *workdir, struct sbx_err *err);

/* Ask the helper to tear the sandbox down and reap it. */
int sbx_sandbox_stop(struct sbx_sandbox *sb, struct sbx_err *err);

#endif
