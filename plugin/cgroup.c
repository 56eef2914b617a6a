#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Under Slurm the tasks stay in Slurm's own cgroups (proctrack, signals and
 * accounting look there), so the sandbox's limits go into each task's
 * cgroup, task_N, from slurmstepd as root (task_post_fork): Slurm writes
 * its step limits one level up and never touches task_N, and the effective
 * limit is the lowest along the path. Where the user asked for nothing, the
 * step's own memory limit is copied down, so that /sys/fs/cgroup/memory.max
 * inside the sandbox (the view of task 0's cgroup) shows the job's
 * allocation. */

#define CGROOT "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270

static int cg_write(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	ssize_t len = (ssize_t)strlen(value);
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), CGROOT "%s/%s", dir, file) >= sizeof(path))
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, value, (size_t)len) != len)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static int cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), CGROOT "%s/%s", dir, file) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int cg_read_all(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), CGROOT "%s/%s", dir, file) >= sizeof(path))
		return -1;
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

static int has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return 1;
	return 0;
}

/* pids is not among the controllers Slurm 22.05 enables: turn it on from
 * the root down to the task's parent (Slurm only ever adds controllers). */
static int enable_pids(const char *task_path)
{
	char prefix[PATH_MAX], have[256], on[256];
	const char *slash = task_path;

	for (;;) {
		size_t len = (size_t)(slash - task_path);

		memcpy(prefix, task_path, len);
		prefix[len] = '\0';
		if (cg_read(prefix, "cgroup.controllers", have, sizeof(have)) < 0 ||
		    !has_word(have, "pids"))
			return -1;
		if (cg_read(prefix, "cgroup.subtree_control", on, sizeof(on)) < 0)
			return -1;
		if (!has_word(on, "pids") && cg_write(prefix, "cgroup.subtree_control", "+pids") < 0)
			return -1;
		slash = strchr(slash + 1, '/');
		if (!slash || !strchr(slash + 1, '/'))
			break;
	}
	/* The task's own parent too. */
	memcpy(prefix, task_path, (size_t)(strrchr(task_path, '/') - task_path));
	prefix[strrchr(task_path, '/') - task_path] = '\0';
	if (cg_read(prefix, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return -1;
	if (!has_word(on, "pids") && cg_write(prefix, "cgroup.subtree_control", "+pids") < 0)
		return -1;
	return 0;
}

/* The lowest memory.max above the task (Slurm's step or job limit). */
static uint64_t inherited_memory(const char *task_path)
{
	char dir[PATH_MAX], buf[64];
	uint64_t low = 0;

	snprintf(dir, sizeof(dir), "%s", task_path);
	for (char *slash = strrchr(dir, '/'); slash && slash != dir; slash = strrchr(dir, '/')) {
		*slash = '\0';
		if (cg_read(dir, "memory.max", buf, sizeof(buf)) == 0 && strcmp(buf, "max") != 0) {
			uint64_t v = strtoull(buf, NULL, 10);

			if (v && (!low || v < low))
				low = v;
		}
	}
	return low;
}

static uint64_t read_key(const char *dir, const char *file, const char *key)
{
	char buf[2048];
	size_t klen = key ? strlen(key) : 0;

	if (cg_read_all(dir, file, buf, sizeof(buf)) < 0)
		return 0;
	if (!key)
		return strtoull(buf, NULL, 10);
	for (char *p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

void sbx_slurm_cgroup_report(const char *task_path, int task, const char *how)
{
	uint64_t peak = read_key(task_path, "memory.peak", NULL);
	uint64_t max = read_key(task_path, "memory.max", NULL);
	uint64_t ooms = read_key(task_path, "memory.events", "oom_kill");
	uint64_t usage = read_key(task_path, "cpu.stat", "usage_usec");
	uint64_t throttled = read_key(task_path, "cpu.stat", "throttled_usec");
	uint64_t pids = read_key(task_path, "pids.peak", NULL);
	char line[512];

	if (how && strcmp(how, "json") == 0)
		snprintf(line, sizeof(line), "{\"sandbox_report\":{\"task\":%d,\"memory_peak\":%" PRIu64
			 ",\"memory_max\":%" PRIu64 ",\"oom_kills\":%" PRIu64 ",\"cpu_usec\":%" PRIu64
			 ",\"cpu_throttled_usec\":%" PRIu64 ",\"pids_peak\":%" PRIu64 "}}",
			 task, peak, max, ooms, usage, throttled, pids);
	else
		snprintf(line, sizeof(line), "sandbox: report: task %d: memory peak %.1f MiB (max %.1f MiB), "
			 "oom kills %" PRIu64 ", cpu %.2f s (throttled %.2f s), pids peak %" PRIu64,
			 task, (double)peak / 1048576.0, (double)max / 1048576.0, ooms,
			 (double)usage / 1e6, (double)throttled / 1e6, pids);
	/* Always in slurmd's log; on the job's stderr when asked for, or when
	 * the task met the OOM killer. */
	slurm_info("%s", line);
	if (how ? strcmp(how, "none") != 0 : ooms > 0)
		slurm_spank_log("%s", line);
}

int sbx_slurm_cgroup_path(pid_t pid, char *path, size_t len)
{
	char buf[PATH_MAX + 8];
	int fd;
	ssize_t n;

	snprintf(buf, sizeof(buf), "/proc/%d/cgroup", (int)pid);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 3 || strncmp(buf, "0::/", 4) != 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strlen(buf + 3) >= len)
		return -1;
	memcpy(path, buf + 3, strlen(buf + 3) + 1);
	return 0;
}

int sbx_slurm_cgroup_apply(pid_t pid, const struct sbx_limits *l, struct sbx_err *err)
{
	char path[PATH_MAX], num[64];
	struct statfs sf;
	uint64_t memory = l->memory;

	if (statfs(CGROOT, &sf) < 0 || sf.f_type != CGROUP2_MAGIC)
		return 1;
	if (sbx_slurm_cgroup_path(pid, path, sizeof(path)) < 0)
		return sbx_err_sys(err, NULL, "cgroup of task %d", (int)pid);

	if (!memory)
		memory = inherited_memory(path);
	if (memory) {
		snprintf(num, sizeof(num), "%" PRIu64, memory);
		if (cg_write(path, "memory.max", num) < 0)
			return sbx_err_sys(err, NULL, "cgroup %s: memory.max", path);
	}
	if (l->swap_set) {
		snprintf(num, sizeof(num), "%" PRIu64, l->swap);
		if (cg_write(path, "memory.swap.max", num) < 0)
			return sbx_err_sys(err, NULL, "cgroup %s: memory.swap.max", path);
	}
	if (l->cpus) {
		snprintf(num, sizeof(num), "%" PRIu32 " 100000", l->cpus * 100);
		if (cg_write(path, "cpu.max", num) < 0)
			return sbx_err_sys(err, "is the cpu controller enabled (ConstrainCores)?",
					   "cgroup %s: cpu.max", path);
	}
	if (l->pids) {
		snprintf(num, sizeof(num), "%" PRIu64, l->pids);
		if (enable_pids(path) < 0 || cg_write(path, "pids.max", num) < 0)
			return sbx_err_sys(err, "the pids controller must be available to Slurm's cgroups",
					   "cgroup %s: pids.max", path);
	}
	return 0;
}
