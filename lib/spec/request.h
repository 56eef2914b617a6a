/* What the user asked for (sandbox-run's command line or the plugin's
 * --sandbox-* options), before it is checked against the site policy. */
#ifndef SBX_REQUEST_H
#define SBX_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"
#include "util/strv.h"
#include "spec/policy.h"

#define SBX_UNSET (-1)

/* Which front end built the request: some defaults of the policy are per
 * front end (the network: slurm_net, sandbox_run_net). */
enum sbx_front_end { SBX_FRONT_SANDBOX_RUN = 0, SBX_FRONT_SLURM };

struct sbx_mount_spec {
	char *src;      /* as given (may be relative for sandbox-run) */
	char *dst;      /* absolute path inside the sandbox */
	int readonly;   /* 1 = ro, 0 = rw */
};

struct sbx_request {
	char *image;
	struct sbx_mount_spec *mounts;
	size_t n_mounts;
	char *workdir;
	struct sbx_strv env;     /* "NAME" (pass the caller's value) or "NAME=VALUE" */
	int writable;            /* SBX_UNSET, 0 (--readonly), 1 (--writable) */
	int per_task;            /* 1 (--per-task): each task gets its own writable layer */
	int remap_root;          /* SBX_UNSET, 0, 1 */
	int mount_home;          /* SBX_UNSET, 0, 1 */
	int entrypoint;          /* SBX_UNSET, 0, 1: run the image's Entrypoint */
	enum sbx_net net;        /* SBX_NET_UNSET = policy default */
	char *hostname;
	/* Set by front ends, not users: binds the front end vouches for (the
	 * Slurm batch script), exempt from mounts.allowed_sources, and a
	 * directory that keeps the writable layer (named sandboxes). */
	struct sbx_mount_spec *trusted_mounts;
	size_t n_trusted_mounts;
	char *persist;
	/* Front ends only: before the sandbox starts, write the persisted
	 * root (the image and the layer in persist) to this squashfs file. */
	char *save;
	/* Front ends only: a Slurm step (the plugin), not sandbox-run. */
	enum sbx_front_end front_end;
	/* Front ends only: limits are applied by the front end (Slurm's task
	 * cgroups); the helper makes no cgroup, it only shows its own inside. */
	int cgroup_view;
	/* Front ends only: the squashfs image is already mounted read-only by
	 * root (Slurm's images.kernel_squashfs); the helper gets the mount's
	 * root as an fd (SBX_IMAGE_FD, lib/launch/launch.h), never a path. */
	int premounted;
	/* cgroup v2 limits asked for (0: the policy's) */
	uint64_t memory;
	uint32_t cpus;           /* thousandths of a CPU */
	uint64_t pids;
};

void sbx_request_init(struct sbx_request *req);
void sbx_request_free(struct sbx_request *req);

/* "SRC[:DST[:ro|rw]]": DST defaults to SRC, flags to rw. DST is stored
 * normalised ("/a//b/./" -> "/a/b"); ".." in it is refused. */
int sbx_mount_spec_parse(const char *s, struct sbx_mount_spec *out,
			 struct sbx_err *err);
void sbx_mount_spec_free(struct sbx_mount_spec *m);

/* "/a//b/./c/" -> "/a/b/c" in a malloc'd copy; -EINVAL for "..", -ENOMEM. */
int sbx_path_normalise(const char *in, char **out);

/* Setters used by every front end; each validates its input and rejects a
 * conflicting repeat (an identical repeat is accepted: Slurm 22.05 calls
 * remote option callbacks twice). */
int sbx_request_set_image(struct sbx_request *req, const char *v, struct sbx_err *err);
int sbx_request_add_mount(struct sbx_request *req, const char *spec, struct sbx_err *err);
/* Comma-separated lists (--sandbox-mounts, --sandbox-env and their SANDBOX_*
 * presets; opt names the one the user wrote), split by sbx_list_split: an
 * empty element is refused. The env list takes names only. */
int sbx_request_add_mounts(struct sbx_request *req, const char *opt, const char *list,
			   struct sbx_err *err);
int sbx_request_add_env_list(struct sbx_request *req, const char *opt, const char *list,
			     struct sbx_err *err);
int sbx_request_set_workdir(struct sbx_request *req, const char *v, struct sbx_err *err);
/* "NAME" or "NAME=VALUE"; NAME must be a valid variable name. */
int sbx_request_add_env(struct sbx_request *req, const char *v, struct sbx_err *err);
int sbx_request_set_writable(struct sbx_request *req, int writable, struct sbx_err *err);
int sbx_request_set_remap_root(struct sbx_request *req, int v, struct sbx_err *err);
int sbx_request_set_mount_home(struct sbx_request *req, int v, struct sbx_err *err);
int sbx_request_set_entrypoint(struct sbx_request *req, int v, struct sbx_err *err);
int sbx_request_set_net(struct sbx_request *req, const char *v, struct sbx_err *err);
int sbx_request_set_hostname(struct sbx_request *req, const char *v, struct sbx_err *err);
/* --memory SIZE, --cpus N[.NNN], --pids N */
int sbx_request_set_memory(struct sbx_request *req, const char *v, struct sbx_err *err);
int sbx_request_set_cpus(struct sbx_request *req, const char *v, struct sbx_err *err);
int sbx_request_set_pids(struct sbx_request *req, const char *v, struct sbx_err *err);
int sbx_request_add_trusted_mount(struct sbx_request *req, const char *spec, struct sbx_err *err);
int sbx_request_set_persist(struct sbx_request *req, const char *dir, struct sbx_err *err);
/* --save FILE (absolute): a named sandbox's root, written as a squashfs. */
int sbx_request_set_save(struct sbx_request *req, const char *file, struct sbx_err *err);

/* The shared option table: parse argv[*optind..] (getopt_long, stops at the
 * first non-option or "--", which is consumed). Recognised:
 *   --config FILE --image IMG --mount SPEC --workdir DIR --env NAME[=VALUE]
 *   --writable --readonly --net host|none --remap-root --no-remap-root
 *   --mount-home --no-mount-home --hostname NAME --entrypoint --no-entrypoint
 *   --memory SIZE --cpus N --pids N --per-task
 * policy_out receives --config (may stay NULL). This is what users type
 * (sandbox-run): the front-end-only fields cannot be set through it. */
int sbx_request_parse_args(struct sbx_request *req, int argc, char **argv,
			   int *optind_out, char **policy_out,
			   struct sbx_err *err);

/* The same for sandbox-helper, which also takes what sbx_request_to_args
 * writes for the front-end-only fields: --trusted-mount SPEC, --persist DIR, --save FILE,
 * --cgroup-view, --premounted, --slurm-step. */
int sbx_request_parse_helper_args(struct sbx_request *req, int argc, char **argv,
				  int *optind_out, char **policy_out,
				  struct sbx_err *err);

/* The inverse, for handing a request to sandbox-helper. */
int sbx_request_to_args(const struct sbx_request *req, struct sbx_strv *out);

#endif
