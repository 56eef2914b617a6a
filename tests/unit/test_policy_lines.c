/* Where each setting of the site policy comes from (FILE:LINE per key), and
 * `policy check`: every problem of a file, each with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/policy.h"

struct fixture {
	char path[64];
	struct sbx_policy pol;
	struct sbx_strv problems;
	struct sbx_err err;
	char want[256];
	char buf[256];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->path[0])
		unlink(fx->path);
	sbx_policy_free(&fx->pol);
	sbx_strv_clear(&fx->problems);
	free(fx);
	return 0;
}

static const char *write_conf(struct fixture *fx, const char *text)
{
	size_t len = strlen(text);
	int fd;

	strcpy(fx->path, "/tmp/sbx-lines-XXXXXX");
	fd = mkstemp(fx->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return fx->path;
}

static void load(struct fixture *fx, const char *text)
{
	assert_int_equal(sbx_policy_load(&fx->pol, write_conf(fx, text), 1, &fx->err), 0);
}

static void assert_origin(struct fixture *fx, const char *key, int line, const char *via)
{
	const char *got = sbx_policy_origin(&fx->pol, key, fx->buf, sizeof(fx->buf));

	if (line && strcmp(key, via) != 0)
		snprintf(fx->want, sizeof(fx->want), "%s:%d, as %s", fx->path, line, via);
	else if (line)
		snprintf(fx->want, sizeof(fx->want), "%s:%d", fx->path, line);
	else
		snprintf(fx->want, sizeof(fx->want), "the built-in default");
	assert_non_null(got);
	assert_string_equal(got, fx->want);
}

static void each_key_names_the_line_that_set_it(void **state)
{
	struct fixture *fx = *state;

	load(fx, "; site policy\n"
		 "[namespaces]\n"
		 "allow_net_host = no\n"
		 "\n"
		 "[rootfs]\n"
		 "writable = yes\n"
		 "writable = no\n");
	assert_origin(fx, "namespaces.allow_net_host", 3, "namespaces.allow_net_host");
	/* Given twice: the last one decides, as it does for the value. */
	assert_origin(fx, "rootfs.writable", 7, "rootfs.writable");
	assert_false(fx->pol.writable);
}

static void a_key_not_in_the_file_comes_from_the_built_in_default(void **state)
{
	struct fixture *fx = *state;

	load(fx, "[rootfs]\nwritable = yes\n");
	assert_origin(fx, "security.seccomp", 0, NULL);
	assert_null(sbx_policy_origin(&fx->pol, "security.no_such_key", fx->buf, sizeof(fx->buf)));
	assert_null(sbx_policy_origin(&fx->pol, "security", fx->buf, sizeof(fx->buf)));
}

static void net_sets_both_front_ends_and_says_so(void **state)
{
	struct fixture *fx = *state;

	load(fx, "[namespaces]\nnet = none\nslurm_net = host\n");
	assert_origin(fx, "namespaces.sandbox_run_net", 2, "namespaces.net");
	assert_origin(fx, "namespaces.slurm_net", 3, "namespaces.slurm_net");
}

static void a_list_continued_on_indented_lines_keeps_its_first_line(void **state)
{
	struct fixture *fx = *state;

	load(fx, "[security]\n"
		 "seccomp_deny = ptrace\n"
		 "  process_vm_readv\n"
		 "  process_vm_writev\n");
	assert_origin(fx, "security.seccomp_deny", 2, "security.seccomp_deny");
	assert_int_equal(fx->pol.seccomp_deny.n, 3);
}

static void assert_problem(struct fixture *fx, size_t i, int line, const char *what)
{
	char prefix[96];

	assert_true(i < fx->problems.n);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", fx->path, line);
	assert_memory_equal(fx->problems.v[i], prefix, strlen(prefix));
	if (!strstr(fx->problems.v[i], what))
		fail_msg("problem %zu: '%s' lacks '%s'", i, fx->problems.v[i], what);
}

static void check_reports_every_problem_with_its_line(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_conf(fx,
		"[rootfs]\n"
		"writable = maybe\n"             /* 2: bad value */
		"this line has no equals sign\n" /* 3: syntax */
		"[securty]\n"                    /* 4: unknown section */
		"seccomp = no\n"                 /* 5: in it: reported once, above */
		"[security]\n"
		"capabilities = CAP_NOPE\n"      /* 7: unknown capability */
		"colour = blue\n"                /* 8: unknown key */
		"seccomp = off\n");              /* fine */

	assert_int_equal(sbx_policy_check_file(path, &fx->problems, &fx->err), 5);
	assert_problem(fx, 0, 2, "bad value 'maybe' for rootfs.writable");
	assert_problem(fx, 1, 3, "syntax error");
	assert_problem(fx, 2, 4, "unknown section [securty]");
	assert_problem(fx, 3, 7, "unknown capability 'CAP_NOPE'");
	assert_problem(fx, 4, 8, "unknown key 'colour' in [security]");
}

static void check_of_a_good_file_finds_nothing(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_conf(fx, "[namespaces]\nallow_net_host = no\n"
					  "[security]\nseccomp_deny = ptrace\n  kcmp\n");

	assert_int_equal(sbx_policy_check_file(path, &fx->problems, &fx->err), 0);
	assert_int_equal(fx->problems.n, 0);
}

static void check_agrees_with_the_loader_on_the_first_problem(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_conf(fx, "[mounts]\nallowed_sources = relative/dir\n"
					  "[cgroups]\nmax_cpus = lots\n");
	struct sbx_policy pol = { 0 };

	assert_int_equal(sbx_policy_check_file(path, &fx->problems, &fx->err), 2);
	assert_int_equal(sbx_policy_load(&pol, path, 1, &fx->err), -1);
	assert_true(strncmp(fx->err.msg, fx->problems.v[0], strlen(fx->problems.v[0])) == 0);
	sbx_policy_free(&pol);
}

static void check_of_a_missing_file_is_an_error(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_policy_check_file("/nonexistent/sandbox.conf", &fx->problems, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "/nonexistent/sandbox.conf"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(each_key_names_the_line_that_set_it),
		T(a_key_not_in_the_file_comes_from_the_built_in_default),
		T(net_sets_both_front_ends_and_says_so),
		T(a_list_continued_on_indented_lines_keeps_its_first_line),
		T(check_reports_every_problem_with_its_line),
		T(check_of_a_good_file_finds_nothing),
		T(check_agrees_with_the_loader_on_the_first_problem),
		T(check_of_a_missing_file_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
