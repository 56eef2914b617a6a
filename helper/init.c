#include "helper.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* pid 1 of the sandbox. Commands are children of their shims (outside the
 * pid namespace), so what reaches pid 1 are orphans: reap them so no zombie
 * piles up. The sandbox ends when the helper kills pid 1, which makes the
 * kernel kill everything left in the namespace. Signals from inside cannot
 * reach pid 1: the kernel drops signals to a namespace's init that it has
 * no handler for. */
void sbx_init_loop(void)
{
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pid_t pid = waitpid(-1, NULL, 0);

		if (pid < 0 && errno == ECHILD) {
			/* Nothing to reap yet: wait for the next orphan. */
			siginfo_t si;

			sigwaitinfo(&all, &si);
		}
	}
}
