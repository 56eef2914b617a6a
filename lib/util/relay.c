#include "util/relay.h"

#include <signal.h>
#include <sys/wait.h>

int sbx_wait_relaying(pid_t child)
{
	sigset_t set;
	siginfo_t si;
	int status = 0;

	sigfillset(&set);
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo == SIGCHLD) {
			if (waitpid(child, &status, WNOHANG) == child)
				return status;
			continue;
		}
		if (si.si_code <= 0)
			kill(child, si.si_signo);
	}
}
