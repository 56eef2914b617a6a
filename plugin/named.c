#include "plugin.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A named sandbox keeps its writable layer in
 *   named_dir/<uid>/<job id>/<name>/{upper,work,image}
 * so every step of the job that names it sees what earlier steps wrote.
 * The directories are made by root (slurmstepd) and handed to the user; the
 * job epilog removes <job id> when the job ends. */

int sbx_named_valid(const char *name, struct sbx_err *err)
{
	const char *hint = "use 1-64 letters, digits, '.', '_' or '-'";
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 64 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return sbx_err_set(err, 0, hint, "name '%s': invalid sandbox name", name ? name : "");
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return sbx_err_set(err, 0, hint, "name '%s': invalid sandbox name", name);
	return 0;
}

static const char *named_root(void)
{
	return sbx_plugin.named_dir ? sbx_plugin.named_dir : SBX_NAMED_DIR;
}

/* mkdir that refuses to follow or reuse anything but a real directory with
 * the expected owner: another user must not be able to plant a symlink. */
static int make_dir(const char *path, uid_t uid, gid_t gid, mode_t mode, struct sbx_err *err)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return sbx_err_sys(err, "check named_dir in plugstack.conf", "named sandbox dir '%s'", path);
	if (lstat(path, &st) < 0)
		return sbx_err_sys(err, NULL, "named sandbox dir '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return sbx_err_set(err, 0, "remove it; only directories belong there",
				   "named sandbox dir '%s': not a directory", path);
	if (st.st_uid != uid && st.st_uid != 0)
		return sbx_err_set(err, 0, "remove it", "named sandbox dir '%s': owned by uid %u",
				   path, (unsigned)st.st_uid);
	if ((st.st_uid != uid || st.st_gid != gid) && chown(path, uid, gid) < 0)
		return sbx_err_sys(err, NULL, "named sandbox dir '%s': chown", path);
	if (chmod(path, mode) < 0)
		return sbx_err_sys(err, NULL, "named sandbox dir '%s': chmod", path);
	return 0;
}

int sbx_named_prepare(char **path_out, struct sbx_err *err)
{
	char path[PATH_MAX];
	const char *root = named_root();

	if (make_dir(root, 0, 0, 0755, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%u", root, (unsigned)sbx_plugin.uid);
	if (make_dir(path, sbx_plugin.uid, sbx_plugin.gid, 0700, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%u/%u", root, (unsigned)sbx_plugin.uid, sbx_plugin.job_id);
	if (make_dir(path, sbx_plugin.uid, sbx_plugin.gid, 0700, err) < 0)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%u/%u/%s", root, (unsigned)sbx_plugin.uid,
			     sbx_plugin.job_id, sbx_plugin.name) >= sizeof(path))
		return sbx_err_set(err, ENAMETOOLONG, NULL, "named sandbox '%s'", sbx_plugin.name);
	if (make_dir(path, sbx_plugin.uid, sbx_plugin.gid, 0700, err) < 0)
		return -1;
	*path_out = strdup(path);
	if (!*path_out)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* The overlay's work dir holds a mode-000 directory: root removes it. */
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int sbx_named_cleanup(uid_t uid, uint32_t job_id, struct sbx_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u/%u", named_root(), (unsigned)uid, job_id);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : sbx_err_sys(err, NULL, "named sandboxes '%s'", path);
	/* FTW_PHYS: never follow a symlink the user left there; FTW_MOUNT:
	 * never cross into a mount. */
	if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return sbx_err_sys(err, NULL, "remove named sandboxes '%s'", path);
	return 0;
}
