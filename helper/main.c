#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/cgroupfs.h"
#include "spec/policy.h"
#include "spec/request.h"
#include "launch/launch.h"

/* sandbox-helper, build mode: started by the launch library (lib/launch/
 * launch.h) with the user's request as arguments and its fds: the status
 * pipe (SBX_STATUS_FD), where it writes one record, "ready <init pid>
 * <cgroup|->" or "error <message>" (sbx_status_record); the import progress
 * pipe (SBX_PROGRESS_FD), its stderr while the image is prepared; a control
 * pipe (SBX_CONTROL_FD), when given; and a premounted image's mount
 * (SBX_IMAGE_FD), when the request says premounted. It then stays as the
 * sandbox's monitor until the control pipe closes, "stop" arrives, or
 * SIGTERM. */

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* pid 1: build the root, say so on sync_fd, then reap forever. */
static void run_init(const struct sbx_plan *plan, const struct sbx_image *img, int own_cgroup,
		     pid_t monitor, int sync_fd)
{
	struct sbx_err err = { 0 };
	int null;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != monitor)
		_exit(1);
	if (SBX_FAILPOINT("init.start", &err) < 0)
		goto fail;
	if (plan->net == SBX_NET_NONE && sbx_net_loopback_up(&err) < 0)
		goto fail;
	if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) < 0) {
		sbx_err_sys(&err, NULL, "hostname '%s'", plan->hostname);
		goto fail;
	}
	if (sbx_rootfs_build(plan, img, own_cgroup, &err) < 0)
		goto fail;
	/* Named before "ok": a task may run ps the moment the sandbox is up. */
	prctl(PR_SET_NAME, "sandbox-init", 0, 0, 0);
	if (SBX_FAILPOINT("init.ready", &err) < 0)
		goto fail;
	sbx_status_record(sync_fd, "ok", "%s", "");
	/* Hold nothing of the caller's: no fds, not even its terminal. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	syscall(SYS_close_range, 3U, ~0U, 0);
	/* Nothing inside may ptrace or read pid 1's memory. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sbx_init_loop();
fail:
	sbx_status_record(sync_fd, "error", "%s", err.msg);
	_exit(1);
}

/* The end of a sandbox with a cgroup: what it used, then the cgroup goes.
 * SANDBOX_REPORT=json asks for JSON, =none for nothing. */
static void report_and_leave(struct sbx_cgroup *cg)
{
	const char *how = getenv("SANDBOX_REPORT");

	if (!how || strcmp(how, "none") != 0)
		sbx_cgroup_report(cg, how && strcmp(how, "json") == 0);
	sbx_cgroup_leave(cg);
}

static int monitor_loop(pid_t init, int control_fd, struct sbx_cgroup *cg, int persist_fd)
{
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	sigset_t set;
	int sfd, status;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		goto stop;
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = control_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, control_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto stop;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				/* pid 1 died on its own: the sandbox is gone. */
				if (waitpid(init, &status, WNOHANG) == init) {
					report_and_leave(cg);
					return 1;
				}
				continue;
			}
			goto stop;
		}
		if (control_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[16];
			ssize_t n = read(control_fd, buf, sizeof(buf));

			if (n <= 0 || (n >= 4 && memcmp(buf, "stop", 4) == 0))
				goto stop;
		}
	}
stop:
	/* No step may join a sandbox that is ending: the record goes first,
	 * and the plugin waits for word of it before the step ends. */
	sbx_attach_withdraw(persist_fd, control_fd);
	/* A test's "stop" here holds a stopping sandbox just before its end. */
	(void)SBX_FAILPOINT("helper.stopping", NULL);
	/* Killing pid 1 makes the kernel kill every process of the pid
	 * namespace; the mounts go with the last of them. */
	kill(init, SIGKILL);
	while (waitpid(init, &status, 0) < 0 && errno == EINTR)
		;
	report_and_leave(cg);
	return 0;
}

/* Import progress goes where the launcher relays it: the progress fd,
 * never the status fd (an image's name or a tool's words could then pass
 * for a record). A detached helper (Slurm) has /dev/null as stderr. The
 * progress fd is closed before the record is written: the launcher reads
 * what is in the pipe then, and waits for nothing more. */
static int prepare_image(const struct sbx_policy *pol, const struct sbx_plan *plan,
			 struct sbx_image *img, struct sbx_err *err)
{
	int saved = dup(STDERR_FILENO), rc;

	if (saved < 0 || dup2(SBX_PROGRESS_FD, STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		return sbx_err_sys(err, NULL, "image: redirect progress");
	}
	rc = sbx_image_prepare(pol, plan, img, err);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(SBX_PROGRESS_FD);
	return rc;
}

/* The new mount, ipc, uts, cgroup (and network) namespaces. A premounted
 * image (Slurm's kernel squashfs) is a mount in the host's namespace below
 * a root-only directory, handed over as SBX_IMAGE_FD, its root: standing in
 * it while the mount namespace is unshared puts us in its copy in the new
 * one (copy_mnt_ns moves fs->pwd along), with ro, nosuid and nodev locked;
 * a clone of that is then the image's mount, as squashfuse's would be
 * (rootfs.c attaches img->mnt_fd). overlayfs refuses the mount by
 * /proc/self/fd (ELOOP), hence the clone. */
static int unshare_namespaces(const struct sbx_plan *plan, int flags, struct sbx_image *img,
			      struct sbx_err *err)
{
	char cwd[PATH_MAX];
	int have_cwd = getcwd(cwd, sizeof(cwd)) != NULL, rc = -1;

	if (plan->premounted && fchdir(SBX_IMAGE_FD) < 0) {
		sbx_err_sys(err, NULL, "image '%s': enter the premounted image", plan->image);
		goto out;
	}
	if (unshare(flags) < 0) {
		sbx_err_sys(err, "see sandbox-run info", "namespaces");
		goto out;
	}
	if (plan->premounted) {
		img->mnt_fd = open_tree(AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (img->mnt_fd < 0) {
			sbx_err_sys(err, NULL, "image '%s': clone the premounted image", plan->image);
			goto out;
		}
	}
	rc = 0;
out:
	if (plan->premounted) {
		if ((!have_cwd || chdir(cwd) < 0) && chdir("/") < 0 && rc == 0)
			rc = sbx_err_sys(err, NULL, "chdir /");
		close(SBX_IMAGE_FD);
	}
	return rc;
}

static int build_main(int argc, char **argv)
{
	struct sbx_request req;
	struct sbx_policy pol = { 0 };
	struct sbx_plan plan = { 0 };
	struct sbx_err err = { 0 };
	static struct sbx_cgroup cg = { .fd = -1, .parent_fd = -1, .origin_fd = -1 };
	struct sbx_fuse fuse = { .pid = 0, .mnt_fd = -1 };
	struct sbx_image img;
	char *policy_path = NULL, buf[SBX_ERR_MAX];
	int status_fd = SBX_STATUS_FD, control_fd = -1, sync[2] = { -1, -1 }, persist_fd = -1;
	int argi = 1, rc = 125;
	pid_t parent = 0, init;
	ssize_t n;

	sbx_request_init(&req);
	sbx_image_init(&img);
	if (!fd_is_open(status_fd)) {
		fprintf(stderr, "sandbox: sandbox-helper is started by sandbox-run or the Slurm plugin, not by hand\n");
		return 125;
	}
	fcntl(status_fd, F_SETFD, FD_CLOEXEC);
	if (fd_is_open(SBX_CONTROL_FD)) {
		control_fd = SBX_CONTROL_FD;
		fcntl(control_fd, F_SETFD, FD_CLOEXEC);
	}
	/* No tool the helper runs (skopeo, mksquashfs, squashfuse) gets these. */
	fcntl(SBX_PROGRESS_FD, F_SETFD, FD_CLOEXEC);
	fcntl(SBX_IMAGE_FD, F_SETFD, FD_CLOEXEC);
	if (argc > 1 && strncmp(argv[1], "--die-with-parent=", 18) == 0) {
		parent = (pid_t)strtol(argv[1] + 18, NULL, 10);
		argi = 2;
	}
	/* PDEATHSIG fires when the parent thread dies; check the parent is
	 * still the one we were started by, in case it died already. */
	if (parent > 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent))
		return 125;
	if (sbx_request_parse_helper_args(&req, argc - argi + 1, argv + argi - 1, NULL, &policy_path, &err) < 0 ||
	    sbx_policy_open(&pol, policy_path, policy_path != NULL, &err) < 0 ||
	    sbx_plan_build(&pol, &req, &plan, &err) < 0 ||
	    sbx_site_apply(&pol, &plan, &err) < 0 || sbx_hooks_open(&pol, &err) < 0)
		goto fail;
	if (plan.premounted && (plan.image_kind != SBX_IMAGE_SQUASHFS || !fd_is_open(SBX_IMAGE_FD))) {
		sbx_err_set(&err, 0, "sandbox-helper is started by sandbox-run or the Slurm plugin",
			    "image '%s': premounted, but no squashfs mount was handed over", plan.image);
		goto fail;
	}
	/* Imports run here, as the user, with the host's network and
	 * filesystems, before any namespace exists. */
	if (prepare_image(&pol, &plan, &img, &err) < 0)
		goto fail;
	/* --save: the named sandbox's root as earlier steps left it, before
	 * this step's sandbox mounts (and may write) the same layer. */
	if (req.save && sbx_save_root(&plan, &img, req.save, &err) < 0)
		goto fail;
	/* Into the sandbox's cgroup before the cgroup namespace starts; under
	 * Slurm the tasks' cgroups are Slurm's and the plugin sets the limits
	 * there: the namespace then starts at the helper's (task 0's). */
	if ((!req.cgroup_view && sbx_cgroup_enter(&plan, &cg, &err) < 0) ||
	    SBX_FAILPOINT("helper.cgroup", &err) < 0)
		goto fail;
	/* The named sandbox's directory, for its attach record: by fd, since
	 * pid 1's pivot_root moves our root too (same mount namespace). */
	if (plan.persist && (persist_fd = open(plan.persist, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sbx_err_sys(&err, NULL, "persist '%s'", plan.persist);
		goto fail;
	}
	if (unshare(CLONE_NEWUSER) < 0) {
		sbx_err_sys(&err, "are unprivileged user namespaces enabled? see sandbox-run info",
			    "user namespace");
		goto fail;
	}
	if (SBX_FAILPOINT("ns.user", &err) < 0 || sbx_userns_setup(&plan, &err) < 0 ||
	    SBX_FAILPOINT("ns.user-map", &err) < 0)
		goto fail;
	if (unshare_namespaces(&plan, CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
			       (plan.net == SBX_NET_NONE ? CLONE_NEWNET : 0), &img, &err) < 0 ||
	    SBX_FAILPOINT("ns.mount", &err) < 0)
		goto fail;
	if (img.squashfs) {
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "image '%s'", plan.image);
		if (sbx_squashfs_mount(img.squashfs, what, &fuse, &err) < 0)
			goto fail;
		img.mnt_fd = fuse.mnt_fd;
		fuse.mnt_fd = -1;
		if (SBX_FAILPOINT("squashfs.mounted", &err) < 0)
			goto fail;
	}
	/* Last: the next child is the sandbox's pid 1. */
	if (unshare(CLONE_NEWPID) < 0) {
		sbx_err_sys(&err, "see sandbox-run info", "pid namespace");
		goto fail;
	}
	if (SBX_FAILPOINT("ns.pid", &err) < 0)
		goto fail;
	if (pipe2(sync, O_CLOEXEC) < 0) {
		sbx_err_sys(&err, NULL, "pipe");
		goto fail;
	}
	init = fork();
	if (init < 0) {
		sbx_err_sys(&err, NULL, "fork the sandbox's init");
		goto fail;
	}
	if (init == 0) {
		close(sync[0]);
		run_init(&plan, &img, cg.path[0] != '\0' || (req.cgroup_view && sbx_cgfs_v2()),
			 getppid(), sync[1]);
	}
	close(sync[1]);
	sync[1] = -1;
	n = read(sync[0], buf, sizeof(buf) - 1);
	if (n < 4 || memcmp(buf, "ok \n", 4) != 0) {
		int st;

		if (n > 6 && strncmp(buf, "error ", 6) == 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			sbx_err_set(&err, 0, NULL, "%s", buf + 6);
		} else {
			sbx_err_set(&err, 0, NULL, "sandbox init exited before the sandbox was ready");
		}
		kill(init, SIGKILL);
		waitpid(init, &st, 0);
		goto fail;
	}
	close(sync[0]);
	sync[0] = -1;
	/* No pid of ours: the launcher has it from fork, and a caller running
	 * as root takes no pid from us at all. */
	sbx_status_record(status_fd, "ready", "%d %s", (int)init, cg.path[0] ? cg.path : "-");
	close(status_fd);
	/* pid 1 attached the mount; the monitor keeps only the cache entry's
	 * lock (the image is in use until the sandbox is gone). */
	if (img.mnt_fd >= 0) {
		close(img.mnt_fd);
		img.mnt_fd = -1;
	}
	/* A test's "stop" here stops a running sandbox's monitor. */
	(void)SBX_FAILPOINT("helper.running", &err);
	rc = monitor_loop(init, control_fd, &cg, persist_fd);
	/* pid 1 may have ended on its own: the record goes with it. */
	sbx_attach_forget(persist_fd);
	goto out;
fail:
	sbx_status_record(status_fd, "error", "%s", err.msg);
	sbx_cgroup_leave(&cg);
	rc = 125;
out:
	if (persist_fd >= 0)
		close(persist_fd);
	sbx_squashfs_stop(&fuse);
	sbx_image_release(&img);
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	sbx_plan_free(&plan);
	sbx_policy_free(&pol);
	sbx_request_free(&req);
	free(policy_path);
	return rc;
}

#ifdef __SANITIZE_ADDRESS__
/* LeakSanitizer checks at exit from a thread it creates, and a process
 * that has unshared its pid namespace can no longer create threads (clone
 * with CLONE_VM fails): the monitor would die with "LeakSanitizer has
 * encountered a fatal error". Leaks are checked in sandbox-run and the unit
 * tests, which run the same library code. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

int main(int argc, char **argv)
{
	return build_main(argc, argv);
}
