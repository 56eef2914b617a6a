#include "util/cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define CGROUP2_MAGIC 0x63677270

int sbx_cgfs_v2(void)
{
	struct statfs sf;

	return statfs(SBX_CGROOT, &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
}

int sbx_cgfs_read_at(int dirfd, const char *file, char *buf, size_t len)
{
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int sbx_cgfs_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), SBX_CGROOT "%s/%s", dir, file) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return sbx_cgfs_read_at(AT_FDCWD, path, buf, len);
}

int sbx_cgfs_write(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	ssize_t len = (ssize_t)strlen(value);
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), SBX_CGROOT "%s/%s", dir, file) >= sizeof(path)) {
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

int sbx_cgfs_of(pid_t pid, char *path, size_t len)
{
	char buf[PATH_MAX + 16], proc[64];

	snprintf(proc, sizeof(proc), pid > 0 ? "/proc/%d/cgroup" : "/proc/self/cgroup", (int)pid);
	if (sbx_cgfs_read_at(AT_FDCWD, proc, buf, sizeof(buf)) < 0)
		return -1;
	/* cgroup v2 only: a single "0::/path" line. */
	if (strncmp(buf, "0::/", 4) != 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf + 3, "/") == 0)
		buf[3] = '\0';
	if (strlen(buf + 3) >= len)
		return -1;
	memcpy(path, buf + 3, strlen(buf + 3) + 1);
	return 0;
}

int sbx_cgfs_has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return 1;
	return 0;
}

/* A plain number file, or the value of "key N" in a keyed file; 0 if absent
 * (memory.peak and pids.peak are missing on older kernels). */
static uint64_t value_of(int dirfd, const char *file, const char *key)
{
	char buf[4096];
	size_t klen = key ? strlen(key) : 0;

	if (sbx_cgfs_read_at(dirfd, file, buf, sizeof(buf)) < 0)
		return 0;
	if (!key)
		return strtoull(buf, NULL, 10);
	for (char *p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

void sbx_cgfs_stats(int dirfd, struct sbx_cgstats *st)
{
	st->memory_peak = value_of(dirfd, "memory.peak", NULL);
	st->memory_max = value_of(dirfd, "memory.max", NULL);
	st->oom_kills = value_of(dirfd, "memory.events", "oom_kill");
	st->cpu_usec = value_of(dirfd, "cpu.stat", "usage_usec");
	st->cpu_throttled_usec = value_of(dirfd, "cpu.stat", "throttled_usec");
	st->pids_peak = value_of(dirfd, "pids.peak", NULL);
}

void sbx_cgfs_format(const struct sbx_cgstats *st, int task, int json, char *buf, size_t len)
{
	char taskpart[32] = "", max[32] = "max";

	if (json) {
		if (task >= 0)
			snprintf(taskpart, sizeof(taskpart), "\"task\":%d,", task);
		snprintf(buf, len, "{\"sandbox_report\":{%s\"memory_peak\":%" PRIu64
			 ",\"memory_max\":%" PRIu64 ",\"oom_kills\":%" PRIu64 ",\"cpu_usec\":%" PRIu64
			 ",\"cpu_throttled_usec\":%" PRIu64 ",\"pids_peak\":%" PRIu64 "}}", taskpart,
			 st->memory_peak, st->memory_max, st->oom_kills, st->cpu_usec,
			 st->cpu_throttled_usec, st->pids_peak);
		return;
	}
	if (task >= 0)
		snprintf(taskpart, sizeof(taskpart), "task %d: ", task);
	if (st->memory_max)
		snprintf(max, sizeof(max), "%.1f MiB", (double)st->memory_max / 1048576.0);
	snprintf(buf, len, "sandbox: report: %smemory peak %.1f MiB (max %s), oom kills %" PRIu64
		 ", cpu %.2f s (throttled %.2f s), pids peak %" PRIu64, taskpart,
		 (double)st->memory_peak / 1048576.0, max, st->oom_kills,
		 (double)st->cpu_usec / 1e6, (double)st->cpu_throttled_usec / 1e6, st->pids_peak);
}
