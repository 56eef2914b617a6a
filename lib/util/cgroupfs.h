/* cgroup v2 files, shared by the helper (standalone sandboxes) and the
 * plugin (Slurm's task cgroups). Paths are below /sys/fs/cgroup ("" is the
 * root), as /proc/PID/cgroup gives them. */
#ifndef SBX_CGROUPFS_H
#define SBX_CGROUPFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_CGROOT "/sys/fs/cgroup"

/* 1 on a cgroup v2-only host. */
int sbx_cgfs_v2(void);
/* The cgroup of pid (0: this process); -1 if not cgroup v2. */
int sbx_cgfs_of(pid_t pid, char *path, size_t len);
int sbx_cgfs_write(const char *dir, const char *file, const char *value);
/* The whole file, NUL-terminated; from a directory fd (dirfd >= 0) or a path. */
int sbx_cgfs_read_at(int dirfd, const char *file, char *buf, size_t len);
int sbx_cgfs_read(const char *dir, const char *file, char *buf, size_t len);
/* 1 when the blank-separated list holds word. */
int sbx_cgfs_has_word(const char *list, const char *word);

/* What a cgroup used, for the end-of-sandbox report. */
struct sbx_cgstats {
	uint64_t memory_peak, memory_max, oom_kills, cpu_usec, cpu_throttled_usec, pids_peak;
};
void sbx_cgfs_stats(int dirfd, struct sbx_cgstats *st);
/* One line: "sandbox: report: [task N: ]memory peak ..." or the JSON form
 * (task < 0: no task field). */
void sbx_cgfs_format(const struct sbx_cgstats *st, int task, int json, char *buf, size_t len);

#endif
