/* Node-local unpacked copies of squashfs images: a copy's name follows the
 * file's identity (a rewrite gets another name), and the gc removes old and
 * least recently used copies but never one a sandbox holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/unpacked.h"
#include "util/fsutil.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fixture {
	char tmp[64];
	int fd;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/sbx-unpacked-XXXXXX");
	assert_non_null(mkdtemp(fx->tmp));
	fx->fd = open(fx->tmp, O_RDONLY | O_DIRECTORY);
	assert_true(fx->fd >= 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	close(fx->fd);
	sbx_rmtree_at(AT_FDCWD, fx->tmp);
	free(fx);
	return 0;
}

/* A copy of about kib KiB, last used days ago. */
static void make_copy(struct fixture *fx, const char *name, int kib, int days)
{
	struct timespec ts[2] = { { .tv_sec = time(NULL) - days * 86400 } };
	char buf[1024] = { 1 };
	int dfd, f;

	ts[1] = ts[0];
	assert_int_equal(mkdirat(fx->fd, name, 0755), 0);
	dfd = openat(fx->fd, name, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	f = openat(dfd, "data", O_WRONLY | O_CREAT, 0644);
	assert_true(f >= 0);
	for (int i = 0; i < kib; i++)
		assert_int_equal(write(f, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(f);
	assert_int_equal(futimens(dfd, ts), 0);
	close(dfd);
}

static int exists(struct fixture *fx, const char *name)
{
	return faccessat(fx->fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void test_name_follows_the_file(void **state)
{
	struct fixture *fx = *state;
	char path[128], a[72], b[72], c[72];
	struct timespec keep[2];
	struct stat st;
	int f;

	snprintf(path, sizeof(path), "%s/img.sqfs", fx->tmp);
	f = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(f >= 0);
	assert_int_equal(write(f, "abc", 3), 3);
	assert_int_equal(fstat(f, &st), 0);
	assert_int_equal(sbx_unpacked_name(path, NULL, a), 0);
	assert_int_equal(sbx_unpacked_name(path, NULL, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(a[0], 'f');
	/* Rewritten in place with its mtime put back: the ctime still moves. */
	keep[0] = st.st_atim;
	keep[1] = st.st_mtim;
	usleep(10000);
	assert_int_equal(pwrite(f, "xyz", 3, 0), 3);
	assert_int_equal(futimens(f, keep), 0);
	close(f);
	assert_int_equal(sbx_unpacked_name(path, NULL, c), 0);
	assert_string_not_equal(a, c);
	/* A cache entry is named by its digest, whatever its file. */
	assert_int_equal(sbx_unpacked_name(path, DIGEST, c), 0);
	assert_string_equal(c, "c0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(sbx_unpacked_name(path, "sha256:../../etc", c), -1);
	assert_int_equal(sbx_unpacked_name("/nonexistent/x.sqfs", NULL, c), -1);
}

static void test_gc_age_and_size(void **state)
{
	struct fixture *fx = *state;
	uint64_t freed;

	make_copy(fx, "fold", 64, 30);
	make_copy(fx, "fmid", 64, 2);
	make_copy(fx, "fnew", 64, 1);
	make_copy(fx, "fnewest", 64, 0);
	/* Unused for 30 days: gone at max_age 14; then the oldest until the
	 * rest fit 150 KiB; fnewest is the one just made (keep). */
	assert_int_equal(sbx_unpacked_gc(fx->fd, 150 * 1024, 14, "fnewest", &freed), 0);
	assert_false(exists(fx, "fold"));
	assert_false(exists(fx, "fmid"));
	assert_true(exists(fx, "fnew"));
	assert_true(exists(fx, "fnewest"));
	assert_true(freed >= 128 * 1024);
}

static void test_gc_keeps_a_copy_in_use(void **state)
{
	struct fixture *fx = *state;
	uint64_t freed;
	int hold;

	make_copy(fx, "fused", 16, 30);
	hold = openat(fx->fd, "fused", O_RDONLY | O_DIRECTORY);
	assert_true(hold >= 0);
	assert_int_equal(flock(hold, LOCK_SH), 0);
	assert_int_equal(sbx_unpacked_gc(fx->fd, 1, 1, NULL, &freed), 0);
	assert_true(exists(fx, "fused"));
	close(hold);
	assert_int_equal(sbx_unpacked_gc(fx->fd, 1, 1, NULL, &freed), 0);
	assert_false(exists(fx, "fused"));
}

static void test_gc_removes_dead_unpacks_old_marks_and_stale_locks(void **state)
{
	struct fixture *fx = *state;
	struct timespec old[2] = { { .tv_sec = time(NULL) - 30 * 86400 } };
	char live[64];
	uint64_t freed;
	int f, held;

	old[1] = old[0];
	/* pid 2^22+1 is above pid_max's limit: no such process. */
	make_copy(fx, ".tmp.4194305.fdead", 4, 0);
	snprintf(live, sizeof(live), ".tmp.%ld.flive", (long)getpid());
	make_copy(fx, live, 4, 0);
	f = openat(fx->fd, "fbad.failed", O_WRONLY | O_CREAT, 0600);
	assert_true(f >= 0);
	assert_int_equal(futimens(f, old), 0);
	close(f);
	/* A lock file nobody holds (its unpack killed) and one an unpack holds. */
	f = openat(fx->fd, "fdead.lock", O_WRONLY | O_CREAT, 0600);
	assert_true(f >= 0);
	close(f);
	held = openat(fx->fd, "fbusy.lock", O_RDONLY | O_CREAT, 0600);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);
	assert_int_equal(sbx_unpacked_gc(fx->fd, 0, 14, NULL, &freed), 0);
	assert_false(exists(fx, ".tmp.4194305.fdead"));
	assert_true(exists(fx, live));
	assert_false(exists(fx, "fbad.failed"));
	assert_false(exists(fx, "fdead.lock"));
	assert_true(exists(fx, "fbusy.lock"));
	close(held);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_name_follows_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_age_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_keeps_a_copy_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_removes_dead_unpacks_old_marks_and_stale_locks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
