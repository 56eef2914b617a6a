/* The command's environment: one precedence model (docs/images.md), applied
 * by the shim in each task from the run configuration and the task's own
 * environment (the job's under Slurm, the caller's under sandbox-run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch/environment.h"
#include "launch/runconf.h"
#include "spec/plan.h"

#define BUILTIN_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct fixture {
	char data[8192];           /* the run configuration's records */
	struct sbx_runconf cfg;
	char **env;                /* the result */
	struct sbx_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->cfg.data = fx->data;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->env);
	free(fx);
	return 0;
}

/* Append the record key:value, as sbx_runconf_write does. */
static void rec(struct fixture *fx, const char *key, const char *value)
{
	int n = snprintf(fx->data + fx->cfg.len, sizeof(fx->data) - fx->cfg.len, "%s:%s", key, value);

	assert_true(n > 0 && fx->cfg.len + (size_t)n + 1 < sizeof(fx->data));
	fx->cfg.len += (size_t)n + 1;
}

/* What the sandboxes of the shipped policy hold: the built-in PATH, an
 * image's Env, the sandbox user's identity. */
static void typical(struct fixture *fx)
{
	rec(fx, "clean", "0");
	rec(fx, "base", BUILTIN_PATH);
	rec(fx, "image", "PATH=/opt/image/bin:/usr/bin:/bin");
	rec(fx, "image", "LD_LIBRARY_PATH=/opt/image/lib");
	rec(fx, "image", "OMP_NUM_THREADS=1");
	rec(fx, "image", "IMAGE_ONLY=from-image");
	rec(fx, "identity", "HOME=/home/alice");
	rec(fx, "identity", "USER=alice");
	rec(fx, "identity", "LOGNAME=alice");
}

static void build(struct fixture *fx, char *const *job)
{
	free(fx->env);
	fx->env = NULL;
	if (sbx_env_build(&fx->cfg, job, &fx->env, &fx->err) < 0)
		fail_msg("%s", fx->err.msg);
	assert_non_null(fx->env);
}

/* The value of name in the result, or NULL. */
static const char *get(const struct fixture *fx, const char *name)
{
	size_t len = strlen(name);
	const char *found = NULL;

	for (char **e = fx->env; *e; e++) {
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') {
			assert_null(found);     /* each name once */
			found = *e + len + 1;
		}
	}
	return found;
}

static void the_image_env_gives_the_defaults(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { NULL };

	typical(fx);
	build(fx, job);
	assert_string_equal(get(fx, "IMAGE_ONLY"), "from-image");
	assert_string_equal(get(fx, "OMP_NUM_THREADS"), "1");
	assert_string_equal(get(fx, "PATH"), "/opt/image/bin:/usr/bin:/bin");
}

static void without_an_image_path_the_builtin_path_is_used(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "PATH=/host/only/bin:/usr/bin", NULL };

	rec(fx, "base", BUILTIN_PATH);
	build(fx, job);
	assert_string_equal(get(fx, "PATH"), BUILTIN_PATH + 5);
}

static void the_job_overrides_the_image(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "OMP_NUM_THREADS=4", "JOB_ONLY=from-job", NULL };

	typical(fx);
	build(fx, job);
	assert_string_equal(get(fx, "OMP_NUM_THREADS"), "4");
	assert_string_equal(get(fx, "JOB_ONLY"), "from-job");
	assert_string_equal(get(fx, "IMAGE_ONLY"), "from-image");
}

static void the_image_keeps_path_library_path_and_preload(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "PATH=/host/bin", "LD_LIBRARY_PATH=/host/lib", "LD_PRELOAD=/host/lib/libx.so",
			"PATHX=/job", NULL };

	typical(fx);
	build(fx, job);
	assert_string_equal(get(fx, "PATH"), "/opt/image/bin:/usr/bin:/bin");
	assert_string_equal(get(fx, "LD_LIBRARY_PATH"), "/opt/image/lib");
	/* The image has none: the host's is not taken either. */
	assert_null(get(fx, "LD_PRELOAD"));
	/* Only those names: a longer one is the job's like any other. */
	assert_string_equal(get(fx, "PATHX"), "/job");
	for (size_t i = 0; sbx_env_from_image[i]; i++)
		assert_true(strcmp(sbx_env_from_image[i], "PATH") == 0 ||
			    strncmp(sbx_env_from_image[i], "LD_", 3) == 0);
}

static void naming_an_image_variable_passes_the_jobs_value(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "PATH=/host/bin", "LD_PRELOAD=/host/lib/libx.so", NULL };

	typical(fx);
	rec(fx, "user", "PATH");
	rec(fx, "user", "LD_PRELOAD");
	rec(fx, "user", "LD_LIBRARY_PATH");     /* not in the job: the image's stays */
	build(fx, job);
	assert_string_equal(get(fx, "PATH"), "/host/bin");
	assert_string_equal(get(fx, "LD_PRELOAD"), "/host/lib/libx.so");
	assert_string_equal(get(fx, "LD_LIBRARY_PATH"), "/opt/image/lib");
}

static void a_user_value_overrides_everything(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "OMP_NUM_THREADS=4", "HOME=/job/home", "SECRET=1", NULL };

	typical(fx);
	rec(fx, "deny", "SECRET");
	rec(fx, "user", "OMP_NUM_THREADS=8");
	rec(fx, "user", "PATH=/mine");
	rec(fx, "user", "HOME=/scratch");
	rec(fx, "user", "SECRET=mine");
	build(fx, job);
	assert_string_equal(get(fx, "OMP_NUM_THREADS"), "8");
	assert_string_equal(get(fx, "PATH"), "/mine");
	assert_string_equal(get(fx, "HOME"), "/scratch");
	assert_string_equal(get(fx, "SECRET"), "mine");
}

static void the_later_of_two_user_entries_wins(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "A=job", NULL };

	rec(fx, "user", "A=first");
	rec(fx, "user", "A");
	rec(fx, "user", "B");                    /* nowhere: not set */
	build(fx, job);
	assert_string_equal(get(fx, "A"), "job");
	assert_null(get(fx, "B"));
}

static void the_deny_list_drops_the_jobs_variables_by_glob(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "AWS_SECRET_ACCESS_KEY=x", "GH_TOKEN=y", "TOKENS=z", "IMAGE_ONLY=job", NULL };

	typical(fx);
	rec(fx, "deny", "AWS_*");
	rec(fx, "deny", "*_TOKEN");
	rec(fx, "deny", "IMAGE_ONLY");
	build(fx, job);
	assert_null(get(fx, "AWS_SECRET_ACCESS_KEY"));
	assert_null(get(fx, "GH_TOKEN"));
	assert_string_equal(get(fx, "TOKENS"), "z");
	/* A denied variable of the job leaves the image's value. */
	assert_string_equal(get(fx, "IMAGE_ONLY"), "from-image");
}

static void a_glob_matches_the_name_not_the_value(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "B=A=1", "XA=2", NULL };

	rec(fx, "deny", "*A");
	build(fx, job);
	assert_string_equal(get(fx, "B"), "A=1");
	assert_null(get(fx, "XA"));
}

static void a_long_name_is_matched_too(void **state)
{
	struct fixture *fx = *state;
	char name[600], *job[] = { name, NULL };

	memset(name, 'L', 500);
	strcpy(name + 500, "ONG=1");
	rec(fx, "deny", "L*G");
	build(fx, job);
	assert_null(fx->env[0]);
}

static void clean_mode_takes_only_the_passthrough_list(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "SLURM_PROCID=3", "TERM=xterm", "OMP_NUM_THREADS=4", "SECRET=1",
			"SLURM_DENIED=1", NULL };

	typical(fx);
	fx->cfg.len = 0;
	rec(fx, "clean", "1");
	rec(fx, "image", "OMP_NUM_THREADS=1");
	rec(fx, "passthrough", "SLURM_*");
	rec(fx, "passthrough", "TERM");
	rec(fx, "deny", "SLURM_DENIED");
	rec(fx, "user", "SECRET");
	build(fx, job);
	assert_string_equal(get(fx, "SLURM_PROCID"), "3");
	assert_string_equal(get(fx, "TERM"), "xterm");
	assert_string_equal(get(fx, "OMP_NUM_THREADS"), "1");
	/* Named by the user: passed in any mode. */
	assert_string_equal(get(fx, "SECRET"), "1");
	/* deny wins over passthrough. */
	assert_null(get(fx, "SLURM_DENIED"));
}

static void the_image_list_holds_in_clean_mode_too(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "PATH=/host/bin", NULL };

	rec(fx, "clean", "1");
	rec(fx, "base", BUILTIN_PATH);
	rec(fx, "passthrough", "*");
	build(fx, job);
	assert_string_equal(get(fx, "PATH"), BUILTIN_PATH + 5);
}

static void per_task_variables_are_each_tasks_own(void **state)
{
	struct fixture *fx = *state;
	char *task0[] = { "SLURM_PROCID=0", "SLURM_LOCALID=0", "PMI_RANK=0", NULL };
	char *task1[] = { "SLURM_PROCID=1", "SLURM_LOCALID=1", "PMI_RANK=1", NULL };

	/* One run configuration for the sandbox, even one whose image sets
	 * them: each task's own values win. */
	typical(fx);
	rec(fx, "image", "SLURM_PROCID=99");
	rec(fx, "user", "PMI_RANK");
	build(fx, task0);
	assert_string_equal(get(fx, "SLURM_PROCID"), "0");
	assert_string_equal(get(fx, "PMI_RANK"), "0");
	build(fx, task1);
	assert_string_equal(get(fx, "SLURM_PROCID"), "1");
	assert_string_equal(get(fx, "SLURM_LOCALID"), "1");
	assert_string_equal(get(fx, "PMI_RANK"), "1");
}

static void identity_beats_the_job_and_the_image(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "HOME=/job/home", "USER=someone", NULL };

	typical(fx);
	rec(fx, "image", "HOME=/image-home");
	rec(fx, "image", "LOGNAME=image-user");
	build(fx, job);
	assert_string_equal(get(fx, "HOME"), "/home/alice");
	assert_string_equal(get(fx, "USER"), "alice");
	assert_string_equal(get(fx, "LOGNAME"), "alice");
	/* Named by the user: the job's. */
	rec(fx, "user", "USER");
	build(fx, job);
	assert_string_equal(get(fx, "USER"), "someone");
}

static void the_shims_own_variables_never_reach_the_command(void **state)
{
	struct fixture *fx = *state;
	char *job[] = { "SANDBOX_EXEC_JOIN=42", "SANDBOX_EXEC_ARGV0=./a", "SANDBOX_IMAGE=/img",
			"BROKEN", NULL };

	rec(fx, "passthrough", "*");
	rec(fx, "user", "SANDBOX_EXEC_JOIN");
	rec(fx, "user", "SANDBOX_EXEC_WORKDIR=/x");
	build(fx, job);
	assert_null(get(fx, "SANDBOX_EXEC_JOIN"));
	assert_null(get(fx, "SANDBOX_EXEC_ARGV0"));
	assert_null(get(fx, "SANDBOX_EXEC_WORKDIR"));
	/* The user's presets are the job's like any variable (a batch
	 * script's sruns read them). */
	assert_string_equal(get(fx, "SANDBOX_IMAGE"), "/img");
	/* An entry without '=' is no variable. */
	assert_null(fx->env[1]);
}

/* The helper writes the plan's rules (sbx_runconf_write) and the shim reads
 * them back: the same model from policy to command. */
static void the_plans_rules_survive_the_run_configuration(void **state)
{
	struct fixture *fx = *state;
	struct sbx_plan plan = { .caps = 0 };
	struct sbx_image_config img = { 0 };
	struct sbx_runconf loaded = { 0 };
	char *job[] = { "PATH=/host/bin", "KEEP=1", "DROP_ME=1", "NAMED=job", NULL };
	char path[64];
	int fd;

	assert_int_equal(sbx_strv_push(&plan.env_base, BUILTIN_PATH), 0);
	assert_int_equal(sbx_strv_push(&img.env, "IMG=1"), 0);
	assert_int_equal(sbx_strv_push(&plan.env_deny, "DROP_*"), 0);
	assert_int_equal(sbx_strv_push(&plan.env_identity, "USER=alice"), 0);
	assert_int_equal(sbx_strv_push(&plan.env_user, "NAMED"), 0);
	assert_int_equal(sbx_strv_push(&plan.env_user, "SET=2"), 0);
	snprintf(path, sizeof(path), "/tmp/sbx-runconf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(sbx_runconf_write(&plan, &img, fd, &fx->err), 0);
	close(fd);
	assert_int_equal(sbx_runconf_load(path, &loaded), 0);
	unlink(path);
	fx->cfg = loaded;
	build(fx, job);
	assert_string_equal(get(fx, "PATH"), BUILTIN_PATH + 5);
	assert_string_equal(get(fx, "IMG"), "1");
	assert_string_equal(get(fx, "KEEP"), "1");
	assert_null(get(fx, "DROP_ME"));
	assert_string_equal(get(fx, "USER"), "alice");
	assert_string_equal(get(fx, "NAMED"), "job");
	assert_string_equal(get(fx, "SET"), "2");
	free(fx->env);
	fx->env = NULL;
	sbx_runconf_free(&loaded);
	sbx_image_config_free(&img);
	sbx_plan_free(&plan);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(the_image_env_gives_the_defaults),
		T(without_an_image_path_the_builtin_path_is_used),
		T(the_job_overrides_the_image),
		T(the_image_keeps_path_library_path_and_preload),
		T(naming_an_image_variable_passes_the_jobs_value),
		T(a_user_value_overrides_everything),
		T(the_later_of_two_user_entries_wins),
		T(the_deny_list_drops_the_jobs_variables_by_glob),
		T(a_glob_matches_the_name_not_the_value),
		T(a_long_name_is_matched_too),
		T(clean_mode_takes_only_the_passthrough_list),
		T(the_image_list_holds_in_clean_mode_too),
		T(per_task_variables_are_each_tasks_own),
		T(identity_beats_the_job_and_the_image),
		T(the_shims_own_variables_never_reach_the_command),
		T(the_plans_rules_survive_the_run_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
