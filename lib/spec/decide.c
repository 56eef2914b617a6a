/* The rules by which the site policy allows or refuses each setting a user
 * may ask for, and where each setting's value comes from. sbx_plan_check
 * enforces them; `sandbox-run policy explain` reports them: one table, so
 * the explanation cannot drift from the launch. */
#include "spec/decide.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *yes_no(int v)
{
	return v ? "yes" : "no";
}

void sbx_format_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && v && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

static void format_cpus(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%03u", v / 1000, v % 1000);
}

/* A limit, or what its absence means. */
static void format_limit(uint64_t v, int is_size, char *buf, size_t len)
{
	if (!v)
		snprintf(buf, len, "no limit");
	else if (is_size)
		sbx_format_size(v, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* --- yes/no settings: --X / --no-X, an allow_X key, an X default --------- */

/* Where a yes/no setting lives in the request, the policy and the plan. */
struct sbx_flag_setting {
	size_t req;             /* int in struct sbx_request: SBX_UNSET, 0, 1 */
	size_t allow;           /* int in struct sbx_policy: may users ask for yes */
	size_t def;             /* int in struct sbx_policy: the default */
	size_t plan;            /* int in struct sbx_plan: the outcome */
	const char *yes, *no;   /* the options */
	const char *on, *off;   /* the outcomes, in words */
};

#define FIELD(ptr, off) (*(const int *)((const char *)(ptr) + (off)))

static int asked_flag(const struct sbx_decision_rule *rule,
		      const struct sbx_request *req,
		      struct sbx_decision *d)
{
	int v = FIELD(req, rule->flag->req);

	snprintf(d->asked, sizeof(d->asked), "%s", v == 1 ? rule->flag->yes : rule->flag->no);
	return v != SBX_UNSET;
}

static int allows_flag(const struct sbx_decision_rule *rule,
		       const struct sbx_policy *pol,
		       const struct sbx_request *req, struct sbx_decision *d)
{
	int allow = FIELD(pol, rule->flag->allow);

	snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(allow));
	return FIELD(req, rule->flag->req) != 1 || allow;
}

static void effective_flag(const struct sbx_decision_rule *rule,
			   const struct sbx_policy *pol,
			   const struct sbx_request *req, const struct sbx_plan *plan,
			   struct sbx_decision *d)
{
	(void)req;
	if (d->verdict == SBX_NOT_ASKED)
		snprintf(d->key_value, sizeof(d->key_value), "%s",
			 yes_no(FIELD(pol, rule->flag->def)));
	snprintf(d->effective, sizeof(d->effective), "%s",
		 FIELD(plan, rule->flag->plan) ? rule->flag->on : rule->flag->off);
}

#define FLAG(r, a, df, p, y, n, on_, off_) \
	(&(const struct sbx_flag_setting){ offsetof(struct sbx_request, r), offsetof(struct sbx_policy, a), \
	 offsetof(struct sbx_policy, df), offsetof(struct sbx_plan, p), y, n, on_, off_ })

/* --- network --------------------------------------------------------- */

static const char *net_word(enum sbx_net net)
{
	return net == SBX_NET_HOST ? "host" : "none";
}

static int asked_net(const struct sbx_decision_rule *rule,
		     const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--net %s", net_word(req->net));
	return req->net != SBX_NET_UNSET;
}

static int allows_net(const struct sbx_decision_rule *rule,
		      const struct sbx_policy *pol, const struct sbx_request *req,
		      struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->allow_net_host));
	return req->net != SBX_NET_HOST || pol->allow_net_host;
}

static void effective_net(const struct sbx_decision_rule *rule,
			  const struct sbx_policy *pol, const struct sbx_request *req,
			  const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	if (d->verdict == SBX_NOT_ASKED) {
		enum sbx_net def = req->front_end == SBX_FRONT_SLURM ? pol->slurm_net : pol->sandbox_run_net;

		d->key = req->front_end == SBX_FRONT_SLURM ? "namespaces.slurm_net"
							    : "namespaces.sandbox_run_net";
		snprintf(d->key_value, sizeof(d->key_value), "%s", net_word(def));
		/* The default is host, but the site forbids it (plan.c default_net). */
		if (def == SBX_NET_HOST && plan->net != SBX_NET_HOST) {
			d->key = "namespaces.allow_net_host";
			snprintf(d->key_value, sizeof(d->key_value), "no");
		}
	}
	snprintf(d->effective, sizeof(d->effective), "%s",
		 plan->net == SBX_NET_HOST ? "host (the node's network)" : "none (loopback only)");
}

/* --- hostname -------------------------------------------------------- */

static int asked_hostname(const struct sbx_decision_rule *rule,
			  const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--hostname %s", req->hostname ? req->hostname : "");
	return req->hostname != NULL;
}

static int allows_hostname(const struct sbx_decision_rule *rule,
			   const struct sbx_policy *pol, const struct sbx_request *req,
			   struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->allow_hostname));
	return pol->allow_hostname;
}

static void effective_hostname(const struct sbx_decision_rule *rule,
			       const struct sbx_policy *pol, const struct sbx_request *req,
			       const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	if (d->verdict == SBX_NOT_ASKED)
		snprintf(d->key_value, sizeof(d->key_value), "%s", pol->hostname ? pol->hostname : "");
	snprintf(d->effective, sizeof(d->effective), "%s",
		 plan->hostname ? plan->hostname : "the host's name");
}

/* --- environment ----------------------------------------------------- */

static int asked_env(const struct sbx_decision_rule *rule,
		     const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--env %s", req->env.n ? req->env.v[0] : "");
	return req->env.n > 0;
}

static int allows_env(const struct sbx_decision_rule *rule,
		      const struct sbx_policy *pol, const struct sbx_request *req,
		      struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->allow_user_env));
	return pol->allow_user_env;
}

static void effective_env(const struct sbx_decision_rule *rule,
			  const struct sbx_policy *pol, const struct sbx_request *req,
			  const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)plan;
	if (d->verdict == SBX_NOT_ASKED)
		snprintf(d->key_value, sizeof(d->key_value), "%s", pol->env_clean ? "clean" : "inherit");
	snprintf(d->effective, sizeof(d->effective), "%s%s",
		 pol->env_clean ? "the image's, plus environment.passthrough from the job"
				: "the image's, under the job's",
		 req->env.n && pol->allow_user_env ? ", plus --env" : "");
}

/* --- cgroup limits ---------------------------------------------------- */

static int asked_memory(const struct sbx_decision_rule *rule,
			const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--memory %" PRIu64, req->memory);
	return req->memory != 0;
}

static int allows_memory(const struct sbx_decision_rule *rule,
			 const struct sbx_policy *pol, const struct sbx_request *req,
			 struct sbx_decision *d)
{
	(void)rule;
	if (pol->cg_max_memory)
		snprintf(d->key_value, sizeof(d->key_value), "%" PRIu64, pol->cg_max_memory);
	else
		snprintf(d->key_value, sizeof(d->key_value), "no limit");
	return !pol->cg_max_memory || req->memory <= pol->cg_max_memory;
}

static void effective_memory(const struct sbx_decision_rule *rule,
			     const struct sbx_policy *pol, const struct sbx_request *req,
			     const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	if (d->verdict == SBX_NOT_ASKED)
		format_limit(pol->cg_memory, 1, d->key_value, sizeof(d->key_value));
	format_limit(plan->cg_memory, 1, d->effective, sizeof(d->effective));
}

static int asked_cpus(const struct sbx_decision_rule *rule,
		      const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--cpus %u.%03u", req->cpus / 1000, req->cpus % 1000);
	return req->cpus != 0;
}

static int allows_cpus(const struct sbx_decision_rule *rule,
		       const struct sbx_policy *pol, const struct sbx_request *req,
		       struct sbx_decision *d)
{
	(void)rule;
	if (pol->cg_max_cpus)
		format_cpus(pol->cg_max_cpus, d->key_value, sizeof(d->key_value));
	else
		snprintf(d->key_value, sizeof(d->key_value), "no limit");
	return !pol->cg_max_cpus || req->cpus <= pol->cg_max_cpus;
}

static void effective_cpus(const struct sbx_decision_rule *rule,
			   const struct sbx_policy *pol, const struct sbx_request *req,
			   const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	if (d->verdict == SBX_NOT_ASKED) {
		if (pol->cg_cpus)
			format_cpus(pol->cg_cpus, d->key_value, sizeof(d->key_value));
		else
			snprintf(d->key_value, sizeof(d->key_value), "no limit");
	}
	if (plan->cg_cpus)
		format_cpus(plan->cg_cpus, d->effective, sizeof(d->effective));
	else
		snprintf(d->effective, sizeof(d->effective), "no limit");
}

static int asked_pids(const struct sbx_decision_rule *rule,
		      const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--pids %" PRIu64, req->pids);
	return req->pids != 0;
}

static int allows_pids(const struct sbx_decision_rule *rule,
		       const struct sbx_policy *pol, const struct sbx_request *req,
		       struct sbx_decision *d)
{
	(void)rule;
	format_limit(pol->cg_max_pids, 0, d->key_value, sizeof(d->key_value));
	return !pol->cg_max_pids || req->pids <= pol->cg_max_pids;
}

static void effective_pids(const struct sbx_decision_rule *rule,
			   const struct sbx_policy *pol, const struct sbx_request *req,
			   const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	if (d->verdict == SBX_NOT_ASKED)
		format_limit(pol->cg_pids, 0, d->key_value, sizeof(d->key_value));
	format_limit(plan->cg_pids, 0, d->effective, sizeof(d->effective));
}

/* --- per-task layers: writable layers, so rootfs.allow_writable decides -- */

static int asked_per_task(const struct sbx_decision_rule *rule,
			  const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "--per-task");
	return req->per_task != 0;
}

static int allows_per_task(const struct sbx_decision_rule *rule,
			   const struct sbx_policy *pol, const struct sbx_request *req,
			   struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->allow_writable));
	return pol->allow_writable;
}

static void effective_per_task(const struct sbx_decision_rule *rule,
			       const struct sbx_policy *pol, const struct sbx_request *req,
			       const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	if (d->verdict == SBX_NOT_ASKED)
		snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->allow_writable));
	snprintf(d->effective, sizeof(d->effective), "%s",
		 plan->per_task ? "a writable layer per task" : "one sandbox per node-step");
}

/* --- entrypoint: no allow key; the image gives it, the policy chooses ---- */

static int asked_entrypoint(const struct sbx_decision_rule *rule,
			    const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	snprintf(d->asked, sizeof(d->asked), "%s", req->entrypoint == 1 ? "--entrypoint" : "--no-entrypoint");
	return req->entrypoint != SBX_UNSET;
}

static void effective_entrypoint(const struct sbx_decision_rule *rule,
				 const struct sbx_policy *pol, const struct sbx_request *req,
				 const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	if (d->verdict == SBX_NOT_ASKED)
		snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->entrypoint));
	snprintf(d->effective, sizeof(d->effective), "%s",
		 plan->entrypoint ? "the image's Entrypoint, then the command" : "the command alone");
}

/* --- the site's own settings: no user asks for them -------------------- */

static int never_asked(const struct sbx_decision_rule *rule,
		       const struct sbx_request *req, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	(void)d;
	return 0;
}

static void effective_seccomp(const struct sbx_decision_rule *rule,
			      const struct sbx_policy *pol, const struct sbx_request *req,
			      const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	(void)req;
	snprintf(d->key_value, sizeof(d->key_value), "%s", yes_no(pol->seccomp));
	if (plan->seccomp)
		snprintf(d->effective, sizeof(d->effective), "on, %zu system calls denied",
			 plan->seccomp_deny.n);
	else
		snprintf(d->effective, sizeof(d->effective), "off");
}

static void effective_caps(const struct sbx_decision_rule *rule,
			   const struct sbx_policy *pol, const struct sbx_request *req,
			   const struct sbx_plan *plan, struct sbx_decision *d)
{
	(void)rule;
	size_t used = 0;

	(void)req;
	(void)plan;
	d->key_value[0] = '\0';
	for (size_t i = 0; i < pol->capabilities.n && used < sizeof(d->key_value); i++)
		used += (size_t)snprintf(d->key_value + used, sizeof(d->key_value) - used, "%s%s",
					 i ? " " : "", pol->capabilities.v[i]);
	snprintf(d->effective, sizeof(d->effective), "%s",
		 pol->capabilities.n ? d->key_value : "none (all dropped)");
}

const struct sbx_decision_rule sbx_decision_rules[] = {
	{ "writable", "rootfs.allow_writable", "rootfs.writable", asked_flag, allows_flag, effective_flag,
	  FLAG(writable, allow_writable, writable, writable, "--writable", "--readonly",
	       "writable (changes vanish at exit)", "read-only") },
	{ "per-task", "rootfs.allow_writable", "rootfs.allow_writable", asked_per_task, allows_per_task,
	  effective_per_task, NULL },
	{ "remap-root", "namespaces.allow_remap_root", "namespaces.remap_root", asked_flag, allows_flag,
	  effective_flag, FLAG(remap_root, allow_remap_root, remap_root, remap_root, "--remap-root",
			       "--no-remap-root", "uid 0 inside (your uid outside)", "your own uid") },
	{ "mount-home", "mounts.allow_mount_home", "mounts.mount_home", asked_flag, allows_flag,
	  effective_flag, FLAG(mount_home, allow_mount_home, mount_home, mount_home, "--mount-home",
			       "--no-mount-home", "home directory bound", "no home directory") },
	{ "net", "namespaces.allow_net_host", "namespaces.sandbox_run_net",
	  asked_net, allows_net, effective_net, NULL },
	{ "hostname", "namespaces.allow_hostname", "namespaces.hostname",
	  asked_hostname, allows_hostname, effective_hostname, NULL },
	{ "env", "environment.allow_user_env", "environment.mode",
	  asked_env, allows_env, effective_env, NULL },
	{ "memory", "cgroups.max_memory", "cgroups.memory",
	  asked_memory, allows_memory, effective_memory, NULL },
	{ "cpus", "cgroups.max_cpus", "cgroups.cpus",
	  asked_cpus, allows_cpus, effective_cpus, NULL },
	{ "pids", "cgroups.max_pids", "cgroups.pids",
	  asked_pids, allows_pids, effective_pids, NULL },
	{ "entrypoint", NULL, "images.entrypoint",
	  asked_entrypoint, NULL, effective_entrypoint, NULL },
	{ "seccomp", NULL, "security.seccomp",
	  never_asked, NULL, effective_seccomp, NULL },
	{ "capabilities", NULL, "security.capabilities",
	  never_asked, NULL, effective_caps, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

enum sbx_verdict sbx_decision_judge(const struct sbx_decision_rule *rule,
				    const struct sbx_policy *pol,
				    const struct sbx_request *req, struct sbx_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->setting = rule->setting;
	if (!rule->asked(rule, req, d)) {
		d->asked[0] = '\0';
		d->key = rule->default_key;
		return d->verdict = SBX_NOT_ASKED;
	}
	if (!rule->allow_key) {
		d->key = rule->default_key;
		return d->verdict = SBX_ALLOWED;
	}
	d->key = rule->allow_key;
	return d->verdict = rule->allows(rule, pol, req, d) ? SBX_ALLOWED : SBX_REFUSED;
}

void sbx_decision_explain(const struct sbx_decision_rule *rule, const struct sbx_policy *pol,
			  const struct sbx_request *req, const struct sbx_plan *plan,
			  struct sbx_decision *d)
{
	sbx_decision_judge(rule, pol, req, d);
	rule->effective(rule, pol, req, plan, d);
}
