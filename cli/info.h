/* `sandbox-run info`: report what this host allows for an unprivileged
 * sandbox (user, mount and pid namespaces, overlayfs, seccomp, FUSE,
 * cgroup v2) and why, with a hint for every "no". Runs as the calling
 * user and never needs root; every probe that mounts does so in a forked
 * child's own mount namespace, so the host is left untouched. */
#ifndef SBX_CLI_INFO_H
#define SBX_CLI_INFO_H

/* argv[0] is "info". Options: --json, --config FILE, --help.
 * Returns 0 when user namespaces, overlayfs in a user namespace and a fresh
 * /proc in a pid namespace all work, 1 when one of them does not, 2 on a
 * usage error. */
int sbx_info_main(int argc, char **argv);

#endif
