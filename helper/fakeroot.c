/* --remap-root with a writable root: the single-id root that package
 * managers need. The calls a one-line id map cannot honour (chown to other
 * ids, setgroups, switching to another user) report success through the
 * seccomp filter (helper/seccomp.c); apt, which checks that its switch to
 * the _apt user took place, is told not to switch, by a file of the
 * skeleton layer that the image's own apt.conf.d settings come after:
 * /etc/apt/apt.conf.d/00slurm-sandbox-remap-root. Nothing of the image is
 * changed; the file shows only in such sandboxes, and only in images that
 * have apt (a real /etc/apt/apt.conf.d directory). */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define APT_CONF "/etc/apt/apt.conf.d/00slurm-sandbox-remap-root"

static const char apt_conf[] =
	"// Written by slurm-sandbox for --remap-root --writable: one id in the user\n"
	"// namespace, so apt's methods cannot switch to _apt.\n"
	"APT::Sandbox::User \"root\";\n";

int sbx_fakeroot_skel(int skel_fd, int image_fd, const struct sbx_plan *plan, struct sbx_err *err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	size_t len = sizeof(apt_conf) - 1;
	int dir, fd, rc = -1;

	if (!plan->remap_root || !plan->writable || image_fd < 0)
		return 0;
	/* No symlink on the way: the skeleton's path is then the image's. */
	dir = (int)syscall(SYS_openat2, image_fd, "etc/apt/apt.conf.d", &how, sizeof(how));
	if (dir < 0)
		return 0;
	close(dir);
	if (sbx_skel_add(skel_fd, image_fd, APT_CONF, SBX_SKEL_OWN_FILE, err) < 0)
		return -1;
	fd = openat(skel_fd, APT_CONF + 1, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		sbx_err_sys(err, NULL, "write %s", APT_CONF);
		goto out;
	}
	if (write(fd, apt_conf, len) != (ssize_t)len) {
		sbx_err_sys(err, NULL, "write %s", APT_CONF);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
