/* Failure points: named places in setup where a test build can fail, stop
 * or die on request, so fault tests hit an exact stage instead of racing
 * it. Compiled in only with -DSBX_FAILPOINTS (make FAILPOINTS=1, build dir
 * build-fault); a release build has no trace of them: no names, no
 * environment variable (tests/install-check.sh checks with strings).
 *
 *   SBX_FAILPOINT=NAME[@N][:ACTION]    at the Nth pass (default 1) of NAME:
 *     fail   the step fails with EIO: "failure point NAME: Input/output error"
 *     stop   SIGSTOP: the test finds the stopped process (state T) and
 *            kills whatever it wants there, or SIGCONTs it
 *     kill   SIGKILL this process (a pid namespace's init: _exit(137))
 *     exit   _exit(1) at once, without cleanup
 *   NAME may end in '*' to match any point with that prefix (mount.*).
 *
 * Use: if (SBX_FAILPOINT("import.unpack", err) < 0) goto out;
 * Only async-signal-safe calls on the way to the action, except the error
 * message (which the code around it formats anyway). */
#ifndef SBX_FAILPOINT_H
#define SBX_FAILPOINT_H

#include "util/error.h"

#ifdef SBX_FAILPOINTS
int sbx_failpoint_hit(const char *name, struct sbx_err *err);
/* For a process whose environment is not the job's (slurmstepd): the
 * job's values, taken once. */
void sbx_failpoint_set(const char *spec);
#define SBX_FAILPOINT(name, err) sbx_failpoint_hit(name, err)
/* The variables a test build passes on to the helper. */
#define SBX_FAILPOINT_ENV_NAMES "SBX_FAILPOINT",
#else
#define SBX_FAILPOINT(name, err) ((void)(err), 0)
#define SBX_FAILPOINT_ENV_NAMES
#endif

#endif
