#include "launch/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
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

int sbx_task_wrap(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		  const char *workdir, char **argv, sbx_setenv_fn set_env, void *ctx,
		  struct sbx_err *err)
{
	char shim[PATH_MAX], pid[32];
	char *copy;

	if (!argv || !argv[0])
		return sbx_err_set(err, 0, NULL, "exec: no command");
	if (sbx_shim_path(opts, shim, sizeof(shim)) < 0)
		return sbx_err_sys(err, NULL, "exec: shim path");
	snprintf(pid, sizeof(pid), "%d", (int)sb->helper_pid);
	if (set_env(ctx, SBX_ENV_ARGV0, argv[0]) < 0 || set_env(ctx, SBX_ENV_JOIN, pid) < 0 ||
	    (workdir && set_env(ctx, SBX_ENV_WORKDIR, workdir) < 0) ||
	    (sb->cgroup[0] && set_env(ctx, SBX_ENV_CGROUP, sb->cgroup) < 0))
		return sbx_err_set(err, 0, NULL, "exec %s: cannot set the shim's environment", argv[0]);
	copy = strdup(shim);
	if (!copy)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	argv[0] = copy;
	return 0;
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

/* In the forked child: arrange fds 3 (status) and 4 (control), drop
 * everything else the caller had open, and exec the helper. */
static void exec_helper(char **argv, int status_w, int control_r, int detach)
{
	sigset_t none;
	int st = status_w, ct = control_r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* Move both fds out of the way first so dup2 cannot clobber one. */
	if (st < 10)
		st = fcntl(st, F_DUPFD, 10);
	if (ct >= 0 && ct < 10)
		ct = fcntl(ct, F_DUPFD, 10);
	if (st < 0 || dup2(st, SBX_STATUS_FD) < 0)
		_exit(127);
	if (ct >= 0) {
		if (dup2(ct, SBX_CONTROL_FD) < 0)
			_exit(127);
	} else {
		close(SBX_CONTROL_FD);
	}
	syscall(SYS_close_range, (unsigned)SBX_CONTROL_FD + 1, ~0U, 0);
	/* A detached helper outlives the task whose stdout it would hold open;
	 * slurmstepd waits for EOF on it. It speaks through the status fd. */
	if (detach) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		if (null > 2)
			close(null);
	}
	execv(argv[0], argv);
	dprintf(SBX_STATUS_FD, "error helper '%s': %s (check the installation or SANDBOX_HELPER)\n",
		argv[0], strerror(errno));
	_exit(127);
}

/* The helper's reply, "ready ..." or "error ...". Whatever it says before
 * (import progress, a wait for another import) is relayed to our stderr:
 * the task's, which reaches srun, while a detached helper's own stderr is
 * /dev/null. */
static int read_status(int fd, char *buf, size_t len)
{
	char acc[SBX_ERR_MAX + 1024];
	size_t off = 0, line;
	char *nl;

	for (;;) {
		while (!(nl = memchr(acc, '\n', off)) && off < sizeof(acc)) {
			ssize_t n = read(fd, acc + off, sizeof(acc) - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		line = nl ? (size_t)(nl - acc) : off;
		if (nl && strncmp(acc, "ready ", 6) != 0 && strncmp(acc, "error ", 6) != 0) {
			if (write(STDERR_FILENO, acc, line + 1) < 0) {
				/* Progress only: nothing to do about it. */
			}
			memmove(acc, nl + 1, off - line - 1);
			off -= line + 1;
			continue;
		}
		if (line >= len)
			line = len - 1;
		memcpy(buf, acc, line);
		buf[line] = '\0';
		return (int)line;
	}
}

static void reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

int sbx_sandbox_start(const struct sbx_launch_opts *opts, const struct sbx_request *req,
		      struct sbx_sandbox *sb, struct sbx_err *err)
{
	struct sbx_strv args = { 0 };
	const char *helper = helper_path(opts);
	int status[2] = { -1, -1 }, control[2] = { -1, -1 }, detach = opts && opts->detach;
	char line[SBX_ERR_MAX + 64], cgroup[1024] = "";
	int rc = -1, helper_pid = 0, init_pid = 0;
	pid_t pid;

	sb->helper_pid = 0;
	sb->init_pid = 0;
	sb->control_fd = -1;
	sb->cgroup[0] = '\0';
	if (build_argv(opts, req, helper, &args) < 0) {
		sbx_err_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (pipe2(status, O_CLOEXEC) < 0 || (!detach && pipe2(control, O_CLOEXEC) < 0)) {
		sbx_err_sys(err, NULL, "start the helper: pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		sbx_err_sys(err, NULL, "start the helper: fork");
		goto out;
	}
	if (pid == 0) {
		/* Detached: a grandchild, so the helper outlives the task that
		 * started it (Slurm's task 0 may finish before task 1). */
		if (detach && fork() != 0)
			_exit(0);
		exec_helper(args.v, status[1], control[0], detach);
	}
	close(status[1]);
	status[1] = -1;
	if (control[0] >= 0) {
		close(control[0]);
		control[0] = -1;
	}
	if (detach)
		reap(pid);
	if (read_status(status[0], line, sizeof(line)) <= 0) {
		sbx_err_set(err, 0, "see the helper's messages above",
			    "helper '%s' exited before the sandbox was ready", helper);
		goto fail;
	}
	if (strncmp(line, "error ", 6) == 0) {
		sbx_err_set(err, 0, NULL, "%s", line + 6);
		goto fail;
	}
	if (sscanf(line, "ready %d %d %1023s", &helper_pid, &init_pid, cgroup) != 3 || init_pid <= 0) {
		sbx_err_set(err, 0, "sandbox-run and sandbox-helper must come from the same build",
			    "helper '%s': unexpected reply '%s'", helper, line);
		goto fail;
	}
	sb->helper_pid = detach ? helper_pid : pid;
	sb->init_pid = init_pid;
	if (strcmp(cgroup, "-") != 0)
		snprintf(sb->cgroup, sizeof(sb->cgroup), "%s", cgroup);
	sb->control_fd = control[1];
	control[1] = -1;
	rc = 0;
	goto out;
fail:
	if (!detach)
		reap(pid);
out:
	for (int i = 0; i < 2; i++) {
		if (status[i] >= 0)
			close(status[i]);
		if (control[i] >= 0)
			close(control[i]);
	}
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
		if (sb->helper_pid > 0) {
			int st;

			while (waitpid(sb->helper_pid, &st, 0) < 0) {
				if (errno != EINTR) {
					rc = sbx_err_sys(err, NULL, "wait for the helper %d",
							 (int)sb->helper_pid);
					break;
				}
			}
		}
	} else if (sb->helper_pid > 0 && kill(sb->helper_pid, SIGTERM) < 0 && errno != ESRCH) {
		rc = sbx_err_sys(err, NULL, "stop the helper %d", (int)sb->helper_pid);
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
