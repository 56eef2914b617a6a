/* The policy's table of system call names (lib/spec/syscalls.c) against the
 * installed libseccomp, which the helper uses to build the filter: a name
 * one knows and the other does not fails here, named, instead of passing
 * the policy check in srun and failing on the node (or the reverse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "spec/syscalls.h"

static void the_table_is_sorted_and_unique(void **state)
{
	(void)state;
	for (size_t i = 1; i < sbx_syscall_count; i++)
		if (strcmp(sbx_syscall_names[i - 1], sbx_syscall_names[i]) >= 0)
			fail_msg("lib/spec/syscalls.c: '%s' before '%s'", sbx_syscall_names[i - 1],
				 sbx_syscall_names[i]);
}

static void libseccomp_knows_every_name_of_the_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sbx_syscall_count; i++)
		if (seccomp_syscall_resolve_name(sbx_syscall_names[i]) == __NR_SCMP_ERROR)
			fail_msg("libseccomp does not know '%s' (remove it from lib/spec/syscalls.c)",
				 sbx_syscall_names[i]);
}

/* Every number of every architecture libseccomp supports: the x32 range
 * and ARM's private calls lie above the common one (MIPS' go to 6999). */
static void the_table_has_every_name_libseccomp_knows(void **state)
{
	static const char *const arches[] = {
		"x86", "x86_64", "x32", "arm", "aarch64", "loongarch64", "m68k", "mips", "mipsel",
		"mips64", "mipsel64", "mips64n32", "mipsel64n32", "parisc", "parisc64", "ppc", "ppc64",
		"ppc64le", "riscv64", "s390", "s390x", "sh", "sheb", NULL,
	};
	static const struct {
		int lo, hi;
	} ranges[] = { { 0, 8000 }, { 0x40000000, 0x40000000 + 1024 }, { 0xf0000, 0xf0020 } };

	(void)state;
	for (size_t a = 0; arches[a]; a++) {
		uint32_t arch = seccomp_arch_resolve_name(arches[a]);

		if (!arch)
			continue;
		for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
			for (int nr = ranges[r].lo; nr < ranges[r].hi; nr++) {
				char *name = seccomp_syscall_resolve_num_arch(arch, nr);
				int known;

				if (!name)
					continue;
				known = sbx_syscall_known(name);
				if (!known)
					fail_msg("libseccomp knows '%s' (%s): add it to lib/spec/syscalls.c",
						 name, arches[a]);
				free(name);
			}
		}
	}
}

static void unknown_names_are_unknown(void **state)
{
	(void)state;
	assert_true(sbx_syscall_known("ptrace"));
	assert_true(sbx_syscall_known("vm86"));
	assert_false(sbx_syscall_known("frobnicate"));
	assert_false(sbx_syscall_known(""));
	assert_false(sbx_syscall_known("PTRACE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_table_is_sorted_and_unique),
		cmocka_unit_test(libseccomp_knows_every_name_of_the_table),
		cmocka_unit_test(the_table_has_every_name_libseccomp_knows),
		cmocka_unit_test(unknown_names_are_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
