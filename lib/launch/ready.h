/* The launcher's reading of the helper's "ready" record (SBX_STATUS_FD,
 * written by sbx_status_record): its own file so that the fuzzer
 * (tests/fuzz/fuzz_status.c) reaches it. */
#ifndef SBX_READY_H
#define SBX_READY_H

#include <stddef.h>
#include <sys/types.h>

/* "ready <init pid> <cgroup|->", nothing after it: *init_pid > 0 and the
 * cgroup ("" for "-") an absolute path with no "/.." and no "//", at most
 * cgroup_len - 1 bytes, without control characters. Returns 0, or -1
 * (nothing written) for any other line. */
int sbx_ready_parse(const char *line, pid_t *init_pid, char *cgroup, size_t cgroup_len);

#endif
