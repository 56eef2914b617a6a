/* System call names, without libseccomp: what the policy may name in
 * security.seccomp_allow and seccomp_deny. */
#ifndef SBX_SYSCALLS_H
#define SBX_SYSCALLS_H

#include <stddef.h>

extern const char *const sbx_syscall_names[];
extern const size_t sbx_syscall_count;

/* 1 when libseccomp knows NAME on some architecture, else 0. */
int sbx_syscall_known(const char *name);

#endif
