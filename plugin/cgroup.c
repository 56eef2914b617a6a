#include "plugin.h"
#include "util/cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Under Slurm the tasks stay in Slurm's own cgroups (proctrack, signals and
 * accounting look there), so the sandbox's limits go into each task's
 * cgroup, task_N, from slurmstepd as root (task_post_fork): Slurm writes
 * its step limits one level up and never touches task_N, and the effective
 * limit is the lowest along the path. Where the user asked for nothing, the
 * step's own memory limit is copied down, so that /sys/fs/cgroup/memory.max
 * inside the sandbox (the view of task 0's cgroup) shows the job's
 * allocation. */

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
		if (sbx_cgfs_read(prefix, "cgroup.controllers", have, sizeof(have)) < 0 ||
		    !sbx_cgfs_has_word(have, "pids"))
			return -1;
		if (sbx_cgfs_read(prefix, "cgroup.subtree_control", on, sizeof(on)) < 0)
			return -1;
		if (!sbx_cgfs_has_word(on, "pids") && sbx_cgfs_write(prefix, "cgroup.subtree_control", "+pids") < 0)
			return -1;
		slash = strchr(slash + 1, '/');
		if (!slash || !strchr(slash + 1, '/'))
			break;
	}
	/* The task's own parent too. */
	memcpy(prefix, task_path, (size_t)(strrchr(task_path, '/') - task_path));
	prefix[strrchr(task_path, '/') - task_path] = '\0';
	if (sbx_cgfs_read(prefix, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return -1;
	if (!sbx_cgfs_has_word(on, "pids") && sbx_cgfs_write(prefix, "cgroup.subtree_control", "+pids") < 0)
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
		if (sbx_cgfs_read(dir, "memory.max", buf, sizeof(buf)) == 0 && strcmp(buf, "max") != 0) {
			uint64_t v = strtoull(buf, NULL, 10);

			if (v && (!low || v < low))
				low = v;
		}
	}
	return low;
}

void sbx_slurm_cgroup_report(const char *task_path, int task, const char *how)
{
	struct sbx_cgstats st;
	char path[PATH_MAX], line[512];
	int fd;

	snprintf(path, sizeof(path), SBX_CGROOT "%s", task_path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	sbx_cgfs_stats(fd, &st);
	close(fd);
	sbx_cgfs_format(&st, task, how && strcmp(how, "json") == 0, line, sizeof(line));
	/* Always in slurmd's log; on the job's stderr when asked for, or when
	 * the task met the OOM killer. */
	slurm_info("%s", line);
	if (how ? strcmp(how, "none") != 0 : st.oom_kills > 0)
		slurm_spank_log("%s", line);
}

int sbx_slurm_cgroup_apply(pid_t pid, const struct sbx_limits *l, struct sbx_err *err)
{
	char path[PATH_MAX], num[64];
	uint64_t memory = l->memory;

	if (!sbx_cgfs_v2())
		return 1;
	if (sbx_cgfs_of(pid, path, sizeof(path)) < 0)
		return sbx_err_sys(err, NULL, "cgroup of task %d", (int)pid);

	if (!memory)
		memory = inherited_memory(path);
	if (memory) {
		snprintf(num, sizeof(num), "%" PRIu64, memory);
		if (sbx_cgfs_write(path, "memory.max", num) < 0)
			return sbx_err_sys(err, NULL, "cgroup %s: memory.max", path);
	}
	if (l->swap_set) {
		snprintf(num, sizeof(num), "%" PRIu64, l->swap);
		if (sbx_cgfs_write(path, "memory.swap.max", num) < 0)
			return sbx_err_sys(err, NULL, "cgroup %s: memory.swap.max", path);
	}
	if (l->cpus) {
		snprintf(num, sizeof(num), "%" PRIu32 " 100000", l->cpus * 100);
		if (sbx_cgfs_write(path, "cpu.max", num) < 0)
			return sbx_err_sys(err, "is the cpu controller enabled (ConstrainCores)?",
					   "cgroup %s: cpu.max", path);
	}
	if (l->pids) {
		snprintf(num, sizeof(num), "%" PRIu64, l->pids);
		if (enable_pids(path) < 0 || sbx_cgfs_write(path, "pids.max", num) < 0)
			return sbx_err_sys(err, "the pids controller must be available to Slurm's cgroups",
					   "cgroup %s: pids.max", path);
	}
	return 0;
}
