#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_file(const char *path, const char *data, struct sbx_err *err)
{
	size_t len = strlen(data);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return sbx_err_sys(err, "are unprivileged user namespaces enabled? see sandbox-run info",
				   "user namespace %s", path);
	if (write(fd, data, len) != (ssize_t)len)
		rc = sbx_err_sys(err, "see sandbox-run info", "user namespace %s", path);
	if (close(fd) < 0 && rc == 0)
		rc = sbx_err_sys(err, NULL, "user namespace %s", path);
	return rc;
}

/* A single-line map of our own ids needs no privilege (user_namespaces(7)),
 * but the gid map is only accepted after setgroups is denied. */
int sbx_userns_setup(const struct sbx_plan *plan, struct sbx_err *err)
{
	char map[64];
	unsigned inside_uid = plan->remap_root ? 0 : (unsigned)plan->uid;
	unsigned inside_gid = plan->remap_root ? 0 : (unsigned)plan->gid;

	if (write_file("/proc/self/setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", inside_uid, (unsigned)plan->uid);
	if (write_file("/proc/self/uid_map", map, err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", inside_gid, (unsigned)plan->gid);
	return write_file("/proc/self/gid_map", map, err);
}
