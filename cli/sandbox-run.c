/* sandbox-run: the standalone harness. It plays slurmstepd's part on the
 * very launch path the plugin uses: start the helper, fork the task, wrap
 * its argv so it execs the shim (which joins the sandbox); then wait, relay
 * signals, tear down. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cache-cmd.h"
#include "info.h"
#include "policy-cmd.h"
#include "selftest.h"
#include "util/relay.h"
#include "spec/plan.h"
#include "spec/policy.h"
#include "spec/request.h"
#include "launch/launch.h"

#define EXIT_SETUP 125

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sandbox-run [--config FILE] --image IMG [--mount SRC[:DST[:ro|rw]]]...\n"
		"                   [--workdir DIR] [--env NAME[=VALUE]]... [--writable|--readonly]\n"
		"                   [--net host|none] [--remap-root] [--hostname NAME]\n"
		"                   [--mount-home|--no-mount-home] [--memory SIZE] [--cpus N]\n"
		"                   [--pids N] [--entrypoint|--no-entrypoint] [--per-task]\n"
		"                   [--] [CMD [ARGS...]]\n"
		"       sandbox-run [--config FILE] info [--json]\n"
		"       sandbox-run [--config FILE] cache ls | rm DIGEST...|--all | gc [--max-size SIZE]\n"
		"       sandbox-run [--config FILE] policy check [FILE]\n"
		"       sandbox-run [--config FILE] policy explain [RUN OPTIONS | --sandbox-* OPTIONS]\n"
		"       sandbox-run [--config FILE] selftest [--json]\n"
		"Global options (--config) may stand before or after the subcommand.\n"
		"Runs CMD in the same sandbox the Slurm plugin builds (see sandbox-run(1) in docs/).\n"
		"IMG: a directory, a squashfs file, a tar archive (also docker save or OCI), an OCI\n"
		"layout, or docker://[REGISTRY/]REPO[:TAG|@sha256:DIGEST]. Without CMD, the image's Cmd.\n"
		"Exit status: CMD's own; 125 sandbox setup error; 126 not executable;\n"
		"127 not found; 128+N killed by signal N.\n");
}

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{ "info", sbx_info_main },
	{ "cache", sbx_cache_main },
	{ "policy", sbx_policy_main },
	{ "selftest", sbx_selftest_main },
};

/* Global options may stand before the subcommand as well as after it:
 * `sandbox-run --config FILE cache ls` is `sandbox-run cache --config FILE ls`.
 * Returns the subcommand's index in argv, or 0 for a run. A run always
 * names an image (--image), which is no global option, so a run's command
 * named like a subcommand ("info", "selftest") is never taken for one. */
static int subcommand_index(int argc, char **argv)
{
	int i = 1;

	while (i < argc) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			i += 2;
		else if (strncmp(argv[i], "--config=", 9) == 0)
			i++;
		else
			break;
	}
	for (size_t k = 0; i < argc && k < sizeof(subcommands) / sizeof(subcommands[0]); k++)
		if (strcmp(argv[i], subcommands[k].name) == 0)
			return i;
	return 0;
}

/* Run the subcommand at argv[sub] with the global options before it moved
 * after it, where the subcommand's own parser takes them. */
static int run_subcommand(int argc, char **argv, int sub)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int n = 0, rc;

	if (!args) {
		fprintf(stderr, "sandbox: %s: out of memory\n", argv[sub]);
		return EXIT_SETUP;
	}
	args[n++] = argv[sub];
	for (int i = 1; i < argc; i++)
		if (i != sub)
			args[n++] = argv[i];
	rc = 2;
	for (size_t k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]); k++)
		if (strcmp(argv[sub], subcommands[k].name) == 0)
			rc = subcommands[k].main(n, args);
	free(args);
	return rc;
}

static int fail(const struct sbx_err *err)
{
	char line[SBX_ERR_MAX + 16];

	fprintf(stderr, "%s\n", sbx_err_line(err, line, sizeof(line)));
	return EXIT_SETUP;
}

static int task_setenv(void *ctx, const char *name, const char *value)
{
	(void)ctx;
	return setenv(name, value, 1);
}

/* The task: what slurmstepd's forked child does, up to exec. */
static void run_task(const struct sbx_launch_opts *opts, const struct sbx_sandbox *sb,
		     const char *workdir, char **cmd, const sigset_t *old)
{
	struct sbx_err err = { 0 };

	sigprocmask(SIG_SETMASK, old, NULL);
	if (sbx_task_wrap(opts, sb, workdir, cmd, task_setenv, NULL, &err) < 0)
		_exit(fail(&err));
	execv(cmd[0], cmd);
	sbx_err_sys(&err, "install it beside sandbox-helper", "exec the shim '%s'", cmd[0]);
	_exit(fail(&err));
}

static int wait_task(pid_t task)
{
	int status = sbx_wait_relaying(task);

	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	struct sbx_request req;
	struct sbx_policy pol = { 0 };
	struct sbx_plan plan = { 0 };
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	struct sbx_launch_opts opts = SBX_LAUNCH_OPTS_INIT;
	struct sbx_err err = { 0 };
	char *policy_path = NULL;
	sigset_t all, old;
	int first = 0, rc = EXIT_SETUP, started = 0;
	pid_t task;

	sbx_request_init(&req);
	first = subcommand_index(argc, argv);
	if (first > 0)
		return run_subcommand(argc, argv, first);
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (sbx_request_parse_args(&req, argc, argv, &first, &policy_path, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	/* Plan first: every input error is found before anything starts. */
	if (sbx_policy_open(&pol, policy_path, policy_path != NULL, &err) < 0 ||
	    sbx_plan_build(&pol, &req, &plan, &err) < 0) {
		/* No command and no image: say what is missing first. */
		if (first >= argc && !req.image)
			sbx_err_set(&err, 0, "put the command after --", "command: no command given");
		rc = fail(&err);
		goto out;
	}
	/* Only imported images carry an OCI image config with a Cmd to fall back on. */
	if (first >= argc && (plan.image_kind == SBX_IMAGE_DIR || plan.image_kind == SBX_IMAGE_SQUASHFS)) {
		sbx_err_set(&err, 0, "put the command after --", "command: no command given");
		rc = fail(&err);
		goto out;
	}
	opts.policy_path = policy_path;
	opts.die_with_parent = 1;
	if (sbx_sandbox_start(&opts, &req, &sb, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	started = 1;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	task = fork();
	if (task < 0) {
		sbx_err_sys(&err, NULL, "fork the task");
		rc = fail(&err);
		goto out;
	}
	if (task == 0) {
		/* "": the shim runs the image's Cmd. */
		char *image_cmd[] = { "", NULL };

		run_task(&opts, &sb, plan.workdir, first < argc ? argv + first : image_cmd, &old);
	}
	rc = wait_task(task);
out:
	if (started && sbx_sandbox_stop(&sb, &err) < 0)
		fail(&err);
	sbx_plan_free(&plan);
	sbx_policy_free(&pol);
	sbx_request_free(&req);
	free(policy_path);
	return rc;
}
