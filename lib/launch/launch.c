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

/* The shim's environment for a task whose command starts with argv0, and
 * the shim's path in shim. A prepended shim finds the command in its own
 * argv: the one Slurm execs, per task (--multi-prog) included. */
static int task_env(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		    const char *workdir, const char *argv0, int prepended, char *shim, size_t len,
		    sbx_setenv_fn set_env, void *ctx, struct sbx_err *err)
{
	char pid[32];

	if (!argv0)
		return sbx_err_set(err, 0, NULL, "exec: no command");
	if (sbx_shim_path(opts, shim, len) < 0)
		return sbx_err_sys(err, NULL, "exec: shim path");
	snprintf(pid, sizeof(pid), "%d", (int)sb->helper_pid);
	if ((prepended ? set_env(ctx, SBX_ENV_PREPENDED, "1") : set_env(ctx, SBX_ENV_ARGV0, argv0)) < 0 ||
	    set_env(ctx, SBX_ENV_JOIN, pid) < 0 ||
	    (workdir && set_env(ctx, SBX_ENV_WORKDIR, workdir) < 0) ||
	    (sb->cgroup[0] && set_env(ctx, SBX_ENV_CGROUP, sb->cgroup) < 0))
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

/* Control characters become '?' (keep: those that may stay, "\n\t" for
 * relayed progress, "" for a record). */
static void harmless(char *s, size_t n, const char *keep)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c == 0x7f) && !(c && strchr(keep, c)))
			s[i] = '?';
	}
}

void sbx_status_record(int fd, const char *kind, const char *fmt, ...)
{
	char buf[SBX_ERR_MAX + 64];
	size_t k = strlen(kind), n;
	va_list ap;
	int len;

	if (k + 3 > sizeof(buf))
		return;
	memcpy(buf, kind, k);
	buf[k++] = ' ';
	va_start(ap, fmt);
	len = vsnprintf(buf + k, sizeof(buf) - k - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	n = k + ((size_t)len < sizeof(buf) - k - 1 ? (size_t)len : sizeof(buf) - k - 2);
	harmless(buf + k, n - k, "");
	buf[n++] = '\n';
	/* One write, far below PIPE_BUF: the record arrives whole. */
	if (write(fd, buf, n) < 0) {
		/* The launcher is gone; nobody is left to tell. */
	}
}

/* The fds the helper gets, by number; src -1: closed there. */
struct fd_map {
	int src;
	int dst;
};

/* In the forked child: put each fd of map at its number, drop everything
 * else the caller had open (slurmstepd's control write end included), and
 * exec the helper with envp. */
static void exec_helper(char **argv, char *const *envp, struct fd_map *map, size_t n, int detach)
{
	sigset_t none;
	int last = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
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

/* The helper's import progress: whole lines to our stderr (the task's,
 * which reaches srun; a detached helper's own stderr is /dev/null), with
 * control characters but newline and tab made harmless. */
struct relay {
	char buf[4096];
	size_t off;
};

static void relay_write(const char *s, size_t n)
{
	if (write(STDERR_FILENO, s, n) < 0) {
		/* Progress only: nothing to do about it. */
	}
}

static void relay_flush(struct relay *r)
{
	if (r->off) {
		r->buf[r->off++] = '\n';
		relay_write(r->buf, r->off);
		r->off = 0;
	}
}

/* Read what fd has (all of it unless once); 0 at EOF or error, 1 if open. */
static int relay_read(int fd, struct relay *r, int once)
{
	for (;;) {
		/* One byte is kept for the newline of a line cut short. */
		ssize_t n = read(fd, r->buf + r->off, sizeof(r->buf) - 1 - r->off);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			relay_flush(r);
			return 0;
		}
		harmless(r->buf + r->off, (size_t)n, "\n\t");
		r->off += (size_t)n;
		if ((nl = memrchr(r->buf, '\n', r->off))) {
			size_t line = (size_t)(nl - r->buf) + 1;

			relay_write(r->buf, line);
			memmove(r->buf, nl + 1, r->off - line);
			r->off -= line;
		} else if (r->off == sizeof(r->buf) - 1) {
			relay_flush(r);
		}
		if (once)
			return 1;
	}
}

/* The helper's record (its first line on status_fd, without the newline,
 * control characters made harmless) while its progress is relayed. Returns
 * the record's length, or 0 when the helper closed status_fd without one.
 * Progress written before the record is all in the pipe by then (the helper
 * closes its progress fd first): read what is there, never wait for an EOF
 * another process of the user could hold back. */
static int read_reply(int status_fd, int progress_fd, char *buf, size_t len)
{
	struct relay r = { .off = 0 };
	size_t off = 0;
	int record = 0, open_progress = 1;
	char *nl = NULL;

	fcntl(progress_fd, F_SETFL, O_NONBLOCK);
	while (!nl) {
		struct pollfd pfd[2] = { { status_fd, POLLIN, 0 }, { progress_fd, POLLIN, 0 } };

		if (poll(pfd, open_progress ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (open_progress && pfd[1].revents)
			open_progress = relay_read(progress_fd, &r, 1);
		if (pfd[0].revents) {
			ssize_t n = read(status_fd, buf + off, len - 1 - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
			nl = memchr(buf, '\n', off);
			if (!nl && off == len - 1)
				nl = buf + off;
		}
	}
	if (nl) {
		record = (int)(nl - buf);
		buf[record] = '\0';
		harmless(buf, (size_t)record, "");
	}
	if (open_progress)
		relay_read(progress_fd, &r, 0);
	relay_flush(&r);
	return record;
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
	int born[2] = { -1, -1 }, rc = -1, detach;
	char line[SBX_ERR_MAX + 64];
	pid_t pid, helper_pid = 0;

	if (!opts)
		opts = &none;
	detach = opts->detach;
	sb->helper_pid = 0;
	sb->init_pid = 0;
	sb->detached = detach;
	sb->control_fd = -1;
	sb->cgroup[0] = '\0';
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
	pid = fork();
	if (pid < 0) {
		sbx_err_sys(err, NULL, "start the helper: fork");
		goto out;
	}
	if (pid == 0) {
		struct fd_map map[] = {
			{ status[1], SBX_STATUS_FD },
			{ opts->control_fd >= 0 ? opts->control_fd : control[0], SBX_CONTROL_FD },
			{ progress[1], SBX_PROGRESS_FD },
			{ opts->image_fd, SBX_IMAGE_FD },
		};

		/* Detached: a grandchild, so the helper outlives the task that
		 * started it (Slurm's task 0 may finish before task 1). Its
		 * pid is what fork says, passed up on a pipe of our own. */
		if (detach) {
			pid_t grandchild = fork();

			if (grandchild != 0)
				_exit(grandchild < 0 || write(born[1], &grandchild, sizeof(grandchild)) !=
							   (ssize_t)sizeof(grandchild));
		}
		exec_helper(args.v, opts->envp, map, sizeof(map) / sizeof(map[0]), detach);
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
	if (read_reply(status[0], progress[0], line, sizeof(line)) <= 0) {
		int st = 0;

		/* It said nothing: a helper of ours to wait for tells how it
		 * died (the OOM killer's SIGKILL, most often). */
		close_pair(control);
		if (!detach && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st))
			sbx_err_set(err, 0, WTERMSIG(st) == SIGKILL ? "out of memory? see the memory limit" : NULL,
				    "helper '%s' was killed by signal %d before the sandbox was ready", helper,
				    WTERMSIG(st));
		else
			sbx_err_set(err, 0, "see the helper's messages above",
				    "helper '%s' exited before the sandbox was ready", helper);
		goto fail;
	}
	if (strncmp(line, "error ", 6) == 0) {
		sbx_err_set(err, 0, NULL, "%s", line + 6);
		goto fail;
	}
	if (sbx_ready_parse(line, &sb->init_pid, sb->cgroup, sizeof(sb->cgroup)) < 0) {
		sbx_err_set(err, 0, "sandbox-run and sandbox-helper must come from the same build",
			    "helper '%s': unexpected reply '%s'", helper, line);
		goto fail;
	}
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
