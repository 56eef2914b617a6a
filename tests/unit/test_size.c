/* Sizes as an admin writes them in the policy (writable_size, tmp_size).
 * sbx_parse_size() is only the parser: it accepts "0", and the policy
 * refuses a zero size itself (tmpfs would read size=0 as "no limit"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "spec/policy.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)

static void assert_size(const char *s, uint64_t want)
{
	struct sbx_err err = { 0 };
	uint64_t got = 0;

	if (sbx_parse_size(s, &got, &err) != 0)
		fail_msg("'%s' refused: %s", s, err.msg);
	assert_int_equal(got, want);
}

static void assert_bad_size(const char *s)
{
	struct sbx_err err = { 0 };
	uint64_t got = 42;
	char want[256];

	snprintf(want, sizeof(want), "bad size '%s' (use a number with an "
		 "optional K, M, G or T suffix)", s ? s : "");
	if (sbx_parse_size(s, &got, &err) != -1)
		fail_msg("'%s' accepted as %ju", s, (uintmax_t)got);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.errnum, 0);
	assert_int_equal(got, 42);      /* untouched on error */
}

static void plain_numbers_are_bytes(void **state)
{
	(void)state;
	assert_size("4096", 4096);
	assert_size("1", 1);
	assert_size("007", 7);
	assert_size("512B", 512);
	assert_size("18446744073709551615", UINT64_MAX);
}

static void zero_parses_and_is_left_to_the_caller(void **state)
{
	(void)state;
	assert_size("0", 0);
	assert_size("0G", 0);
}

static void units_are_binary(void **state)
{
	(void)state;
	assert_size("64k", 64 * KIB);
	assert_size("64K", 64 * KIB);
	assert_size("512M", 512 * MIB);
	assert_size("2G", 2 * GIB);
	assert_size("1T", TIB);
	assert_size("16777215T", 16777215 * TIB);
}

static void units_may_end_in_b_or_ib(void **state)
{
	(void)state;
	assert_size("1GiB", GIB);
	assert_size("1gib", GIB);
	assert_size("1gb", GIB);
	assert_size("1GB", GIB);
	assert_size("8MiB", 8 * MIB);
	assert_size("3kB", 3 * KIB);
}

static void malformed_sizes_are_refused(void **state)
{
	(void)state;
	assert_bad_size("");
	assert_bad_size(NULL);
	assert_bad_size("-1");
	assert_bad_size("+1");
	assert_bad_size("1.5G");
	assert_bad_size("12X");
	assert_bad_size("G");
	assert_bad_size("GiB");
	assert_bad_size("1iB");
	assert_bad_size("1GBB");
	assert_bad_size("1Gi");
	assert_bad_size("1 G");
	assert_bad_size(" 1G");
	assert_bad_size("1G ");
	assert_bad_size("0x10");
	assert_bad_size("1P");
}

static void sizes_beyond_64_bits_are_refused(void **state)
{
	(void)state;
	assert_bad_size("99999999999999999999");
	assert_bad_size("18446744073709551616");
	assert_bad_size("16777216T");
	assert_bad_size("17179869184G");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_numbers_are_bytes),
		cmocka_unit_test(zero_parses_and_is_left_to_the_caller),
		cmocka_unit_test(units_are_binary),
		cmocka_unit_test(units_may_end_in_b_or_ib),
		cmocka_unit_test(malformed_sizes_are_refused),
		cmocka_unit_test(sizes_beyond_64_bits_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
