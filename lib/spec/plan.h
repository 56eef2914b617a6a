/* The plan: one plain description of the sandbox, made from the site policy
 * and the user's request and validated as a whole before any namespace or
 * mount exists (the bubblewrap way). The helper executes it step by step. */
#ifndef SBX_PLAN_H
#define SBX_PLAN_H

#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"
#include "util/strv.h"
#include "spec/image.h"
#include "spec/policy.h"
#include "spec/request.h"

struct sbx_bind {
	char *src;      /* absolute, symlinks resolved on the host */
	char *dst;      /* absolute, normalised; resolved inside the new root at mount time */
	int readonly;
};

struct sbx_plan {
	char *image;              /* absolute path, symlinks resolved, or the docker:// reference */
	enum sbx_image_kind image_kind;
	int entrypoint;           /* run the image's Entrypoint */
	int mount_home;           /* bind the user's home directory */
	int premounted;           /* the squashfs image is mounted by root (SBX_IMAGE_FD) */
	int writable;
	int per_task;             /* each task gets its own writable layer over the root */
	uint64_t writable_size;
	uint64_t tmp_size;
	int remap_root;
	enum sbx_net net;
	char *hostname;           /* NULL: keep the host's */
	enum sbx_sys sys;
	enum sbx_share tmp;
	enum sbx_share shm;
	struct sbx_bind *binds;
	size_t n_binds;
	char *workdir;            /* NULL: the caller's cwd if it exists inside, else / */
	char *persist;            /* NULL, or the directory that keeps the writable layer */

	/* The command's environment, applied per task by launch/environment.h */
	struct sbx_strv env_base;     /* "NAME=VALUE" below everything, the image's Env included (PATH) */
	int env_clean;                /* take only env_passthrough from the job */
	struct sbx_strv env_passthrough; /* clean: names or globs taken from the job */
	struct sbx_strv env_deny;     /* names or globs never taken from the job */
	struct sbx_strv env_identity; /* "NAME=VALUE": HOME, USER, LOGNAME of the sandbox's user */
	struct sbx_strv env_user;     /* --env: "NAME" (the job's value) or "NAME=VALUE" */

	int seccomp;
	struct sbx_strv seccomp_deny;    /* final deny list (syscall names) */
	uint64_t caps;            /* bit mask of capabilities kept (CAP_* numbers) */

	/* cgroup v2 limits (0: none) */
	uint64_t cg_memory;
	uint64_t cg_swap;
	int cg_swap_set;          /* cg_swap applies (0: no swap) */
	uint64_t cg_memory_high;
	uint32_t cg_cpus;         /* thousandths of a CPU */
	uint64_t cg_pids;
	int cg_required;          /* no delegation: error (1) or warning (0) */
	char *cg_parent;

	uid_t uid;                /* the caller's ids, mapped into the sandbox */
	gid_t gid;
	char *user;               /* login name for passwd, HOME, USER */
	char *home;
	char *shell;
};

/* The default deny list of the seccomp filter (NULL-terminated). */
extern const char *const sbx_seccomp_default_deny[];

/* Check the request against the policy and resolve it. Every refusal names
 * the input and the policy key, e.g.
 *   "--net host: refused by site policy (namespaces.allow_net_host = no in FILE)" */
/* The checks that need no filesystem (srun/sbatch run them before anything is
 * launched, where the image may not even exist). */
int sbx_plan_check(const struct sbx_policy *pol, const struct sbx_request *req,
		   struct sbx_err *err);

int sbx_plan_build(const struct sbx_policy *pol, const struct sbx_request *req,
		   struct sbx_plan *plan, struct sbx_err *err);

/* The part of sbx_plan_build that needs no filesystem and refuses nothing:
 * each value from the request, else the policy, else the built-in default
 * (`sandbox-run policy explain` shows them). Free with sbx_plan_free. */
int sbx_plan_settings(const struct sbx_policy *pol, const struct sbx_request *req,
		      struct sbx_plan *plan, struct sbx_err *err);

/* One bind of the request as the plan checks it: its destination (not
 * reserved by the sandbox), and its source (exists; inside
 * mounts.allowed_sources unless trusted; a device node the caller may open).
 * *real_out: the source with symlinks resolved (malloc'd). */
int sbx_plan_check_mount_dest(const struct sbx_mount_spec *m, struct sbx_err *err);
int sbx_plan_check_mount_source(const struct sbx_policy *pol, const struct sbx_mount_spec *m,
				int trusted, char **real_out, struct sbx_err *err);
void sbx_plan_free(struct sbx_plan *plan);

#endif
