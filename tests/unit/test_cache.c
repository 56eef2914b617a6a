/* The image cache: where it lives and whom it refuses, one import of an
 * image at a time however many steps ask for it, crashes redone, and gc
 * that never removes an image a sandbox is using. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image/cache.h"

#define OTHER_UID 4242
#define REF "docker://example.org/app:1"

struct fixture {
	struct sbx_policy pol;  /* defaults, cache_dir = <tmp>/site (mode 1777) */
	struct sbx_cache c;
	struct sbx_err err;
	char tmp[256];          /* a fresh directory, removed by teardown */
	char site[300];
};

static char *at_tmp(struct fixture *fx, const char *rel)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", fx->tmp, rel);
	return b;
}

static char *at_root(struct fixture *fx, const char *fmt, const char *arg)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 4];
	int n = snprintf(b, PATH_MAX, "%s/", fx->c.root);

	snprintf(b + n, PATH_MAX - (size_t)n, fmt, arg);
	return b;
}

static void key_of(char key[72], unsigned seed)
{
	snprintf(key, 72, "sha256:%064x", seed);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmpdir = getenv("TMPDIR");

	if (!fx || sbx_policy_init_defaults(&fx->pol, &fx->err) < 0)
		return -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "%s/sbx-cache-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(fx->tmp))
		return -1;
	snprintf(fx->site, sizeof(fx->site), "%s/site", fx->tmp);
	if (mkdir(fx->site, 0755) < 0 || chmod(fx->site, 01777) < 0)
		return -1;
	fx->pol.cache_dir = strdup(fx->site);
	fx->pol.cache_wait = 10;
	fx->c.root_fd = -1;
	*state = fx;
	return fx->pol.cache_dir ? 0 : -1;
}

/* Cache setup for the tests that start from an open cache. */
static int setup_open(void **state)
{
	struct fixture *fx;

	if (setup(state) < 0)
		return -1;
	fx = *state;
	return sbx_cache_open(&fx->pol, &fx->c, &fx->err);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		chmod(path, 0700);
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc = nftw(fx->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	sbx_cache_close(&fx->c);
	sbx_policy_free(&fx->pol);
	free(fx);
	return rc;
}

/* A squashfs as far as the cache can tell: magic, and bytes_used (the
 * superblock's u64 at offset 40) no larger than the file. */
static int fake_import(const char *dir, uint64_t len, int write_config)
{
	unsigned char sb[96] = "hsqs";
	char path[PATH_MAX];
	int fd, rc = -1;

	for (int i = 0; i < 8; i++)
		sb[40 + i] = (unsigned char)(len >> (8 * i));
	snprintf(path, sizeof(path), "%s/image.sqfs", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	/* Allocated, not sparse: the cache counts allocated bytes. */
	if (write(fd, sb, sizeof(sb)) == (ssize_t)sizeof(sb) && posix_fallocate(fd, 0, (off_t)len) == 0)
		rc = 0;
	close(fd);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (rc == 0 && write_config) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		rc = fd >= 0 && write(fd, "{}", 2) == 2 ? 0 : -1;
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

/* Acquire, import and publish one image; the entry is released. */
static void add_image(struct fixture *fx, const char *key, uint64_t len)
{
	struct sbx_cache_entry e = SBX_CACHE_ENTRY_INIT;

	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 0);
	assert_int_equal(fake_import(e.tmp, len, 1), 0);
	assert_int_equal(sbx_cache_publish(&fx->c, &e, REF, &fx->err), 0);
	sbx_cache_release(&e);
}

static void set_used(struct fixture *fx, const char *key, time_t when)
{
	struct timespec ts[2] = { { .tv_sec = when }, { .tv_sec = when } };

	assert_int_equal(utimensat(AT_FDCWD, at_root(fx, "images/%s/used", key + 7), ts, 0), 0);
}

static void open_creates_a_private_dir_per_user(void **state)
{
	struct fixture *fx = *state;
	char want[PATH_MAX];
	struct stat st;

	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), 0);
	snprintf(want, sizeof(want), "%s/%u", fx->site, (unsigned)geteuid());
	assert_string_equal(fx->c.root, want);
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	assert_true(exists(at_root(fx, "%s", "images")));
	assert_int_equal(fx->c.max_size, fx->pol.cache_max_size);
	assert_int_equal(fx->c.wait, 10);
	/* Opening again finds the same cache. */
	sbx_cache_close(&fx->c);
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), 0);
}

static void without_cache_dir_the_cache_is_under_home(void **state)
{
	struct fixture *fx = *state;
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char want[PATH_MAX];
	struct stat st;

	free(fx->pol.cache_dir);
	fx->pol.cache_dir = NULL;
	setenv("HOME", at_tmp(fx, "home"), 1);
	unsetenv("XDG_CACHE_HOME");
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), 0);
	snprintf(want, sizeof(want), "%s/home/.cache/slurm-sandbox", fx->tmp);
	assert_string_equal(fx->c.root, want);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	sbx_cache_close(&fx->c);

	setenv("XDG_CACHE_HOME", at_tmp(fx, "xdg"), 1);
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), 0);
	snprintf(want, sizeof(want), "%s/xdg/slurm-sandbox", fx->tmp);
	assert_string_equal(fx->c.root, want);
	unsetenv("XDG_CACHE_HOME");
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

static void a_user_dir_others_can_enter_is_refused(void **state)
{
	struct fixture *fx = *state;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%u", fx->site, (unsigned)geteuid());
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "mode 0750 lets other users in (run chmod 700 on it)"));
	assert_non_null(strstr(fx->err.msg, dir));
	assert_int_equal(fx->c.root_fd, -1);
}

static void a_shared_dir_without_sticky_bit_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(chmod(fx->site, 0777), 0);
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "writable by others without the sticky bit"));
	assert_null(strchr(fx->err.msg, '\n'));
}

static void a_missing_cache_dir_is_made_by_root_only(void **state)
{
	struct fixture *fx = *state;
	char want[PATH_MAX];
	struct stat st;

	free(fx->pol.cache_dir);
	fx->pol.cache_dir = strdup(at_tmp(fx, "absent/cache"));
	if (geteuid() == 0) {
		assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), 0);
		assert_int_equal(stat(fx->pol.cache_dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 01777);
		return;
	}
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), -1);
	snprintf(want, sizeof(want), "image cache '%s': missing (an admin creates it, root-owned, "
		 "mode 1777; or set images.cache_dir)", fx->pol.cache_dir);
	assert_string_equal(fx->err.msg, want);
}

static void dirs_owned_by_another_user_are_refused(void **state)
{
	struct fixture *fx = *state;
	char dir[PATH_MAX];

	if (geteuid() != 0)
		skip();
	/* Another user's shared dir, even a sticky one. */
	assert_int_equal(chown(fx->site, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "owned by uid 4242, another user"));
	/* Someone else's dir planted at our per-user path. */
	assert_int_equal(chown(fx->site, 0, 0), 0);
	snprintf(dir, sizeof(dir), "%s/%u", fx->site, (unsigned)geteuid());
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chown(dir, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(sbx_cache_open(&fx->pol, &fx->c, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "owned by uid 4242, not you"));
}

static void acquire_on_an_empty_cache_gives_a_fresh_tmp_dir(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72];
	struct stat st;

	key_of(key, 1);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 0);
	assert_non_null(e.tmp);
	assert_null(e.dir);
	assert_true(e.lock_fd >= 0);
	assert_int_equal(stat(e.tmp, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_nlink, 2);
	assert_string_equal(e.hex, key + 7);
	/* Released unpublished: the half import goes. */
	char *tmp = strdup(e.tmp);

	sbx_cache_release(&e);
	sbx_cache_release(&e);
	assert_false(exists(tmp));
	free(tmp);
}

static void a_bad_key_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;

	assert_int_equal(sbx_cache_acquire(&fx->c, "sha256:ABC", REF, 1, &e, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "bad cache key 'sha256:ABC'"));
	sbx_cache_release(&e);
}

static void a_published_image_is_found(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72], buf[128] = "";
	FILE *f;

	key_of(key, 2);
	add_image(fx, key, 8192);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 1);
	assert_string_equal(e.dir, at_root(fx, "images/%s", key + 7));
	assert_null(e.tmp);
	assert_true(exists(at_root(fx, "images/%s/used", key + 7)));
	f = fopen(at_root(fx, "images/%s/source", key + 7), "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, REF "\n");
	sbx_cache_release(&e);
}

static void publish_refuses_what_is_not_a_whole_squashfs(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72], path[PATH_MAX];
	int fd;

	key_of(key, 3);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 0);
	snprintf(path, sizeof(path), "%s/image.sqfs", e.tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a squashfs, just text, long enough to hold a superblock....", 63), 63);
	close(fd);
	assert_int_equal(sbx_cache_publish(&fx->c, &e, REF, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "image.sqfs is not a squashfs"));
	/* A squashfs without config.json. */
	assert_int_equal(fake_import(e.tmp, 4096, 0), 0);
	assert_int_equal(sbx_cache_publish(&fx->c, &e, REF, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "config.json is missing"));
	sbx_cache_release(&e);
	assert_false(exists(at_root(fx, "images/%s", key + 7)));
}

static void a_truncated_entry_is_removed_and_imported_again(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72];

	key_of(key, 4);
	add_image(fx, key, 65536);
	assert_int_equal(truncate(at_root(fx, "images/%s/image.sqfs", key + 7), 1000), 0);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 0);
	assert_false(exists(at_root(fx, "images/%s", key + 7)));
	assert_int_equal(fake_import(e.tmp, 65536, 1), 0);
	assert_int_equal(sbx_cache_publish(&fx->c, &e, REF, &fx->err), 0);
	sbx_cache_release(&e);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 1);
	sbx_cache_release(&e);
}

static void a_dead_importers_tmp_dir_is_removed(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72], name[128], other[128];

	key_of(key, 5);
	snprintf(name, sizeof(name), "tmp/%s.deadhost.99999", key + 7);
	snprintf(other, sizeof(other), "tmp/%064x.deadhost.99999", 6u);
	assert_int_equal(mkdir(at_root(fx, "%s", name), 0700), 0);
	assert_int_equal(mkdir(at_root(fx, "%s", other), 0700), 0);
	/* A half-unpacked layer with a read-only directory in it. */
	assert_int_equal(mkdir(at_root(fx, "%s/layer", name), 0700), 0);
	assert_int_equal(fake_import(at_root(fx, "%s/layer", name), 4096, 1), 0);
	assert_int_equal(chmod(at_root(fx, "%s/layer", name), 0500), 0);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 0);
	assert_false(exists(at_root(fx, "%s", name)));
	assert_true(exists(at_root(fx, "%s", other)));   /* another image's: not this lock's */
	sbx_cache_release(&e);
}

/* One child of the concurrency test: acquire; import if first. */
static void racer(struct fixture *fx, const char *key, int go)
{
	struct sbx_cache_entry e;
	char b, counter[PATH_MAX];
	int r, fd;

	if (read(go, &b, 1) < 0)
		_exit(3);
	r = sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err);
	if (r == 0) {
		nanosleep(&(struct timespec){ .tv_nsec = 300 * 1000000L }, NULL);
		if (fake_import(e.tmp, 1 << 20, 1) < 0 ||
		    sbx_cache_publish(&fx->c, &e, REF, &fx->err) < 0)
			_exit(2);
		snprintf(counter, sizeof(counter), "%s/imports", fx->tmp);
		fd = open(counter, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd < 0 || write(fd, "x", 1) != 1)
			_exit(2);
		close(fd);
	}
	if (r < 0 || !e.dir || access(e.dir, R_OK) < 0) {
		fprintf(stderr, "racer: %d %s\n", r, fx->err.msg);
		_exit(1);
	}
	sbx_cache_release(&e);
	_exit(0);
}

static void sixteen_steps_asking_at_once_import_once(void **state)
{
	struct fixture *fx = *state;
	int go[2], ok = 0, status;
	char key[72];
	struct stat st;
	pid_t pid;

	key_of(key, 7);
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < 16; i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(go[1]);
			racer(fx, key, go[0]);
		}
	}
	close(go[0]);
	close(go[1]);   /* every child's read returns now */
	while ((pid = wait(&status)) > 0)
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	assert_int_equal(ok, 16);
	assert_int_equal(stat(at_tmp(fx, "imports"), &st), 0);
	assert_int_equal(st.st_size, 1);
}

/* A child that starts an import, says so on the pipe, and waits to die. */
static pid_t start_importer(struct fixture *fx, const char *key, char tmp[PATH_MAX])
{
	struct sbx_cache_entry e;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err) != 0 ||
		    fake_import(e.tmp, 1 << 20, 0) < 0 ||
		    write(p[1], e.tmp, strlen(e.tmp) + 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	memset(tmp, 0, PATH_MAX);
	assert_true(read(p[0], tmp, PATH_MAX - 1) > 0);
	close(p[0]);
	return pid;
}

static void a_killed_import_is_redone(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72], dead_tmp[PATH_MAX];
	pid_t pid;

	key_of(key, 8);
	pid = start_importer(fx, key, dead_tmp);
	assert_true(exists(dead_tmp));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(sbx_cache_acquire(&fx->c, key, REF, 1, &e, &fx->err), 0);
	assert_false(exists(dead_tmp));
	assert_int_equal(fake_import(e.tmp, 1 << 20, 1), 0);
	assert_int_equal(sbx_cache_publish(&fx->c, &e, REF, &fx->err), 0);
	sbx_cache_release(&e);
}

static void a_waiter_gives_up_after_cache_wait(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	char key[72], tmp[PATH_MAX], want[128], said[512] = "";
	int saved = dup(2), fd;
	time_t t0 = time(NULL);
	pid_t pid;
	int r;

	key_of(key, 9);
	pid = start_importer(fx, key, tmp);
	fx->c.wait = 1;
	fd = open(at_tmp(fx, "stderr"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	r = sbx_cache_acquire(&fx->c, key, REF, 0, &e, &fx->err);
	dup2(saved, 2);
	close(saved);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(r, -1);
	assert_true(time(NULL) - t0 >= 1);
	snprintf(want, sizeof(want), "s (pid %ld on ", (long)pid);
	assert_non_null(strstr(fx->err.msg, "image " REF ": another import has held the cache lock for "));
	assert_non_null(strstr(fx->err.msg, want));
	assert_non_null(strstr(fx->err.msg, "; try again later, or an admin raises images.cache_wait"));
	assert_true(pread(fd, said, sizeof(said) - 1, 0) > 0);
	close(fd);
	assert_non_null(strstr(said, "sandbox: waiting for another import of " REF " (started "));
	assert_non_null(strstr(said, " s ago)\n"));
	assert_null(strchr(strchr(said, '\n') + 1, '\n'));   /* one line */
	sbx_cache_release(&e);
}

static void gc_skips_an_image_in_use(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_entry e;
	struct sbx_cache_item *items;
	char a[72], b[72], c[72];
	uint64_t freed = 0;
	size_t removed = 0, n;

	key_of(a, 10);
	key_of(b, 11);
	key_of(c, 12);
	add_image(fx, a, 1 << 16);
	add_image(fx, b, 1 << 16);
	add_image(fx, c, 1 << 16);
	assert_int_equal(sbx_cache_acquire(&fx->c, b, REF, 1, &e, &fx->err), 1);
	assert_int_equal(sbx_cache_list(&fx->c, &items, &n, &fx->err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(items[i].in_use, strcmp(items[i].hex, b + 7) == 0);
		assert_string_equal(items[i].source, REF);
		assert_true(items[i].size >= 1 << 16);
	}
	sbx_cache_items_free(items, n);
	assert_int_equal(sbx_cache_gc(&fx->c, 1, 0, &freed, &removed, &fx->err), 0);
	assert_int_equal(removed, 2);
	assert_true(freed >= 2 << 16);
	assert_true(exists(e.dir));
	assert_false(exists(at_root(fx, "images/%s", a + 7)));
	assert_false(exists(at_root(fx, "locks/%s", a + 7)));
	/* rm refuses it too. */
	assert_int_equal(sbx_cache_remove(&fx->c, b + 7, &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "is in use"));
	sbx_cache_release(&e);
	assert_int_equal(sbx_cache_remove(&fx->c, b + 7, &fx->err), 0);
	assert_false(exists(at_root(fx, "images/%s", b + 7)));
}

static void gc_removes_least_recently_used_first(void **state)
{
	struct fixture *fx = *state;
	struct sbx_cache_item *items;
	char a[72], b[72], c[72];
	time_t now = time(NULL);
	uint64_t total = 0, freed;
	size_t removed, n;

	key_of(a, 20);
	key_of(b, 21);
	key_of(c, 22);
	add_image(fx, a, 1 << 16);
	add_image(fx, b, 1 << 16);
	add_image(fx, c, 1 << 16);
	set_used(fx, b, now - 30 * 86400);   /* least recently used */
	set_used(fx, a, now - 20 * 86400);
	set_used(fx, c, now - 3600);
	assert_int_equal(sbx_cache_list(&fx->c, &items, &n, &fx->err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].hex, c + 7);
	assert_string_equal(items[2].hex, b + 7);
	for (size_t i = 0; i < n; i++)
		total += items[i].size;
	sbx_cache_items_free(items, n);
	/* Just over the cap: only the least recently used goes. */
	assert_int_equal(sbx_cache_gc(&fx->c, total - 1, 0, &freed, &removed, &fx->err), 0);
	assert_int_equal(removed, 1);
	assert_false(exists(at_root(fx, "images/%s", b + 7)));
	assert_true(exists(at_root(fx, "images/%s", a + 7)));
	/* The age rule: unused for over 10 days. */
	assert_int_equal(sbx_cache_gc(&fx->c, 0, 10 * 86400, &freed, &removed, &fx->err), 0);
	assert_int_equal(removed, 1);
	assert_false(exists(at_root(fx, "images/%s", a + 7)));
	assert_true(exists(at_root(fx, "images/%s", c + 7)));
}

static void publish_cuts_the_cache_back_to_its_cap(void **state)
{
	struct fixture *fx = *state;
	char a[72], b[72];

	key_of(a, 30);
	key_of(b, 31);
	add_image(fx, a, 1 << 20);
	set_used(fx, a, time(NULL) - 60);
	fx->c.max_size = (1 << 20) + (1 << 19);
	add_image(fx, b, 1 << 20);
	assert_false(exists(at_root(fx, "images/%s", a + 7)));
	assert_true(exists(at_root(fx, "images/%s", b + 7)));
}

static void gc_removes_stale_imports_and_orphan_locks(void **state)
{
	struct fixture *fx = *state;
	char stale[128], orphan[128];
	int fd;

	snprintf(stale, sizeof(stale), "tmp/%064x.node7.4242", 40u);
	snprintf(orphan, sizeof(orphan), "locks/%064x", 41u);
	assert_int_equal(mkdir(at_root(fx, "%s", stale), 0700), 0);
	fd = open(at_root(fx, "%s", orphan), O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sbx_cache_gc(&fx->c, 0, 0, NULL, NULL, &fx->err), 0);
	assert_false(exists(at_root(fx, "%s", stale)));
	assert_false(exists(at_root(fx, "%s", orphan)));
	snprintf(orphan, sizeof(orphan), "locks/%064x", 40u);
	assert_false(exists(at_root(fx, "%s", orphan)));
}

static void the_ref_index_remembers_a_key(void **state)
{
	struct fixture *fx = *state;
	char key[72], got[72];

	key_of(key, 50);
	assert_int_equal(sbx_cache_ref_get(&fx->c, REF, got), 0);
	assert_int_equal(sbx_cache_ref_put(&fx->c, REF, key, &fx->err), 0);
	assert_int_equal(sbx_cache_ref_get(&fx->c, REF, got), 1);
	assert_string_equal(got, key);
	assert_int_equal(sbx_cache_ref_get(&fx->c, REF "x", got), 0);
	key_of(key, 51);
	assert_int_equal(sbx_cache_ref_put(&fx->c, REF, key, &fx->err), 0);
	assert_int_equal(sbx_cache_ref_get(&fx->c, REF, got), 1);
	assert_string_equal(got, key);
	assert_int_equal(sbx_cache_ref_put(&fx->c, REF, "sha256:nothex", &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "bad cache key"));
}

static void rm_takes_an_unambiguous_prefix(void **state)
{
	struct fixture *fx = *state;
	char a[72], b[72];

	snprintf(a, sizeof(a), "sha256:abcd0%059x", 1u);
	snprintf(b, sizeof(b), "sha256:abcd1%059x", 2u);
	add_image(fx, a, 4096);
	add_image(fx, b, 4096);
	assert_int_equal(sbx_cache_remove(&fx->c, "abcd", &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "'abcd' matches 2 images (give more digits)"));
	assert_int_equal(sbx_cache_remove(&fx->c, "abc", &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "bad digest 'abc'"));
	assert_int_equal(sbx_cache_remove(&fx->c, "ffff", &fx->err), -1);
	assert_non_null(strstr(fx->err.msg, "no image matches 'ffff'"));
	assert_int_equal(sbx_cache_remove(&fx->c, "sha256:abcd0", &fx->err), 0);
	assert_false(exists(at_root(fx, "images/%s", a + 7)));
	assert_true(exists(at_root(fx, "images/%s", b + 7)));
	assert_int_equal(sbx_cache_remove(&fx->c, "abcd", &fx->err), 0);
	assert_false(exists(at_root(fx, "images/%s", b + 7)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_creates_a_private_dir_per_user, setup, teardown),
		cmocka_unit_test_setup_teardown(without_cache_dir_the_cache_is_under_home, setup, teardown),
		cmocka_unit_test_setup_teardown(a_user_dir_others_can_enter_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_shared_dir_without_sticky_bit_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_cache_dir_is_made_by_root_only, setup, teardown),
		cmocka_unit_test_setup_teardown(dirs_owned_by_another_user_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(acquire_on_an_empty_cache_gives_a_fresh_tmp_dir, setup_open, teardown),
		cmocka_unit_test_setup_teardown(a_bad_key_is_refused, setup_open, teardown),
		cmocka_unit_test_setup_teardown(a_published_image_is_found, setup_open, teardown),
		cmocka_unit_test_setup_teardown(publish_refuses_what_is_not_a_whole_squashfs, setup_open, teardown),
		cmocka_unit_test_setup_teardown(a_truncated_entry_is_removed_and_imported_again, setup_open, teardown),
		cmocka_unit_test_setup_teardown(a_dead_importers_tmp_dir_is_removed, setup_open, teardown),
		cmocka_unit_test_setup_teardown(sixteen_steps_asking_at_once_import_once, setup_open, teardown),
		cmocka_unit_test_setup_teardown(a_killed_import_is_redone, setup_open, teardown),
		cmocka_unit_test_setup_teardown(a_waiter_gives_up_after_cache_wait, setup_open, teardown),
		cmocka_unit_test_setup_teardown(gc_skips_an_image_in_use, setup_open, teardown),
		cmocka_unit_test_setup_teardown(gc_removes_least_recently_used_first, setup_open, teardown),
		cmocka_unit_test_setup_teardown(publish_cuts_the_cache_back_to_its_cap, setup_open, teardown),
		cmocka_unit_test_setup_teardown(gc_removes_stale_imports_and_orphan_locks, setup_open, teardown),
		cmocka_unit_test_setup_teardown(the_ref_index_remembers_a_key, setup_open, teardown),
		cmocka_unit_test_setup_teardown(rm_takes_an_unambiguous_prefix, setup_open, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
