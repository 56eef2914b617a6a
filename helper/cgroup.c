#include "helper.h"
#include "util/cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Standalone sandboxes get a cgroup v2 of their own, next to the caller's
 * (in the tree delegated to the user, e.g. by systemd's Delegate=yes) or
 * below the policy's parent when run by root: the helper creates it, writes
 * the limits, moves itself in before unsharing the cgroup namespace (which
 * then starts there), and every command's shim moves itself in before it
 * forks the command. */

/* A cgroup this user may create children in and move processes between. */
static int delegated(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SBX_CGROOT "%s", dir);
	if (access(path, W_OK) < 0)
		return 0;
	snprintf(path, sizeof(path), SBX_CGROOT "%s/cgroup.procs", dir);
	if (access(path, W_OK) < 0)
		return 0;
	snprintf(path, sizeof(path), SBX_CGROOT "%s/cgroup.subtree_control", dir);
	return access(path, W_OK) == 0;
}

static int wanted(const struct sbx_plan *plan)
{
	return plan->cg_memory || plan->cg_cpus || plan->cg_pids || plan->cg_swap_set ||
	       plan->cg_memory_high;
}

/* No cgroup for this sandbox: an error or one warning line, by policy. */
static int unavailable(const struct sbx_plan *plan, const char *why, struct sbx_err *err)
{
	const char *hint = "run under a delegated cgroup v2 (systemd-run --user -p Delegate=yes), "
			   "or see sandbox-run info";

	if (!wanted(plan))
		return 0;
	if (plan->cg_required)
		return sbx_err_set(err, 0, hint, "cgroup limits: %s (cgroups.when_unavailable = error)",
				   why);
	fprintf(stderr, "sandbox: warning: cgroup limits not applied: %s (%s)\n", why, hint);
	return 0;
}

static int enable_controllers(const char *parent)
{
	static const char *const wanted_ctl[] = { "memory", "pids", "cpu", NULL };
	char have[512], on[512], word[32];

	if (sbx_cgfs_read(parent, "cgroup.controllers", have, sizeof(have)) < 0 ||
	    sbx_cgfs_read(parent, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return -1;
	for (size_t i = 0; wanted_ctl[i]; i++) {
		if (!sbx_cgfs_has_word(have, wanted_ctl[i]) || sbx_cgfs_has_word(on, wanted_ctl[i]))
			continue;
		snprintf(word, sizeof(word), "+%s", wanted_ctl[i]);
		if (sbx_cgfs_write(parent, "cgroup.subtree_control", word) < 0)
			return -1;
	}
	return 0;
}

static int set_limit(const struct sbx_cgroup *cg, const char *file, uint64_t v,
		     struct sbx_err *err)
{
	char num[64];

	if (!v)
		return 0;
	snprintf(num, sizeof(num), "%" PRIu64, v);
	if (sbx_cgfs_write(cg->path, file, num) < 0)
		return sbx_err_sys(err, "is the controller enabled for this cgroup?",
				   "cgroup %s: set %s", cg->path, file);
	return 0;
}

int sbx_cgroup_enter(const struct sbx_plan *plan, struct sbx_cgroup *cg, struct sbx_err *err)
{
	char parent[960], cpu[64];
	char *slash;

	cg->path[0] = cg->origin[0] = '\0';
	cg->fd = cg->parent_fd = cg->origin_fd = -1;
	if (!sbx_cgfs_v2())
		return unavailable(plan, "this host's cgroups are not v2 only (v1 or hybrid)", err);
	if (sbx_cgfs_of(0, cg->origin, sizeof(cg->origin)) < 0)
		return unavailable(plan, "cannot read /proc/self/cgroup", err);
	if (plan->cg_parent && geteuid() == 0) {
		char full[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", plan->cg_parent);
		snprintf(full, sizeof(full), SBX_CGROOT "%s", parent);
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			return sbx_err_sys(err, "fix cgroups.parent", "cgroup %s", parent);
	} else {
		if (strlen(cg->origin) >= sizeof(parent))
			return unavailable(plan, "the caller's cgroup path is too long", err);
		memcpy(parent, cg->origin, strlen(cg->origin) + 1);
		slash = strrchr(parent, '/');
		if (!slash)
			return unavailable(plan, "the caller is in the root cgroup", err);
		*slash = '\0';
		if (!delegated(parent)) {
			cg->path[0] = '\0';
			return unavailable(plan, "the caller's cgroup has no delegated parent", err);
		}
	}
	if (enable_controllers(parent) < 0) {
		cg->path[0] = '\0';
		return unavailable(plan, "cannot enable the memory, pids and cpu controllers", err);
	}
	snprintf(cg->path, sizeof(cg->path), "%s/sandbox-%d", parent, (int)getpid());
	{
		char full[PATH_MAX];

		snprintf(full, sizeof(full), SBX_CGROOT "%s", cg->path);
		if (mkdir(full, 0755) < 0) {
			int rc = sbx_err_sys(err, NULL, "cgroup %s", cg->path);

			cg->path[0] = '\0';
			return rc;
		}
		cg->fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(full, sizeof(full), SBX_CGROOT "%s", parent);
		cg->parent_fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(full, sizeof(full), SBX_CGROOT "%s", cg->origin);
		cg->origin_fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->fd < 0 || cg->parent_fd < 0 || cg->origin_fd < 0) {
			sbx_err_sys(err, NULL, "cgroup %s", cg->path);
			/* leave removes it through parent_fd: without one, here. */
			snprintf(full, sizeof(full), SBX_CGROOT "%s", cg->path);
			if (cg->parent_fd < 0 && rmdir(full) < 0) {
				/* nothing more to try; err says what failed first */
			}
			sbx_cgroup_leave(cg);
			return -1;
		}
	}
	if (SBX_FAILPOINT("cgroup.created", err) < 0) {
		sbx_cgroup_leave(cg);
		return -1;
	}
	snprintf(cpu, sizeof(cpu), "%" PRIu32 " 100000", plan->cg_cpus * 100);
	if (set_limit(cg, "memory.max", plan->cg_memory, err) < 0 ||
	    (plan->cg_swap_set && !plan->cg_swap && sbx_cgfs_write(cg->path, "memory.swap.max", "0") < 0 &&
	     sbx_err_sys(err, NULL, "cgroup %s: set memory.swap.max", cg->path)) ||
	    set_limit(cg, "memory.swap.max", plan->cg_swap, err) < 0 ||
	    set_limit(cg, "memory.high", plan->cg_memory_high, err) < 0 ||
	    set_limit(cg, "pids.max", plan->cg_pids, err) < 0 ||
	    (plan->cg_cpus && sbx_cgfs_write(cg->path, "cpu.max", cpu) < 0 &&
	     sbx_err_sys(err, NULL, "cgroup %s: set cpu.max", cg->path)) ||
	    (sbx_cgfs_write(cg->path, "cgroup.procs", "0") < 0 &&
	     sbx_err_sys(err, NULL, "cgroup %s: move the sandbox in", cg->path))) {
		sbx_cgroup_leave(cg);
		return -1;
	}
	return 0;
}

void sbx_cgroup_report(const struct sbx_cgroup *cg, int json)
{
	struct sbx_cgstats st;
	char line[512];

	if (!cg->path[0] || cg->fd < 0)
		return;
	sbx_cgfs_stats(cg->fd, &st);
	sbx_cgfs_format(&st, -1, json, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void sbx_cgroup_leave(struct sbx_cgroup *cg)
{
	const char *name = strrchr(cg->path, '/');

	if (cg->path[0] && cg->parent_fd >= 0 && name) {
		/* Out of it first: a cgroup with a process in it cannot go. */
		int fd = openat(cg->origin_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "0", 1) != 1) {
				/* then the launcher removes it once we are gone */
			}
			close(fd);
		}
		for (int i = 0; i < 200 && unlinkat(cg->parent_fd, name + 1, AT_REMOVEDIR) < 0 &&
				errno == EBUSY; i++)
			usleep(10000);
	}
	close_fd(&cg->fd);
	close_fd(&cg->parent_fd);
	close_fd(&cg->origin_fd);
	cg->path[0] = '\0';
}
