/* What a task hands its shim (sbx_task_wrap): for a deferred start, the
 * helper's record and the gate, named in the environment and kept open
 * across the exec; for a sandbox that is ready, neither. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch/launch.h"

struct env {
	char names[8][64];
	char values[8][128];
	int n;
};

static int record(void *ctx, const char *name, const char *value)
{
	struct env *e = ctx;

	if (e->n == 8)
		return -1;
	snprintf(e->names[e->n], sizeof(e->names[0]), "%s", name);
	snprintf(e->values[e->n], sizeof(e->values[0]), "%s", value);
	e->n++;
	return 0;
}

static const char *value(const struct env *e, const char *name)
{
	for (int i = 0; i < e->n; i++)
		if (strcmp(e->names[i], name) == 0)
			return e->values[i];
	return NULL;
}

static void wrap(const struct sbx_sandbox *sb, struct env *e)
{
	struct sbx_launch_opts opts = SBX_LAUNCH_OPTS_INIT;
	struct sbx_err err = { 0 };
	char *argv[] = { "true", NULL };

	opts.helper_path = "/usr/libexec/sandbox-helper";
	memset(e, 0, sizeof(*e));
	assert_int_equal(sbx_task_wrap(&opts, sb, NULL, argv, record, e, &err), 0);
	assert_string_equal(argv[0], "/usr/libexec/sandbox-exec");
	free(argv[0]);
}

static void assert_kept_open(int fd)
{
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

static void the_starting_task_reads_the_record_and_opens_the_gate(void **state)
{
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	int status[2], progress[2], gate[2];
	char want[64];
	struct env e;

	(void)state;
	assert_int_equal(pipe2(status, O_CLOEXEC), 0);
	assert_int_equal(pipe2(progress, O_CLOEXEC), 0);
	assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
	sb.helper_pid = 4242;
	sb.status_fd = status[0];
	sb.progress_fd = progress[0];
	sb.gate_fd = gate[1];
	sb.gate_tokens = 7;
	wrap(&sb, &e);
	snprintf(want, sizeof(want), "%d %d %d 7", status[0], progress[0], gate[1]);
	assert_string_equal(value(&e, SBX_ENV_READY), want);
	assert_null(value(&e, SBX_ENV_GATE));
	assert_string_equal(value(&e, SBX_ENV_JOIN), "4242");
	assert_kept_open(status[0]);
	assert_kept_open(progress[0]);
	assert_kept_open(gate[1]);
	/* The ends the shim does not get stay close-on-exec. */
	assert_int_not_equal(fcntl(status[1], F_GETFD) & FD_CLOEXEC, 0);
	assert_int_not_equal(fcntl(gate[0], F_GETFD) & FD_CLOEXEC, 0);
	for (int i = 0; i < 2; i++) {
		close(status[i]);
		close(progress[i]);
		close(gate[i]);
	}
}

static void a_single_task_gets_no_tokens_to_write(void **state)
{
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	int status[2], progress[2];
	char want[64];
	struct env e;

	(void)state;
	assert_int_equal(pipe2(status, O_CLOEXEC), 0);
	assert_int_equal(pipe2(progress, O_CLOEXEC), 0);
	sb.helper_pid = 7;
	sb.status_fd = status[0];
	sb.progress_fd = progress[0];
	sb.gate_tokens = 3;     /* no gate: nothing to write to */
	wrap(&sb, &e);
	snprintf(want, sizeof(want), "%d %d -1 0", status[0], progress[0]);
	assert_string_equal(value(&e, SBX_ENV_READY), want);
	for (int i = 0; i < 2; i++) {
		close(status[i]);
		close(progress[i]);
	}
}

static void the_other_tasks_wait_at_the_gate(void **state)
{
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	int gate[2];
	char want[16];
	struct env e;

	(void)state;
	assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
	sb.helper_pid = 4242;
	sb.gate_fd = gate[0];
	wrap(&sb, &e);
	snprintf(want, sizeof(want), "%d", gate[0]);
	assert_string_equal(value(&e, SBX_ENV_GATE), want);
	assert_null(value(&e, SBX_ENV_READY));
	assert_kept_open(gate[0]);
	close(gate[0]);
	close(gate[1]);
}

static void a_ready_sandbox_needs_no_wait(void **state)
{
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	struct env e;

	(void)state;
	sb.helper_pid = 99;
	wrap(&sb, &e);
	assert_null(value(&e, SBX_ENV_READY));
	assert_null(value(&e, SBX_ENV_GATE));
	assert_string_equal(value(&e, SBX_ENV_JOIN), "99");
	assert_string_equal(value(&e, SBX_ENV_ARGV0), "true");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_starting_task_reads_the_record_and_opens_the_gate),
		cmocka_unit_test(a_single_task_gets_no_tokens_to_write),
		cmocka_unit_test(the_other_tasks_wait_at_the_gate),
		cmocka_unit_test(a_ready_sandbox_needs_no_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
