/* `sandbox-run cache`: look at, remove and trim the caller's image cache
 * (lib/image/cache.h has the cache itself). */
#ifndef SBX_CLI_CACHE_CMD_H
#define SBX_CLI_CACHE_CMD_H

/* argv[0] is "cache". Commands: ls, rm DIGEST-PREFIX... | --all,
 * gc [--max-size SIZE] [--older-than DAYS]; options --config FILE, --help.
 * Returns 0, 125 on an error (one "sandbox: ..." line each on stderr),
 * 2 on a usage error. */
int sbx_cache_main(int argc, char **argv);

#endif
