#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <slurm/slurm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/cgroupfs.h"
#include "spec/plan.h"
#include "spec/policy.h"
#include "spec/site.h"

/* One sandbox per node and step, shared by the step's local tasks. The page
 * below is mapped in slurmstepd (user_init) and inherited by every task it
 * forks: the first task to take the lock starts the helper, the others
 * join what it started, and slurmstepd's task_exit for the last task ends
 * it. The mutex is robust: a task that dies holding it does not wedge the
 * others.
 *
 * Root (slurmstepd) holds no pid of the helper: it ends the sandbox by
 * shutting down its end of the control socket pair below, which no other
 * process has (O_CLOEXEC: the tasks lose their copies at exec, the helper
 * never gets one). The helper's pid on the page is for the tasks, which run as
 * the user: task 0 has it from fork, and the others join through it. */
struct sbx_step_shared {
	pthread_mutex_t lock;
	int started;
	int failed;
	pid_t helper_pid;        /* for joining, as the user; root never reads it */
	int deferred;            /* its record is the starting task's shim's to read */
	uint32_t exited;
	int reported;            /* the error was shown once already */
	char error[SBX_ERR_MAX + 16];
};

/* The step's control socket pair (user_init): [0] goes to the helper as
 * its SBX_CONTROL_FD, [1] stays in slurmstepd until the step's last task
 * ends. A socket, not a pipe: the helper answers on it (stop_helper). */
static int control_sock[2] = { -1, -1 };

/* The gate of a deferred start (launch.h, SBX_ENV_GATE), made in user_init
 * so that every task inherits it: the starting task's shim writes a byte
 * per other task into [1] once the sandbox is ready, the others' shims
 * each take one from [0]. slurmstepd closes its copies once the tasks are
 * forked (task_post_fork): an EOF must mean that the start failed. Root
 * never reads or writes it. */
static int gate_pipe[2] = { -1, -1 };

static void close_gate(int end)
{
	if (gate_pipe[end] >= 0) {
		close(gate_pipe[end]);
		gate_pipe[end] = -1;
	}
}

static int item_u32(spank_t sp, spank_item_t item, uint32_t *out)
{
	return spank_get_item(sp, item, out) == ESPANK_SUCCESS ? 0 : -1;
}

/* The job's user: uid, gid and supplementary groups, for the work done
 * with their credentials (util/asuser.h). */
static int read_cred(spank_t sp, struct sbx_err *err)
{
	struct sbx_cred *c = &sbx_plugin.cred;
	gid_t *groups = NULL;
	int n = 0;

	if (spank_get_item(sp, S_JOB_UID, &c->uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &c->gid) != ESPANK_SUCCESS)
		return sbx_err_set(err, 0, NULL, "step: cannot read the job's user");
	if (spank_get_item(sp, S_JOB_SUPPLEMENTARY_GIDS, &groups, &n) == ESPANK_SUCCESS && n > 0) {
		sbx_plugin.groups = calloc((size_t)n, sizeof(gid_t));
		if (!sbx_plugin.groups)
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
		memcpy(sbx_plugin.groups, groups, (size_t)n * sizeof(gid_t));
		c->ngroups = (size_t)n;
	}
	c->groups = sbx_plugin.groups;
	return 0;
}

/* The names the policy's conditional items test ([devices] expose_if_set,
 * [binds] host_if_set): the helper decides on them, so it gets them. */
static int site_variables(const struct sbx_policy *pol, struct sbx_err *err)
{
	const struct sbx_strv *lists[] = { &pol->dev_expose_if_set, &pol->host_binds_if_set };
	const enum sbx_site_kind kinds[] = { SBX_SITE_DEVICE_IF, SBX_SITE_BIND_IF };
	struct sbx_site_item it;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (sbx_site_item_parse(kinds[l], lists[l]->v[i], &it) == 0 &&
			    !sbx_strv_contains(&sbx_plugin.site_vars, it.var) &&
			    sbx_strv_push(&sbx_plugin.site_vars, it.var) < 0)
				return sbx_err_set(err, ENOMEM, NULL, "step: policy");
	return 0;
}

/* Remote init_post_opt, as root. Nothing may fail the step here (22.05
 * would report success, or drain the node for a batch step): errors are
 * kept and returned from task_init. Root reads the admin's policy; what
 * the user names (an image path, a named sandbox's files) is looked at
 * with the user's credentials (util/asuser.h). */
int sbx_step_prepare(spank_t sp, struct sbx_err *err)
{
	struct sbx_policy pol = { 0 };
	char *dir = NULL, *recorded = NULL;
	int rc = -1;

	if (item_u32(sp, S_JOB_ID, &sbx_plugin.job_id) < 0 ||
	    item_u32(sp, S_JOB_STEPID, &sbx_plugin.step_id) < 0)
		return sbx_err_set(err, 0, NULL, "step: cannot read the job's ids");
	/* The extern step holds the job's resources; it runs no user code. */
	if (sbx_plugin.step_id == SLURM_EXTERN_CONT)
		return 0;
	SBX_FAILPOINT_FROM_JOB(sp);
	if (sbx_options_apply_presets(sp, err) < 0)
		goto out;
	if (!sbx_options_wanted()) {
		rc = 0;
		goto out;
	}
	sbx_plugin.enabled = 1;
	if (read_cred(sp, err) < 0)
		goto out;
	if (sbx_plugin.name) {
		/* First use records the image; later steps may omit it.
		 * Without the epilog's plugin it would never be removed. */
		if (sbx_named_companion_check(err) < 0 ||
		    sbx_named_prepare(&sbx_plugin.cred, sbx_plugin.req.image, &recorded, &dir, err) < 0 ||
		    (recorded && sbx_request_set_image(&sbx_plugin.req, recorded, err) < 0) ||
		    sbx_request_set_persist(&sbx_plugin.req, dir, err) < 0)
			goto out;
	}
	if (sbx_plugin.req.save && !sbx_plugin.name) {
		sbx_err_set(err, 0, "name the sandbox to save with --sandbox-name",
			    "save '%s': only a named sandbox can be saved", sbx_plugin.req.save);
		goto out;
	}
	/* On the node the policy is law: a missing file is an error there. */
	if (sbx_policy_open(&pol, sbx_plugin.policy_path, 1, err) < 0 ||
	    sbx_plan_check(&pol, &sbx_plugin.req, err) < 0 ||
	    sbx_cache_dir_prepare(&pol, &sbx_plugin.cred, err) < 0 ||
	    sbx_kernel_image_mount(&pol, &sbx_plugin.req, &sbx_plugin.cred, err) < 0 ||
	    SBX_FAILPOINT("plugin.prepare", err) < 0)
		goto out;
	/* The batch script's sruns: the host's Slurm client inside. A node
	 * that cannot offer it still runs the script (srun is then missing). */
	if (sbx_plugin.step_id == SLURM_BATCH_SCRIPT) {
		struct sbx_err cerr = { 0 };
		char line[SBX_ERR_MAX + 16];

		if (sbx_slurm_client_binds(&pol, &sbx_plugin.req, &cerr) < 0)
			slurm_error("%s", sbx_err_line(&cerr, line, sizeof(line)));
	}
	if (site_variables(&pol, err) < 0)
		goto out;
	/* The limits go into Slurm's task cgroups (task_post_fork); the helper
	 * only shows the view of its own. */
	sbx_plugin.limits.memory = sbx_plugin.req.memory ? sbx_plugin.req.memory : pol.cg_memory;
	sbx_plugin.limits.cpus = sbx_plugin.req.cpus ? sbx_plugin.req.cpus : pol.cg_cpus;
	sbx_plugin.limits.pids = sbx_plugin.req.pids ? sbx_plugin.req.pids : pol.cg_pids;
	sbx_plugin.limits.swap = pol.cg_swap;
	sbx_plugin.limits.swap_set = pol.cg_swap_set;
	sbx_plugin.limits.required = pol.cg_required;
	sbx_plugin.req.memory = sbx_plugin.req.pids = 0;
	sbx_plugin.req.cpus = 0;
	sbx_plugin.req.cgroup_view = 1;
	sbx_plugin.req.front_end = SBX_FRONT_SLURM;
	if (spank_getenv(sp, "SANDBOX_REPORT", sbx_plugin.report, sizeof(sbx_plugin.report)) !=
	    ESPANK_SUCCESS)
		sbx_plugin.report[0] = '\0';
	rc = 0;
out:
	free(recorded);
	free(dir);
	sbx_policy_free(&pol);
	return rc;
}

/* Remote user_init: slurmstepd, euid = the user. */
int sbx_step_user_init(spank_t sp, struct sbx_err *err)
{
	pthread_mutexattr_t attr;
	struct sbx_step_shared *sh;
	int argc = 0;
	char **argv = NULL;

	if (spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &sbx_plugin.local_tasks) != ESPANK_SUCCESS)
		return sbx_err_set(err, 0, NULL, "step: cannot read the local task count");
	/* The batch script lives in slurmd's spool: bind it at its own path so
	 * the shim can exec it inside. */
	if (sbx_plugin.step_id == SLURM_BATCH_SCRIPT &&
	    spank_get_item(sp, S_JOB_ARGV, &argc, &argv) == ESPANK_SUCCESS && argc > 0 &&
	    argv[0][0] == '/') {
		char spec[PATH_MAX * 2 + 8];

		snprintf(spec, sizeof(spec), "%s:%s:ro", argv[0], argv[0]);
		if (sbx_request_add_trusted_mount(&sbx_plugin.req, spec, err) < 0)
			return -1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return sbx_err_sys(err, NULL, "step: shared state");
	memset(sh, 0, sizeof(*sh));
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&sh->lock, &attr) != 0) {
		munmap(sh, sizeof(*sh));
		return sbx_err_set(err, 0, NULL, "step: cannot create the shared lock");
	}
	pthread_mutexattr_destroy(&attr);
	sbx_plugin.shared = sh;
	/* Before the tasks are forked, so that slurmstepd alone keeps [1]. */
	if (control_sock[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control_sock) < 0)
		return sbx_err_sys(err, NULL, "step: control socket");
	if (!sbx_plugin.name && gate_pipe[0] < 0 && pipe2(gate_pipe, O_CLOEXEC) < 0)
		return sbx_err_sys(err, NULL, "step: gate pipe");
	return 0;
}

static struct sbx_launch_opts launch_opts(void)
{
	struct sbx_launch_opts opts = SBX_LAUNCH_OPTS_INIT;

	opts.helper_path = sbx_plugin.helper;
	opts.policy_path = sbx_plugin.policy_path;
	/* Task 0 may end long before the others; the sandbox must not. */
	opts.detach = 1;
	opts.control_fd = control_sock[0];
	opts.image_fd = sbx_kernel_image_fd();
	return opts;
}

/* The helper's whole environment, from the job's: what image pulls read
 * (registry credentials, the home and cache directories, proxies) and a
 * fixed PATH. The task's own environ is slurmstepd's, which is not the
 * job's to see (/proc/<helper>/environ is the user's to read). */
static int helper_environment(spank_t sp, struct sbx_strv *env)
{
	static const char *const names[] = {
		"HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG",
		"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
		"SANDBOX_REPORT", SBX_FAILPOINT_ENV_NAMES
		/* What site hooks are told (docs/policy.md, [hooks]): the job,
		 * the step, and the GPUs Slurm's GRES plugin gave the task. */
		"SLURM_JOB_ID", "SLURM_STEP_ID", "SLURM_STEPID", "SLURM_JOB_USER", "SLURM_JOB_GPUS",
		"SLURM_STEP_GPUS", "CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL",
		NULL,
	};
	char buf[PATH_MAX], var[PATH_MAX + 32];

	if (sbx_strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		if (spank_getenv(sp, names[i], buf, sizeof(buf)) != ESPANK_SUCCESS)
			continue;
		snprintf(var, sizeof(var), "%s=%s", names[i], buf);
		if (sbx_strv_push(env, var) < 0)
			return -1;
	}
	for (size_t i = 0; i < sbx_plugin.site_vars.n; i++) {
		const char *name = sbx_plugin.site_vars.v[i];
		int known = 0;

		for (size_t k = 0; names[k]; k++)
			known |= strcmp(names[k], name) == 0;
		if (known || spank_getenv(sp, name, buf, sizeof(buf)) != ESPANK_SUCCESS)
			continue;
		if ((size_t)snprintf(var, sizeof(var), "%s=%s", name, buf) >= sizeof(var))
			continue;
		if (sbx_strv_push(env, var) < 0)
			return -1;
	}
	return 0;
}

/* -1 with *own set when this task met the error (err says why); -1 with
 * *own clear when another task did (sh->error says why). A start this task
 * deferred leaves the helper's record fds in *mine. */
static int start_once(spank_t sp, struct sbx_step_shared *sh, int *own, struct sbx_sandbox *mine,
		      struct sbx_err *err)
{
	int rc = pthread_mutex_lock(&sh->lock);

	*own = 1;

	if (rc == EOWNERDEAD) {
		pthread_mutex_consistent(&sh->lock);
		if (!sh->started) {
			sh->failed = 1;
			snprintf(sh->error, sizeof(sh->error),
				 "sandbox: step: a task died while starting the sandbox (see the step's first error)");
		}
	} else if (rc != 0) {
		return sbx_err_set(err, rc, NULL, "step: lock");
	}
	/* A named sandbox another step of the job runs: join it. */
	if (!sh->started && !sh->failed && sbx_plugin.name &&
	    sbx_attach_find(sbx_plugin.req.persist, &sh->helper_pid))
		sh->started = 1;
	if (!sh->started && !sh->failed) {
		struct sbx_launch_opts opts = launch_opts();
		struct sbx_strv env = { 0 };
		struct sbx_sandbox sb = SBX_SANDBOX_INIT;
		int started;

		/* Not a named sandbox: another step may join it as soon as its
		 * record is written, which must wait for ready. */
		opts.defer = !sbx_plugin.name && gate_pipe[0] >= 0;
		if (helper_environment(sp, &env) < 0) {
			started = sbx_err_set(err, ENOMEM, NULL, "out of memory");
		} else {
			opts.envp = env.v;
			started = sbx_sandbox_start(&opts, &sbx_plugin.req, &sb, err);
		}
		if (started < 0) {
			sbx_strv_clear(&env);
			sh->failed = 1;
			sh->reported = 1;       /* this task shows it */
			sbx_err_line(err, sh->error, sizeof(sh->error));
			pthread_mutex_unlock(&sh->lock);
			return -1;
		}
		sbx_strv_clear(&env);
		sh->helper_pid = sb.helper_pid;
		sh->deferred = opts.defer;
		sh->started = 1;
		mine->status_fd = sb.status_fd;
		mine->progress_fd = sb.progress_fd;
		if (sbx_plugin.name)
			sbx_attach_record(sbx_plugin.req.persist, sb.helper_pid);
	}
	rc = sh->failed ? -1 : 0;
	pthread_mutex_unlock(&sh->lock);
	/* Only the task that tried reports the reason; the rest just fail. */
	if (rc < 0)
		*own = 0;
	return rc;
}

static int spank_set(void *ctx, const char *name, const char *value)
{
	return spank_setenv((spank_t)ctx, name, value, 1) == ESPANK_SUCCESS ? 0 : -1;
}

#if SBX_SLURM_PREPEND_ARGV
/* Slurm's own way: the shim goes in front of the task's argv, which Slurm
 * keeps as it is. */
static int wrap_task(spank_t sp, const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		     char **argv, struct sbx_err *err)
{
	char shim[PATH_MAX];
	const char *prefix[1] = { shim };
	spank_err_t rc;

	if (sbx_task_prepend_env(opts, sb, sbx_plugin.req.workdir, argv[0], shim, sizeof(shim),
				 spank_set, sp, err) < 0)
		return -1;
	rc = spank_prepend_task_argv(sp, 1, prefix);
	if (rc != ESPANK_SUCCESS)
		return sbx_err_set(err, 0, NULL, "exec %s: spank_prepend_task_argv: %s", argv[0],
				   spank_strerror(rc));
	slurm_debug("sandbox: %s prepended to the task's argv", shim);
	return 0;
}
#else
/* Slurm before 24.11 has no spank_prepend_task_argv: the argv Slurm execs is
 * this very array, so its first element is swapped for the shim (which gets
 * the original through the environment). */
static int wrap_task(spank_t sp, const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		     char **argv, struct sbx_err *err)
{
	return sbx_task_wrap(opts, sb, sbx_plugin.req.workdir, argv, spank_set, sp, err);
}
#endif

/* Each task, as the user, just before slurmstepd's exec path: start (once)
 * and point the task at the shim. */
int sbx_step_task_init(spank_t sp)
{
	struct sbx_launch_opts opts = launch_opts();
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	struct sbx_err err = { 0 };
	int argc = 0, own = 0;
	char **argv = NULL;

	if (sbx_plugin.error[0]) {
		slurm_error("%s", sbx_plugin.error);
		return -1;
	}
	if (!sbx_plugin.shared) {
		slurm_error("sandbox: step: no shared state (user_init did not run)");
		return -1;
	}
	if (sbx_mpi_binds(sp, &sbx_plugin.req, &err) < 0) {
		/* Every task of the node has the same variables: one line. */
		if (!__atomic_exchange_n(&sbx_plugin.shared->reported, 1, __ATOMIC_SEQ_CST))
			sbx_plugin_report(&err);
		return -1;
	}
	sb.detached = 1;
	if (start_once(sp, sbx_plugin.shared, &own, &sb, &err) < 0) {
		/* One line per node: the first task to fail shows why. */
		if (own)
			sbx_plugin_report(&err);
		else if (!__atomic_exchange_n(&sbx_plugin.shared->reported, 1, __ATOMIC_SEQ_CST))
			slurm_error("%s", sbx_plugin.shared->error);
		return -1;
	}
	/* As the user: which sandbox this task joins is the user's business. */
	sb.helper_pid = sbx_plugin.shared->helper_pid;
	/* A deferred start: this task's shim reads the record and opens the
	 * gate, or waits at it. The end it does not use goes now. */
	if (sb.status_fd >= 0) {
		sb.gate_fd = gate_pipe[1];
		sb.gate_tokens = sbx_plugin.local_tasks > 0 ? sbx_plugin.local_tasks - 1 : 0;
		close_gate(0);
	} else if (sbx_plugin.shared->deferred) {
		sb.gate_fd = gate_pipe[0];
		close_gate(1);
	} else {
		close_gate(0);
		close_gate(1);
	}
	if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS || argc < 1) {
		slurm_error("sandbox: step: cannot read the task's command");
		return -1;
	}
	if (wrap_task(sp, &opts, &sb, argv, &err) < 0) {
		sbx_plugin_report(&err);
		return -1;
	}
	return 0;
}

/* How long the end of a named step waits for its helper's word. */
#define WITHDRAW_WAIT_MS 5000

/* As root: the helper sees EOF on its control fd and ends the sandbox.
 * No pid, no path: nothing the user could have changed is acted on, and a
 * helper already gone is what was wanted. A named sandbox's helper first
 * withdraws its record (helper/attach-record.c) and then writes a byte, or
 * is gone (EOF): the step ends only after that, so that the job's next
 * step cannot find and join a sandbox that is ending. The byte is only a
 * signal (never read), and the wait is bounded: the helper is the user's
 * process. */
static void stop_helper(void)
{
	struct pollfd pfd = { .fd = control_sock[1], .events = POLLIN };

	if (control_sock[1] < 0)
		return;
	/* The last task has ended: no helper is started from here on, and
	 * our copy of its end would hide the EOF of a helper that is gone. */
	if (control_sock[0] >= 0) {
		close(control_sock[0]);
		control_sock[0] = -1;
	}
	if (sbx_plugin.name && shutdown(control_sock[1], SHUT_WR) == 0)
		while (poll(&pfd, 1, WITHDRAW_WAIT_MS) < 0 && errno == EINTR)
			;
	close(control_sock[1]);
	control_sock[1] = -1;
}

/* slurmstepd, as root, once per task after Slurm put it in its cgroup and
 * before it runs: the sandbox's limits. A failure here cannot fail the step
 * (22.05), so it is recorded for task_init. */
void sbx_step_task_post_fork(spank_t sp)
{
	struct sbx_step_shared *sh = sbx_plugin.shared;
	const struct sbx_limits *l = &sbx_plugin.limits;
	struct sbx_err err = { 0 };
	pid_t pid = 0;
	int wanted = l->memory || l->cpus || l->pids || l->swap_set, rc, task = -1;

	/* Every task has its copy by now (Slurm forks them all first). */
	close_gate(0);
	close_gate(1);
	if (!sh || spank_get_item(sp, S_TASK_PID, &pid) != ESPANK_SUCCESS || pid <= 0)
		return;
	spank_get_item(sp, S_TASK_ID, &task);
	rc = SBX_FAILPOINT("plugin.cgroup", &err) < 0 ? -1 : sbx_slurm_cgroup_apply(pid, l, &err);
	if (rc == 0 && task >= 0 && (uint32_t)task < sbx_plugin.local_tasks) {
		char path[PATH_MAX];

		if (!sbx_plugin.task_cgroups)
			sbx_plugin.task_cgroups = calloc(sbx_plugin.local_tasks, sizeof(char *));
		if (sbx_plugin.task_cgroups && sbx_cgfs_of(pid, path, sizeof(path)) == 0)
			sbx_plugin.task_cgroups[task] = strdup(path);
	}
	if (rc == 1 && wanted) {
		sbx_err_set(&err, 0, "a cgroup v2 node with Slurm's cgroup/v2 plugin is needed",
			    "cgroup limits: this node has no cgroup v2");
		rc = l->required ? -1 : 2;
	}
	if (rc == 2 && task == 0)
		slurm_error("sandbox: warning: %s (cgroups.when_unavailable = warn)", err.msg);
	if (rc < 0 && !sh->failed) {
		sh->failed = 1;
		sbx_err_line(&err, sh->error, sizeof(sh->error));
	}
}

/* slurmstepd, as root, as each task is reaped: the last one ends the sandbox. */
void sbx_step_task_exit(spank_t sp)
{
	struct sbx_step_shared *sh = sbx_plugin.shared;

	int task = -1;

	if (!sh)
		return;
	if (spank_get_item(sp, S_TASK_ID, &task) == ESPANK_SUCCESS && task >= 0 &&
	    sbx_plugin.task_cgroups && (uint32_t)task < sbx_plugin.local_tasks &&
	    sbx_plugin.task_cgroups[task]) {
		sbx_slurm_cgroup_report(sbx_plugin.task_cgroups[task], task,
					sbx_plugin.report[0] ? sbx_plugin.report : NULL);
		free(sbx_plugin.task_cgroups[task]);
		sbx_plugin.task_cgroups[task] = NULL;
	}
	(void)SBX_FAILPOINT("plugin.task_exit", NULL);
	if (__atomic_add_fetch(&sh->exited, 1, __ATOMIC_SEQ_CST) >= sbx_plugin.local_tasks)
		stop_helper();
}

/* slurmstepd's last word: whatever happened to the tasks, end the sandbox. */
void sbx_step_exit(void)
{
	(void)SBX_FAILPOINT("plugin.exit", NULL);
	sbx_kernel_image_umount();
	if (sbx_plugin.task_cgroups) {
		for (uint32_t i = 0; i < sbx_plugin.local_tasks; i++)
			free(sbx_plugin.task_cgroups[i]);
		free(sbx_plugin.task_cgroups);
		sbx_plugin.task_cgroups = NULL;
	}
	stop_helper();
	close_gate(0);
	close_gate(1);
	if (control_sock[0] >= 0) {
		close(control_sock[0]);
		control_sock[0] = -1;
	}
	if (sbx_plugin.shared) {
		munmap(sbx_plugin.shared, sizeof(*sbx_plugin.shared));
		sbx_plugin.shared = NULL;
	}
}
