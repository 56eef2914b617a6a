#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Standalone sandboxes get a cgroup v2 of their own, next to the caller's
 * (in the tree delegated to the user, e.g. by systemd's Delegate=yes) or
 * below the policy's parent when run by root: the helper creates it, writes
 * the limits, moves itself in before unsharing the cgroup namespace (which
 * then starts there), and every command's shim moves itself in before it
 * forks the command. */

#define CGROOT "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270

int sbx_cgroup_v2(void)
{
	struct statfs sf;

	return statfs(CGROOT, &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
}

static int write_str(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	int fd, rc = 0;
	ssize_t len = (ssize_t)strlen(value);

	if ((size_t)snprintf(path, sizeof(path), CGROOT "%s/%s", dir, file) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, value, (size_t)len) != len)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static int read_str(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), CGROOT "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int own_cgroup(char *out, size_t len)
{
	char buf[PATH_MAX + 16];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 3)
		return -1;
	buf[n] = '\0';
	if (strncmp(buf, "0::", 3) != 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf + 3, "/") == 0)
		buf[3] = '\0';
	if (strlen(buf + 3) >= len)
		return -1;
	memcpy(out, buf + 3, strlen(buf + 3) + 1);
	return 0;
}

/* A cgroup this user may create children in and move processes between. */
static int delegated(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), CGROOT "%s", dir);
	if (access(path, W_OK) < 0)
		return 0;
	snprintf(path, sizeof(path), CGROOT "%s/cgroup.procs", dir);
	if (access(path, W_OK) < 0)
		return 0;
	snprintf(path, sizeof(path), CGROOT "%s/cgroup.subtree_control", dir);
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

	if (read_str(parent, "cgroup.controllers", have, sizeof(have)) < 0 ||
	    read_str(parent, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return -1;
	for (size_t i = 0; wanted_ctl[i]; i++) {
		snprintf(word, sizeof(word), " %s ", wanted_ctl[i]);
		char padded_have[520], padded_on[520];

		snprintf(padded_have, sizeof(padded_have), " %s ", have);
		padded_have[strcspn(padded_have, "\n")] = ' ';
		snprintf(padded_on, sizeof(padded_on), " %s ", on);
		padded_on[strcspn(padded_on, "\n")] = ' ';
		if (!strstr(padded_have, word) || strstr(padded_on, word))
			continue;
		snprintf(word, sizeof(word), "+%s", wanted_ctl[i]);
		if (write_str(parent, "cgroup.subtree_control", word) < 0)
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
	if (write_str(cg->path, file, num) < 0)
		return sbx_err_sys(err, "is the controller enabled for this cgroup?",
				   "cgroup %s: set %s", cg->path, file);
	return 0;
}

int sbx_cgroup_enter(const struct sbx_plan *plan, struct sbx_cgroup *cg, struct sbx_err *err)
{
	struct statfs sf;
	char parent[960], cpu[64];
	char *slash;

	cg->path[0] = cg->origin[0] = '\0';
	cg->fd = cg->parent_fd = cg->origin_fd = -1;
	if (statfs(CGROOT, &sf) < 0 || sf.f_type != CGROUP2_MAGIC)
		return unavailable(plan, "this host's cgroups are not v2 only (v1 or hybrid)", err);
	if (own_cgroup(cg->origin, sizeof(cg->origin)) < 0)
		return unavailable(plan, "cannot read /proc/self/cgroup", err);
	if (plan->cg_parent && geteuid() == 0) {
		char full[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", plan->cg_parent);
		snprintf(full, sizeof(full), CGROOT "%s", parent);
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

		snprintf(full, sizeof(full), CGROOT "%s", cg->path);
		if (mkdir(full, 0755) < 0) {
			int rc = sbx_err_sys(err, NULL, "cgroup %s", cg->path);

			cg->path[0] = '\0';
			return rc;
		}
		cg->fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(full, sizeof(full), CGROOT "%s", parent);
		cg->parent_fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(full, sizeof(full), CGROOT "%s", cg->origin);
		cg->origin_fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->fd < 0 || cg->parent_fd < 0 || cg->origin_fd < 0) {
			sbx_err_sys(err, NULL, "cgroup %s", cg->path);
			sbx_cgroup_leave(cg);
			return -1;
		}
	}
	snprintf(cpu, sizeof(cpu), "%" PRIu32 " 100000", plan->cg_cpus * 100);
	if (set_limit(cg, "memory.max", plan->cg_memory, err) < 0 ||
	    (plan->cg_swap_set && !plan->cg_swap && write_str(cg->path, "memory.swap.max", "0") < 0 &&
	     sbx_err_sys(err, NULL, "cgroup %s: set memory.swap.max", cg->path)) ||
	    set_limit(cg, "memory.swap.max", plan->cg_swap, err) < 0 ||
	    set_limit(cg, "memory.high", plan->cg_memory_high, err) < 0 ||
	    set_limit(cg, "pids.max", plan->cg_pids, err) < 0 ||
	    (plan->cg_cpus && write_str(cg->path, "cpu.max", cpu) < 0 &&
	     sbx_err_sys(err, NULL, "cgroup %s: set cpu.max", cg->path)) ||
	    write_str(cg->path, "cgroup.procs", "0") < 0) {
		if (!err || !err->msg[0])
			sbx_err_sys(err, NULL, "cgroup %s: move the sandbox in", cg->path);
		sbx_cgroup_leave(cg);
		return -1;
	}
	return 0;
}

static uint64_t read_u64(int dfd, const char *file, const char *key)
{
	char buf[4096], *p;
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	if (!key)
		return strtoull(buf, NULL, 10);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t klen = strlen(key);

		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	}
	return 0;
}

void sbx_cgroup_report(const struct sbx_cgroup *cg, int json)
{
	uint64_t peak, max, ooms, usage, throttled, pids;
	char maxs[32] = "max";

	if (!cg->path[0] || cg->fd < 0)
		return;
	peak = read_u64(cg->fd, "memory.peak", NULL);
	max = read_u64(cg->fd, "memory.max", NULL);
	ooms = read_u64(cg->fd, "memory.events", "oom_kill");
	usage = read_u64(cg->fd, "cpu.stat", "usage_usec");
	throttled = read_u64(cg->fd, "cpu.stat", "throttled_usec");
	pids = read_u64(cg->fd, "pids.peak", NULL);
	if (max)
		snprintf(maxs, sizeof(maxs), "%.1f MiB", (double)max / 1048576.0);
	if (json)
		fprintf(stderr, "{\"sandbox_report\":{\"memory_peak\":%" PRIu64 ",\"memory_max\":%" PRIu64
			",\"oom_kills\":%" PRIu64 ",\"cpu_usec\":%" PRIu64 ",\"cpu_throttled_usec\":%" PRIu64
			",\"pids_peak\":%" PRIu64 "}}\n", peak, max, ooms, usage, throttled, pids);
	else
		fprintf(stderr, "sandbox: report: memory peak %.1f MiB (max %s), oom kills %" PRIu64
			", cpu %.2f s (throttled %.2f s), pids peak %" PRIu64 "\n",
			(double)peak / 1048576.0, maxs, ooms, (double)usage / 1e6,
			(double)throttled / 1e6, pids);
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
