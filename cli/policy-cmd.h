/* `sandbox-run policy`: the admin's view of the site policy.
 *   policy check [FILE]      every problem of the file, with its line
 *   policy explain [ARGS]    for each setting a request asks for (sandbox-run's
 *                            options or srun's --sandbox-* ones): allowed or
 *                            refused, by which key at which line, and the
 *                            value the sandbox gets */
#ifndef SBX_CLI_POLICY_CMD_H
#define SBX_CLI_POLICY_CMD_H

/* argv[0] is "policy". Returns 0 (file clean / request allowed), 1 (problems
 * found / request refused), 2 on a usage error, 125 when the policy file
 * cannot be read. */
int sbx_policy_main(int argc, char **argv);

#endif
