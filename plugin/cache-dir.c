/* The users' directories in a shared image cache (images.cache_dir). Each
 * user's images live in <cache_dir>/<uid>, made by the helper as the user
 * when missing; in a directory every user may write (mode 1777) another
 * user could take that name first and deny the cache. When cache_dir is
 * root's, root makes <uid> here, by fd, before the helper runs: in a
 * root-only directory (0755) nobody else can make anything, and in a
 * sticky one nobody can rename or remove what root made. A name another
 * user took already is refused with one line naming its owner. */
#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "spec/policy.h"
#include "util/rootdir.h"

int sbx_cache_dir_prepare(const struct sbx_policy *pol, const struct sbx_cred *cred,
			  struct sbx_err *err)
{
	struct sbx_err ignored = { 0 };
	char name[16], what[PATH_MAX + 32];
	int dir, fd;

	if (!pol->cache_dir || !*pol->cache_dir || cred->uid == 0)
		return 0;
	/* Not root's (or not there): the user's own business, as in
	 * sandbox-run; the helper checks it as the user. */
	dir = sbx_rootdir_open(pol->cache_dir, 0, SBX_ROOTDIR_STICKY, "images.cache_dir", &ignored);
	if (dir < 0)
		return 0;
	snprintf(name, sizeof(name), "%u", (unsigned)cred->uid);
	snprintf(what, sizeof(what), "image cache '%s'", pol->cache_dir);
	fd = sbx_rootdir_subdir(dir, name, cred->uid, cred->gid, 0700, what, err);
	close(dir);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}
