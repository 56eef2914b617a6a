/* `sandbox-run policy check|explain`. Both go through the library's own
 * code: check through the policy loader in its check mode, explain through
 * the plan's decision table (spec/decide.h) and, for the final verdict,
 * sbx_plan_build itself, so that what explain says is what a launch does. */
#include "policy-cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spec/decide.h"
#include "spec/image.h"
#include "spec/plan.h"
#include "spec/policy.h"
#include "spec/request.h"
#include "util/strv.h"

#define EXIT_SETUP 125

static void usage(FILE *out)
{
	fputs("usage: sandbox-run policy check [--config FILE | FILE]\n"
	      "       sandbox-run policy explain [--config FILE] [--slurm] [RUN OPTIONS | --sandbox-* OPTIONS]\n"
	      "\n"
	      "check    read the policy file and print every problem as FILE:LINE: what (hint);\n"
	      "         exit 1 when there is any.\n"
	      "explain  for every setting, say whether the site allows what was asked, which\n"
	      "         key decided (FILE:LINE, or the built-in default), and the value the\n"
	      "         sandbox gets (the image < the policy < the user). Takes sandbox-run's\n"
	      "         options (--image IMG --net host ...) or srun's (--sandbox-image=IMG\n"
	      "         --sandbox-net=host ..., also as one quoted string; they imply --slurm,\n"
	      "         the defaults of Slurm steps). The last line is the launch's own verdict;\n"
	      "         exit 1 when it refuses.\n"
	      "Without --config: the site policy at " SBX_DEFAULT_POLICY ".\n", out);
}

static int fail(const struct sbx_err *err)
{
	char line[SBX_ERR_MAX + 16];

	fprintf(stderr, "%s\n", sbx_err_line(err, line, sizeof(line)));
	return EXIT_SETUP;
}

/* --- check ----------------------------------------------------------- */

static int policy_check(int argc, char **argv)
{
	struct sbx_strv problems = { 0 };
	struct sbx_err err = { 0 };
	const char *path = NULL, *file = NULL;
	int n, rc = 2;

	/* FILE, when given, wins over the global --config. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fprintf(stderr, "sandbox: policy check: unexpected '%s' (see 'sandbox-run policy --help')\n",
				argv[i]);
			goto out;
		}
	}
	if (file)
		path = file;
	if (!path)
		path = SBX_DEFAULT_POLICY;
	n = sbx_policy_check_file(path, &problems, &err);
	if (n < 0) {
		rc = fail(&err);
		goto out;
	}
	for (size_t i = 0; i < problems.n; i++)
		printf("%s\n", problems.v[i]);
	if (n == 0)
		printf("%s: no problems\n", path);
	else
		printf("%s: %d problem%s\n", path, n, n == 1 ? "" : "s");
	rc = n ? 1 : 0;
out:
	sbx_strv_clear(&problems);
	return rc;
}

/* --- explain: the request ------------------------------------------- */

/* srun's option names to sandbox-run's: --sandbox-net=host is --net=host,
 * --no-sandbox-remap-root is --no-remap-root. The comma lists
 * (--sandbox-mounts, --sandbox-env) go straight to the request's own list
 * setters, as the plugin does; --sandbox-name names a sandbox, no setting. */
static int add_slurm_option(struct sbx_request *req, struct sbx_strv *args, const char *opt,
			    const char *next, int *used_next, struct sbx_err *err)
{
	const char *name = opt + (strncmp(opt, "--no-", 5) == 0 ? 5 : 2);
	const char *eq = strchr(opt, '=');
	const char *value = eq ? eq + 1 : next;
	char buf[4096];

	name += strlen("sandbox-");
	if (strncmp(name, "mounts", 6) == 0 || strncmp(name, "env", 3) == 0 ||
	    strncmp(name, "name", 4) == 0) {
		int is_mounts = name[0] == 'm';

		if (!value)
			return sbx_err_set(err, 0, "see sandbox-run policy --help",
					   "option %s: needs a value", opt);
		*used_next = !eq;
		if (name[0] == 'n')
			return 0;
		return is_mounts ? sbx_request_add_mounts(req, "--sandbox-mounts", value, err)
				 : sbx_request_add_env_list(req, "--sandbox-env", value, err);
	}
	snprintf(buf, sizeof(buf), "--%s%s", strncmp(opt, "--no-", 5) == 0 ? "no-" : "", name);
	if (sbx_strv_push(args, buf) < 0)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	return 0;
}

static int is_slurm_option(const char *s)
{
	return strncmp(s, "--sandbox-", 10) == 0 || strncmp(s, "--no-sandbox-", 13) == 0;
}

/* The blank-separated words of s (commas stay: they separate list items). */
static int push_words(struct sbx_strv *out, const char *s)
{
	while (*(s += strspn(s, " \t"))) {
		size_t len = strcspn(s, " \t");
		char *word = strndup(s, len);
		int rc = word ? sbx_strv_push(out, word) : -1;

		free(word);
		if (rc < 0)
			return -1;
		s += len;
	}
	return 0;
}

/* Build the request from argv[first..]: sandbox-run's options, srun's
 * --sandbox-* options, or one string of the latter. */
static int parse_request(struct sbx_request *req, int argc, char **argv, char **policy_path,
			 int *slurm, struct sbx_err *err)
{
	struct sbx_strv words = { 0 }, args = { 0 };
	int rc = -1, first = 0;

	if (sbx_strv_push(&args, "explain") < 0)
		goto oom;
	/* One quoted string of options, as written in a job script: split it. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;  /* a run's command: no setting */
		if (strncmp(argv[i], "--", 2) == 0 && strpbrk(argv[i], " \t")) {
			if (push_words(&words, argv[i]) < 0)
				goto oom;
		} else if (sbx_strv_push(&words, argv[i]) < 0) {
			goto oom;
		}
	}
	for (size_t i = 0; i < words.n; i++) {
		int used_next = 0;

		if (strcmp(words.v[i], "--slurm") == 0) {
			*slurm = 1;
		} else if (is_slurm_option(words.v[i])) {
			*slurm = 1;
			if (add_slurm_option(req, &args, words.v[i], i + 1 < words.n ? words.v[i + 1] : NULL,
					     &used_next, err) < 0)
				goto out;
			i += (size_t)used_next;
		} else if (sbx_strv_push(&args, words.v[i]) < 0) {
			goto oom;
		}
	}
	if (sbx_request_parse_args(req, (int)args.n, args.v, &first, policy_path, err) < 0)
		goto out;
	if (first < (int)args.n) {
		sbx_err_set(err, 0, "put the command after --, or leave it out",
			    "policy explain: unexpected '%s'", args.v[first]);
		goto out;
	}
	req->front_end = *slurm ? SBX_FRONT_SLURM : SBX_FRONT_SANDBOX_RUN;
	rc = 0;
	goto out;
oom:
	sbx_err_set(err, ENOMEM, NULL, "out of memory");
out:
	sbx_strv_clear(&words);
	sbx_strv_clear(&args);
	return rc;
}

/* --- explain: the report -------------------------------------------- */

static const char *verdict_word(enum sbx_verdict v)
{
	return v == SBX_REFUSED ? "REFUSED" : v == SBX_ALLOWED ? "allowed" : "default";
}

static void print_decision(const struct sbx_policy *pol, const struct sbx_decision *d)
{
	char origin[PATH_MAX + 64];

	if (!sbx_policy_origin(pol, d->key, origin, sizeof(origin)))
		snprintf(origin, sizeof(origin), "?");
	printf("%-8s %-12s %s: %s%s = %s (%s); effective: %s\n", verdict_word(d->verdict), d->setting,
	       d->verdict == SBX_NOT_ASKED ? "not asked" : d->asked,
	       d->verdict == SBX_REFUSED ? "refused by " : d->verdict == SBX_ALLOWED ? "allowed by " : "",
	       d->key, d->key_value[0] ? d->key_value : "\"\"", origin,
	       d->verdict == SBX_REFUSED ? "none, the launch is refused" : d->effective);
}

/* The image and each bind: judged by the very functions the plan calls. */
static void explain_image(const struct sbx_policy *pol, const struct sbx_request *req)
{
	enum sbx_image_kind kind;
	struct sbx_err err = { 0 };
	char origin[PATH_MAX + 64], line[SBX_ERR_MAX + 16];
	char *resolved = NULL;
	int registry = strncmp(req->image, SBX_REGISTRY_PREFIX, strlen(SBX_REGISTRY_PREFIX)) == 0;
	const char *key = registry ? "images.registries" : "images.allowed";

	sbx_policy_origin(pol, key, origin, sizeof(origin));
	if (sbx_image_resolve(pol, req->image, &kind, &resolved, &err) < 0) {
		printf("REFUSED  %-12s %s: refused by %s (%s): %s\n", "image", req->image, key, origin,
		       sbx_err_line(&err, line, sizeof(line)));
		return;
	}
	printf("allowed  %-12s %s: allowed by %s (%s); effective: %s %s\n", "image", req->image, key,
	       origin, sbx_image_kind_name(kind), resolved);
	free(resolved);
}

static void explain_mounts(const struct sbx_policy *pol, const struct sbx_request *req)
{
	char origin[PATH_MAX + 64], line[SBX_ERR_MAX + 16];

	sbx_policy_origin(pol, "mounts.allowed_sources", origin, sizeof(origin));
	for (size_t i = 0; i < req->n_mounts; i++) {
		const struct sbx_mount_spec *m = &req->mounts[i];
		struct sbx_err err = { 0 };
		char *real = NULL;

		if (sbx_plan_check_mount_dest(m, &err) < 0 ||
		    sbx_plan_check_mount_source(pol, m, 0, &real, &err) < 0) {
			printf("REFUSED  %-12s %s:%s: %s; mounts.allowed_sources from %s\n", "mount",
			       m->src, m->dst, sbx_err_line(&err, line, sizeof(line)), origin);
			continue;
		}
		printf("allowed  %-12s %s:%s: allowed by mounts.allowed_sources (%s); effective: %s on %s, %s\n",
		       "mount", m->src, m->dst, origin, real, m->dst, m->readonly ? "read-only" : "read-write");
		free(real);
	}
}

static int policy_explain(int argc, char **argv)
{
	struct sbx_request req;
	struct sbx_policy pol = { 0 };
	struct sbx_plan settings = { 0 }, plan = { 0 };
	struct sbx_err err = { 0 };
	char *policy_path = NULL, line[SBX_ERR_MAX + 16];
	int slurm = 0, rc = EXIT_SETUP, verdict;

	sbx_request_init(&req);
	if (parse_request(&req, argc, argv, &policy_path, &slurm, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	if (sbx_policy_open(&pol, policy_path, policy_path != NULL, &err) < 0 ||
	    sbx_plan_settings(&pol, &req, &settings, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	printf("policy: %s; front end: %s\n", pol.path ? pol.path : "built-in defaults (no file at " SBX_DEFAULT_POLICY ")",
	       slurm ? "Slurm step" : "sandbox-run");
	if (req.image)
		explain_image(&pol, &req);
	explain_mounts(&pol, &req);
	for (size_t i = 0; sbx_decision_rules[i].setting; i++) {
		struct sbx_decision d;

		sbx_decision_explain(&sbx_decision_rules[i], &pol, &req, &settings, &d);
		print_decision(&pol, &d);
	}
	/* The verdict of the launch itself: without an image, the checks srun
	 * makes before anything starts. */
	verdict = req.image ? sbx_plan_build(&pol, &req, &plan, &err) : sbx_plan_check(&pol, &req, &err);
	if (verdict < 0)
		printf("verdict: refused: %s\n", sbx_err_line(&err, line, sizeof(line)));
	else
		printf("verdict: allowed%s\n", req.image ? "" : " (no image named: only the checks srun makes)");
	rc = verdict < 0 ? 1 : 0;
out:
	sbx_plan_free(&plan);
	sbx_plan_free(&settings);
	sbx_policy_free(&pol);
	sbx_request_free(&req);
	free(policy_path);
	return rc;
}

int sbx_policy_main(int argc, char **argv)
{
	/* Global --config may stand before the verb (sandbox-run.c moves it
	 * after "policy"): find the verb among the arguments. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "check") == 0 || strcmp(argv[i], "explain") == 0) {
			char **rest = malloc(sizeof(*rest) * (size_t)argc);
			int n = 0, rc;

			if (!rest) {
				fprintf(stderr, "sandbox: policy: out of memory\n");
				return EXIT_SETUP;
			}
			rest[n++] = argv[i];
			for (int j = 1; j < argc; j++)
				if (j != i)
					rest[n++] = argv[j];
			rc = argv[i][0] == 'c' ? policy_check(n, rest) : policy_explain(n, rest);
			free(rest);
			return rc;
		}
		if (strncmp(argv[i], "--config", 8) != 0 && (i == 1 || strcmp(argv[i - 1], "--config") != 0))
			break;
	}
	usage(stderr);
	return 2;
}
