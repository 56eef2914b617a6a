/* What Slurm's MPI plugins leave for the ranks outside the sandbox, made
 * reachable inside it. mpi/pmi2 hands each task a socket (PMI_FD), which
 * the shim keeps open (shim/slurm.c). mpi/pmix runs a PMIx server in
 * slurmstepd whose files (the shared-memory data stores, the rendezvous
 * files) the ranks open by the paths in their PMIX_* variables: all below
 * the step's server directory, which is bound read-write at its own path,
 * from the task (as the user).
 *
 * That bind is exempt from mounts.allowed_sources, and the variables are
 * in the job's environment, which the user writes. So the directory is
 * taken only when it is provably the one Slurm made for this very step:
 * Slurm 22.05 to 24.11 (pmixp_info.c _env_set, pmixp_utils.c pmixp_mkdir)
 * make it as <SlurmdSpoolDir of the node>/pmix.<job>.<step>, as root, in
 * a directory the job's user cannot write, and give it to the job's user.
 * The name comes from the step's ids (spank items), the checks are made on
 * fds one component at a time, and every PMIX_* directory must lie inside
 * it; anything else fails the task with one line. */
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVER_VAR "PMIX_SERVER_TMPDIR"
#define HINT "unset PMIX_* in the job: srun --mpi=pmix sets them for its steps"

/* The PMIx server library puts the data stores' paths (gds ds21, ds12)
 * below the server directory; Slurm names the directory itself. Not
 * PMIX_SYSTEM_TMPDIR: that is the node's /tmp, where the client only puts
 * files of its own; the sandbox's /tmp serves (and binding the host's
 * would undo rootfs.tmp = private). */
static const char *const store_vars[] = {
	"PMIX_DSTORE_21_BASE_PATH", "PMIX_DSTORE_ESH_BASE_PATH", NULL,
};

/* Whether the job's user could have put, or could swap, the entry (st) of
 * the directory at dirfd (dst). The task runs with the user's credentials,
 * so faccessat answers for them, ACLs included. A sticky directory (/tmp)
 * protects entries that are not the user's, unless fresh says that the
 * entry must not be the user's making at all. */
static int user_controls(int dirfd, const struct stat *dst, const struct stat *st, uid_t uid,
			 int fresh)
{
	if (dst->st_uid == uid)
		return 1;
	if (faccessat(dirfd, ".", W_OK, AT_EACCESS) < 0 && (errno == EACCES || errno == EROFS))
		return 0;
	return fresh || !(dst->st_mode & S_ISVTX) || st->st_uid == uid;
}

/* Walk path (absolute, no "." or "..", symlinks already resolved) from "/"
 * on fds, never following a symlink, refusing a component the user could
 * have swapped. The last one must sit in a directory the user cannot
 * write (so someone else made it there) and be a directory. *st is its
 * stat. */
static int walk_unswappable(const char *path, uid_t uid, struct stat *st, const char *var,
			    const char *value, struct sbx_err *err)
{
	char buf[PATH_MAX], *save = NULL, *name;
	struct stat dst;
	int fd = -1, next, rc = -1;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		sbx_err_set(err, ENAMETOOLONG, HINT, "mpi %s '%s'", var, value);
		goto out;
	}
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &dst) < 0) {
		sbx_err_sys(err, NULL, "mpi %s '%s': /", var, value);
		goto out;
	}
	for (name = strtok_r(buf, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		int last = save == NULL || *save == '\0';

		next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, st) < 0) {
			sbx_err_sys(err, HINT, "mpi %s '%s': component '%s'", var, value, name);
			if (next >= 0)
				close(next);
			goto out;
		}
		if (user_controls(fd, &dst, st, uid, last)) {
			sbx_err_set(err, 0, HINT,
				    "mpi %s '%s': the job's user can write the directory holding '%s', so Slurm's mpi/pmix did not make it",
				    var, value, name);
			close(next);
			goto out;
		}
		close(fd);
		fd = next;
		dst = *st;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The step's server directory from the task's PMIX_SERVER_TMPDIR, checked
 * as the header says: *dir is the path the ranks use (normalised), *real
 * the same with symlinks resolved, which is bound. */
static int server_dir(const char *value, char **dir, char *real, struct sbx_err *err)
{
	/* slurmstepd's own environment (the task's environ until exec) names
	 * its PMIx server's directory too (pmixp_client.c sets it): root's
	 * value, for this node on a host with several slurmd, and absent in a
	 * step without a server. */
	const char *own = getenv(SERVER_VAR), *base;
	char want[48], *own_dir = NULL;
	struct stat st;
	int rc = -1;

	snprintf(want, sizeof(want), "pmix.%u.%u", sbx_plugin.job_id, sbx_plugin.step_id);
	if (value[0] != '/' || sbx_path_normalise(value, dir) < 0 || strcmp(*dir, "/") == 0) {
		sbx_err_set(err, 0, HINT, "mpi %s '%s': not a plain absolute path", SERVER_VAR, value);
		goto out;
	}
	base = strrchr(*dir, '/') + 1;
	if (strcmp(base, want) != 0) {
		if (own)
			sbx_err_set(err, 0, HINT,
				    "mpi %s '%s': not this step's PMIx server directory (Slurm's is <SlurmdSpoolDir>/%s)",
				    SERVER_VAR, value, want);
		else
			sbx_err_set(err, 0, HINT,
				    "mpi %s '%s': not this step's PMIx server directory: the step has none (only srun --mpi=pmix steps have one)",
				    SERVER_VAR, value);
		goto out;
	}
	if (own && (sbx_path_normalise(own, &own_dir) < 0 || strcmp(own_dir, *dir) != 0)) {
		sbx_err_set(err, 0, HINT, "mpi %s '%s': slurmstepd's PMIx server uses '%s'", SERVER_VAR,
			    value, own);
		goto out;
	}
	if (!realpath(*dir, real)) {
		sbx_err_sys(err, HINT, "mpi %s '%s'", SERVER_VAR, value);
		goto out;
	}
	base = strrchr(real, '/') + 1;
	if (strcmp(base, want) != 0) {
		sbx_err_set(err, 0, HINT, "mpi %s '%s': a symlink to '%s'", SERVER_VAR, value, real);
		goto out;
	}
	if (walk_unswappable(real, sbx_plugin.cred.uid, &st, SERVER_VAR, value, err) < 0)
		goto out;
	if (st.st_uid != sbx_plugin.cred.uid) {
		sbx_err_set(err, 0, HINT,
			    "mpi %s '%s': owned by uid %u, not the job's user (Slurm gives it to the job's user)",
			    SERVER_VAR, value, (unsigned)st.st_uid);
		goto out;
	}
	rc = 0;
out:
	free(own_dir);
	return rc;
}

/* A data store's directory must be the server's or below it. */
static int inside(const char *var, const char *value, const char *dir, struct sbx_err *err)
{
	char *norm = NULL;
	size_t n = dir ? strlen(dir) : 0;
	int ok = dir && value[0] == '/' && sbx_path_normalise(value, &norm) == 0 &&
		 strncmp(norm, dir, n) == 0 && (norm[n] == '\0' || norm[n] == '/');

	free(norm);
	if (ok)
		return 0;
	if (!dir)
		return sbx_err_set(err, 0, HINT, "mpi %s '%s': the step has no PMIx server directory (%s)",
				   var, value, SERVER_VAR);
	return sbx_err_set(err, 0, HINT, "mpi %s '%s': outside the step's PMIx server directory '%s'",
			   var, value, dir);
}

int sbx_mpi_binds(spank_t sp, struct sbx_request *req, struct sbx_err *err)
{
	char value[PATH_MAX], real[PATH_MAX], spec[PATH_MAX * 2 + 8];
	char *dir = NULL;
	int rc = -1;

	if (spank_getenv(sp, SERVER_VAR, value, sizeof(value)) == ESPANK_SUCCESS &&
	    server_dir(value, &dir, real, err) < 0)
		goto out;
	for (size_t i = 0; store_vars[i]; i++)
		if (spank_getenv(sp, store_vars[i], value, sizeof(value)) == ESPANK_SUCCESS &&
		    inside(store_vars[i], value, dir, err) < 0)
			goto out;
	if (!dir) {
		rc = 0;
		goto out;
	}
	if (strchr(real, ':') || strchr(dir, ':')) {
		sbx_err_set(err, 0, "give SlurmdSpoolDir a path without ':'",
			    "mpi %s '%s': a ':' in the path", SERVER_VAR, dir);
		goto out;
	}
	if (snprintf(spec, sizeof(spec), "%s:%s:rw", real, dir) >= (int)sizeof(spec)) {
		sbx_err_set(err, ENAMETOOLONG, NULL, "mpi %s '%s'", SERVER_VAR, dir);
		goto out;
	}
	rc = sbx_request_add_trusted_mount(req, spec, err);
out:
	free(dir);
	return rc;
}
