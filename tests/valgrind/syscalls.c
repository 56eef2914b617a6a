/* vg-syscalls: which of the system calls the sandbox makes does this
 * valgrind know? Run under valgrind by tests/valgrind/run.sh, which reads
 * valgrind's "unhandled syscall: N" warnings; prints "NAME NR" per call on
 * stdout (the names for those numbers). Each call gets arguments the kernel
 * refuses before it does anything (a bad fd or flags, NULL), so the probe
 * changes nothing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CALL(name) { #name, SYS_##name }

static const struct {
	const char *name;
	long nr;
} calls[] = {
	CALL(openat2),       CALL(open_tree),   CALL(move_mount),  CALL(fsopen),
	CALL(fsconfig),      CALL(fsmount),     CALL(mount_setattr), CALL(seccomp),
	CALL(close_range),   CALL(execveat),    CALL(pivot_root),  CALL(setns),
	CALL(unshare),       CALL(clone3),      CALL(ioprio_set),
};

int main(void)
{
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		/* -1 first: each fails with EBADF, EFAULT or EINVAL. */
		syscall(calls[i].nr, -1L, 0L, 0L, 0L, 0L);
		printf("%s %ld\n", calls[i].name, calls[i].nr);
	}
	return 0;
}
