#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/caps.h"
#include "util/cgroupfs.h"
#include "util/error.h"
#include "util/relay.h"
#include "util/strv.h"
#include "launch/environment.h"
#include "launch/launch.h"
#include "launch/runconf.h"

/* sandbox-exec, the shim: exec'd as the task (by slurmstepd or sandbox-run)
 * with the real argv[0] and the sandbox to join in its environment. It
 * joins the sandbox's namespaces; a process cannot move itself into a pid
 * namespace, only its children, so it forks the command into it, hardens
 * that child, and stays outside as the process Slurm (or sandbox-run)
 * tracks, relaying signals and the exit status. */

struct shim_settings {
	uint64_t caps;
	int seccomp;
};

static int strv_add_records(struct sbx_strv *sv, const struct sbx_runconf *cfg, const char *key)
{
	size_t pos = 0;
	const char *v;

	while ((v = sbx_runconf_next(cfg, &pos, key)))
		if (sbx_strv_push(sv, v) < 0)
			return -1;
	return 0;
}

/* The command: the image's Entrypoint when it is to run (only then is it in
 * the run configuration), followed by the given command or, when none was given
 * (argv0 ""), the image's Cmd. */
static int build_argv(const struct sbx_runconf *cfg, const char *argv0, char **argv,
		      struct sbx_strv *out)
{
	if (strv_add_records(out, cfg, "entrypoint") < 0)
		return -1;
	if (!*argv0)
		return strv_add_records(out, cfg, "cmd");
	if (sbx_strv_push(out, argv0) < 0)
		return -1;
	for (char **a = argv + 1; *a; a++)
		if (sbx_strv_push(out, *a) < 0)
			return -1;
	return 0;
}

static int load_seccomp(const struct sbx_runconf *bpf)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(bpf->len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)bpf->data,
	};

	/* SPEC_ALLOW: no forced speculation mitigations on the payload, as
	 * enroot and pyxis do; HPC codes pay dearly for them. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog) == 0)
		return 0;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* execvpe with the sandbox's PATH (Slurm skips its own lookup for the
 * absolute shim path) and shell-like status: 127 not found, 126 otherwise. */
static void exec_command(char **argv, char **env)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int saved = ENOENT;

	for (char **e = env; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, env);
		saved = errno;
	} else {
		const char *p = path;

		while (*p || p == path) {
			size_t len = strcspn(p, ":");
			char full[4096];

			if (len == 0)
				snprintf(full, sizeof(full), "%s", argv[0]);
			else
				snprintf(full, sizeof(full), "%.*s/%s", (int)len, p, argv[0]);
			execve(full, argv, env);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
			p += len;
			if (*p != ':')
				break;
			p++;
		}
	}
	if (saved == ENOENT) {
		fprintf(stderr, "sandbox: exec %s: command not found in the sandbox (check the image's PATH)\n",
			argv[0]);
		_exit(127);
	}
	fprintf(stderr, "sandbox: exec %s: %s (it must be an executable file in the image)\n",
		argv[0], strerror(saved));
	_exit(126);
}

static void child(char **argv, char **env, const struct shim_settings *c,
		  const struct sbx_runconf *bpf, const sigset_t *old)
{
	struct sbx_err err = { 0 };
	char line[SBX_ERR_MAX + 16];

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	if (sbx_shim_close_fds(env) < 0) {
		fprintf(stderr, "sandbox: exec: close inherited fds: %s\n", strerror(errno));
		_exit(125);
	}
	if (sbx_caps_restrict(c->caps, 0, &err) < 0) {
		fprintf(stderr, "%s\n", sbx_err_line(&err, line, sizeof(line)));
		_exit(125);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "sandbox: exec: no_new_privs: %s\n", strerror(errno));
		_exit(125);
	}
	/* Last: the filter denies calls the steps above need. */
	if (c->seccomp && load_seccomp(bpf) < 0) {
		fprintf(stderr, "sandbox: exec: load seccomp filter: %s\n", strerror(errno));
		_exit(125);
	}
	exec_command(argv, env);
}

static int relay(pid_t pid)
{
	int status = sbx_wait_relaying(pid);
	struct rlimit no_core = { 0, 0 };
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	/* Die the same way, so Slurm and shells report the signal; no core. */
	sig = WTERMSIG(status);
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigfillset(&set);
	sigdelset(&set, sig);
	sigprocmask(SIG_SETMASK, &set, NULL);
	raise(sig);
	return 128 + sig;
}

int sbx_shim_main(int argc, char **argv)
{
	struct shim_settings c = { 0 };
	struct sbx_runconf cfg = { 0 }, bpf = { 0 };
	struct sbx_err err = { 0 };
	char line[SBX_ERR_MAX + 16];
	const char *argv0 = getenv(SBX_ENV_ARGV0), *join = getenv(SBX_ENV_JOIN), *v;
	const char *workdir = getenv(SBX_ENV_WORKDIR);
	char *own_argv0 = NULL, *own_workdir = NULL, *path = NULL;
	char **env = NULL;
	struct sbx_strv cmd = { 0 };
	sigset_t all, old;
	pid_t pid;
	int rc = 125;

	/* Prepended (Slurm 24.11): the command is the rest of our argv. */
	if ((v = getenv(SBX_ENV_PREPENDED)) && strcmp(v, "1") == 0) {
		if (argc < 2) {
			fprintf(stderr, "sandbox: exec: %s is set but no command follows the shim\n",
				SBX_ENV_PREPENDED);
			goto out;
		}
		argv++;
		argv0 = argv[0];
	}
	if (!argv0 || !join || atoi(join) <= 0) {
		fprintf(stderr, "sandbox: exec: %s (or %s) and %s are not set (the shim is started by sandbox-run or the Slurm plugin)\n",
			SBX_ENV_ARGV0, SBX_ENV_PREPENDED, SBX_ENV_JOIN);
		goto out;
	}
	if (sbx_shim_wait_ready() < 0)
		goto out;
	/* Into the sandbox's cgroup (standalone sandboxes), from the host's
	 * view of /sys/fs/cgroup, before joining anything: the command is
	 * forked from here and starts there. */
	if ((v = getenv(SBX_ENV_CGROUP)) && *v && sbx_cgfs_write(v, "cgroup.procs", "0") < 0) {
		fprintf(stderr, "sandbox: exec: enter cgroup %s: %s\n", v, strerror(errno));
		goto out;
	}
	/* Ours, not the command's. */
	own_argv0 = strdup(argv0);
	own_workdir = workdir ? strdup(workdir) : NULL;
	if (!own_argv0 || (workdir && !own_workdir)) {
		fprintf(stderr, "sandbox: exec: out of memory\n");
		goto out;
	}
	if (sbx_sandbox_join(atoi(join), own_workdir, &err) < 0) {
		fprintf(stderr, "%s\n", sbx_err_line(&err, line, sizeof(line)));
		goto out;
	}
	unsetenv(SBX_ENV_ARGV0);
	unsetenv(SBX_ENV_JOIN);
	unsetenv(SBX_ENV_WORKDIR);
	unsetenv(SBX_ENV_CGROUP);
	unsetenv(SBX_ENV_PREPENDED);
	if (sbx_runconf_load(SBX_SHIM_DIR "/" SBX_RUNCONF_FILE, &cfg) < 0) {
		fprintf(stderr, "sandbox: exec: read %s/%s: %s\n", SBX_SHIM_DIR, SBX_RUNCONF_FILE,
			strerror(errno));
		goto out;
	}
	c.caps = sbx_runconf_caps(&cfg);
	c.seccomp = (v = sbx_runconf_get(&cfg, "seccomp")) && strcmp(v, "1") == 0;
	if (c.seccomp && sbx_runconf_load(SBX_SHIM_DIR "/" SBX_SECCOMP_FILE, &bpf) < 0) {
		fprintf(stderr, "sandbox: exec: read the seccomp filter: %s\n", strerror(errno));
		goto out;
	}
	/* This task's own environment: under Slurm the job's, with this
	 * task's SLURM_PROCID and PMI_RANK (the shim's variables are gone). */
	if (sbx_env_build(&cfg, environ, &env, &err) < 0) {
		fprintf(stderr, "%s\n", sbx_err_line(&err, line, sizeof(line)));
		goto out;
	}
	if (sbx_shim_slurm_path(&env, &path) < 0) {
		fprintf(stderr, "sandbox: exec: out of memory\n");
		goto out;
	}
	if (build_argv(&cfg, own_argv0, argv, &cmd) < 0) {
		fprintf(stderr, "sandbox: exec: out of memory\n");
		goto out;
	}
	if (cmd.n == 0) {
		fprintf(stderr, "sandbox: exec: no command given and the image has no Cmd (give a command)\n");
		goto out;
	}
	/* The image's WorkingDir, unless --workdir chose one. */
	if (!own_workdir && (v = sbx_runconf_get(&cfg, "workdir")) && chdir(v) < 0) {
		fprintf(stderr, "sandbox: exec: workdir '%s' (the image's WorkingDir): %s\n", v,
			strerror(errno));
		goto out;
	}

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sandbox: exec %s: fork: %s\n", cmd.v[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(cmd.v, env, &c, &bpf, &old);
	/* The shim itself (outside the pid namespace) keeps nothing either;
	 * its sets were narrowed on joining. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fprintf(stderr, "sandbox: exec: no_new_privs: %s\n", strerror(errno));
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	rc = relay(pid);
out:
	sbx_strv_clear(&cmd);
	free(env);
	free(path);
	sbx_runconf_free(&bpf);
	sbx_runconf_free(&cfg);
	free(own_workdir);
	free(own_argv0);
	return rc;
}
