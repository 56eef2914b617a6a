/* sandbox-helper builds a sandbox from a plan and monitors it; its static
 * companion sandbox-exec (shim/) joins it and starts each command. */
#ifndef SBX_HELPER_H
#define SBX_HELPER_H

#include <stdint.h>
#include <sys/types.h>
#include "util/caps.h"
#include "util/error.h"
#include "util/failpoint.h"
#include "spec/plan.h"
#include "launch/runconf.h"
#include "image/import.h"


/* cgroup.c: the sandbox's own cgroup v2 (standalone sandboxes). */
struct sbx_cgroup {
	char path[1024];     /* below /sys/fs/cgroup; "" when the sandbox has none */
	char origin[1024];   /* the helper's cgroup before */
	/* Opened before the namespaces: after pivot_root the helper's own
	 * /sys/fs/cgroup is the sandbox's view, not the host's. */
	int fd;              /* the sandbox's cgroup directory, or -1 */
	int parent_fd;
	int origin_fd;
};
/* Before the namespaces: create it, set the limits, move in. No cgroup is
 * fine (path stays ""), unless limits are asked and the policy says error. */
int sbx_cgroup_enter(const struct sbx_plan *plan, struct sbx_cgroup *cg, struct sbx_err *err);
/* One line on stderr: peak memory, OOM kills, CPU and throttled time, pids. */
void sbx_cgroup_report(const struct sbx_cgroup *cg, int json);
void sbx_cgroup_leave(struct sbx_cgroup *cg);

/* userns.c: map uid/gid (0 with remap_root) after unshare(CLONE_NEWUSER). */
int sbx_userns_setup(const struct sbx_plan *plan, struct sbx_err *err);

/* rootfs.c: everything from "/ private" to pivot_root, run by the sandbox's
 * pid 1 (only a process inside the new pid namespace may mount its /proc).
 * The image is img->dir, or the squashfs mount img->mnt_fd. */
int sbx_rootfs_build(const struct sbx_plan *plan, const struct sbx_image *img, int own_cgroup,
		     struct sbx_err *err);

/* squashfs.c: a squashfs image served by squashfuse through a FUSE mount
 * made in the sandbox's user namespace (after unshare, before the pid
 * namespace: the daemon must not become its pid 1). */
struct sbx_fuse {
	pid_t pid;      /* the squashfuse daemon, 0 if none */
	int mnt_fd;     /* the detached mount (fsmount), -1 if none */
};
int sbx_squashfs_mount(const char *image, const char *what, struct sbx_fuse *f, struct sbx_err *err);
/* After the sandbox is gone: stop the daemon and reap it. */
void sbx_squashfs_stop(struct sbx_fuse *f);

/* mounts.c: open path inside root_fd with flags (O_PATH for a mount
 * target); symlinks are resolved but cannot leave the root. */
int sbx_open_in_root(int root_fd, const char *path, int flags, struct sbx_err *err);
/* Like sbx_open_in_root(O_PATH), creating what is missing (directories,
 * and a final file when want_file), one component at a time, each resolved
 * in the root again: for mount points below the sandbox's own /tmp or /dev,
 * which cover the skeleton's. */
int sbx_make_in_root(int root_fd, const char *path, int want_file, struct sbx_err *err);
/* A detached recursive clone of the mount tree at path (relative to dirfd;
 * "" for dirfd itself), taken now: a host path the sandbox's own scratch
 * tmpfs will later cover (/tmp) keeps its original content. */
int sbx_clone_tree(int dirfd, const char *path, const char *what, struct sbx_err *err);
/* Flags of a bind: read-write and nodev unless these say otherwise. */
#define SBX_BIND_RO  1  /* read-only */
#define SBX_BIND_DEV 2  /* a device node bound from the host: no nodev, so it can be opened */
/* Attach a clone made by sbx_clone_tree onto dst_fd (flags as sbx_bind_fd). */
int sbx_attach_tree(int tree, int dst_fd, int flags, const char *what, struct sbx_err *err);
/* Attach a recursive clone of the mount tree at src_fd onto dst_fd, always
 * nosuid, and nodev unless flags has SBX_BIND_DEV; read-only with
 * SBX_BIND_RO. Applies to every submount. */
int sbx_bind_fd(int src_fd, int dst_fd, int flags, const char *what,
		struct sbx_err *err);
/* Make the whole tree at fd read-only (recursively), nosuid, nodev. */
int sbx_set_readonly(int fd, const char *what, struct sbx_err *err);
/* Mount a fresh filesystem onto dst_fd. */
int sbx_mount_fs_at(int dst_fd, const char *fstype, unsigned long flags,
		    const char *data, const char *what, struct sbx_err *err);

/* skel.c: make path exist in the sandbox through the skeleton layer. */
enum sbx_skel_kind {
	SBX_SKEL_DIR,        /* a directory, unless the image has one */
	SBX_SKEL_FILE,       /* a file, unless the image has something there */
	SBX_SKEL_OWN_FILE,   /* always our own file, hiding the image's (etc files) */
};
int sbx_skel_add(int skel_fd, int image_fd, const char *path, enum sbx_skel_kind kind,
		 struct sbx_err *err);
/* The same as SBX_SKEL_OWN_FILE, its file left open for writing (the fd). */
int sbx_skel_own_file(int skel_fd, int image_fd, const char *path, struct sbx_err *err);

/* dev.c: /dev as a tmpfs with the usual nodes bound from the host. */
int sbx_dev_setup(int root_fd, const struct sbx_plan *plan, struct sbx_err *err);

/* etc.c: passwd, group, hosts, resolv.conf, hostname, without touching the
 * image. sbx_etc_skel writes them into the skeleton layer before the
 * overlay exists; a named sandbox, whose upper layer may hold an earlier
 * step's edits, gets placeholders there and sbx_etc_setup once the root is
 * up (image_fd: its root, read where the root shows a placeholder). */
int sbx_etc_skel(int skel_fd, int image_fd, const struct sbx_plan *plan, struct sbx_err *err);
int sbx_etc_setup(int root_fd, int image_fd, int files_fd, const struct sbx_plan *plan,
		  struct sbx_err *err);
/* The files sbx_etc_skel and sbx_etc_setup write (NULL-terminated). */
extern const char *const sbx_etc_files[];

/* net.c: bring up lo in a fresh network namespace. */
int sbx_net_loopback_up(struct sbx_err *err);

/* seccomp.c: compile the plan's filter into BPF (libseccomp) and write it
 * to fd. */
int sbx_seccomp_compile(const struct sbx_plan *plan, int fd, struct sbx_err *err);

/* seccomp-default.c: the plan's filter to fd: the one compiled at build time
 * when the plan has the built-in deny list, else sbx_seccomp_compile. */
int sbx_seccomp_export(const struct sbx_plan *plan, int fd, struct sbx_err *err);

/* devices.c: the site's device globs and host files ([devices], [binds]),
 * added to plan->binds for this job's variables (after sbx_plan_build). */
int sbx_site_apply(const struct sbx_policy *pol, struct sbx_plan *plan, struct sbx_err *err);

/* fakeroot.c: with remap-root and a writable root, tell apt (if the image
 * has it) not to switch to its _apt user, through the skeleton layer. */
int sbx_fakeroot_skel(int skel_fd, int image_fd, const struct sbx_plan *plan, struct sbx_err *err);

/* save.c: write the named sandbox's root (plan->persist's layer over the
 * image) to out as a squashfs the user owns; before any namespace. */
int sbx_save_root(const struct sbx_plan *plan, const struct sbx_image *img, const char *out,
		  struct sbx_err *err);

/* attach-record.c: remove the record plugin/attach.c left in a named
 * sandbox's directory (persist_fd, or -1) for this helper; withdraw: that,
 * then one byte on the control fd, before the sandbox is ended. */
void sbx_attach_forget(int persist_fd);
void sbx_attach_withdraw(int persist_fd, int control_fd);

/* hooks.c: the site's hooks ([hooks] dir), taken on the host before any
 * namespace (root's only, kept as fds), run by pid 1 before pivot_root with
 * the new root at rootfs. */
int sbx_hooks_open(const struct sbx_policy *pol, struct sbx_err *err);
int sbx_hooks_run(const char *rootfs, struct sbx_err *err);

/* init.c: pid 1 of the sandbox: reap until killed. Never returns. */
void sbx_init_loop(void) __attribute__((noreturn));

#endif
