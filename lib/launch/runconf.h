/* The sandbox's run configuration, /.sandbox/runconf: what every task needs
 * and slurmstepd cannot carry (environment rules, capabilities, seccomp).
 * Written once by the helper, read by sbx_sandbox_join and the shim.
 * Format: NUL-separated "key:value" records (values may hold any byte but
 * NUL, like environment strings). */
#ifndef SBX_RUNCONF_H
#define SBX_RUNCONF_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"
#include "spec/image.h"
#include "spec/plan.h"

#define SBX_RUNCONF_FILE "runconf"
#define SBX_SECCOMP_FILE "seccomp.bpf"

struct sbx_runconf {
	char *data;
	size_t len;
};

/* Records: caps, seccomp; the environment's rules (clean, base, image,
 * passthrough, deny, identity, user: launch/environment.h applies them);
 * per_task (each joining task makes its own writable layer: launch/pertask.c);
 * the image's workdir, and its entrypoint (only when it is to run) and cmd. */
int sbx_runconf_write(const struct sbx_plan *plan, const struct sbx_image_config *img, int fd,
		     struct sbx_err *err);

/* Read a whole file (the run configuration or the BPF); -1 with errno on failure. */
int sbx_runconf_load(const char *path, struct sbx_runconf *c);
/* The next value of key after *pos (start with *pos = 0), or NULL. */
const char *sbx_runconf_next(const struct sbx_runconf *c, size_t *pos, const char *key);
const char *sbx_runconf_get(const struct sbx_runconf *c, const char *key);
uint64_t sbx_runconf_caps(const struct sbx_runconf *c);
void sbx_runconf_free(struct sbx_runconf *c);

#endif
