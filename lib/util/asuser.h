/* Work in a user's own space with that user's credentials. Root (the
 * plugin in slurmstepd) has no reason to act on what a job user owns: it
 * forks, the child drops to the user's uid, gid and groups for good, does
 * the work with the user's rights only, and reports back. A symlink or a
 * rename the user races against it can then only reach what the user
 * could reach anyway. */
#ifndef SBX_ASUSER_H
#define SBX_ASUSER_H

#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

struct sbx_cred {
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	const gid_t *groups;     /* supplementary groups, may be NULL */
};

/* What the work may hand back to the caller. */
#define SBX_ASUSER_OUT 4096

/* Run fn(arg, out, err) in a forked child holding only cred (no
 * capabilities, not dumpable). out (SBX_ASUSER_OUT bytes, zeroed) is
 * shared with the caller and copied to out_buf when it is not NULL.
 * fn runs after fork in a possibly multi-threaded process: it may only
 * make system calls and format errors. Returns fn's result (0 or -1 with
 * err set), or -1 when the child could not run. */
int sbx_as_user(const struct sbx_cred *cred, int (*fn)(void *arg, char *out, struct sbx_err *err),
		void *arg, char *out_buf, struct sbx_err *err);

#endif
