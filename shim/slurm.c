/* What a Slurm task needs from the shim beyond the sandbox itself: the
 * PMI2 socket kept open, and the host's Slurm client on PATH. */
#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What plugin/slurm-client.c binds for a sandboxed batch step. */
#define SLURM_CLIENT_BIN "/.sandbox-slurm/bin"

static const char *env_value(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/* Slurm's mpi/pmi2 hands each task a socket and names it in PMI_FD
 * (mpi_pmi2's task setup); MPI_Init talks to slurmstepd through it. Every
 * other inherited fd above 2 is closed. */
int sbx_shim_close_fds(char *const *env)
{
	const char *v = env_value(env, "PMI_FD");
	char *end = NULL;
	long fd = v && *v ? strtol(v, &end, 10) : -1;

	if (fd < 3 || fd > INT_MAX || !end || *end)
		return (int)syscall(SYS_close_range, 3U, ~0U, 0);
	if (fd > 3 && syscall(SYS_close_range, 3U, (unsigned)fd - 1, 0) < 0)
		return -1;
	return (int)syscall(SYS_close_range, (unsigned)fd + 1, ~0U, 0);
}

/* The host's srun, sbatch, ... first on PATH when the sandbox has them, so
 * that the client that matches the cluster's daemons is the one found; an
 * image's own Slurm commands stay reachable by their full paths. */
int sbx_shim_slurm_path(char ***env, char **entry_out)
{
	struct stat st;
	const char *path;
	char *entry;
	size_t n = 0, i;
	char **grown;

	if (stat(SLURM_CLIENT_BIN, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	path = env_value(*env, "PATH");
	if (asprintf(&entry, "PATH=" SLURM_CLIENT_BIN "%s%s", path && *path ? ":" : "",
		     path ? path : "") < 0)
		return -1;
	for (i = 0; *env && (*env)[i]; i++) {
		if (strncmp((*env)[i], "PATH=", 5) == 0) {
			(*env)[i] = entry;
			*entry_out = entry;
			return 0;
		}
	}
	n = i;
	grown = realloc(*env, (n + 2) * sizeof(char *));
	if (!grown) {
		free(entry);
		errno = ENOMEM;
		return -1;
	}
	grown[n] = entry;
	grown[n + 1] = NULL;
	*env = grown;
	*entry_out = entry;
	return 0;
}
