#include "plugin.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/asuser.h"
#include "util/fsutil.h"
#include "util/rootdir.h"

/* A named sandbox keeps its writable layer in
 *   named_dir/<uid>/<job id>/<name>/{upper,work,image}
 * so every step of the job that names it sees what earlier steps wrote.
 * named_dir is root's (every directory above it too: util/rootdir.h), and
 * root makes <uid> in it by fd and hands it to the user; everything below
 * <uid> is the user's, so root never acts there: what is made, read and,
 * in the job epilog, removed below it is done with the user's credentials
 * (util/asuser.h). A user racing renames or symlinks there reaches only
 * what the user could reach anyway. */

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

/* The companion plugin (spank_sandbox_named.c) removes named sandboxes at
 * the job's end; without it they would stay. Slurm loads every plugin of
 * plugstack.conf in srun, sbatch and slurmstepd before init_post_opt, so
 * it is loaded now if the site listed it: look beside this plugin. */
int sbx_named_companion_check(struct sbx_err *err)
{
	char path[PATH_MAX];
	const char *slash;
	Dl_info info;
	void *dl;

	if (!dladdr((void *)sbx_named_companion_check, &info) || !info.dli_fname)
		return sbx_err_set(err, 0, NULL, "name '%s': cannot find the plugin's own file", sbx_plugin.name);
	slash = strrchr(info.dli_fname, '/');
	if ((size_t)snprintf(path, sizeof(path), "%.*s%s", slash ? (int)(slash - info.dli_fname + 1) : 0,
			     info.dli_fname, SBX_NAMED_COMPANION) >= sizeof(path))
		return sbx_err_set(err, ENAMETOOLONG, NULL, "name '%s': %s", sbx_plugin.name, info.dli_fname);
	dl = dlopen(path, RTLD_NOLOAD | RTLD_LAZY);
	if (!dl)
		return sbx_err_set(err, 0, "ask the admin to list " SBX_NAMED_COMPANION " in plugstack.conf",
				   "name '%s': named sandboxes are not enabled here", sbx_plugin.name);
	dlclose(dl);
	return 0;
}

static const char *named_root(void)
{
	return sbx_plugin.named_dir ? sbx_plugin.named_dir : SBX_NAMED_DIR;
}

/* named_dir/<uid>, made by root in its own directory and handed to the
 * user (named_dir and every directory above it are made root's, 0755, when
 * missing). */
static int make_user_dir(uid_t uid, gid_t gid, struct sbx_err *err)
{
	char name[16];
	int root, fd;

	root = sbx_rootdir_open(named_root(), 0755, 0, "named_dir", err);
	if (root < 0)
		return -1;
	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	fd = sbx_rootdir_subdir(root, name, uid, gid, 0700, "named_dir", err);
	close(root);
	return fd;
}

struct named_work {
	int user_dir;            /* named_dir/<uid> */
	char job[16];
	const char *name;
	const char *image;       /* record it; NULL: read it back */
};

/* A directory of the user's below at, made if missing. */
static int user_subdir(int at, const char *name, const char *shown, struct sbx_err *err)
{
	int fd;

	if (mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		return sbx_err_sys(err, NULL, "named sandbox '%s'", shown);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_err_sys(err, errno == ENOTDIR || errno == ELOOP ? "remove it" : NULL,
				   "named sandbox '%s': %s", shown, name);
	return fd;
}

/* As the user: <job>/<name>, and the image it records. */
static int prepare_as_user(void *arg, char *out, struct sbx_err *err)
{
	const struct named_work *w = arg;
	int job = -1, dir = -1, fd = -1, rc = -1;
	struct stat st;
	ssize_t n;

	job = user_subdir(w->user_dir, w->job, w->name, err);
	if (job < 0)
		goto out;
	dir = user_subdir(job, w->name, w->name, err);
	if (dir < 0)
		goto out;
	/* O_NONBLOCK: a FIFO named image fails below instead of hanging. */
	if (w->image)
		fd = openat(dir, "image", O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	else
		fd = openat(dir, "image", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (!w->image && errno == ENOENT)
			sbx_err_set(err, 0, "give --sandbox-image the first time",
				    "name '%s': no such sandbox in this job yet", w->name);
		else
			sbx_err_sys(err, NULL, "named sandbox '%s': image", w->name);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sbx_err_set(err, 0, "remove it", "named sandbox '%s': image is not a regular file", w->name);
		goto out;
	}
	if (w->image) {
		size_t len = strlen(w->image);

		if (ftruncate(fd, 0) < 0 || write(fd, w->image, len) != (ssize_t)len) {
			sbx_err_sys(err, NULL, "named sandbox '%s': record the image", w->name);
			goto out;
		}
	} else {
		n = read(fd, out, SBX_ASUSER_OUT - 1);
		if (n <= 0) {
			sbx_err_set(err, 0, "give --sandbox-image", "name '%s': no image recorded", w->name);
			goto out;
		}
		out[n] = '\0';
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	if (job >= 0)
		close(job);
	return rc;
}

int sbx_named_prepare(const struct sbx_cred *cred, const char *image, char **image_out,
		      char **path_out, struct sbx_err *err)
{
	struct named_work w = { .name = sbx_plugin.name, .image = image };
	char path[PATH_MAX], *out = NULL;
	int rc = -1;

	snprintf(w.job, sizeof(w.job), "%u", sbx_plugin.job_id);
	if ((size_t)snprintf(path, sizeof(path), "%s/%u/%s/%s", named_root(), (unsigned)cred->uid,
			     w.job, w.name) >= sizeof(path))
		return sbx_err_set(err, ENAMETOOLONG, NULL, "named sandbox '%s'", w.name);
	w.user_dir = make_user_dir(cred->uid, cred->gid, err);
	if (w.user_dir < 0)
		return -1;
	if (!image && !(out = malloc(SBX_ASUSER_OUT))) {
		sbx_err_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (sbx_as_user(cred, prepare_as_user, &w, out, err) < 0)
		goto out;
	*path_out = strdup(path);
	if (!*path_out) {
		sbx_err_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (image_out) {
		*image_out = out;
		out = NULL;
	}
	rc = 0;
out:
	free(out);
	close(w.user_dir);
	return rc;
}

/* As the user: the job's tree, never following a symlink. */
static int cleanup_as_user(void *arg, char *out, struct sbx_err *err)
{
	const struct named_work *w = arg;

	(void)out;
	if (sbx_rmtree_at(w->user_dir, w->job) < 0)
		return sbx_err_sys(err, NULL, "remove named sandboxes of job %s", w->job);
	return 0;
}

int sbx_named_cleanup(uid_t uid, uint32_t job_id, struct sbx_err *err)
{
	struct named_work w = { .name = "" };
	struct sbx_cred cred = { .uid = uid };
	struct stat st;
	char name[16];
	int root, rc = -1;

	/* A node that never ran a named sandbox has nothing to remove. */
	root = open(named_root(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return errno == ENOENT ? 0 : sbx_err_sys(err, NULL, "named_dir '%s'", named_root());
	close(root);
	root = sbx_rootdir_open(named_root(), 0, 0, "named_dir", err);
	if (root < 0)
		return -1;
	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	w.user_dir = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(root);
	if (w.user_dir < 0)
		return errno == ENOENT ? 0 : sbx_err_sys(err, NULL, "named_dir '%s': %s", named_root(), name);
	snprintf(w.job, sizeof(w.job), "%u", job_id);
	/* The group root gave the directory when it made it. */
	if (fstat(w.user_dir, &st) < 0) {
		sbx_err_sys(err, NULL, "named_dir '%s': %u", named_root(), (unsigned)uid);
		goto out;
	}
	cred.gid = st.st_gid;
	rc = sbx_as_user(&cred, cleanup_as_user, &w, NULL, err);
out:
	close(w.user_dir);
	return rc;
}
