/* Site hooks ([hooks] dir in the policy): the admin's executables, run by
 * the sandbox's pid 1 after the root is mounted and before pivot_root, in
 * name order, the way a site wires in nvidia-container-cli or InfiniBand
 * libraries. They run as the job's user inside the sandbox's user namespace
 * (its capabilities there, none on the host): nothing is run as root on
 * the user's behalf. Taken on the host, before any namespace exists, and
 * only from root: the directory and every directory above it root's and
 * writable by root only (util/rootdir.h, by fd), each hook a regular file of
 * root's that nobody else can write, kept open and executed by fd, so no
 * rename in between can swap it. The environment of a hook is the helper's
 * (the job's variables the front end passed) plus:
 *   SANDBOX_HOOK=rootfs-mounted  the point it runs at
 *   SANDBOX_ROOTFS               the new root, as the hook sees it
 *   SANDBOX_PID                  the helper's pid on the host: its
 *                                /proc/PID/ns/ are the sandbox's namespaces
 *   SANDBOX_UID, SANDBOX_GID     the user's ids outside */
#include "helper.h"
#include "util/rootdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_HOOKS 64

extern char **environ;

static struct {
	int fd[MAX_HOOKS];
	char name[MAX_HOOKS][256];
	size_t n;
	pid_t helper;
	char dir[4096];
} hooks;

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One hook, opened O_PATH by fd: refused unless root's and writable by root
 * only; 0 with *fd = -1 for what is not meant to run (not executable). */
static int open_hook(int dir, const char *name, int *fd, struct sbx_err *err)
{
	struct stat st;
	int f = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	*fd = -1;
	if (f < 0)
		return sbx_err_sys(err, NULL, "hooks.dir %s/%s", hooks.dir, name);
	if (fstat(f, &st) < 0) {
		close(f);
		return sbx_err_sys(err, NULL, "hooks.dir %s/%s", hooks.dir, name);
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(f);
		return sbx_err_set(err, 0, "a hook must be a regular file owned by root, writable by root only",
				   "hooks.dir %s/%s: not root's, or writable by others", hooks.dir, name);
	}
	if (!(st.st_mode & S_IXUSR)) {
		close(f);       /* a README beside the hooks */
		return 0;
	}
	*fd = f;
	return 0;
}

int sbx_hooks_open(const struct sbx_policy *pol, struct sbx_err *err)
{
	struct dirent *de;
	char *names[MAX_HOOKS];
	size_t n_names = 0;
	DIR *d = NULL;
	int dir = -1, rc = -1;

	hooks.n = 0;
	hooks.helper = getpid();
	if (!pol->hooks_dir)
		return 0;
	snprintf(hooks.dir, sizeof(hooks.dir), "%s", pol->hooks_dir);
	dir = sbx_rootdir_open(pol->hooks_dir, 0, 0, "hooks.dir", err);
	if (dir < 0)
		goto out;
	d = fdopendir(dup(dir));
	if (!d) {
		sbx_err_sys(err, NULL, "hooks.dir %s", hooks.dir);
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n_names == MAX_HOOKS) {
			sbx_err_set(err, 0, "keep at most 64 hooks", "hooks.dir %s: too many files", hooks.dir);
			goto out;
		}
		if (!(names[n_names] = strdup(de->d_name))) {
			sbx_err_set(err, ENOMEM, NULL, "hooks.dir %s", hooks.dir);
			goto out;
		}
		n_names++;
	}
	if (errno) {
		sbx_err_sys(err, NULL, "hooks.dir %s", hooks.dir);
		goto out;
	}
	qsort(names, n_names, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n_names; i++) {
		int fd;

		if (open_hook(dir, names[i], &fd, err) < 0)
			goto out;
		if (fd < 0)
			continue;
		hooks.fd[hooks.n] = fd;
		snprintf(hooks.name[hooks.n], sizeof(hooks.name[0]), "%s", names[i]);
		hooks.n++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	if (d)
		closedir(d);
	if (dir >= 0)
		close(dir);
	return rc;
}

/* The hook keeps the capabilities pid 1 has in the sandbox's user
 * namespace (mount, chown inside the root): an exec under a uid other than
 * 0 clears them unless they are ambient. None of them reaches the host. */
static void keep_caps(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v;

	if (!caps)
		return;
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (cap_get_flag(caps, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_SET);
	if (cap_set_proc(caps) == 0)
		for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0, 0);
	cap_free(caps);
}

static int build_env(struct sbx_strv *env, const char *rootfs)
{
	char var[4200];

	for (char **e = environ; *e; e++)
		if (strncmp(*e, "SANDBOX_", 8) != 0 && sbx_strv_push(env, *e) < 0)
			return -1;
	snprintf(var, sizeof(var), "SANDBOX_ROOTFS=%s", rootfs);
	if (sbx_strv_push(env, "SANDBOX_HOOK=rootfs-mounted") < 0 || sbx_strv_push(env, var) < 0)
		return -1;
	snprintf(var, sizeof(var), "SANDBOX_PID=%d", (int)hooks.helper);
	if (sbx_strv_push(env, var) < 0)
		return -1;
	snprintf(var, sizeof(var), "SANDBOX_UID=%u", (unsigned)getuid());
	if (sbx_strv_push(env, var) < 0)
		return -1;
	snprintf(var, sizeof(var), "SANDBOX_GID=%u", (unsigned)getgid());
	return sbx_strv_push(env, var);
}

/* In pid 1, the root mounted at rootfs: every hook in turn; the first that
 * fails (or is killed) fails the sandbox. */
int sbx_hooks_run(const char *rootfs, struct sbx_err *err)
{
	struct sbx_strv env = { 0 };
	int rc = -1;

	if (hooks.n == 0)
		return 0;
	if (build_env(&env, rootfs) < 0) {
		sbx_err_set(err, ENOMEM, NULL, "hooks");
		goto out;
	}
	for (size_t i = 0; i < hooks.n; i++) {
		char *argv[] = { hooks.name[i], NULL };
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			sbx_err_sys(err, NULL, "hook %s/%s: fork", hooks.dir, hooks.name[i]);
			goto out;
		}
		if (pid == 0) {
			int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

			if (null >= 0)
				dup2(null, 0);
			keep_caps();
			/* A script's interpreter opens /dev/fd/N: no cloexec. */
			fcntl(hooks.fd[i], F_SETFD, 0);
			syscall(SYS_execveat, hooks.fd[i], "", argv, env.v, AT_EMPTY_PATH);
			fprintf(stderr, "sandbox: hook %s/%s: %s\n", hooks.dir, hooks.name[i], strerror(errno));
			_exit(126);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				sbx_err_sys(err, NULL, "hook %s/%s: wait", hooks.dir, hooks.name[i]);
				goto out;
			}
		if (WIFSIGNALED(status)) {
			sbx_err_set(err, 0, "a site hook failed: ask your admin", "hook %s/%s: killed by signal %d",
				    hooks.dir, hooks.name[i], WTERMSIG(status));
			goto out;
		}
		if (WEXITSTATUS(status) != 0) {
			sbx_err_set(err, 0, "a site hook failed: ask your admin", "hook %s/%s: exit status %d",
				    hooks.dir, hooks.name[i], WEXITSTATUS(status));
			goto out;
		}
	}
	rc = 0;
out:
	sbx_strv_clear(&env);
	return rc;
}
