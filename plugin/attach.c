/* Attaching a step to a named sandbox that another step of the job is
 * running (srun --overlap --jobid=J --sandbox-name=NAME cmd): its tasks
 * join that sandbox's namespaces (pid and mount included) instead of
 * starting one. The step that starts a named sandbox records its helper in
 * the sandbox's directory, as the user (task_init), as "PID STARTTIME";
 * an attaching step reads it back, also as the user, and takes it only if
 * that process still runs sandbox-helper with the same start time (a pid
 * reused since is refused). Root never reads the record: which sandbox a
 * task of the user joins is the user's business (the kernel lets a task
 * join only namespaces of its own user). */
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD "helper"

/* Field 22 of /proc/PID/stat (start time in clock ticks), after the comm,
 * which is in parentheses and may hold anything: parse from the last ')'. */
static int start_time(pid_t pid, unsigned long long *out, char *comm, size_t comm_len)
{
	char path[64], buf[1024], *open_paren, *close_paren, *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	snprintf(comm, comm_len, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	p = close_paren + 2;       /* field 3 */
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -1;
	*out = strtoull(p, NULL, 10);
	return 0;
}

int sbx_attach_find(const char *dir, pid_t *pid)
{
	char path[4096], buf[64], comm[64];
	unsigned long long want, have;
	int fd, rec_pid;
	ssize_t n;

	if (!dir)
		return 0;
	snprintf(path, sizeof(path), "%s/" RECORD, dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%d %llu", &rec_pid, &want) != 2 || rec_pid <= 1)
		return 0;
	if (start_time((pid_t)rec_pid, &have, comm, sizeof(comm)) < 0 || have != want ||
	    strcmp(comm, "sandbox-helper") != 0)
		return 0;
	*pid = (pid_t)rec_pid;
	return 1;
}

void sbx_attach_record(const char *dir, pid_t pid)
{
	char path[4096], tmp[4096], buf[64], comm[64];
	unsigned long long t;
	int fd, len;

	if (!dir || start_time(pid, &t, comm, sizeof(comm)) < 0)
		return;
	snprintf(path, sizeof(path), "%s/" RECORD, dir);
	snprintf(tmp, sizeof(tmp), "%s/." RECORD ".%d", dir, (int)getpid());
	len = snprintf(buf, sizeof(buf), "%d %llu\n", (int)pid, t);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)len) != len || close(fd) < 0 || rename(tmp, path) < 0)
		unlink(tmp);
}
