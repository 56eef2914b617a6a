#include "spec/plan.h"
#include "spec/decide.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Docker's default profile, turned into a deny list: a deny list keeps new
 * syscalls that HPC runtimes adopt (clone3 fallbacks, io paths) working,
 * while the calls below are those that widen the kernel attack surface or
 * let a payload escape (new namespaces, mounts, keyrings, bpf, kexec...).
 * clone with CLONE_NEW* flags and ioctl(TIOCSTI/TIOCLINUX) are filtered by
 * argument in helper/seccomp.c. */
const char *const sbx_seccomp_default_deny[] = {
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
	"delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
	"get_kernel_syms", "init_module", "io_uring_enter",
	"io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp",
	"kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount",
	"mount_setattr", "move_mount", "name_to_handle_at", "nfsservctl",
	"open_by_handle_at", "open_tree", "perf_event_open", "pivot_root",
	"quotactl", "quotactl_fd", "reboot", "request_key", "setns", "settimeofday",
	"swapoff", "swapon", "syslog", "umount2", "unshare", "uselib",
	"userfaultfd", "vm86", "vm86old", NULL,
};

static const char *policy_file(const struct sbx_policy *pol)
{
	return pol->path ? pol->path : "the built-in defaults";
}

static int refused(struct sbx_err *err, const struct sbx_policy *pol,
		   const char *what, const char *key, const char *value)
{
	char hint[PATH_MAX + 128];

	snprintf(hint, sizeof(hint), "%s = %s in %s", key, value, policy_file(pol));
	return sbx_err_set(err, 0, hint, "%s: refused by site policy", what);
}

static int reserved_dest(const char *dst)
{
	static const char *const reserved[] = { "/", "/proc", "/.sandbox", NULL };

	for (size_t i = 0; reserved[i]; i++) {
		if (strcmp(reserved[i], "/") == 0 ? strcmp(dst, "/") == 0
						  : sbx_path_within(dst, reserved[i]))
			return 1;
	}
	return 0;
}

int sbx_plan_check(const struct sbx_policy *pol, const struct sbx_request *req,
		   struct sbx_err *err)
{
	/* A registry reference is checked without the filesystem (srun). */
	if (req->image && strncmp(req->image, SBX_REGISTRY_PREFIX, strlen(SBX_REGISTRY_PREFIX)) == 0) {
		enum sbx_image_kind kind;
		char *ref = NULL;

		if (sbx_image_resolve(pol, req->image, &kind, &ref, err) < 0)
			return -1;
		free(ref);
	}
	/* The site's allow_* and max_* keys: one table (spec/decide.c) serves
	 * the launch and `sandbox-run policy explain`. */
	for (size_t i = 0; sbx_decision_rules[i].setting; i++) {
		struct sbx_decision d;

		if (sbx_decision_judge(&sbx_decision_rules[i], pol, req, &d) == SBX_REFUSED)
			return refused(err, pol, d.asked, d.key, d.key_value);
	}
	for (size_t i = 0; i < req->n_mounts + req->n_trusted_mounts; i++) {
		const struct sbx_mount_spec *m = i < req->n_mounts ? &req->mounts[i]
					       : &req->trusted_mounts[i - req->n_mounts];

		if (sbx_plan_check_mount_dest(m, err) < 0)
			return -1;
	}
	return 0;
}

int sbx_plan_check_mount_dest(const struct sbx_mount_spec *m, struct sbx_err *err)
{
	char *dst = NULL;
	int rc = sbx_path_normalise(m->dst, &dst);

	if (rc == -ENOMEM)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	if (rc < 0)
		return sbx_err_set(err, 0, "use a plain absolute path",
				   "mount '%s:%s': destination contains '..'", m->src, m->dst);
	rc = reserved_dest(dst);
	free(dst);
	if (rc)
		return sbx_err_set(err, 0, "choose another destination",
				   "mount '%s:%s': destination is reserved by the sandbox",
				   m->src, m->dst);
	return 0;
}

static int add_bind(struct sbx_plan *plan, const char *src, const char *dst,
		    int readonly)
{
	struct sbx_bind *grown = realloc(plan->binds, (plan->n_binds + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	plan->binds = grown;
	grown[plan->n_binds].src = strdup(src);
	grown[plan->n_binds].readonly = readonly;
	if (sbx_path_normalise(dst, &grown[plan->n_binds].dst) < 0 ||
	    !grown[plan->n_binds].src) {
		free(grown[plan->n_binds].src);
		return -1;
	}
	plan->n_binds++;
	return 0;
}

/* A device node as a bind source (/dev/null over a file of the image) is
 * bound without nodev, so the sandbox reaches exactly the devices the caller
 * can open on the host: the kernel checks the node's permissions against the
 * caller's own ids inside as outside. Said here first, in one line, before
 * anything starts: a permission check (faccessat, with the effective ids, as
 * open(2) would), not an open, which has side effects on some devices (a tape
 * rewinds, a modem hangs up). A node on a nodev mount cannot be opened there
 * either, and the sandbox's clone of that mount stays nodev. */
static int check_device_source(const struct sbx_mount_spec *m, const char *real,
			       struct sbx_err *err)
{
	struct statvfs vfs;
	struct stat st;

	if (stat(real, &st) < 0)
		return sbx_err_sys(err, "create it or fix the path",
				   "mount '%s:%s': source '%s'", m->src, m->dst, m->src);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return 0;
	if (statvfs(real, &vfs) == 0 && (vfs.f_flag & ST_NODEV))
		return sbx_err_set(err, 0, "bind a device node from a mount without nodev, such as /dev",
				   "mount '%s:%s': source '%s': a device node on a nodev mount",
				   m->src, m->dst, real);
	if (faccessat(AT_FDCWD, real, R_OK, AT_EACCESS) < 0 &&
	    faccessat(AT_FDCWD, real, W_OK, AT_EACCESS) < 0)
		return sbx_err_set(err, 0, "bind only device nodes you can open on the host",
				   "mount '%s:%s': source '%s': a device node you may not open (%s)",
				   m->src, m->dst, real, strerror(errno));
	return 0;
}

int sbx_plan_check_mount_source(const struct sbx_policy *pol, const struct sbx_mount_spec *m,
				int trusted, char **real_out, struct sbx_err *err)
{
	char *real = realpath(m->src, NULL);
	int rc = -1;

	if (!real)
		return sbx_err_sys(err, "create it or fix the path",
				   "mount '%s:%s': source '%s'", m->src, m->dst, m->src);
	if (!trusted && !sbx_path_allowed(real, &pol->mount_sources)) {
		sbx_err_set(err, 0, NULL,
			    "mount '%s:%s': source '%s' is outside the allowed mount sources (mounts.allowed_sources in %s)",
			    m->src, m->dst, real, policy_file(pol));
		goto out;
	}
	if (check_device_source(m, real, err) < 0)
		goto out;
	*real_out = real;
	real = NULL;
	rc = 0;
out:
	free(real);
	return rc;
}

static int resolve_mounts(const struct sbx_policy *pol, const struct sbx_mount_spec *list,
			  size_t n, int trusted, struct sbx_plan *plan, struct sbx_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct sbx_mount_spec *m = &list[i];
		char *real = NULL;

		if (sbx_plan_check_mount_source(pol, m, trusted, &real, err) < 0)
			return -1;
		if (add_bind(plan, real, m->dst, m->readonly) < 0) {
			free(real);
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
		}
		free(real);
	}
	return 0;
}

static int resolve_user(struct sbx_plan *plan, struct sbx_err *err)
{
	struct passwd *pw;
	char name[32];

	plan->uid = getuid();
	plan->gid = getgid();
	errno = 0;
	pw = getpwuid(plan->uid);
	if (pw) {
		plan->user = strdup(pw->pw_name);
		plan->home = strdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
		plan->shell = strdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	} else {
		/* No passwd entry (e.g. a directory service is down): still run. */
		snprintf(name, sizeof(name), "user%u", (unsigned)plan->uid);
		plan->user = strdup(name);
		plan->home = strdup("/");
		plan->shell = strdup("/bin/sh");
	}
	if (!plan->user || !plan->home || !plan->shell)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

/* The rules only: the values come from the image and from each task's own
 * environment, in the shim (launch/environment.h). */
static int build_env(const struct sbx_policy *pol, const struct sbx_request *req,
		     struct sbx_plan *plan, struct sbx_err *err)
{
	char buf[PATH_MAX + 64];

	plan->env_clean = pol->env_clean;
	if (sbx_strv_push(&plan->env_base,
			  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
		goto oom;
	for (size_t i = 0; plan->env_clean && i < pol->env_passthrough.n; i++)
		if (sbx_strv_push(&plan->env_passthrough, pol->env_passthrough.v[i]) < 0)
			goto oom;
	for (size_t i = 0; i < pol->env_deny.n; i++)
		if (sbx_strv_push(&plan->env_deny, pol->env_deny.v[i]) < 0)
			goto oom;
	snprintf(buf, sizeof(buf), "HOME=%s", plan->remap_root ? "/root" : plan->home);
	if (sbx_strv_push(&plan->env_identity, buf) < 0)
		goto oom;
	snprintf(buf, sizeof(buf), "USER=%s", plan->remap_root ? "root" : plan->user);
	if (sbx_strv_push(&plan->env_identity, buf) < 0)
		goto oom;
	snprintf(buf, sizeof(buf), "LOGNAME=%s", plan->remap_root ? "root" : plan->user);
	if (sbx_strv_push(&plan->env_identity, buf) < 0)
		goto oom;
	for (size_t i = 0; i < req->env.n; i++)
		if (sbx_strv_push(&plan->env_user, req->env.v[i]) < 0)
			goto oom;
	return 0;
oom:
	return sbx_err_set(err, ENOMEM, NULL, "out of memory");
}

static int build_security(const struct sbx_policy *pol, struct sbx_plan *plan,
			  struct sbx_err *err)
{
	plan->seccomp = pol->seccomp;
	for (size_t i = 0; sbx_seccomp_default_deny[i]; i++) {
		const char *name = sbx_seccomp_default_deny[i];

		if (sbx_strv_contains(&pol->seccomp_allow, name))
			continue;
		if (sbx_strv_push(&plan->seccomp_deny, name) < 0)
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	}
	for (size_t i = 0; i < pol->seccomp_deny.n; i++)
		if (!sbx_strv_contains(&plan->seccomp_deny, pol->seccomp_deny.v[i]) &&
		    sbx_strv_push(&plan->seccomp_deny, pol->seccomp_deny.v[i]) < 0)
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	plan->caps = 0;
	for (size_t i = 0; i < pol->capabilities.n; i++) {
		cap_value_t cap;

		if (cap_from_name(pol->capabilities.v[i], &cap) < 0)
			return sbx_err_set(err, 0, "fix security.capabilities",
					   "capability '%s': unknown", pol->capabilities.v[i]);
		plan->caps |= 1ULL << cap;
	}
	return 0;
}

/* The one place the front end matters to a default: what network a user who
 * asked for none gets. A site that forbids the host's network gets none,
 * never an error for a user who asked nothing. */
static enum sbx_net default_net(const struct sbx_policy *pol, const struct sbx_request *req)
{
	enum sbx_net net = req->front_end == SBX_FRONT_SLURM ? pol->slurm_net : pol->sandbox_run_net;

	return net == SBX_NET_HOST && !pol->allow_net_host ? SBX_NET_NONE : net;
}

/* The values that need no filesystem: the request over the policy over
 * the built-in defaults. */
int sbx_plan_settings(const struct sbx_policy *pol, const struct sbx_request *req,
		      struct sbx_plan *plan, struct sbx_err *err)
{
	plan->writable = req->writable != SBX_UNSET ? req->writable : pol->writable;
	plan->remap_root = req->remap_root != SBX_UNSET ? req->remap_root : pol->remap_root;
	plan->entrypoint = req->entrypoint != SBX_UNSET ? req->entrypoint : pol->entrypoint;
	plan->mount_home = req->mount_home != SBX_UNSET ? req->mount_home : pol->mount_home;
	plan->premounted = req->premounted;
	plan->per_task = req->per_task;
	plan->net = req->net != SBX_NET_UNSET ? req->net : default_net(pol, req);
	plan->cg_memory = req->memory ? req->memory : pol->cg_memory;
	plan->cg_cpus = req->cpus ? req->cpus : pol->cg_cpus;
	plan->cg_pids = req->pids ? req->pids : pol->cg_pids;
	plan->cg_swap = pol->cg_swap;
	plan->cg_swap_set = pol->cg_swap_set;
	plan->cg_memory_high = pol->cg_memory_high;
	plan->cg_required = pol->cg_required;
	if (pol->cg_parent && !(plan->cg_parent = strdup(pol->cg_parent)))
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	plan->writable_size = pol->writable_size;
	plan->tmp_size = pol->tmp_size;
	plan->sys = pol->sys;
	plan->tmp = pol->tmp;
	plan->shm = pol->shm;
	if (req->hostname || (pol->hostname && *pol->hostname)) {
		plan->hostname = strdup(req->hostname ? req->hostname : pol->hostname);
		if (!plan->hostname)
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	}
	if (req->workdir && sbx_path_normalise(req->workdir, &plan->workdir) < 0)
		return sbx_err_set(err, 0, "use a plain absolute path",
				   "workdir '%s': invalid path", req->workdir);
	return build_security(pol, plan, err);
}

int sbx_plan_build(const struct sbx_policy *pol, const struct sbx_request *req,
		   struct sbx_plan *plan, struct sbx_err *err)
{
	int rc = -1;

	memset(plan, 0, sizeof(*plan));
	if (!req->image) {
		sbx_err_set(err, 0, "pass --image with a directory, squashfs, archive or docker:// reference",
			    "image: no image given");
		goto out;
	}
	if (sbx_plan_check(pol, req, err) < 0)
		goto out;
	if (sbx_plan_settings(pol, req, plan, err) < 0)
		goto out;
	if (resolve_user(plan, err) < 0 || sbx_image_resolve(pol, req->image, &plan->image_kind, &plan->image, err) < 0)
		goto out;
	if (plan->mount_home &&
	    strcmp(plan->home, "/") != 0) {
		char *real = realpath(plan->home, NULL);
		int rc2;

		if (!real) {
			sbx_err_sys(err, "create it, or use --no-mount-home",
				    "--mount-home: home directory '%s'", plan->home);
			goto out;
		}
		rc2 = add_bind(plan, real, plan->home, 0);
		free(real);
		if (rc2 < 0) {
			sbx_err_set(err, ENOMEM, NULL, "out of memory");
			goto out;
		}
	}
	if (req->persist) {
		plan->persist = realpath(req->persist, NULL);
		if (!plan->persist) {
			sbx_err_sys(err, NULL, "persist '%s'", req->persist);
			goto out;
		}
		plan->writable = 1;
	}
	if (resolve_mounts(pol, req->trusted_mounts, req->n_trusted_mounts, 1, plan, err) < 0 ||
	    resolve_mounts(pol, req->mounts, req->n_mounts, 0, plan, err) < 0 ||
	    build_env(pol, req, plan, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		sbx_plan_free(plan);
	return rc;
}

void sbx_plan_free(struct sbx_plan *plan)
{
	free(plan->image);
	free(plan->hostname);
	free(plan->workdir);
	free(plan->persist);
	free(plan->cg_parent);
	for (size_t i = 0; i < plan->n_binds; i++) {
		free(plan->binds[i].src);
		free(plan->binds[i].dst);
	}
	free(plan->binds);
	sbx_strv_clear(&plan->env_base);
	sbx_strv_clear(&plan->env_passthrough);
	sbx_strv_clear(&plan->env_deny);
	sbx_strv_clear(&plan->env_identity);
	sbx_strv_clear(&plan->env_user);
	sbx_strv_clear(&plan->seccomp_deny);
	free(plan->user);
	free(plan->home);
	free(plan->shell);
	memset(plan, 0, sizeof(*plan));
}
