/* The site policy: defaults and limits set by the admin in an INI file
 * (parsed with inih). Users may only tighten what it allows. */
#ifndef SBX_POLICY_H
#define SBX_POLICY_H

#include <stdint.h>
#include "util/error.h"
#include "util/strv.h"

#ifndef SBX_DEFAULT_POLICY
#define SBX_DEFAULT_POLICY "/usr/local/etc/slurm/sandbox.conf"
#endif

enum sbx_net { SBX_NET_UNSET = 0, SBX_NET_NONE, SBX_NET_HOST };
enum sbx_sys { SBX_SYS_RO = 0, SBX_SYS_NONE };
enum sbx_share { SBX_SHARE_PRIVATE = 0, SBX_SHARE_HOST };

/* Room for every key of the file (policy.c checks its table fits). */
#define SBX_POLICY_MAX_KEYS 64

/* Where one key's value came from: the line of the file that set it (0:
 * the built-in default) and the key written there ("namespaces.net" sets
 * both namespaces.slurm_net and namespaces.sandbox_run_net). */
struct sbx_policy_origin {
	int line;
	short via;              /* index of the key written; -1: the key itself */
};

struct sbx_policy {
	char *path;                    /* file it was read from; NULL = built-in */

	/* [images] */
	struct sbx_strv image_paths;   /* allowed = dirs local images must be inside */
	struct sbx_strv registries;    /* registries = host[:port] globs docker:// may name ("*": any) */
	struct sbx_strv insecure_registries; /* insecure_registries = hosts reached over HTTP / unverified TLS */
	char *cache_dir;               /* cache_dir = DIR (per-user <DIR>/<uid>); NULL: ~/.cache/slurm-sandbox */
	uint64_t cache_max_size;       /* cache_max_size = SIZE: each user's cache is cut back to it */
	uint64_t cache_wait;           /* cache_wait = seconds to wait for another import of the same image */
	uint64_t tag_ttl;              /* tag_ttl = seconds a tag's digest is trusted without asking the registry */
	uint64_t max_unpacked_size;    /* max_unpacked_size = SIZE: an image's files, all layers together */
	char *unpack_dir;              /* unpack_dir = DIR: node-local unpacked copies of squashfs images (<DIR>/<uid>); NULL: off */
	uint64_t unpack_max_size;      /* unpack_max_size = SIZE: each user's copies are cut back to it */
	uint64_t unpack_max_age;       /* unpack_max_age = days a copy is kept unused */
	int entrypoint;                /* entrypoint = yes|no: run the image's Entrypoint by default */
	struct sbx_strv kernel_squashfs; /* kernel_squashfs = admin dirs whose squashfs images the kernel mounts (Slurm) */

	/* [mounts] */
	struct sbx_strv mount_sources; /* allowed_sources = dirs bind sources must be inside */
	int mount_home;                /* mount_home = yes|no (default for --mount-home) */
	int allow_mount_home;          /* allow_mount_home */

	/* [rootfs] */
	int writable;                  /* writable = yes|no: the default mode */
	int allow_writable;            /* allow_writable */
	uint64_t writable_size;        /* writable_size: tmpfs cap of the writable layer */
	uint64_t tmp_size;             /* tmp_size: size of the sandbox's /tmp tmpfs */
	enum sbx_sys sys;              /* sys = ro|none */
	enum sbx_share tmp;            /* tmp = private|host (host: the caller's /tmp) */
	enum sbx_share shm;            /* shm = private|host (host: the caller's /dev/shm) */

	/* [namespaces] */
	/* The network a sandbox gets when its user asks for none, per front
	 * end ("net = X" in the file sets both). */
	enum sbx_net slurm_net;        /* slurm_net = none|host: Slurm steps (default host) */
	enum sbx_net sandbox_run_net;  /* sandbox_run_net = none|host: sandbox-run (default none) */
	int allow_net_host;            /* allow_net_host */
	char *hostname;                /* hostname = NAME; NULL/empty: keep the host's */
	int allow_hostname;            /* allow_hostname: may users choose one */
	int remap_root;                /* remap_root = yes|no (default) */
	int allow_remap_root;          /* allow_remap_root */

	/* [environment] */
	int env_clean;                 /* mode = inherit (0) | clean (1) */
	struct sbx_strv env_passthrough; /* passthrough = NAME or glob (SLURM_*) list, for mode = clean */
	struct sbx_strv env_deny;      /* deny = NAME or glob list never inherited */
	int allow_user_env;            /* allow_user_env: may users add --env */

	/* [security] */
	struct sbx_strv capabilities;  /* capabilities = CAP_X list kept inside (default none) */
	int seccomp;                   /* seccomp = yes|no */
	struct sbx_strv seccomp_allow; /* seccomp_allow = syscalls removed from the default deny list */
	struct sbx_strv seccomp_deny;  /* seccomp_deny = syscalls added to it */

	/* [cgroups]: cgroup v2 limits of a sandbox (0: not set) */
	uint64_t cg_memory;            /* memory = SIZE: default memory.max */
	uint64_t cg_max_memory;        /* max_memory = SIZE: the most a user may ask */
	uint64_t cg_swap;              /* swap = SIZE: memory.swap.max (0 is a limit) */
	int cg_swap_set;               /* swap was given */
	uint64_t cg_memory_high;       /* memory_high = SIZE: memory.high */
	uint32_t cg_cpus;              /* cpus = N[.NNN]: default cpu.max, in 1/1000 CPU */
	uint32_t cg_max_cpus;          /* max_cpus */
	uint64_t cg_pids;              /* pids = N: default pids.max */
	uint64_t cg_max_pids;          /* max_pids */
	int cg_required;               /* when_unavailable = error (1) | warn (0) */

	/* [slurm]: the host's Slurm client inside a sandboxed batch script */
	int slurm_client;              /* client = yes|no (default yes) */
	struct sbx_strv slurm_client_paths; /* client_paths = host dirs bound read-only at their own
					     * path for it (default /run/munge, the munge socket's) */
	char *cg_parent;               /* parent = /path: cgroup for sandboxes run by root */

	/* [devices], [binds], [hooks]: what the site adds to every sandbox
	 * (spec/site.h; "VAR:" items apply only when the job's VAR is set) */
	struct sbx_strv dev_expose;    /* [devices] expose = /dev globs */
	struct sbx_strv dev_expose_if_set; /* [devices] expose_if_set = VAR:/dev/GLOB */
	struct sbx_strv host_binds;    /* [binds] host = SRC[:DST][:ro|:rw] */
	struct sbx_strv host_binds_if_set; /* [binds] host_if_set = VAR:SRC[:DST][:ro|:rw] */
	char *hooks_dir;               /* [hooks] dir = root's directory of hook executables */

	/* Per key of the file, in policy.c's table order: which line set it. */
	struct sbx_policy_origin origin[SBX_POLICY_MAX_KEYS];
};

/* Built-in defaults (used when no file exists at the default path). */
int sbx_policy_init_defaults(struct sbx_policy *pol, struct sbx_err *err);

/* Read path over the defaults. explicit_path: 1 when the user named the file
 * (a missing file is then an error); 0 for the compiled-in default path,
 * where a missing file means built-in defaults.
 * Errors: "FILE:LINE: <what> (<hint>)" in err; no partial policy is kept. */
int sbx_policy_load(struct sbx_policy *pol, const char *path, int explicit_path,
		    struct sbx_err *err);

/* The one way front ends load the site policy: *pol (its contents are not
 * read) becomes the policy at path, or at SBX_DEFAULT_POLICY when path is
 * NULL. required: a missing file is an error (else the built-in defaults).
 * On error *pol is empty, safe to free. */
int sbx_policy_open(struct sbx_policy *pol, const char *path, int required,
		    struct sbx_err *err);

void sbx_policy_free(struct sbx_policy *pol);

/* Every problem of the policy file at path, one "FILE:LINE: <what> (<hint>)"
 * line each in file order, appended to problems: the loader stops at the
 * first, an admin fixing a file wants them all. Returns the number of
 * problems, or -1 (err) when the file cannot be read at all. */
int sbx_policy_check_file(const char *path, struct sbx_strv *problems, struct sbx_err *err);

/* Where the value of key ("section.name") came from, for messages:
 * "FILE:LINE", "FILE:LINE, as section.written" when another key set it
 * (namespaces.net), or "the built-in default". Returns buf, or NULL for an
 * unknown key. */
const char *sbx_policy_origin(const struct sbx_policy *pol, const char *key, char *buf,
			      size_t len);

/* Parse "yes|no|true|false|1|0|on|off"; returns 0/1, or -1 when invalid. */
int sbx_parse_bool(const char *s);

/* Sizes: "4096", "64k", "512M", "2G", "1T" (binary units, optional "B"/"iB"
 * suffix, case-insensitive). Rejects empty, negative, fractions, overflow. */
int sbx_parse_size(const char *s, uint64_t *out, struct sbx_err *err);

/* A CPU count "2", "0.5", "1.25" as thousandths of a CPU (> 0, <= 1e6). */
int sbx_parse_cpus(const char *s, uint32_t *out, struct sbx_err *err);

/* A positive decimal count ("4096"). */
int sbx_parse_count(const char *s, uint64_t *out, struct sbx_err *err);

/* 1 when path (absolute, normalised) is dir or below it. */
int sbx_path_within(const char *path, const char *dir);

/* 1 when path lies within any entry of dirs ("/" allows everything). */
int sbx_path_allowed(const char *path, const struct sbx_strv *dirs);

#endif
