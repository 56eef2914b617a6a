/* --per-task (srun --sandbox-per-task): each task that joins the node's
 * sandbox gets a writable layer of its own over the sandbox's root, for
 * codes whose ranks all write the same path (Pyxis issue #141). Everything
 * else stays shared: the pid, ipc and network namespaces, /tmp, /dev/shm,
 * the binds. Done by the joining shim, after setns (it then holds every
 * capability of the sandbox's user namespace, none on the host) and before
 * it narrows its capabilities:
 *   1. a mount namespace of its own, a copy of the sandbox's;
 *   2. a scratch tmpfs stacked on "/" holding upper/, work/ and root/;
 *   3. an overlay on root/ with the sandbox's root as its lower layer;
 *   4. the sandbox's mounts (/proc, /dev, /tmp, /sys, /.sandbox, binds) moved
 *      onto the new root, each with what is mounted below it;
 *   5. pivot_root into it.
 * overlayfs takes its layers only from the caller's mount namespace, so
 * everything is opened after the unshare, and by path. The layer lives as long as the
 * task's processes; nothing of it reaches another task. */
#include "launch/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "launch/runconf.h"

#define MAX_TOP 256

static int fs_config(int fs, const char *key, const char *value)
{
	return (int)syscall(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key,
			    value, 0);
}

/* A new filesystem of type, configured by opts ("key=value" or "flag"
 * items, NULL-terminated), as a detached mount. */
static int new_mount(const char *type, const char *const opts[], struct sbx_err *err)
{
	int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return sbx_err_sys(err, NULL, "per-task layer: %s", type);
	for (size_t i = 0; opts[i]; i++) {
		char key[64];
		const char *eq = strchr(opts[i], '=');

		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - opts[i]) : 63, opts[i]);
		if (fs_config(fs, key, eq ? eq + 1 : NULL) < 0 && !(strcmp(key, "userxattr") == 0)) {
			sbx_err_sys(err, NULL, "per-task layer: %s option %s", type, key);
			goto out;
		}
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		sbx_err_sys(err, NULL, "per-task layer: create %s", type);
		goto out;
	}
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		sbx_err_sys(err, NULL, "per-task layer: mount %s", type);
out:
	close(fs);
	return mnt;
}

/* mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++, w++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w = *s;
		}
	}
	*w = '\0';
}

/* The mount points directly on the sandbox's root, in mount order (a later
 * mount on the same path covers an earlier one: moving the first moves the
 * whole stack). Read from pid 1's view, the sandbox's mount namespace
 * before our copy of it: the shim is outside the sandbox's pid namespace,
 * so its procfs has no /proc/self for it. */
static int top_mounts(char *paths[], size_t *n, struct sbx_err *err)
{
	FILE *f = fopen("/proc/1/mountinfo", "re");
	unsigned long long root_id = 0;
	char *line = NULL;
	size_t cap = 0;

	*n = 0;
	if (!f)
		return sbx_err_sys(err, NULL, "per-task layer: mountinfo");
	while (getline(&line, &cap, f) > 0) {
		unsigned long long id;
		char point[8];

		if (sscanf(line, "%llu %*u %*s %*s %7s", &id, point) == 2 && strcmp(point, "/") == 0)
			root_id = id;
	}
	rewind(f);
	while (root_id && getline(&line, &cap, f) > 0) {
		unsigned long long id, parent;
		char point[4096];

		if (sscanf(line, "%llu %llu %*s %*s %4095s", &id, &parent, point) != 3 ||
		    parent != root_id || strcmp(point, "/") == 0)
			continue;
		unescape(point);
		if (*n == MAX_TOP || !(paths[*n] = strdup(point))) {
			free(line);
			fclose(f);
			return sbx_err_set(err, ENOMEM, NULL, "per-task layer: mounts");
		}
		(*n)++;
	}
	free(line);
	fclose(f);
	return 0;
}

int sbx_pertask_wanted(void)
{
	struct sbx_runconf cfg;
	const char *v;
	int wanted;

	if (sbx_runconf_load(SBX_SHIM_DIR "/" SBX_RUNCONF_FILE, &cfg) < 0)
		return 0;
	v = sbx_runconf_get(&cfg, "per_task");
	wanted = v && strcmp(v, "1") == 0;
	sbx_runconf_free(&cfg);
	return wanted;
}

int sbx_pertask_root(struct sbx_err *err)
{
	static const char *const tmpfs_opts[] = { "mode=0755", NULL };
	static const char *const overlay_opts[] = {
		"lowerdir=/", "upperdir=upper", "workdir=work", "userxattr", NULL,
	};
	char *paths[MAX_TOP];
	size_t n = 0;
	int old = -1, scratch = -1, ovl = -1, root = -1, rc = -1;

	if (top_mounts(paths, &n, err) < 0)
		goto out;
	if (unshare(CLONE_NEWNS) < 0) {
		sbx_err_sys(err, NULL, "per-task layer: mount namespace");
		goto out;
	}
	old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0) {
		sbx_err_sys(err, NULL, "per-task layer: the sandbox's root");
		goto out;
	}
	scratch = new_mount("tmpfs", tmpfs_opts, err);
	if (scratch < 0)
		goto out;
	/* Attached (overlayfs refuses layers on detached mounts), on top of
	 * "/", where nothing of the sandbox's looks. */
	if (syscall(SYS_move_mount, scratch, "", old, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ||
	    mkdirat(scratch, "upper", 0755) < 0 || mkdirat(scratch, "work", 0755) < 0 ||
	    mkdirat(scratch, "root", 0755) < 0) {
		sbx_err_sys(err, NULL, "per-task layer: scratch");
		goto out;
	}
	/* Paths, not /proc/self/fd: the sandbox's procfs has no entry for the
	 * shim. "/" is still the sandbox's root (a lookup starts below what
	 * is stacked on it), the scratch is the working directory. */
	if (fchdir(scratch) < 0) {
		sbx_err_sys(err, NULL, "per-task layer: scratch");
		goto out;
	}
	ovl = new_mount("overlay", overlay_opts, err);
	if (ovl < 0)
		goto out;
	if (syscall(SYS_move_mount, ovl, "", scratch, "root", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		sbx_err_sys(err, NULL, "per-task layer: attach the overlay");
		goto out;
	}
	root = openat(scratch, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		sbx_err_sys(err, NULL, "per-task layer: the new root");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *rel = paths[i] + strspn(paths[i], "/");
		int src = openat(old, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		/* Mounts stacked on one path: the first move took them all. */
		if (src < 0 && errno == ENOENT)
			continue;
		if (src < 0 || syscall(SYS_move_mount, src, "", root, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			if (src >= 0 && errno == EINVAL) {
				close(src);
				continue;     /* not a mount root any more: moved with its parent */
			}
			sbx_err_sys(err, NULL, "per-task layer: move %s", paths[i]);
			if (src >= 0)
				close(src);
			goto out;
		}
		close(src);
	}
	if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
	    chdir("/") < 0) {
		sbx_err_sys(err, NULL, "per-task layer: pivot_root");
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	if (old >= 0)
		close(old);
	if (scratch >= 0)
		close(scratch);
	if (ovl >= 0)
		close(ovl);
	if (root >= 0)
		close(root);
	return rc;
}
