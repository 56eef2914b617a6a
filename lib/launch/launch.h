/* The launch path shared by sandbox-run and the SPANK plugin:
 *   1. sbx_sandbox_start: spawn sandbox-helper, which builds the sandbox and
 *      leaves a pid-1 init holding it; wait until it reports ready, or
 *      (opts.defer, Slurm) leave that wait to the task's shim, so that the
 *      sandbox is built while slurmstepd runs the task's prolog and execs.
 *   2. sbx_task_wrap (in each task, before its exec): put the shim,
 *      sandbox-exec, in argv[0] and tell it, through the environment, which
 *      sandbox to join and what the real argv[0] was. Everything the task's
 *      parent does between fork and exec (Slurm's TaskProlog, TMPDIR,
 *      rlimits, PMI) therefore still happens on the host, as it expects.
 *   3. The shim: sbx_sandbox_join (setns through the helper's /proc/PID/ns,
 *      user first, capabilities narrowed, chdir), then it forks the command
 *      into the pid namespace with the environment, no_new_privs and seccomp
 *      applied, and relays signals and the exit status.
 *   4. sbx_sandbox_stop when the last task is done: the control pipe
 *      closes, the helper kills the sandbox's init, which ends every process
 *      and mount in it.
 *
 * The helper runs as the user and anything it says may be forged by another
 * process of that user (any of them can open /proc/<helper>/fd/N): the
 * launcher takes no pid from it (the helper's pid comes from fork), and a
 * caller running as root stops a sandbox only by closing a pipe it alone
 * holds (docs/design.md, "The security model"). */
#ifndef SBX_LAUNCH_H
#define SBX_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"
#include "spec/request.h"

#ifndef SBX_HELPER_PATH
#define SBX_HELPER_PATH "/usr/local/libexec/sandbox-helper"
#endif

/* Inside the sandbox: the shim's run configuration and seccomp filter. */
#define SBX_SHIM_DIR "/.sandbox"
/* The shim, installed beside the helper. */
#define SBX_SHIM_BINARY "sandbox-exec"
/* What sbx_task_wrap hands the shim (removed before the command runs). */
#define SBX_ENV_ARGV0 "SANDBOX_EXEC_ARGV0"
#define SBX_ENV_JOIN "SANDBOX_EXEC_JOIN"
#define SBX_ENV_WORKDIR "SANDBOX_EXEC_WORKDIR"
#define SBX_ENV_CGROUP "SANDBOX_EXEC_CGROUP"
/* "1" instead of SBX_ENV_ARGV0: the shim was prepended to the task's argv
 * (its argv[1] is the command's argv[0]) instead of replacing argv[0]. */
#define SBX_ENV_PREPENDED "SANDBOX_EXEC_PREPENDED"
/* A deferred start (opts.defer). The task that started the helper:
 * "<status fd> <progress fd> <gate fd> <n>": its shim reads the helper's
 * record, then writes n bytes (one per other task) to the gate, or closes it
 * unwritten when the start failed. The other tasks: "<gate fd>", from which
 * their shim takes one byte before it joins (EOF: the start failed, and the
 * starting task says why). */
#define SBX_ENV_READY "SANDBOX_EXEC_READY"
#define SBX_ENV_GATE "SANDBOX_EXEC_GATE"
/* fds the helper is started with */
#define SBX_STATUS_FD 3    /* helper -> launcher: one record, "ready ..." or "error ..." */
#define SBX_CONTROL_FD 4   /* launcher -> helper: EOF (or "stop") ends the sandbox */
#define SBX_PROGRESS_FD 5  /* helper -> launcher: import progress, relayed to stderr */
#define SBX_IMAGE_FD 6     /* the root of a premounted image's mount (req->premounted) */

struct sbx_launch_opts {
	const char *helper_path;  /* NULL: $SANDBOX_HELPER, else SBX_HELPER_PATH */
	const char *policy_path;  /* the site policy; NULL: the compiled-in default */
	int die_with_parent;      /* the sandbox ends when the caller's thread dies */
	int detach;               /* double-fork the helper (Slurm: outlive task 0) */
	/* >= 0: the read end of the caller's control pipe, handed to the helper
	 * as SBX_CONTROL_FD (the caller stops the sandbox by closing the write
	 * end, which must be O_CLOEXEC and held by nobody else). -1: a
	 * non-detached helper gets a pipe of the library's (sb->control_fd), a
	 * detached one none (it then lives until it is killed). */
	int control_fd;
	/* >= 0: the root of the image's mount, made by the caller (Slurm's
	 * kernel squashfs), handed over as SBX_IMAGE_FD; the request must say
	 * premounted. -1: none. */
	int image_fd;
	/* The helper's whole environment; NULL: the caller's environ. */
	char *const *envp;
	/* Detached starts only: return once the helper is exec'd, with its
	 * record's fds in sb (status_fd, progress_fd) for the task's shim. */
	int defer;
};

/* Every caller starts from this: no fd is passed by accident (fd 0). */
#define SBX_LAUNCH_OPTS_INIT { .control_fd = -1, .image_fd = -1 }

struct sbx_sandbox {
	pid_t helper_pid;         /* the helper (monitor), from fork(): the door to join */
	pid_t init_pid;           /* pid 1 of the sandbox, as the helper reported it */
	int detached;             /* the helper is no child of ours: never waited for */
	int control_fd;           /* closing it (or "stop") ends the sandbox; -1 if none */
	char cgroup[1024];        /* its cgroup below /sys/fs/cgroup, "" if none */
	/* A deferred start: the helper's record is still to be read from
	 * status_fd (its progress from progress_fd); -1 when read. */
	int status_fd;
	int progress_fd;
	/* Deferred starts (SBX_ENV_READY, SBX_ENV_GATE): the starting task's
	 * write end, with the number of bytes its shim owes (gate_tokens), or
	 * another task's read end; -1: no gate. */
	int gate_fd;
	unsigned gate_tokens;
};

/* Every caller starts from this. */
#define SBX_SANDBOX_INIT { .control_fd = -1, .status_fd = -1, .progress_fd = -1, .gate_fd = -1 }

/* The helper's record on SBX_STATUS_FD, the only line it writes there:
 * "<kind> <text>\n" (kind "ready" or "error"), each control character of
 * the text (a newline included) replaced by '?', so that no text (an image
 * name, a tool's message) can add a line. */
void sbx_status_record(int fd, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int sbx_sandbox_start(const struct sbx_launch_opts *opts,
		      const struct sbx_request *req, struct sbx_sandbox *sb,
		      struct sbx_err *err);

/* Read the helper's record from status_fd, relaying its progress_fd to
 * stderr (reply.c): 0 ready (sb->init_pid and sb->cgroup set); -1 an error
 * record or a line of another kind; -2 the helper closed status_fd without
 * a word. err says why; helper names it. */
int sbx_sandbox_read_ready(int status_fd, int progress_fd, const char *helper,
			   struct sbx_sandbox *sb, struct sbx_err *err);

/* The shim's path: beside the helper (SANDBOX_HELPER or SBX_HELPER_PATH). */
int sbx_shim_path(const struct sbx_launch_opts *opts, char *buf, size_t len);

typedef int (*sbx_setenv_fn)(void *ctx, const char *name, const char *value);

/* Make argv (the task's, exec'd by the caller) start the shim: argv[0] is
 * replaced by a malloc'd copy of the shim path (the caller may free the
 * old one) and SBX_ENV_* are set through set_env. workdir may be NULL. */
int sbx_task_wrap(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		  const char *workdir, char **argv, sbx_setenv_fn set_env, void *ctx,
		  struct sbx_err *err);

/* For a caller that can prepend to the task's argv (Slurm 24.11's
 * spank_prepend_task_argv): set SBX_ENV_* through set_env, with
 * SBX_ENV_PREPENDED in place of SBX_ENV_ARGV0, and put the shim's path, which
 * the caller prepends, into shim (len bytes). argv0 names the command in
 * errors. workdir may be NULL. */
int sbx_task_prepend_env(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
			 const char *workdir, const char *argv0, char *shim, size_t len,
			 sbx_setenv_fn set_env, void *ctx, struct sbx_err *err);

/* In the shim: join the sandbox whose helper is helper_pid. workdir may be
 * NULL: the current directory when it exists inside, else "/". */
int sbx_sandbox_join(pid_t helper_pid, const char *workdir, struct sbx_err *err);

/* pertask.c, called by sbx_sandbox_join after setns: 1 when the sandbox's
 * run configuration asks for a writable layer per task (--per-task); then
 * this task's own mount namespace with its own layer over the root. */
int sbx_pertask_wanted(void);
int sbx_pertask_root(struct sbx_err *err);

/* Ask the helper to tear the sandbox down: close sb->control_fd, wait for a
 * helper that is our child (not detached), remove sb->cgroup if the helper
 * left it. Signals nothing: a caller with only a control fd (helper_pid 0,
 * cgroup "") acts on nothing but that fd. */
int sbx_sandbox_stop(struct sbx_sandbox *sb, struct sbx_err *err);

#endif
