#ifndef SBX_INFO_PROBE_H
#define SBX_INFO_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* What a forked probe sends back through its pipe. */
struct probe {
	bool ok;
	int err;                /* errno of the failing step, 0 if none */
	char step[64];          /* the failing step, "" when ok */
	char why[128];          /* "step: reason", filled in by run_probe() */
	bool userxattr;         /* overlay mounted with the userxattr option */
	int xattr_err;          /* setxattr user.* on tmpfs: 0 works, -1 untested */
	int nnp_err;            /* PR_SET_NO_NEW_PRIVS: 0 works, -1 untested */
};

/* Run probe_fn in a forked child with a timeout; its answer lands in out. */
void run_probe(int (*probe_fn)(struct probe *), struct probe *out);
int probe_userns(struct probe *p);
int probe_overlay(struct probe *p);
int probe_proc(struct probe *p);
int probe_seccomp(struct probe *p);
/* The first executable name in $PATH (or the usual bin directories). */
bool find_program(const char *name, char *found, size_t len);
/* close(2) that keeps errno (a descriptor only read from loses nothing). */
void close_quietly(int fd);

#endif
