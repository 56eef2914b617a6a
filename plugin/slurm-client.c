/* The host's Slurm client inside a sandboxed batch script (policy
 * [slurm] client = yes, the default): `srun ./app` in a script run with
 * --sandbox-image must find srun although the image has no Slurm.
 *
 * Everything is a read-only bind the helper makes as the user, chosen here
 * by root from root's own view of the node (slurmstepd's loader, libraries,
 * environment and plugstack arguments), never from the job's:
 *   /.sandbox-slurm/bin       the launchers (plugin/slurm-client.sh)
 *   /.sandbox-slurm/ld.so     the host's dynamic loader
 *   /.sandbox-slurm/lib       the loader's directory (libc and the rest)
 *   /.sandbox-slurm/slurm-lib libslurmfull's directory
 *   /.sandbox-slurm/host-bin  the directory of the host's srun
 * and at their own paths, where Slurm looks for them by absolute name:
 * libslurmfull's directory (Debian's PluginDir), the directory of
 * slurm.conf (SLURM_CONF of slurmd, else /etc/slurm: plugstack.conf and
 * configless caches too), this plugin and its companion
 * (spank_sandbox_named.so, if installed: plugstack.conf may list it, and
 * srun refuses to start without a listed plugin), the site policy, and the policy's
 * [slurm] client_paths (the munge socket's directory). The shim puts
 * /.sandbox-slurm/bin first on PATH (shim/slurm-path.c). */
#include "plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include "spec/policy.h"

#define CLIENT_PREFIX "/.sandbox-slurm"
#define CLIENT_BINDIR "/usr/bin"

/* dirname of path into out; -1 if it has no slash. */
static int dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash || (size_t)(slash - path) + 1 > len)
		return -1;
	if (slash == path)
		slash++;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

static int bind_ro(struct sbx_request *req, const char *src, const char *dst, struct sbx_err *err)
{
	char spec[PATH_MAX * 2 + 8];

	if (snprintf(spec, sizeof(spec), "%s:%s:ro", src, dst) >= (int)sizeof(spec))
		return sbx_err_set(err, ENAMETOOLONG, NULL, "slurm client: path '%s'", src);
	return sbx_request_add_trusted_mount(req, spec, err);
}

/* The same path inside, when it exists on the node. */
static int bind_same(struct sbx_request *req, const char *path, struct sbx_err *err)
{
	struct stat st;

	if (!path || path[0] != '/' || stat(path, &st) < 0)
		return 0;
	return bind_ro(req, path, path, err);
}

/* The loaded libslurmfull (slurmstepd's), by its file name. */
static int find_libslurm(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;

	(void)size;
	if (base && strncmp(base, "/libslurmfull", 13) == 0) {
		snprintf(data, PATH_MAX, "%s", info->dlpi_name);
		return 1;
	}
	return 0;
}

int sbx_slurm_client_binds(const struct sbx_policy *pol, struct sbx_request *req,
			   struct sbx_err *err)
{
	char loader[PATH_MAX], libdir[PATH_MAX], libslurm[PATH_MAX] = "", slurmdir[PATH_MAX];
	char real[PATH_MAX], launchers[PATH_MAX], confdir[PATH_MAX], self[PATH_MAX];
	char companion[PATH_MAX] = "";
	const char *conf = getenv("SLURM_CONF");
	Dl_info info;

	if (!pol->slurm_client)
		return 0;
	/* The loader that runs slurmstepd, and its directory (libc's on
	 * Debian and most distributions). */
	/* AT_BASE is the loader's load address, given as an integer. */
	if (!dladdr((void *)getauxval(AT_BASE), &info) || !info.dli_fname || // NOLINT(performance-no-int-to-ptr)
	    !realpath(info.dli_fname, loader) || dir_of(loader, libdir, sizeof(libdir)) < 0)
		return sbx_err_set(err, 0, NULL, "slurm client: cannot find the host's dynamic loader");
	dl_iterate_phdr(find_libslurm, libslurm);
	if (!libslurm[0] || !realpath(libslurm, real) || dir_of(real, slurmdir, sizeof(slurmdir)) < 0)
		return sbx_err_set(err, 0, NULL, "slurm client: cannot find libslurmfull in slurmstepd");
	if (dir_of(sbx_plugin.helper, launchers, sizeof(launchers)) < 0 ||
	    strlen(launchers) + sizeof("/slurm-client") > sizeof(launchers))
		return sbx_err_set(err, 0, NULL, "slurm client: helper path '%s'", sbx_plugin.helper);
	strcat(launchers, "/slurm-client");
	if (access(launchers, X_OK) < 0)
		return sbx_err_sys(err, "install the slurm-client launchers beside sandbox-helper",
				   "slurm client: '%s'", launchers);
	if (access(CLIENT_BINDIR "/srun", X_OK) < 0)
		return sbx_err_sys(err, NULL, "slurm client: " CLIENT_BINDIR "/srun");
	if (dir_of(conf && *conf ? conf : "/etc/slurm/slurm.conf", confdir, sizeof(confdir)) < 0)
		return sbx_err_set(err, 0, NULL, "slurm client: SLURM_CONF '%s' of slurmd", conf);
	if (!dladdr((void *)sbx_slurm_client_binds, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, self))
		self[0] = '\0';
	/* Root's own file, beside this one (bind_same skips it if absent). */
	if (!self[0] || dir_of(self, companion, sizeof(companion)) < 0 ||
	    strlen(companion) + sizeof("/" SBX_NAMED_COMPANION) > sizeof(companion))
		companion[0] = '\0';
	else
		strcat(companion, "/" SBX_NAMED_COMPANION);
	if (bind_ro(req, launchers, CLIENT_PREFIX "/bin", err) < 0 ||
	    bind_ro(req, loader, CLIENT_PREFIX "/ld.so", err) < 0 ||
	    bind_ro(req, libdir, CLIENT_PREFIX "/lib", err) < 0 ||
	    bind_ro(req, slurmdir, CLIENT_PREFIX "/slurm-lib", err) < 0 ||
	    bind_ro(req, CLIENT_BINDIR, CLIENT_PREFIX "/host-bin", err) < 0 ||
	    bind_same(req, slurmdir, err) < 0 || bind_same(req, confdir, err) < 0 ||
	    bind_same(req, self[0] ? self : NULL, err) < 0 ||
	    bind_same(req, companion[0] ? companion : NULL, err) < 0 ||
	    bind_same(req, sbx_plugin.policy_path, err) < 0)
		return -1;
	for (size_t i = 0; i < pol->slurm_client_paths.n; i++)
		if (bind_same(req, pol->slurm_client_paths.v[i], err) < 0)
			return -1;
	return 0;
}
