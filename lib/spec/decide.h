/* The plan's decisions about what a user may ask, one rule per setting:
 * which policy key may refuse it and which gives its value when the user
 * asks nothing. The launch (sbx_plan_check) stops at the first refusal;
 * `sandbox-run policy explain` walks the same rules and shows them all. */
#ifndef SBX_DECIDE_H
#define SBX_DECIDE_H

#include <stddef.h>
#include "spec/plan.h"
#include "spec/policy.h"
#include "spec/request.h"

enum sbx_verdict {
	SBX_NOT_ASKED = 0,      /* the value comes from the policy */
	SBX_ALLOWED,
	SBX_REFUSED,
};

struct sbx_decision {
	const char *setting;    /* "writable", "net", ... */
	enum sbx_verdict verdict;
	char asked[256];        /* what the user wrote: "--net host"; "" when not asked */
	const char *key;        /* the deciding key: the allow_/max_ key when asked, else the default's */
	char key_value[64];     /* that key's value as the policy holds it */
	char effective[256];    /* what the sandbox gets (filled by sbx_decision_explain) */
};

struct sbx_flag_setting;

struct sbx_decision_rule {
	const char *setting;
	const char *allow_key;  /* "rootfs.allow_writable" */
	const char *default_key; /* the key giving the value when not asked */
	/* Fills d->asked; returns 1 when the user asked for this setting. */
	int (*asked)(const struct sbx_decision_rule *rule, const struct sbx_request *req,
		     struct sbx_decision *d);
	/* 1 when the policy allows what was asked; fills d->key_value. */
	int (*allows)(const struct sbx_decision_rule *rule, const struct sbx_policy *pol,
		      const struct sbx_request *req, struct sbx_decision *d);
	/* Fills d->effective from the plan; when not asked, also d->key_value
	 * (and d->key where the front end or another key decides). */
	void (*effective)(const struct sbx_decision_rule *rule, const struct sbx_policy *pol,
			  const struct sbx_request *req, const struct sbx_plan *plan,
			  struct sbx_decision *d);
	const struct sbx_flag_setting *flag; /* the yes/no settings' fields (decide.c) */
};

/* The rules, ending with { NULL }. */
extern const struct sbx_decision_rule sbx_decision_rules[];

/* Judge one rule: d->verdict, d->asked, d->key and d->key_value. */
enum sbx_verdict sbx_decision_judge(const struct sbx_decision_rule *rule,
				    const struct sbx_policy *pol,
				    const struct sbx_request *req, struct sbx_decision *d);

/* Judge one rule and fill in d->effective from plan (sbx_plan_settings);
 * for a setting not asked, d->key is the key that gave the value. */
void sbx_decision_explain(const struct sbx_decision_rule *rule, const struct sbx_policy *pol,
			  const struct sbx_request *req, const struct sbx_plan *plan,
			  struct sbx_decision *d);

/* A size as an admin writes it: "512M", "4G", or bytes. */
void sbx_format_size(uint64_t v, char *buf, size_t len);

#endif
