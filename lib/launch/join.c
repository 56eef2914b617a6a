/* Joining a sandbox, in the shim (sandbox-exec): kept apart from the rest
 * of the launch path so the static shim links only what it runs. */
#include "launch/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/caps.h"
#include "launch/runconf.h"

/* Joining goes through the helper (the monitor), not pid 1: pid 1 is
 * non-dumpable so nothing inside can ptrace it, which also closes its
 * /proc/PID/ns to us; the monitor sits in the same namespaces, outside the
 * sandbox's pid namespace (pid_for_children is the sandbox's), where no
 * sandboxed process can reach it.
 * Order: user first (it grants the rights for the others), then the rest;
 * mnt last, since after it paths resolve inside the sandbox. A namespace
 * the sandbox shares with us (net with --net host) is skipped: setns into
 * the host's own would need privileges there. */
static const struct { const char *name; int type; } ns_order[] = {
	{ "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "pid_for_children", CLONE_NEWPID },
	{ "mnt", CLONE_NEWNS },
};
#define N_NS (sizeof(ns_order) / sizeof(ns_order[0]))

/* setns(user) gave us every capability in the sandbox's user namespace, and
 * an execve as a non-root uid would silently drop them, leaving no way to
 * empty the bounding set later: narrow all sets here, while we can. */
static int restrict_caps(struct sbx_err *err)
{
	struct sbx_runconf cfg;
	int rc;

	if (sbx_runconf_load(SBX_SHIM_DIR "/" SBX_RUNCONF_FILE, &cfg) < 0)
		return sbx_err_sys(err, "is the helper from the same build?",
				   "join: read %s/%s", SBX_SHIM_DIR, SBX_RUNCONF_FILE);
	rc = sbx_caps_restrict(sbx_runconf_caps(&cfg), 1, err);
	sbx_runconf_free(&cfg);
	return rc;
}

int sbx_sandbox_join(pid_t helper_pid, const char *workdir, struct sbx_err *err)
{
	int fds[N_NS];
	char path[64], cwd[PATH_MAX];
	int have_cwd = getcwd(cwd, sizeof(cwd)) != NULL, rc = -1;
	size_t i;

	for (i = 0; i < N_NS; i++)
		fds[i] = -1;
	for (i = 0; i < N_NS; i++) {
		struct stat theirs, ours;

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)helper_pid, ns_order[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			sbx_err_sys(err, "the sandbox has ended", "join sandbox %d: %s namespace",
				    (int)helper_pid, ns_order[i].name);
			goto out;
		}
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_order[i].name);
		if (fstat(fds[i], &theirs) == 0 && stat(path, &ours) == 0 &&
		    theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (i = 0; i < N_NS; i++) {
		if (fds[i] >= 0 && setns(fds[i], ns_order[i].type) < 0) {
			sbx_err_sys(err, NULL, "join sandbox %d: %s namespace", (int)helper_pid,
				    ns_order[i].name);
			goto out;
		}
	}
	/* While the task still holds the capabilities it needs to mount. */
	if (sbx_pertask_wanted() && sbx_pertask_root(err) < 0)
		goto out;
	if (restrict_caps(err) < 0)
		goto out;
	if (workdir) {
		if (chdir(workdir) < 0) {
			sbx_err_sys(err, "it must exist inside the image or be mounted",
				    "workdir '%s'", workdir);
			goto out;
		}
	} else if (!have_cwd || chdir(cwd) < 0) {
		/* The caller's directory is not in the sandbox: start at /. */
		if (chdir("/") < 0) {
			sbx_err_sys(err, NULL, "chdir /");
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < N_NS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

