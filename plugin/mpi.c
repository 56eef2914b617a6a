/* What Slurm's MPI plugins leave for the ranks outside the sandbox, made
 * reachable inside it. mpi/pmi2 hands each task a socket (PMI_FD), which
 * the shim keeps open (shim/slurm.c). mpi/pmix runs a PMIx server in
 * slurmstepd whose files the ranks open by the paths in their PMIX_*
 * variables: its directory under SlurmdSpoolDir (the shared-memory data
 * stores, the rendezvous files) and the client directory below TmpFS. They
 * are bound read-write at their own paths, from the task (as the user), so
 * nothing is reachable that the job's user could not reach on the node. */
#include "plugin.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Set by slurmstepd's mpi/pmix for the task after the job's environment
 * (Slurm's pmixp_info.c, pmixp_client.c), so they name the step's server.
 * Not PMIX_SYSTEM_TMPDIR: that is the node's /tmp, where the client only
 * puts files of its own; the sandbox's /tmp serves (and binding the host's
 * would undo rootfs.tmp = private). */
static const char *const pmix_dirs[] = {
	"PMIX_SERVER_TMPDIR", "PMIX_DSTORE_21_BASE_PATH", "PMIX_DSTORE_ESH_BASE_PATH", NULL,
};

static int bind_dir(struct sbx_request *req, const char *dir, struct sbx_err *err)
{
	char spec[PATH_MAX * 2 + 8];
	struct stat st;
	size_t len = strlen(dir);

	/* Slurm writes some with a trailing slash. */
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (dir[0] != '/' || strchr(dir, ':') || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (snprintf(spec, sizeof(spec), "%.*s:%.*s:rw", (int)len, dir, (int)len, dir) >=
	    (int)sizeof(spec))
		return 0;
	/* The data stores live below the server's directory: one bind. */
	for (size_t i = 0; i < req->n_trusted_mounts; i++) {
		const char *src = req->trusted_mounts[i].src;
		size_t n = strlen(src);

		if (n <= len && strncmp(src, dir, n) == 0 && (dir[n] == '/' || n == len))
			return 0;
	}
	return sbx_request_add_trusted_mount(req, spec, err);
}

int sbx_mpi_binds(spank_t sp, struct sbx_request *req, struct sbx_err *err)
{
	char value[PATH_MAX];

	/* Only a pmix step's values are slurmstepd's own (it sets them over
	 * the job's); elsewhere they would be the user's, and these binds are
	 * exempt from mounts.allowed_sources. */
	if (spank_getenv(sp, "SLURM_MPI_TYPE", value, sizeof(value)) != ESPANK_SUCCESS ||
	    strncmp(value, "pmix", 4) != 0)
		return 0;
	for (size_t i = 0; pmix_dirs[i]; i++) {
		if (spank_getenv(sp, pmix_dirs[i], value, sizeof(value)) != ESPANK_SUCCESS)
			continue;
		if (bind_dir(req, value, err) < 0)
			return -1;
	}
	return 0;
}
