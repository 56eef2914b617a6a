/* `sandbox-run selftest`: the isolation checks of the test suite, run on
 * this node under the site policy, with no compiler: a tiny image is built
 * at run time around the installed static probe (LIBEXECDIR/sandbox-probe),
 * and every check is a real sandbox started by this very binary. */
#ifndef SBX_CLI_SELFTEST_H
#define SBX_CLI_SELFTEST_H

/* argv[0] is "selftest". Options: --config FILE, --json, --help.
 * Prints "PASS|FAIL|SKIP <check>: <reason>" per check and a summary.
 * Returns 0 when no check failed, 1 when one did, 2 on a usage error,
 * 125 when the selftest itself could not be set up. */
int sbx_selftest_main(int argc, char **argv);

#endif
