#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The skeleton: a layer of our own on top of the image (lowerdir=skel:image)
 * that holds every mount point and file the sandbox needs but the image
 * lacks. Nothing is ever created in the image's own directories: an overlay
 * would have to copy them up, and copying up a directory the user does not
 * own (a root-owned image) fails in a user namespace (EOVERFLOW). Paths are
 * resolved in the image the way the kernel will resolve them in the new
 * root: symlinks followed, but never above "/". */

#define MAX_LINKS 40

/* Append component c (len n) to the canonical path canon. */
static int push(char *canon, const char *c, size_t n)
{
	size_t len = strlen(canon);

	if (len + 1 + n >= PATH_MAX)
		return -1;
	canon[len] = '/';
	memcpy(canon + len + 1, c, n);
	canon[len + 1 + n] = '\0';
	return 0;
}

static void pop(char *canon)
{
	char *slash = strrchr(canon, '/');

	if (slash)
		*slash = '\0';
}

/* mkdir -p canon (relative to skel_fd; canon is "" or "/a/b"). */
static int skel_mkdirs(int skel_fd, const char *canon, struct sbx_err *err)
{
	char part[PATH_MAX];
	size_t len = strlen(canon);

	for (size_t i = 1; i <= len; i++) {
		if (canon[i] != '/' && canon[i] != '\0')
			continue;
		memcpy(part, canon + 1, i - 1);
		part[i - 1] = '\0';
		if (mkdirat(skel_fd, part, 0755) < 0 && errno != EEXIST)
			return sbx_err_sys(err, NULL, "prepare mount point '%s'", canon);
	}
	return 0;
}

/* The file at canon in the skeleton, made if missing: its fd open for
 * writing when file_fd asks for it, else closed. */
static int skel_file(int skel_fd, const char *canon, int *file_fd, struct sbx_err *err)
{
	int fd = openat(skel_fd, canon + 1, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return sbx_err_sys(err, NULL, "prepare mount point '%s'", canon);
	if (file_fd)
		*file_fd = fd;
	else
		close(fd);
	return 0;
}

static int skel_add(int skel_fd, int image_fd, const char *path, enum sbx_skel_kind kind,
		    int *file_fd, struct sbx_err *err)
{
	char canon[PATH_MAX] = "", rest[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *p;
	int links = 0, missing = 0;

	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return sbx_err_set(err, ENAMETOOLONG, NULL, "path '%s'", path);
	p = rest;
	while (*p) {
		size_t n;
		struct stat st;
		int fd;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			pop(canon);
			p += n;
			continue;
		}
		if (push(canon, p, n) < 0)
			return sbx_err_set(err, ENAMETOOLONG, NULL, "path '%s'", path);
		p += n;
		if (missing)
			continue;
		fd = (int)syscall(SYS_openat2, image_fd, canon, &how, sizeof(how));
		if (fd < 0 && errno == ENOENT) {
			missing = 1;
			continue;
		}
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			return sbx_err_sys(err, NULL, "path '%s' in the image", path);
		}
		/* Our own files replace a final symlink; they never follow it. */
		if (S_ISLNK(st.st_mode) && kind == SBX_SKEL_OWN_FILE && p[strspn(p, "/")] == '\0') {
			close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t len = readlinkat(fd, "", target, sizeof(target) - 1);

			close(fd);
			if (len < 0 || ++links > MAX_LINKS)
				return sbx_err_set(err, len < 0 ? errno : ELOOP, NULL,
						   "path '%s' in the image", path);
			target[len] = '\0';
			pop(canon);
			if (target[0] == '/')
				canon[0] = '\0';
			/* Go on with the link's target, then what followed it. */
			if (snprintf(next, sizeof(next), "%s/%s", target, p) >= (int)sizeof(next))
				return sbx_err_set(err, ENAMETOOLONG, NULL, "path '%s'", path);
			memcpy(rest, next, strlen(next) + 1);
			p = rest;
			continue;
		}
		close(fd);
		if (!S_ISDIR(st.st_mode) && p[strspn(p, "/")] != '\0')
			return sbx_err_set(err, ENOTDIR, "choose another destination",
					   "path '%s' in the image", path);
		if (!missing && p[strspn(p, "/")] == '\0' && kind != SBX_SKEL_OWN_FILE)
			return 0;       /* the image has it: nothing to add */
	}
	if (kind == SBX_SKEL_DIR)
		return skel_mkdirs(skel_fd, canon, err);
	{
		char parent[PATH_MAX];

		memcpy(parent, canon, strlen(canon) + 1);
		pop(parent);
		if (skel_mkdirs(skel_fd, parent, err) < 0)
			return -1;
	}
	return skel_file(skel_fd, canon, file_fd, err);
}

int sbx_skel_add(int skel_fd, int image_fd, const char *path, enum sbx_skel_kind kind,
		 struct sbx_err *err)
{
	return skel_add(skel_fd, image_fd, path, kind, NULL, err);
}

int sbx_skel_own_file(int skel_fd, int image_fd, const char *path, struct sbx_err *err)
{
	int fd = -1;

	if (skel_add(skel_fd, image_fd, path, SBX_SKEL_OWN_FILE, &fd, err) < 0)
		return -1;
	return fd;
}
