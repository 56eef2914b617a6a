/* The other half of plugin/attach.c: a named sandbox's helper removes the
 * record that lets later steps of the job join it, once it stops. A step
 * that starts in between finds the helper gone (or its start time changed)
 * and starts a sandbox of its own. */
#include "helper.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void sbx_attach_forget(const char *persist)
{
	char path[4096], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/helper", persist);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* Only our own record: an attached step's helper is not ours. */
	if (n > 0 && (buf[n] = '\0', atoi(buf) == (int)getpid()))
		unlink(path);
}
