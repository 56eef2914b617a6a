/* The seccomp filters compiled at build time (helper/gen/seccomp-bpf.c)
 * against what the helper's compiler makes now: a sandbox under the default
 * policy must get exactly the filter libseccomp would build, and a site's
 * own list must still be compiled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../helper/helper.h"

struct filter {
	unsigned char data[65536];
	ssize_t len;
};

static void export(const struct sbx_plan *plan, int compile, struct filter *f)
{
	struct sbx_err err = { 0 };
	int fd = memfd_create("filter", MFD_CLOEXEC);

	assert_true(fd >= 0);
	if ((compile ? sbx_seccomp_compile(plan, fd, &err) : sbx_seccomp_export(plan, fd, &err)) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	f->len = read(fd, f->data, sizeof(f->data));
	close(fd);
	assert_true(f->len > 0 && (size_t)f->len < sizeof(f->data));
}

static void default_plan(struct sbx_plan *plan, int fake_root)
{
	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; sbx_seccomp_default_deny[i]; i++)
		assert_int_equal(sbx_strv_push(&plan->seccomp_deny, sbx_seccomp_default_deny[i]), 0);
	plan->remap_root = fake_root;
	plan->writable = fake_root;
}

static void same(const struct filter *a, const struct filter *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, (size_t)a->len);
}

static void the_default_filters_are_what_libseccomp_compiles(void **state)
{
	static struct filter pre, now;
	struct sbx_plan plan;

	(void)state;
	for (int fake_root = 0; fake_root < 2; fake_root++) {
		default_plan(&plan, fake_root);
		export(&plan, 0, &pre);
		export(&plan, 1, &now);
		same(&pre, &now);
		sbx_strv_clear(&plan.seccomp_deny);
	}
}

static void a_sites_own_list_is_compiled(void **state)
{
	static struct filter def, pre, now;
	struct sbx_plan plan;

	(void)state;
	default_plan(&plan, 0);
	export(&plan, 0, &def);
	/* seccomp_deny = socket: one name more than the built-in list. */
	assert_int_equal(sbx_strv_push(&plan.seccomp_deny, "socket"), 0);
	export(&plan, 0, &pre);
	export(&plan, 1, &now);
	same(&pre, &now);
	assert_true(pre.len != def.len || memcmp(pre.data, def.data, (size_t)def.len) != 0);
	sbx_strv_clear(&plan.seccomp_deny);
}

int main(void)
{
	/* Under valgrind (no seccomp(2)) libseccomp's probe of the kernel finds
	 * API level 1 and would compile another filter than the build did. */
	if (seccomp_api_get() < 3 && seccomp_api_set(3) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_default_filters_are_what_libseccomp_compiles),
		cmocka_unit_test(a_sites_own_list_is_compiled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
