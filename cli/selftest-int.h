/* Shared by the selftest's driver (selftest.c: the scratch image, running a
 * sandbox, the report) and its checks (selftest-checks.c). */
#ifndef SBX_CLI_SELFTEST_INT_H
#define SBX_CLI_SELFTEST_INT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include "spec/plan.h"
#include "spec/policy.h"

enum st_result { ST_PASS, ST_FAIL, ST_SKIP };

struct st_check {
	char name[32];
	enum st_result result;
	char reason[512];
};

#define ST_OUT_MAX 65536

struct st {
	char self[PATH_MAX];        /* this sandbox-run */
	char probe[PATH_MAX];       /* the static probe */
	const char *site_path;      /* --config, or NULL: the default site policy */
	struct sbx_policy pol;      /* the site policy, for the keys behind a FAIL */
	struct sbx_plan plan;       /* what a plain request gets under it */
	char tmp[PATH_MAX];         /* scratch directory, removed at the end */
	char rootfs[PATH_MAX + 16]; /* the image: a directory */
	char conf[PATH_MAX + 16];   /* the site policy plus the scratch image's place */
	char cache[PATH_MAX + 16];  /* the scratch image cache */
	char comm[16];              /* the name the stress checks' processes carry */
	struct st_check *checks;
	size_t n_checks;
	int broken;                 /* out of memory while recording */
	/* The last run */
	int status;                 /* exit status, or 128+signal */
	char out[ST_OUT_MAX];
	char err[4096];
};

/* Record a check's result; the reason is printf-formatted. */
void st_report(struct st *st, const char *name, enum st_result result, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Run `sandbox-run --config st->conf [--image IMG] OPTS... -- PROBE ARGS...`
 * (args: NULL-terminated, options first, "--" and the probe added) and
 * keep its stdout, stderr and status in st. image NULL: the scratch image.
 * Returns the exit status, -1 when it could not run (st->err says why). */
int st_run(struct st *st, const char *image, const char *const *opts, const char *const *probe_args);

/* Like st_run, in the background: returns the pid and the read end of its
 * stdout (*out_fd); stderr is discarded. */
pid_t st_start(struct st *st, const char *const *opts, const char *const *probe_args, int *out_fd);

/* "KEY = VALUE (FILE:LINE)" for a policy key, into buf. */
const char *st_key(const struct st *st, const char *key, const char *value, char *buf, size_t len);

/* Processes named st->comm anywhere on the host. */
int st_count_named(const struct st *st);

/* The checks, in the order they run (selftest-checks.c). */
void st_check_identity(struct st *st);
void st_check_status(struct st *st);
void st_check_seccomp_denials(struct st *st);
void st_check_fds(struct st *st);
void st_check_mounts(struct st *st);
void st_check_namespaces(struct st *st);
void st_check_network(struct st *st);
void st_check_hostname(struct st *st);
void st_check_cgroups(struct st *st);
void st_check_images(struct st *st);
void st_check_stress(struct st *st);

#endif
