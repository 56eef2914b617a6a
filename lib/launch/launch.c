#include "launch/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch/ready.h"
#include "util/strv.h"

static const char *helper_path(const struct sbx_launch_opts *opts)
{
	const char *env = getenv("SANDBOX_HELPER");

	if (opts && opts->helper_path)
		return opts->helper_path;
	return env && *env ? env : SBX_HELPER_PATH;
}

int sbx_shim_path(const struct sbx_launch_opts *opts, char *buf, size_t len)
{
	const char *helper = helper_path(opts);
	const char *slash = strrchr(helper, '/');
	size_t dir = slash ? (size_t)(slash - helper) + 1 : 0;

	if (dir + sizeof(SBX_SHIM_BINARY) > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, helper, dir);
	memcpy(buf + dir, SBX_SHIM_BINARY, sizeof(SBX_SHIM_BINARY));
	return 0;
}

static int keep_open(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

/* The shim's environment for a task whose command starts with argv0, and
 * the shim's path in shim. A prepended shim finds the command in its own
 * argv: the one Slurm execs, per task (--multi-prog) included. */
static int task_env(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		    const char *workdir, const char *argv0, int prepended, char *shim, size_t len,
		    sbx_setenv_fn set_env, void *ctx, struct sbx_err *err)
{
	char pid[32], wait[64] = "";
	const char *wait_env = NULL;

	if (!argv0)
		return sbx_err_set(err, 0, NULL, "exec: no command");
	if (sbx_shim_path(opts, shim, len) < 0)
		return sbx_err_sys(err, NULL, "exec: shim path");
	snprintf(pid, sizeof(pid), "%d", (int)sb->helper_pid);
	/* A deferred start's fds stay open across the exec of the shim (and
	 * Slurm's TaskProlog, which runs as the same user, in between). */
	if (sb->status_fd >= 0) {
		if (keep_open(sb->status_fd) < 0 || keep_open(sb->progress_fd) < 0 ||
		    (sb->gate_fd >= 0 && keep_open(sb->gate_fd) < 0))
			return sbx_err_sys(err, NULL, "exec %s: keep the helper's record open", argv0);
		snprintf(wait, sizeof(wait), "%d %d %d %u", sb->status_fd, sb->progress_fd, sb->gate_fd,
			 sb->gate_fd >= 0 ? sb->gate_tokens : 0);
		wait_env = SBX_ENV_READY;
	} else if (sb->gate_fd >= 0) {
		if (keep_open(sb->gate_fd) < 0)
			return sbx_err_sys(err, NULL, "exec %s: keep the sandbox's gate open", argv0);
		snprintf(wait, sizeof(wait), "%d", sb->gate_fd);
		wait_env = SBX_ENV_GATE;
	}
	if ((prepended ? set_env(ctx, SBX_ENV_PREPENDED, "1") : set_env(ctx, SBX_ENV_ARGV0, argv0)) < 0 ||
	    set_env(ctx, SBX_ENV_JOIN, pid) < 0 ||
	    (workdir && set_env(ctx, SBX_ENV_WORKDIR, workdir) < 0) ||
	    (sb->cgroup[0] && set_env(ctx, SBX_ENV_CGROUP, sb->cgroup) < 0) ||
	    (wait_env && set_env(ctx, wait_env, wait) < 0))
		return sbx_err_set(err, 0, NULL, "exec %s: cannot set the shim's environment", argv0);
	return 0;
}

int sbx_task_wrap(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		  const char *workdir, char **argv, sbx_setenv_fn set_env, void *ctx,
		  struct sbx_err *err)
{
	char shim[PATH_MAX];
	char *copy;

	if (!argv)
		return sbx_err_set(err, 0, NULL, "exec: no command");
	if (task_env(opts, sb, workdir, argv[0], 0, shim, sizeof(shim), set_env, ctx, err) < 0)
		return -1;
	copy = strdup(shim);
	if (!copy)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	argv[0] = copy;
	return 0;
}

int sbx_task_prepend_env(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
			 const char *workdir, const char *argv0, char *shim, size_t len,
			 sbx_setenv_fn set_env, void *ctx, struct sbx_err *err)
{
	return task_env(opts, sb, workdir, argv0, 1, shim, len, set_env, ctx, err);
}

static int build_argv(const struct sbx_launch_opts *opts, const struct sbx_request *req,
		      const char *helper, struct sbx_strv *args)
{
	char buf[64];

	if (sbx_strv_push(args, helper) < 0)
		return -1;
	if (opts && opts->die_with_parent && !opts->detach) {
		snprintf(buf, sizeof(buf), "--die-with-parent=%d", (int)getpid());
		if (sbx_strv_push(args, buf) < 0)
			return -1;
	}
	if (opts && opts->policy_path &&
	    (sbx_strv_push(args, "--config") < 0 || sbx_strv_push(args, opts->policy_path) < 0))
		return -1;
	return sbx_request_to_args(req, args);
}

/* The fds the helper gets, by number; src -1: closed there. */
struct fd_map {
	int src;
	int dst;
};

/* The spawned child runs on a stack of ours, not its thread's: AddressSanitizer
 * would take the switch for a stack overflow before each _exit. */
#define ON_SPAWN_STACK __attribute__((no_sanitize_address))

/* In the spawned child: put each fd of map at its number, drop everything
 * else the caller had open (slurmstepd's control write end included), and
 * exec the helper with envp. */
ON_SPAWN_STACK static void exec_helper(char **argv, char *const *envp, struct fd_map *map, size_t n, int detach)
{
	sigset_t none;
	int last = 0;

	/* Dispositions first: until the exec this process runs on its
	 * parent's memory (spawn below), where no handler of the parent's may
	 * run. */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Out of the way first, so that no dup2 clobbers another source. */
	for (size_t i = 0; i < n; i++) {
		if (map[i].src >= 0 && map[i].src < 10 && (map[i].src = fcntl(map[i].src, F_DUPFD, 10)) < 0)
			_exit(127);
		if (map[i].dst > last)
			last = map[i].dst;
	}
	for (size_t i = 0; i < n; i++) {
		if (map[i].src >= 0 ? dup2(map[i].src, map[i].dst) < 0 : close(map[i].dst) < 0 && errno != EBADF)
			_exit(127);
	}
	syscall(SYS_close_range, (unsigned)last + 1, ~0U, 0);
	/* A detached helper outlives the task whose stdout it would hold open;
	 * slurmstepd waits for EOF on it. It speaks through its own fds. */
	if (detach) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		if (null > 2)
			close(null);
	}
	execve(argv[0], argv, envp ? envp : environ);
	sbx_status_record(SBX_STATUS_FD, "error", "helper '%s': %s (check the installation or SANDBOX_HELPER)",
			  argv[0], strerror(errno));
	_exit(127);
}

/* The helper is spawned the way posix_spawn does it: on the caller's
 * memory (CLONE_VM) while the caller waits for the exec (CLONE_VFORK). A
 * fork would copy the caller's page tables, and under Slurm the caller is a
 * fork of slurmstepd: both it and the child then take a copy-on-write fault
 * for every page they touch, on the task's path to its exec. */
struct spawn {
	char **argv;
	char *const *envp;
	struct fd_map *map;
	size_t n;
	int detach;
	int born_fd;
	char *stack;            /* the grandchild's, for a detached helper */
};

#define SPAWN_STACK (64 * 1024)

ON_SPAWN_STACK static int spawn_helper(void *p)
{
	struct spawn *s = p;

	exec_helper(s->argv, s->envp, s->map, s->n, s->detach);
	return 127;
}

/* Detached: a grandchild, so the helper outlives the task that started it
 * (Slurm's task 0 may finish before task 1). Its pid is what clone says,
 * passed up on a pipe of our own. */
ON_SPAWN_STACK static int spawn_detached(void *p)
{
	struct spawn *s = p;
	pid_t grandchild = clone(spawn_helper, s->stack + SPAWN_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, s);

	_exit(grandchild < 0 || write(s->born_fd, &grandchild, sizeof(grandchild)) != (ssize_t)sizeof(grandchild));
}

static void reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		p[i] = -1;
	}
}

int sbx_sandbox_start(const struct sbx_launch_opts *opts, const struct sbx_request *req,
		      struct sbx_sandbox *sb, struct sbx_err *err)
{
	static const struct sbx_launch_opts none = SBX_LAUNCH_OPTS_INIT;
	struct sbx_strv args = { 0 };
	const char *helper = helper_path(opts);
	int status[2] = { -1, -1 }, progress[2] = { -1, -1 }, control[2] = { -1, -1 };
	int born[2] = { -1, -1 }, rc = -1, detach, said;
	pid_t pid, helper_pid = 0;

	if (!opts)
		opts = &none;
	detach = opts->detach;
	sb->helper_pid = 0;
	sb->init_pid = 0;
	sb->detached = detach;
	sb->control_fd = -1;
	sb->status_fd = sb->progress_fd = -1;
	sb->cgroup[0] = '\0';
	if (opts->defer && !detach) {
		sbx_err_set(err, 0, NULL, "start the helper: only a detached start may leave its record to the task");
		goto out;
	}
	if ((opts->image_fd >= 0) != (req->premounted != 0)) {
		sbx_err_set(err, 0, NULL, "start the helper: a premounted image and its mount fd go together");
		goto out;
	}
	if (build_argv(opts, req, helper, &args) < 0) {
		sbx_err_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (pipe2(status, O_CLOEXEC) < 0 || pipe2(progress, O_CLOEXEC) < 0 ||
	    (detach && pipe2(born, O_CLOEXEC) < 0) ||
	    (!detach && opts->control_fd < 0 && pipe2(control, O_CLOEXEC) < 0)) {
		sbx_err_sys(err, NULL, "start the helper: pipe");
		goto out;
	}
	{
		struct fd_map map[] = {
			{ status[1], SBX_STATUS_FD },
			{ opts->control_fd >= 0 ? opts->control_fd : control[0], SBX_CONTROL_FD },
			{ progress[1], SBX_PROGRESS_FD },
			{ opts->image_fd, SBX_IMAGE_FD },
		};
		struct spawn sp = { args.v, opts->envp, map, sizeof(map) / sizeof(map[0]), detach, born[1], NULL };
		char *stacks = mmap(NULL, 2 * SPAWN_STACK, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		sigset_t all, old;

		if (stacks == MAP_FAILED) {
			sbx_err_sys(err, NULL, "start the helper: stack");
			goto out;
		}
		sp.stack = stacks + SPAWN_STACK;
		/* No handler of ours may run on the child's stack. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		pid = clone(detach ? spawn_detached : spawn_helper, stacks + SPAWN_STACK,
			    CLONE_VM | CLONE_VFORK | SIGCHLD, &sp);
		sigprocmask(SIG_SETMASK, &old, NULL);
		munmap(stacks, 2 * SPAWN_STACK);
		if (pid < 0) {
			sbx_err_sys(err, NULL, "start the helper: fork");
			goto out;
		}
	}
	close(status[1]);
	close(progress[1]);
	status[1] = progress[1] = -1;
	if (control[0] >= 0) {
		close(control[0]);
		control[0] = -1;
	}
	if (detach) {
		close(born[1]);
		born[1] = -1;
		reap(pid);
		if (read(born[0], &helper_pid, sizeof(helper_pid)) != (ssize_t)sizeof(helper_pid) ||
		    helper_pid <= 0) {
			sbx_err_set(err, 0, NULL, "start the helper: fork failed");
			goto out;
		}
	} else {
		helper_pid = pid;
	}
	/* Deferred: the task's shim reads the record (sbx_sandbox_read_ready)
	 * while Slurm runs the task's prolog; the helper builds meanwhile. */
	if (opts->defer) {
		sb->helper_pid = helper_pid;
		sb->status_fd = status[0];
		sb->progress_fd = progress[0];
		status[0] = progress[0] = -1;
		rc = 0;
		goto out;
	}
	said = sbx_sandbox_read_ready(status[0], progress[0], helper, sb, err);
	if (said == -2) {
		int st = 0;

		/* It said nothing: a helper of ours to wait for tells how it
		 * died (the OOM killer's SIGKILL, most often). */
		close_pair(control);
		if (!detach && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st))
			sbx_err_set(err, 0, WTERMSIG(st) == SIGKILL ? "out of memory? see the memory limit" : NULL,
				    "helper '%s' was killed by signal %d before the sandbox was ready", helper,
				    WTERMSIG(st));
		goto fail;
	}
	if (said < 0)
		goto fail;
	sb->helper_pid = helper_pid;
	sb->control_fd = control[1];
	control[1] = -1;
	rc = 0;
	goto out;
fail:
	sb->init_pid = 0;
	sb->cgroup[0] = '\0';
	/* A helper that got as far as its monitor waits for our end of the
	 * control pipe to close (a record another process of the user wrote
	 * into its status pipe fails here with the helper running): close it
	 * first, or the wait below never ends. */
	close_pair(control);
	if (!detach)
		reap(pid);
out:
	close_pair(status);
	close_pair(progress);
	close_pair(control);
	close_pair(born);
	sbx_strv_clear(&args);
	return rc;
}

int sbx_sandbox_stop(struct sbx_sandbox *sb, struct sbx_err *err)
{
	int rc = 0;

	if (sb->control_fd >= 0) {
		/* EOF is the message: the helper kills the sandbox's init. */
		close(sb->control_fd);
		sb->control_fd = -1;
		if (sb->helper_pid > 0 && !sb->detached) {
			int st;

			while (waitpid(sb->helper_pid, &st, 0) < 0) {
				if (errno != EINTR) {
					rc = sbx_err_sys(err, NULL, "wait for the helper %d",
							 (int)sb->helper_pid);
					break;
				}
			}
		}
	}
	/* A helper killed before it could remove its cgroup leaves it empty
	 * once the commands are gone: remove it here. */
	if (sb->cgroup[0]) {
		char path[1100];

		snprintf(path, sizeof(path), "/sys/fs/cgroup%s", sb->cgroup);
		if (rmdir(path) < 0 && errno != ENOENT && errno != EBUSY && rc == 0)
			rc = sbx_err_sys(err, NULL, "remove cgroup %s", sb->cgroup);
		sb->cgroup[0] = '\0';
	}
	sb->helper_pid = 0;
	sb->init_pid = 0;
	return rc;
}
