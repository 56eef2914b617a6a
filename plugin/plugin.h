/* The SPANK plugin's shared state and the files that act on it:
 *   spank_sandbox.c  entry points, one per callback, dispatching by context
 *   args.c           plugstack.conf arguments, --sandbox-* options, presets
 *   step.c           the remote side: one sandbox per node and step
 *   named.c          named sandboxes: their directories and cleanup
 *   spank_sandbox_named.c  the companion plugin: the job epilog's cleanup
 *   attach.c         steps that join a named sandbox another step runs
 *   cache-dir.c      the users' directories in a shared image cache, made by root
 *   cgroup.c         cgroup v2 limits in the tasks' own (Slurm's) cgroups
 *   kernel-image.c   admin squashfs images mounted by the kernel, as root
 *   slurm-client.c   the host's Slurm client inside a sandboxed batch script
 *   mpi.c            the step's PMIx server directory, checked and bound for the ranks */
#ifndef SBX_PLUGIN_H
#define SBX_PLUGIN_H

#include <stdint.h>
#include <sys/types.h>
#include <slurm/spank.h>
#include <slurm/slurm_version.h>
#include "util/error.h"
#include "util/failpoint.h"
#include "spec/request.h"
#include "launch/launch.h"
#include "util/asuser.h"
#include "util/strv.h"

/* Slurm 24.11 added spank_prepend_task_argv (step.c wrap_task). */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(24, 11, 0)
#define SBX_SLURM_PREPEND_ARGV 1
#else
#define SBX_SLURM_PREPEND_ARGV 0
#endif

/* Root's: a user must not be able to make it first (util/rootdir.h). */
#define SBX_NAMED_DIR "/var/lib/slurm-sandbox/named"

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
	struct sbx_cred cred;    /* the job's user: uid, gid, groups */
	gid_t *groups;           /* cred.groups, ours to free */
	struct sbx_step_shared *shared;
	struct sbx_strv site_vars; /* variables the policy's *_if_set items test: the helper gets them */
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

/* attach.c (as the user, in task_init): the helper of the named sandbox in
 * dir that another step of the job runs, if any (1 and *pid), and the
 * record a starting step leaves for them. */
int sbx_attach_find(const char *dir, pid_t *pid);
void sbx_attach_record(const char *dir, pid_t pid);

/* cgroup.c: as root, put the limits into the task's own cgroup. Returns 1
 * when the node has no cgroup v2 (nothing done). */
int sbx_slurm_cgroup_apply(pid_t pid, const struct sbx_limits *l, struct sbx_err *err);
/* What a task used, from its cgroup: slurmd's log, and the job's stderr
 * when how ("text", "json" from SANDBOX_REPORT) asks or the OOM killer came. */
void sbx_slurm_cgroup_report(const char *task_path, int task, const char *how);

/* kernel-image.c: as root, mount an admin's squashfs image with the
 * kernel's driver (images.kernel_squashfs) when the job's user may read it;
 * req->premounted is then set and sbx_kernel_image_fd() is the mount the
 * helper gets. Anything that does not qualify is left to squashfuse; -1
 * (err set) when the user may not read an admin image. */
struct sbx_policy;
int sbx_kernel_image_mount(const struct sbx_policy *pol, struct sbx_request *req,
			   const struct sbx_cred *cred, struct sbx_err *err);
/* The mount fd slurmstepd holds (O_CLOEXEC), -1 if none. */
int sbx_kernel_image_fd(void);
void sbx_kernel_image_umount(void);

/* cache-dir.c: as root, make the user's directory in a root-owned
 * images.cache_dir (so no other user can take its name first). */
int sbx_cache_dir_prepare(const struct sbx_policy *pol, const struct sbx_cred *cred,
			  struct sbx_err *err);

/* named.c */
int sbx_named_valid(const char *name, struct sbx_err *err);
/* As root: named_dir/<uid> (root's side), then, as the user, <job>/<name>
 * and its recorded image: written when image is given, else read back into
 * *image_out (malloc'd). *path_out names the sandbox's directory. */
int sbx_named_prepare(const struct sbx_cred *cred, const char *image, char **image_out,
		      char **path_out, struct sbx_err *err);
/* 0 when spank_sandbox_named.so (the epilog's cleanup) is loaded beside
 * this plugin; else -1 with a line that says to list it. */
/* The companion plugin's file name, beside this plugin (spank_sandbox_named.c). */
#define SBX_NAMED_COMPANION "spank_sandbox_named.so"
int sbx_named_companion_check(struct sbx_err *err);
/* As root, in the job epilog: remove named_dir/<uid>/<job>, as the user. */
int sbx_named_cleanup(uid_t uid, uint32_t job_id, struct sbx_err *err);

/* slurm-client.c: as root, the read-only binds that give a batch step's
 * sandbox the host's srun, sbatch, ... ([slurm] client of the policy). */
int sbx_slurm_client_binds(const struct sbx_policy *pol, struct sbx_request *req,
			   struct sbx_err *err);

/* mpi.c: in the task, as the user: the step's PMIx server directory
 * (PMIX_* of the task's environment), bound at its own path once it is
 * proven to be the one Slurm made for this step; -1 (err set) for a
 * PMIX_* directory that is not it or below it. */
int sbx_mpi_binds(spank_t sp, struct sbx_request *req, struct sbx_err *err);

/* Log one "sandbox: ..." line where the user sees it. */
void sbx_plugin_report(const struct sbx_err *err);

#ifdef SBX_FAILPOINTS
/* A test build: slurmstepd's environment is slurmd's, so the failure point
 * (util/failpoint.h) comes from the job's. */
static inline void sbx_failpoint_from_job(spank_t sp)
{
	char spec[256] = "";

	if (spank_getenv(sp, "SBX_FAILPOINT", spec, sizeof(spec)) != ESPANK_SUCCESS)
		spec[0] = '\0';
	sbx_failpoint_set(spec);
}
#define SBX_FAILPOINT_FROM_JOB(sp) sbx_failpoint_from_job(sp)
#else
#define SBX_FAILPOINT_FROM_JOB(sp) ((void)(sp))
#endif

#endif
