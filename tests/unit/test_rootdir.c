/* Where root may act (util/rootdir.h) and acting as the job's user
 * (util/asuser.h). Root owns the directories these tests build, so they
 * need root; as anyone else they are skipped, saying so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/asuser.h"
#include "util/fsutil.h"
#include "util/rootdir.h"

#define USER_UID 4242
#define USER_GID 4243

static char base[64];

static int make_base(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(base, sizeof(base), "/var/lib/sbx-unit-XXXXXX");
	if (!mkdtemp(base) || chmod(base, 0755) < 0)
		return -1;
	return 0;
}

static int remove_base(void **state)
{
	(void)state;
	if (base[0] && sbx_rmtree_at(AT_FDCWD, base) < 0)
		return -1;
	return 0;
}

#define NEED_ROOT() do { if (geteuid() != 0) skip(); } while (0)

static char *at(const char *rel)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return path;
}

static void assert_refused(const char *path, int flags, const char *want)
{
	struct sbx_err err = { 0 };
	int fd = sbx_rootdir_open(path, 0, flags, "named_dir", &err);

	if (fd >= 0)
		fail_msg("'%s' accepted", path);
	if (!strstr(err.msg, want))
		fail_msg("'%s': got '%s', want '%s'", path, err.msg, want);
}

static void a_root_only_chain_opens(void **state)
{
	struct sbx_err err = { 0 };
	struct stat st;
	int fd;

	(void)state;
	NEED_ROOT();
	assert_int_equal(mkdir(at("a"), 0755), 0);
	fd = sbx_rootdir_open(at("a"), 0, 0, "named_dir", &err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
}

static void a_directory_others_may_write_is_refused_by_name(void **state)
{
	char want[256];

	(void)state;
	NEED_ROOT();
	assert_int_equal(mkdir(at("open"), 0755), 0);
	assert_int_equal(chmod(at("open"), 0777), 0);
	assert_int_equal(mkdir(at("open/inner"), 0755), 0);
	snprintf(want, sizeof(want), "%s is writable by others (it and every directory above it "
		 "must be owned by root and writable by root only)", at("open"));
	assert_refused(at("open/inner"), 0, want);
	/* /tmp itself (1777) is never an anchor. */
	assert_refused("/tmp", 0, "/tmp is writable by others");
}

static void a_directory_a_user_owns_is_refused(void **state)
{
	char want[256];

	(void)state;
	NEED_ROOT();
	assert_int_equal(mkdir(at("users"), 0755), 0);
	assert_int_equal(chown(at("users"), USER_UID, USER_GID), 0);
	assert_int_equal(mkdir(at("users/x"), 0755), 0);
	snprintf(want, sizeof(want), "%s is not owned by root", at("users"));
	assert_refused(at("users/x"), 0, want);
}

static void roots_symlinks_are_followed_and_users_are_not(void **state)
{
	struct sbx_err err = { 0 };
	char want[256];
	int fd;

	(void)state;
	NEED_ROOT();
	assert_int_equal(mkdir(at("real"), 0755), 0);
	assert_int_equal(symlink("real", at("link")), 0);
	fd = sbx_rootdir_open(at("link"), 0, 0, "named_dir", &err);
	if (fd < 0)
		fail_msg("%s", err.msg);
	close(fd);
	/* The same symlink, but the user's: a user could point it anywhere. */
	assert_int_equal(symlink(base, at("userlink")), 0);
	assert_int_equal(lchown(at("userlink"), USER_UID, USER_GID), 0);
	snprintf(want, sizeof(want), "symlink %s is not root's", at("userlink"));
	assert_refused(at("userlink"), 0, want);
}

static void missing_directories_are_made_roots(void **state)
{
	struct sbx_err err = { 0 };
	struct stat st;
	int fd;

	(void)state;
	NEED_ROOT();
	fd = sbx_rootdir_open(at("new/deeper"), 0750, 0, "named_dir", &err);
	if (fd < 0)
		fail_msg("%s", err.msg);
	close(fd);
	assert_int_equal(stat(at("new/deeper"), &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	/* Without create_mode, a missing directory is an error. */
	assert_refused(at("absent"), 0, "No such file or directory");
}

static void a_sticky_shared_directory_is_an_anchor_only_when_asked_and_last(void **state)
{
	struct sbx_err err = { 0 };
	int fd;

	(void)state;
	NEED_ROOT();
	assert_int_equal(mkdir(at("shared"), 0755), 0);
	assert_int_equal(chmod(at("shared"), 01777), 0);
	assert_int_equal(mkdir(at("shared/below"), 0755), 0);
	assert_refused(at("shared"), 0, "is writable by others");
	fd = sbx_rootdir_open(at("shared"), 0, SBX_ROOTDIR_STICKY, "images.cache_dir", &err);
	if (fd < 0)
		fail_msg("%s", err.msg);
	close(fd);
	assert_refused(at("shared/below"), SBX_ROOTDIR_STICKY, "is writable by others");
}

static void dot_dot_and_relative_paths_are_refused(void **state)
{
	(void)state;
	NEED_ROOT();
	assert_refused("relative/path", 0, "not an absolute path");
	assert_refused("/var/lib/../lib", 0, "'..' in the path");
}

static void a_subdirectory_is_made_and_handed_to_the_user(void **state)
{
	struct sbx_err err = { 0 };
	struct stat st;
	int root, fd;

	(void)state;
	NEED_ROOT();
	assert_int_equal(mkdir(at("anchor"), 0755), 0);
	root = sbx_rootdir_open(at("anchor"), 0, 0, "named_dir", &err);
	assert_true(root >= 0);
	fd = sbx_rootdir_subdir(root, "4242", USER_UID, USER_GID, 0700, "named_dir", &err);
	if (fd < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_uid, USER_UID);
	assert_int_equal(st.st_gid, USER_GID);
	assert_int_equal(st.st_mode & 07777, 0700);
	close(fd);
	/* A symlink, a file, or another user's directory in its place. */
	assert_int_equal(symlink("/etc", at("anchor/link")), 0);
	assert_true(sbx_rootdir_subdir(root, "link", USER_UID, USER_GID, 0700, "named_dir", &err) < 0);
	assert_int_equal(close(open(at("anchor/file"), O_CREAT | O_WRONLY, 0600)), 0);
	assert_true(sbx_rootdir_subdir(root, "file", USER_UID, USER_GID, 0700, "named_dir", &err) < 0);
	assert_int_equal(mkdir(at("anchor/taken"), 0777), 0);
	assert_int_equal(chown(at("anchor/taken"), USER_UID + 1, USER_GID), 0);
	assert_true(sbx_rootdir_subdir(root, "taken", USER_UID, USER_GID, 0700, "named_dir", &err) < 0);
	assert_non_null(strstr(err.msg, "'taken' is owned by uid 4243 (another user made it first"));
	/* /etc was left alone. */
	assert_int_equal(stat("/etc", &st), 0);
	assert_int_equal(st.st_uid, 0);
	close(root);
}

static int who_am_i(void *arg, char *out, struct sbx_err *err)
{
	gid_t groups[8];
	int n = getgroups(8, groups);

	(void)arg;
	(void)err;
	snprintf(out, SBX_ASUSER_OUT, "%u %u %u %u %d %d", (unsigned)getuid(), (unsigned)geteuid(),
		 (unsigned)getgid(), (unsigned)getegid(), n, n > 0 ? (int)groups[0] : -1);
	return 0;
}

static int refuses(void *arg, char *out, struct sbx_err *err)
{
	(void)arg;
	(void)out;
	return sbx_err_set(err, EACCES, "a hint", "image '%s'", "/x");
}

static int dies(void *arg, char *out, struct sbx_err *err)
{
	(void)arg;
	(void)out;
	(void)err;
	raise(SIGKILL);
	return 0;
}

static int tries_root(void *arg, char *out, struct sbx_err *err)
{
	(void)arg;
	(void)out;
	if (setuid(0) == 0 || open("/etc/shadow", O_RDONLY) >= 0)
		return sbx_err_set(err, 0, NULL, "root again");
	return 0;
}

static void work_as_the_user_holds_only_the_users_credentials(void **state)
{
	const gid_t groups[] = { 4300 };
	struct sbx_cred cred = { .uid = USER_UID, .gid = USER_GID, .ngroups = 1, .groups = groups };
	struct sbx_err err = { 0 };
	char out[SBX_ASUSER_OUT];

	(void)state;
	NEED_ROOT();
	assert_int_equal(sbx_as_user(&cred, who_am_i, NULL, out, &err), 0);
	assert_string_equal(out, "4242 4242 4243 4243 1 4300");
	assert_int_equal(sbx_as_user(&cred, tries_root, NULL, NULL, &err), 0);
	assert_int_equal(sbx_as_user(&cred, refuses, NULL, NULL, &err), -1);
	assert_string_equal(err.msg, "image '/x': Permission denied (a hint)");
	assert_int_equal(sbx_as_user(&cred, dies, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "the worker died (signal 9)"));
	/* The caller kept its own. */
	assert_int_equal(geteuid(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_root_only_chain_opens),
		cmocka_unit_test(a_directory_others_may_write_is_refused_by_name),
		cmocka_unit_test(a_directory_a_user_owns_is_refused),
		cmocka_unit_test(roots_symlinks_are_followed_and_users_are_not),
		cmocka_unit_test(missing_directories_are_made_roots),
		cmocka_unit_test(a_sticky_shared_directory_is_an_anchor_only_when_asked_and_last),
		cmocka_unit_test(dot_dot_and_relative_paths_are_refused),
		cmocka_unit_test(a_subdirectory_is_made_and_handed_to_the_user),
		cmocka_unit_test(work_as_the_user_holds_only_the_users_credentials),
	};

	return cmocka_run_group_tests(tests, make_base, remove_base);
}
