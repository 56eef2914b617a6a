/* The decision table (spec/decide.c) is the launch's rule book: for every
 * allow_/max_ key, what sbx_plan_check refuses is what explain reports as
 * REFUSED, under the same key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "spec/decide.h"
#include "spec/plan.h"
#include "spec/policy.h"
#include "spec/request.h"

/* The first REFUSED rule, or NULL. */
static const struct sbx_decision_rule *first_refusal(const struct sbx_policy *pol,
						     const struct sbx_request *req, struct sbx_decision *d)
{
	for (size_t i = 0; sbx_decision_rules[i].setting; i++)
		if (sbx_decision_judge(&sbx_decision_rules[i], pol, req, d) == SBX_REFUSED)
			return &sbx_decision_rules[i];
	return NULL;
}

/* The launch and the table agree on req under pol; returns whether refused. */
static int agree(const struct sbx_policy *pol, const struct sbx_request *req)
{
	struct sbx_err err = { 0 };
	struct sbx_decision d;
	const struct sbx_decision_rule *rule = first_refusal(pol, req, &d);
	int refused = sbx_plan_check(pol, req, &err) < 0;

	assert_int_equal(refused, rule != NULL);
	if (rule) {
		char want[128];

		snprintf(want, sizeof(want), "%s = %s", d.key, d.key_value);
		if (!strstr(err.msg, want) || strncmp(err.msg, d.asked, strlen(d.asked)) != 0)
			fail_msg("launch said '%s'; table said '%s' by '%s'", err.msg, d.asked, want);
	}
	return refused;
}

struct toggle {
	int *allow;                      /* the policy's allow_ key */
	int (*ask)(struct sbx_request *req, struct sbx_err *err);
};

static int ask_writable(struct sbx_request *r, struct sbx_err *e) { return sbx_request_set_writable(r, 1, e); }
static int ask_remap(struct sbx_request *r, struct sbx_err *e) { return sbx_request_set_remap_root(r, 1, e); }
static int ask_home(struct sbx_request *r, struct sbx_err *e) { return sbx_request_set_mount_home(r, 1, e); }
static int ask_net(struct sbx_request *r, struct sbx_err *e) { return sbx_request_set_net(r, "host", e); }
static int ask_hostname(struct sbx_request *r, struct sbx_err *e) { return sbx_request_set_hostname(r, "box", e); }
static int ask_env(struct sbx_request *r, struct sbx_err *e) { return sbx_request_add_env(r, "FOO=1", e); }

static void every_allow_key_refuses_through_the_table(void **state)
{
	struct sbx_policy pol;
	struct sbx_err err;
	(void)state;

	assert_int_equal(sbx_policy_init_defaults(&pol, &err), 0);
	{
		struct toggle toggles[] = {
			{ &pol.allow_writable, ask_writable }, { &pol.allow_remap_root, ask_remap },
			{ &pol.allow_mount_home, ask_home }, { &pol.allow_net_host, ask_net },
			{ &pol.allow_hostname, ask_hostname }, { &pol.allow_user_env, ask_env },
		};

		for (size_t i = 0; i < sizeof(toggles) / sizeof(toggles[0]); i++) {
			struct sbx_request req;

			sbx_request_init(&req);
			assert_int_equal(toggles[i].ask(&req, &err), 0);
			*toggles[i].allow = 1;
			assert_false(agree(&pol, &req));
			*toggles[i].allow = 0;
			assert_true(agree(&pol, &req));
			*toggles[i].allow = 1;
			sbx_request_free(&req);
		}
	}
	sbx_policy_free(&pol);
}

static void limits_above_the_maximum_refuse_through_the_table(void **state)
{
	struct sbx_policy pol;
	struct sbx_request req;
	struct sbx_err err;
	(void)state;

	assert_int_equal(sbx_policy_init_defaults(&pol, &err), 0);
	sbx_request_init(&req);
	assert_int_equal(sbx_request_set_memory(&req, "2G", &err), 0);
	assert_int_equal(sbx_request_set_cpus(&req, "4", &err), 0);
	assert_int_equal(sbx_request_set_pids(&req, "500", &err), 0);
	assert_false(agree(&pol, &req));            /* no maximum set */
	pol.cg_max_pids = 100;
	assert_true(agree(&pol, &req));
	pol.cg_max_cpus = 2000;
	assert_true(agree(&pol, &req));             /* cpus comes first */
	pol.cg_max_memory = UINT64_C(1) << 30;
	assert_true(agree(&pol, &req));             /* memory before both */
	pol.cg_max_memory = UINT64_C(4) << 30;
	pol.cg_max_cpus = 4000;
	pol.cg_max_pids = 500;
	assert_false(agree(&pol, &req));            /* at the maximum is allowed */
	sbx_request_free(&req);
	sbx_policy_free(&pol);
}

static void a_setting_not_asked_takes_the_policy_default(void **state)
{
	struct sbx_policy pol;
	struct sbx_request req;
	struct sbx_plan plan = { 0 };
	struct sbx_decision d;
	struct sbx_err err;
	(void)state;

	assert_int_equal(sbx_policy_init_defaults(&pol, &err), 0);
	pol.writable = 1;
	pol.slurm_net = SBX_NET_HOST;
	pol.allow_net_host = 0;
	sbx_request_init(&req);
	req.front_end = SBX_FRONT_SLURM;
	assert_int_equal(sbx_plan_settings(&pol, &req, &plan, &err), 0);
	for (size_t i = 0; sbx_decision_rules[i].setting; i++) {
		sbx_decision_explain(&sbx_decision_rules[i], &pol, &req, &plan, &d);
		assert_int_equal(d.verdict, SBX_NOT_ASKED);
		if (strcmp(d.setting, "writable") == 0) {
			assert_string_equal(d.key, "rootfs.writable");
			assert_string_equal(d.key_value, "yes");
		}
		/* The Slurm default is host, but the site forbids it. */
		if (strcmp(d.setting, "net") == 0) {
			assert_string_equal(d.key, "namespaces.allow_net_host");
			assert_string_equal(d.effective, "none (loopback only)");
		}
	}
	sbx_plan_free(&plan);
	sbx_request_free(&req);
	sbx_policy_free(&pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_allow_key_refuses_through_the_table),
		cmocka_unit_test(limits_above_the_maximum_refuse_through_the_table),
		cmocka_unit_test(a_setting_not_asked_takes_the_policy_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
