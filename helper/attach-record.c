/* The other half of plugin/attach.c: a named sandbox's helper withdraws
 * the record that lets later steps of the job join it, before it ends the
 * sandbox, and then says so on its control fd. The plugin (root, in the
 * step's last task_exit) waits for that word before the step may end, so
 * the job's next step finds no record of a sandbox that is ending and
 * starts one of its own (plugin/step.c stop_helper). The directory is held
 * by fd: pid 1's pivot_root moves the helper's root with its own. */
#include "helper.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

void sbx_attach_forget(int persist_fd)
{
	char buf[64];
	ssize_t n;
	int fd;

	if (persist_fd < 0)
		return;
	fd = openat(persist_fd, "helper", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* Only our own record: an attached step's helper is not ours. */
	if (n > 0 && (buf[n] = '\0', atoi(buf) == (int)getpid()))
		unlinkat(persist_fd, "helper", 0);
}

void sbx_attach_withdraw(int persist_fd, int control_fd)
{
	sbx_attach_forget(persist_fd);
	/* The plugin's end is a socket (MSG_NOSIGNAL: a peer already gone
	 * must not kill us with SIGPIPE before the sandbox is ended);
	 * sandbox-run's is a pipe (ENOTSOCK), and it waits for our exit. */
	if (control_fd >= 0)
		(void)!send(control_fd, "w", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}
