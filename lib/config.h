/* The sandbox's own config, /.sandbox/config: what every task needs and
 * slurmstepd cannot carry (environment rules, capabilities, seccomp).
 * Written once by the helper, read by sbx_sandbox_join and the shim.
 * Format: NUL-separated "key:value" records (values may hold any byte but
 * NUL, like environment strings). */
#ifndef SBX_CONFIG_H
#define SBX_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "oci.h"
#include "plan.h"

#define SBX_CONFIG_FILE "config"
#define SBX_SECCOMP_FILE "seccomp.bpf"

struct sbx_config {
	char *data;
	size_t len;
};

/* Records: caps, seccomp, clean; the environment in rising precedence,
 * base (built-in PATH) < image (its Env) < keep (the caller's variables by
 * policy and --env NAME) < set (identity, --env NAME=VALUE); the image's
 * workdir, and its entrypoint (only when it is to run) and cmd. */
int sbx_config_write(const struct sbx_plan *plan, const struct sbx_image_config *img, int fd,
		     struct sbx_err *err);

/* Read a whole file (the config or the BPF); -1 with errno on failure. */
int sbx_config_load(const char *path, struct sbx_config *c);
/* The next value of key after *pos (start with *pos = 0), or NULL. */
const char *sbx_config_next(const struct sbx_config *c, size_t *pos, const char *key);
const char *sbx_config_get(const struct sbx_config *c, const char *key);
uint64_t sbx_config_caps(const struct sbx_config *c);
void sbx_config_free(struct sbx_config *c);

#endif
