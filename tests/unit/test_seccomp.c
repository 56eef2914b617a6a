/* The helper's seccomp filter (helper/seccomp.c), exported as the helper
 * does and loaded in a child as the shim does. make check-valgrind runs it
 * for memcheck's sake too: there the export is all that runs (valgrind has
 * no seccomp(2), and the sandbox passes run with seccomp = no). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../helper/helper.h"

/* The child's exit status when the kernel (or valgrind) has no seccomp(2). */
#define NO_SECCOMP 77

/* PLAN's filter as BPF in a buffer of *len bytes (free it). */
static void *export(const struct sbx_plan *plan, size_t *len)
{
	struct sbx_err err = { 0 };
	int fd = memfd_create("filter", MFD_CLOEXEC);
	off_t size;
	void *bpf;

	assert_true(fd >= 0);
	if (sbx_seccomp_export(plan, fd, &err) < 0)
		fail_msg("export: %s", err.msg);
	size = lseek(fd, 0, SEEK_END);
	assert_true(size > 0 && size % (off_t)sizeof(struct sock_filter) == 0);
	bpf = malloc((size_t)size);
	assert_non_null(bpf);
	assert_int_equal(pread(fd, bpf, (size_t)size, 0), size);
	close(fd);
	*len = (size_t)size;
	return bpf;
}

/* Loads BPF in a child, which then runs CHECK: its status, or NO_SECCOMP. */
static int in_filtered_child(void *bpf, size_t len, int (*check)(void))
{
	struct sock_fprog prog = {
		.len = (unsigned short)(len / sizeof(struct sock_filter)),
		.filter = bpf,
	};
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(2);
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			_exit(errno == ENOSYS ? NO_SECCOMP : 3);
		_exit(check());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The probes pass arguments the kernel itself would refuse differently
 * (EFAULT, EBADF, ENOENT), so each answer is the filter's. */
static int denies_the_listed_and_the_fixed_calls(void)
{
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
		return 10;
	if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
		return 11;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 12;
	if (ioctl(-1, TIOCSTI, "x") != -1 || errno != EPERM)
		return 13;
	/* Only the low 32 bits of the request count (CVE-2019-10063). */
	if (syscall(SYS_ioctl, -1, (0x123UL << 32) | TIOCSTI, "x") != -1 || errno != EPERM)
		return 14;
	if (getppid() <= 0)
		return 15;
	return 0;
}

static int fakes_ownership_changes(void)
{
	if (chown("/nonexistent/file", 0, 0) != 0)
		return 20;
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
		return 21;
	return 0;
}

/* valgrind has no seccomp(2): libseccomp's probe of the kernel then finds
 * API level 1, too low for the filter's KILL_PROCESS; the export itself
 * asks the kernel nothing. */
static void assume_the_kernels_seccomp_api(void)
{
	if (seccomp_api_get() < 3)
		assert_int_equal(seccomp_api_set(3), 0);
}

static void run(struct sbx_plan *plan, int (*check)(void))
{
	size_t len;
	void *bpf;
	int rc;

	assume_the_kernels_seccomp_api();
	bpf = export(plan, &len);
	rc = in_filtered_child(bpf, len, check);
	free(bpf);
	sbx_strv_clear(&plan->seccomp_deny);
	if (rc == NO_SECCOMP)
		skip();
	assert_int_equal(rc, 0);
}

static void the_filter_denies_the_policys_calls_and_namespaces(void **state)
{
	struct sbx_plan plan = { .seccomp = 1 };

	(void)state;
	assert_int_equal(sbx_strv_push_list(&plan.seccomp_deny, "keyctl unshare"), 0);
	run(&plan, denies_the_listed_and_the_fixed_calls);
}

static void remap_root_on_a_writable_root_fakes_chown(void **state)
{
	struct sbx_plan plan = { .seccomp = 1, .remap_root = 1, .writable = 1 };

	(void)state;
	assert_int_equal(sbx_strv_push_list(&plan.seccomp_deny, "keyctl"), 0);
	run(&plan, fakes_ownership_changes);
}

static void an_unknown_name_is_refused_by_name(void **state)
{
	struct sbx_plan plan = { .seccomp = 1 };
	struct sbx_err err = { 0 };
	int fd = memfd_create("filter", MFD_CLOEXEC);

	(void)state;
	assume_the_kernels_seccomp_api();
	assert_true(fd >= 0);
	assert_int_equal(sbx_strv_push_list(&plan.seccomp_deny, "frobnicate"), 0);
	assert_int_equal(sbx_seccomp_export(&plan, fd, &err), -1);
	assert_non_null(strstr(err.msg, "'frobnicate'"));
	close(fd);
	sbx_strv_clear(&plan.seccomp_deny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_filter_denies_the_policys_calls_and_namespaces),
		cmocka_unit_test(remap_root_on_a_writable_root_fakes_chown),
		cmocka_unit_test(an_unknown_name_is_refused_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
