#include "launch/ready.h"

#include <stdio.h>
#include <string.h>

/* The helper runs as the user and any process of that user may write this
 * record: a pid that is not positive, a cgroup that could climb out of
 * /sys/fs/cgroup, or one with a control character (which the helper's own
 * record never has, and which would reach messages and the shim's
 * environment) is refused (sandbox-run removes the cgroup if the helper
 * could not). */
int sbx_ready_parse(const char *line, pid_t *init_pid, char *cgroup, size_t cgroup_len)
{
	char cg[1024] = "";
	int pid = 0, end = 0;

	if (sscanf(line, "ready %d %1023s%n", &pid, cg, &end) != 2 || line[end] || pid <= 0)
		return -1;
	if (strcmp(cg, "-") == 0)
		cg[0] = '\0';
	else if (cg[0] != '/' || strstr(cg, "/..") || strstr(cg, "//"))
		return -1;
	if (strlen(cg) >= cgroup_len)
		return -1;
	for (const char *c = cg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return -1;
	*init_pid = pid;
	memcpy(cgroup, cg, strlen(cg) + 1);
	return 0;
}
