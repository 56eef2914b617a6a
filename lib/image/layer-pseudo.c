/* The mksquashfs pseudo file, written from the records of what the archives
 * said (layer-records.c): the unprivileged unpacker cannot set owners or
 * setuid bits on disk, so mksquashfs sets them in the image. */
#include "image/layer-internal.h"
#include "image/layer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PSEUDO_LINE_MAX 16000   /* mksquashfs 4.5 refuses pseudo lines over 16384 bytes */

/* ---- the pseudo file ---- */

struct walk {
	struct sbx_unpack *u;
	FILE *f;
	char path[PATH_MAX * 2];
	struct sbx_err *err;
};

/* mksquashfs 4.5 reads a name up to unquoted white space, '"' toggles
 * quoting and '\' takes the next byte as it is; a line starting with '#' is a
 * comment. So those bytes get a '\'. A newline cannot be expressed at all:
 * lines are read with fgets and a trailing '\' joins them. */
static int write_line(struct walk *w, const struct stat *st)
{
	struct sbx_unpack *u = w->u;
	struct rec *r = sbx_layer_rec_find(u->priv, w->path);
	char line[PSEUDO_LINE_MAX + 64], shown[512];
	size_t n = 0;
	const char *s;
	uint32_t mode = 0755, uid = 0, gid = 0;

	sbx_layer_show(w->path, shown, sizeof(shown));
	for (s = w->path; *s && n < PSEUDO_LINE_MAX; s++) {
		if (*s == '\n')
			return sbx_err_set(w->err, 0, "rename it: mksquashfs pseudo files cannot express it",
					   "%s: '%s': a name with a newline cannot be stored in the image",
					   u->what, shown);
		if (*s == '"' || *s == '\\' || *s == '#' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
			line[n++] = '\\';
		line[n++] = *s;
	}
	if (n >= PSEUDO_LINE_MAX)
		return sbx_err_set(w->err, 0, HOSTILE, "%s: '%s': path too long for mksquashfs", u->what, shown);
	line[n] = '\0';
	if (r && (r->mode & S_IFMT) == (st->st_mode & S_IFMT)) {
		mode = r->mode & 07777 & ~(uint32_t)(S_ISUID | S_ISGID);
		uid = r->uid;
		gid = r->gid;
	}
	/* "M" (with mtime) would lose a directory's children in mksquashfs 4.5.1. */
	if (r && !S_ISDIR(st->st_mode))
		fprintf(w->f, "%s M %u %04o %u %u\n", line, r->mtime, mode, uid, gid);
	else
		fprintf(w->f, "%s m %04o %u %u\n", line, mode, uid, gid);
	return 0;
}

/* Directories get their archive mtime on disk once nothing changes below. */
static int set_dir_mtime(struct walk *w, int dirfd_, const char *name)
{
	struct rec *r = sbx_layer_rec_find(w->u->priv, w->path);
	struct timespec ts[2];
	char shown[512];

	if (!r || !r->mtime)
		return 0;
	ts[0].tv_sec = ts[1].tv_sec = r->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(dirfd_, name, ts, AT_SYMLINK_NOFOLLOW) < 0) {
		sbx_layer_show(w->path, shown, sizeof(shown));
		return sbx_err_sys(w->err, NULL, "%s: '%s': setting its time", w->u->what, shown);
	}
	return 0;
}

static int walk_dir(struct walk *w, int fd, int depth)
{
	size_t len = strlen(w->path), nlen;
	struct dirent *de;
	struct stat st;
	char shown[512];
	DIR *d = fdopendir(fd);
	int rc = -1, sub;

	if (!d) {
		close(fd);
		goto sys;
	}
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		nlen = strlen(de->d_name);
		if (len + nlen + 2 > sizeof(w->path)) {
			errno = ENAMETOOLONG;
			goto sys;
		}
		snprintf(w->path + len, sizeof(w->path) - len, "%s%s", len ? "/" : "", de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			goto sys;
		if (write_line(w, &st) < 0)
			goto out;
		if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= MAX_DEPTH) {
				errno = ELOOP;
				goto sys;
			}
			sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				goto sys;
			if (walk_dir(w, sub, depth + 1) < 0)
				goto out;
			if (set_dir_mtime(w, dirfd(d), de->d_name) < 0)
				goto out;
		}
		w->path[len] = '\0';
	}
	if (errno)
		goto sys;
	rc = 0;
	goto out;
sys:
	sbx_layer_show(w->path, shown, sizeof(shown));
	sbx_err_sys(w->err, NULL, "%s: '%s': listing the unpacked tree", w->u->what, shown);
out:
	if (d)
		closedir(d);
	w->path[len] = '\0';
	return rc;
}

int sbx_unpack_write_pseudo(struct sbx_unpack *u, const char *pseudo_path, struct sbx_err *err)
{
	struct walk *w = calloc(1, sizeof(*w));
	int fd = -1, root = -1, rc = -1;

	if (!w)
		return sbx_err_set(err, ENOMEM, NULL, "%s: writing the pseudo file", u->what);
	w->u = u;
	w->err = err;
	fd = open(pseudo_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(w->f = fdopen(fd, "w"))) {
		sbx_err_sys(err, NULL, "%s: writing '%s'", u->what, pseudo_path);
		goto out;
	}
	fd = -1;
	root = openat(u->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		sbx_err_sys(err, NULL, "%s: listing the unpacked tree", u->what);
		goto out;
	}
	if (walk_dir(w, root, 0) < 0)
		goto out;
	if (fflush(w->f) != 0 || ferror(w->f)) {
		sbx_err_sys(err, NULL, "%s: writing '%s'", u->what, pseudo_path);
		goto out;
	}
	rc = 0;
out:
	if (w->f && fclose(w->f) != 0 && rc == 0)
		rc = sbx_err_sys(err, NULL, "%s: writing '%s'", u->what, pseudo_path);
	if (fd >= 0)
		close(fd);
	free(w);
	return rc;
}

void sbx_unpack_root(const struct sbx_unpack *u, mode_t *mode, uid_t *uid, gid_t *gid)
{
	struct rec *r = u->priv ? sbx_layer_rec_find(u->priv, "") : NULL;

	*mode = r ? (r->mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID)) : 0755;
	*uid = r ? r->uid : 0;
	*gid = r ? r->gid : 0;
}
