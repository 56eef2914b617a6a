/* The helper's "ready" record as the launcher reads it (sbx_ready_parse):
 * any process of the job's user can write to the status pipe, so a record
 * the helper would never write is refused whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/types.h>

#include "launch/ready.h"

static void assert_ready(const char *line, pid_t want_pid, const char *want_cgroup)
{
	char cgroup[1024] = "unset";
	pid_t pid = 0;

	if (sbx_ready_parse(line, &pid, cgroup, sizeof(cgroup)) != 0)
		fail_msg("'%s' refused", line);
	assert_int_equal(pid, want_pid);
	assert_string_equal(cgroup, want_cgroup);
}

static void assert_refused(const char *line)
{
	char cgroup[1024] = "unset";
	pid_t pid = 42;

	if (sbx_ready_parse(line, &pid, cgroup, sizeof(cgroup)) != -1)
		fail_msg("'%s' accepted", line);
	assert_int_equal(pid, 42);              /* untouched on error */
	assert_string_equal(cgroup, "unset");
}

static void the_helpers_records_are_read(void **state)
{
	(void)state;
	assert_ready("ready 7 -", 7, "");
	assert_ready("ready 4711 /system.slice/sbx-4711", 4711, "/system.slice/sbx-4711");
}

static void a_cgroup_that_climbs_or_is_relative_is_refused(void **state)
{
	(void)state;
	assert_refused("ready 7 /a/../b");
	assert_refused("ready 7 /..");
	assert_refused("ready 7 //a");
	assert_refused("ready 7 a/b");
}

/* Found by fuzz_status (tests/fuzz/corpus/fuzz_status/control-in-cgroup):
 * sscanf's %s stops at white space only. */
static void a_cgroup_with_a_control_character_is_refused(void **state)
{
	(void)state;
	assert_refused("ready 42 /sbx\001");
	assert_refused("ready 42 /sbx\033[2J");
	assert_refused("ready 42 /sbx\177");
}

static void a_bad_pid_or_trailing_text_is_refused(void **state)
{
	(void)state;
	assert_refused("ready 0 -");
	assert_refused("ready -3 -");
	assert_refused("ready x -");
	assert_refused("ready 7 - more");
	assert_refused("ready 7");
	assert_refused("error sandbox: no");
	assert_refused("");
}

static void a_cgroup_longer_than_the_buffer_is_refused(void **state)
{
	char cgroup[8] = "unset";
	pid_t pid = 42;

	(void)state;
	assert_int_equal(sbx_ready_parse("ready 7 /abcdefgh", &pid, cgroup, sizeof(cgroup)), -1);
	assert_int_equal(sbx_ready_parse("ready 7 /abcdef", &pid, cgroup, sizeof(cgroup)), 0);
	assert_string_equal(cgroup, "/abcdef");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_helpers_records_are_read),
		cmocka_unit_test(a_cgroup_that_climbs_or_is_relative_is_refused),
		cmocka_unit_test(a_cgroup_with_a_control_character_is_refused),
		cmocka_unit_test(a_bad_pid_or_trailing_text_is_refused),
		cmocka_unit_test(a_cgroup_longer_than_the_buffer_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
