#include "util/asuser.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	int rc;
	struct sbx_err err;
	char out[SBX_ASUSER_OUT];
};

/* The raw syscalls: glibc's wrappers would try to signal the parent's
 * other threads (setxid broadcast), which the child does not have. */
static int drop(const struct sbx_cred *cred)
{
	if (syscall(SYS_setgroups, cred->ngroups, cred->groups) < 0 ||
	    syscall(SYS_setresgid, cred->gid, cred->gid, cred->gid) < 0 ||
	    syscall(SYS_setresuid, cred->uid, cred->uid, cred->uid) < 0)
		return -1;
	/* Gone for good: no way back to root from here. */
	if (syscall(SYS_setresuid, 0, 0, 0) == 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int sbx_as_user(const struct sbx_cred *cred, int (*fn)(void *arg, char *out, struct sbx_err *err),
		void *arg, char *out_buf, struct sbx_err *err)
{
	struct shared *sh;
	int status, rc = -1;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return sbx_err_sys(err, NULL, "as user %u: shared page", (unsigned)cred->uid);
	sh->rc = -1;
	pid = fork();
	if (pid < 0) {
		sbx_err_sys(err, NULL, "as user %u: fork", (unsigned)cred->uid);
		goto out;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		/* A job of root's own needs no dropping. */
		if (cred->uid != 0 && drop(cred) < 0)
			sbx_err_sys(&sh->err, NULL, "as user %u: drop privileges", (unsigned)cred->uid);
		else
			sh->rc = fn(arg, sh->out, &sh->err) < 0 ? -1 : 0;
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			sbx_err_sys(err, NULL, "as user %u: wait", (unsigned)cred->uid);
			goto out;
		}
	}
	if (!WIFEXITED(status)) {
		sbx_err_set(err, 0, NULL, "as user %u: the worker died (signal %d)",
			    (unsigned)cred->uid, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		goto out;
	}
	rc = sh->rc;
	if (rc < 0)
		*err = sh->err;
	else if (out_buf)
		memcpy(out_buf, sh->out, sizeof(sh->out));
out:
	munmap(sh, sizeof(*sh));
	return rc;
}
