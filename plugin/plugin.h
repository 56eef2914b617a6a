/* The SPANK plugin's shared state and the files that act on it:
 *   spank_sandbox.c  entry points, one per callback, dispatching by context
 *   args.c           plugstack.conf arguments, --sandbox-* options, presets
 *   step.c           the remote side: one sandbox per node and step
 *   named.c          named sandboxes: their directories and cleanup
 *   cgroup.c         cgroup v2 limits in the tasks' own (Slurm's) cgroups
 *   kernel-image.c   admin squashfs images mounted by the kernel, as root */
#ifndef SBX_PLUGIN_H
#define SBX_PLUGIN_H

#include <stdint.h>
#include <sys/types.h>
#include <slurm/spank.h>
#include "util/error.h"
#include "spec/request.h"
#include "launch/launch.h"

#define SBX_NAMED_DIR "/var/tmp/slurm-sandbox"

struct sbx_step_shared;

/* The cgroup v2 limits a step's tasks get (0: none of ours). */
struct sbx_limits {
	uint64_t memory;
	uint32_t cpus;           /* thousandths of a CPU */
	uint64_t pids;
	uint64_t swap;
	int swap_set;
	int required;            /* cgroups.when_unavailable = error */
};

struct sbx_plugin {
	/* plugstack.conf arguments */
	char *policy_path;       /* config=FILE: the site policy */
	char *helper;            /* helper=PATH: sandbox-helper (sandbox-exec beside it) */
	char *named_dir;         /* named_dir=DIR: where named sandboxes keep their layer */

	/* what the user asked for */
	struct sbx_request req;
	char *name;              /* --sandbox-name */

	/* remote side */
	int enabled;             /* this step runs in a sandbox */
	char error[SBX_ERR_MAX + 16]; /* a remote failure, reported from task_init */
	uint32_t job_id, step_id, local_tasks;
	struct sbx_limits limits;
	char report[16];         /* SANDBOX_REPORT of the job: "", text, json, none */
	char **task_cgroups;     /* per local task, saved in task_post_fork */
	uid_t uid;
	gid_t gid;
	struct sbx_step_shared *shared;
};

extern struct sbx_plugin sbx_plugin;

/* args.c */
int sbx_args_parse(int ac, char **av);
int sbx_options_register(spank_t sp);
/* Presets from SANDBOX_* variables for what the command line left unset. */
int sbx_options_apply_presets(spank_t sp, struct sbx_err *err);
int sbx_options_wanted(void);
void sbx_plugin_free(void);

/* step.c (remote context) */
int sbx_step_prepare(spank_t sp, struct sbx_err *err);     /* init_post_opt */
int sbx_step_user_init(spank_t sp, struct sbx_err *err);   /* user_init */
int sbx_step_task_init(spank_t sp);                        /* task_init */
void sbx_step_task_post_fork(spank_t sp);                  /* task_post_fork */
void sbx_step_task_exit(spank_t sp);                       /* task_exit */
void sbx_step_exit(void);                                  /* exit */

/* cgroup.c: as root, put the limits into the task's own cgroup. Returns 1
 * when the node has no cgroup v2 (nothing done). */
int sbx_slurm_cgroup_apply(pid_t pid, const struct sbx_limits *l, struct sbx_err *err);
/* What a task used, from its cgroup: slurmd's log, and the job's stderr
 * when how ("text", "json" from SANDBOX_REPORT) asks or the OOM killer came. */
void sbx_slurm_cgroup_report(const char *task_path, int task, const char *how);

/* kernel-image.c: as root, mount an admin's squashfs image with the
 * kernel's driver (images.kernel_squashfs); req->premounted then says so and
 * sbx_kernel_image_fd() is the mount's root, which task 0 hands the helper
 * (SBX_IMAGE_FD): no path of it is ever given out. Anything that does not
 * qualify is left to squashfuse. */
struct sbx_policy;
int sbx_kernel_image_mount(const struct sbx_policy *pol, struct sbx_request *req);
/* The mount fd slurmstepd holds (O_CLOEXEC), -1 if none. */
int sbx_kernel_image_fd(void);
void sbx_kernel_image_umount(void);

/* named.c */
int sbx_named_valid(const char *name, struct sbx_err *err);
/* As root: make named_dir/<uid>/<job>/<name>, owned by the user. */
int sbx_named_prepare(char **path_out, struct sbx_err *err);
/* As root, in the job epilog: remove named_dir/<uid>/<job>. */
int sbx_named_cleanup(uid_t uid, uint32_t job_id, struct sbx_err *err);

/* Log one "sandbox: ..." line where the user sees it. */
void sbx_plugin_report(const struct sbx_err *err);

#endif
