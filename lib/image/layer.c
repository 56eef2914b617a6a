/* The safe layer unpacker (see layer.h). Every write is relative to a
 * directory fd that openat2(RESOLVE_IN_ROOT) resolved inside root_fd, and the
 * final component of a name is never followed, so no archive can reach a host
 * path. Attributes the unprivileged user cannot set (owners, setuid, ...) are
 * kept as records (layer-records.c) and handed to mksquashfs as a pseudo file
 * instead (layer-pseudo.c). */
#include "image/layer.h"
#include "util/fsutil.h"
#include "image/layer-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_HOPS 40             /* symlinks followed while creating parents (the kernel's limit) */
#define OVERFLOW_ID 65534       /* ids that do not fit squashfs, as the kernel maps them */
#define WH ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* ---- names and messages ---- */

static char *join(const char *dir, const char *name)
{
	char *s;

	/* clean_name's copy is written up to its NUL; the analyzer loses track. */
	/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch) */
	if (asprintf(&s, "%s%s%s", dir, *dir && *name ? "/" : "", name) < 0)
		return NULL;
	return s;
}

/* Leading "/" and "./" go (absolute names land inside the root, as docker
 * does), so do empty and "." components. Returns 1 for a ".." anywhere. */
static int clean_name(const char *in, char **out)
{
	char *o = malloc(strlen(in) + 1), *w = o;
	const char *s = in, *e;

	*out = NULL;
	if (!o)
		return -1;
	for (; *s; s = *e ? e + 1 : e) {
		size_t len;

		e = strchrnul(s, '/');
		len = (size_t)(e - s);
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			free(o);
			return 1;
		}
		if (len == 0 || (len == 1 && *s == '.'))
			continue;
		if (w != o)
			*w++ = '/';
		memcpy(w, s, len);
		w += len;
	}
	*w = '\0';
	*out = o;
	return 0;
}

static void set_ctx(struct sbx_unpack *u, const char *name)
{
	char shown[512];

	sbx_layer_show(name, shown, sizeof(shown));
	if (u->priv->index > 0)
		snprintf(u->priv->ctx, sizeof(u->priv->ctx), "%s: layer %d: entry '%s'",
			 u->what, u->priv->index, shown);
	else
		snprintf(u->priv->ctx, sizeof(u->priv->ctx), "%s: entry '%s'", u->what, shown);
}

static int fail(struct sbx_unpack *u, struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "<ctx>: <reason>" for the entry at hand. */
static int fail(struct sbx_unpack *u, struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbx_err_vset_in(err, errnum, hint, u->priv->ctx, fmt, ap);
	va_end(ap);
	return -1;
}

#ifdef __clang_analyzer__
/* As for sbx_err_set (util/error.h): the analyzer does not look inside. */
#define fail(...) (fail(__VA_ARGS__), -1)
#endif

/* ---- resolving directories inside the root ---- */

/* An O_PATH fd of path inside the root. Symlinks are followed but ".." and
 * absolute targets stop at root_fd (openat2 RESOLVE_IN_ROOT); the first try
 * allows none, so *followed says whether the image path is the host one. */
static int open_in_root(struct sbx_unpack *u, const char *path, int *followed)
{
	int fd = sbx_openat_in_root(u->root_fd, path, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);

	*followed = 0;
	if (fd >= 0 || errno != ELOOP)
		return fd;
	*followed = 1;
	return sbx_openat_in_root(u->root_fd, path, O_PATH | O_DIRECTORY, 0);
}

/* Where a directory reached through symlinks really is in the image. */
static char *image_path(struct sbx_unpack *u, int fd)
{
	struct sbx_unpack_priv *p = u->priv;
	char link[64], buf[PATH_MAX];
	size_t n;
	ssize_t len;

	if (!p->root_real) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", u->root_fd);
		len = readlink(link, buf, sizeof(buf) - 1);
		if (len < 0)
			return NULL;
		buf[len] = '\0';
		p->root_real = strdup(strcmp(buf, "/") == 0 ? "" : buf);
		if (!p->root_real)
			return NULL;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, buf, sizeof(buf) - 1);
	if (len < 0)
		return NULL;
	buf[len] = '\0';
	n = strlen(p->root_real);
	if (strncmp(buf, p->root_real, n) != 0 || (buf[n] != '/' && buf[n] != '\0')) {
		errno = EXDEV;
		return NULL;
	}
	return strdup(buf[n] ? buf + n + 1 : "");
}

/* Replace the walk's remaining components by a symlink's target, resolved
 * where the link is ("done"), or from the root for an absolute one. */
static char *splice_link(int dfd, const char *comp, const char *done, const char *rest)
{
	char target[PATH_MAX], *s;
	ssize_t len = readlinkat(dfd, comp, target, sizeof(target) - 1);

	if (len < 0)
		return NULL;
	target[len] = '\0';
	if (asprintf(&s, "%s%s%s%s%s", target[0] == '/' ? "" : done,
		     target[0] == '/' || !*done ? "" : "/", target, *rest ? "/" : "", rest) < 0)
		return NULL;
	return s;
}

/* Create the missing directories of path one component at a time, each
 * resolved in the root again. A dangling symlink is walked through and its
 * target created inside the root, so "evil -> /etc" then "evil/x" writes the
 * image's etc/x, as docker does. Returns an O_PATH fd, -1 with errno. */
static int make_dirs(struct sbx_unpack *u, const char *path, int *followed)
{
	char *todo = strdup(path), *done = strdup(""), *next = NULL, *rest, *comp;
	int dfd = -1, fd, f, hops = 0, rc = -1, saved;

	if (!todo || !done)
		goto out;
	dfd = open_in_root(u, "", &f);
	if (dfd < 0)
		goto out;
	for (rest = todo; *rest;) {
		comp = rest;
		rest = strchrnul(rest, '/');
		if (*rest)
			*rest++ = '\0';
		if (!*comp || strcmp(comp, ".") == 0)
			continue;
		free(next);
		next = join(done, comp);
		if (!next)
			goto out;
		fd = open_in_root(u, next, &f);
		if (fd < 0 && errno == ENOENT && mkdirat(dfd, comp, 0755) == 0)
			fd = open_in_root(u, next, &f);
		else if (fd < 0 && errno == EEXIST) {
			struct stat st;
			char *spliced;

			if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
				goto out;
			if (!S_ISLNK(st.st_mode) || ++hops > MAX_HOPS) {
				errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
				goto out;
			}
			spliced = splice_link(dfd, comp, done, rest);
			if (!spliced)
				goto out;
			free(todo);
			rest = todo = spliced;
			free(done);
			done = strdup("");
			close(dfd);
			dfd = open_in_root(u, "", &f);
			*followed = 1;
			if (!done || dfd < 0)
				goto out;
			continue;
		}
		if (fd < 0)
			goto out;
		*followed |= f;
		close(dfd);
		dfd = fd;
		free(done);
		done = next;
		next = NULL;
	}
	rc = dfd;
	dfd = -1;
out:
	saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(todo);
	free(done);
	free(next);
	errno = saved;
	return rc;
}

/* The directory path names, as an O_PATH fd and its image path. create:
 * missing directories are made; otherwise 1 is returned for a missing one. */
static int resolve_dir(struct sbx_unpack *u, const char *path, int create, int *fd_out,
		       char **real_out, struct sbx_err *err)
{
	char shown[512];
	int followed, fd = open_in_root(u, path, &followed);

	if (fd < 0 && errno == ENOENT && create)
		fd = make_dirs(u, path, &followed);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR) && !create)
		return 1;
	sbx_layer_show(path, shown, sizeof(shown));
	if (fd < 0 && errno == ENOSYS)
		return fail(u, err, errno, "openat2 needs Linux 5.6 or later", "opening '%s'", shown);
	if (fd < 0)
		return fail(u, err, errno, HOSTILE, "directory '%s' cannot be used", shown);
	*real_out = followed ? image_path(u, fd) : strdup(path);
	if (!*real_out) {
		fail(u, err, errno, "/proc must be mounted", "finding where '%s' leads", shown);
		close(fd);
		return -1;
	}
	if (sbx_layer_rec_stamp(u->priv, *real_out) < 0) {
		fail(u, err, ENOMEM, NULL, "recording '%s'", shown);
		free(*real_out);
		*real_out = NULL;       /* make_hardlink frees it again on its way out */
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

/* resolve_dir through a one-entry cache; the fd and path stay the cache's. */
static int parent_dir(struct sbx_unpack *u, const char *path, int create, int *fd_out,
		      const char **real_out, struct sbx_err *err)
{
	struct sbx_unpack_priv *p = u->priv;
	char *name, *real;
	int fd, rc;

	if (p->pc_name && !p->pc_stale && strcmp(p->pc_name, path) == 0)
		goto hit;
	rc = resolve_dir(u, path, create, &fd, &real, err);
	if (rc != 0)
		return rc;
	name = strdup(path);
	if (!name) {
		close(fd);
		free(real);
		return fail(u, err, ENOMEM, NULL, "resolving its directory");
	}
	if (p->pc_fd >= 0)
		close(p->pc_fd);
	free(p->pc_name);
	free(p->pc_real);
	p->pc_name = name;
	p->pc_real = real;
	p->pc_fd = fd;
	p->pc_stale = 0;
hit:
	*fd_out = p->pc_fd;
	*real_out = p->pc_real;
	return 0;
}

/* ---- removing ---- */

/* The directory name in at, open to read its entries; NULL with errno. */
static DIR *open_dir_at(int at, const char *name, int flags)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags), saved;
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

/* The next entry but "." and ".."; NULL at the end (errno 0) or on error. */
static struct dirent *next_child(DIR *d)
{
	struct dirent *de;

	do {
		errno = 0;
		de = readdir(d);
	} while (de && (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0));
	return de;
}

static void forget(void *ctx, const char *path)
{
	sbx_layer_rec_del(ctx, path);
}

/* name in at (image path path) and everything below it, never following a
 * symlink (util/fsutil.h); the records of what goes go too. -1 with errno. */
static int remove_tree(struct sbx_unpack *u, int at, const char *name, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	int rc, saved;

	if (!parent) {
		errno = ENOMEM;
		return -1;
	}
	u->priv->pc_stale = 1;
	rc = sbx_rmtree_at_each(at, name, parent, forget, u->priv);
	saved = errno;
	free(parent);
	errno = saved;
	return rc;
}

static int make_opaque(struct sbx_unpack *u, int dirfd_, const char *path, int depth);

/* A child the layer wrote stays; if it is a directory, its lower-layer
 * contents still go. */
static int keep_child(struct sbx_unpack *u, int dirfd_, const char *name, const char *path, int depth)
{
	struct stat st;
	int sub, rc, saved;

	if (fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (depth >= MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	sub = openat(dirfd_, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return -1;
	rc = make_opaque(u, sub, path, depth);
	saved = errno;
	close(sub);
	errno = saved;
	return rc;
}

/* Children of dir (image path path) that this layer did not write go. */
static int make_opaque(struct sbx_unpack *u, int dirfd_, const char *path, int depth)
{
	struct rec *r;
	struct dirent *de;
	DIR *d;
	char *child;
	int rc = -1, saved, ok;

	d = open_dir_at(dirfd_, ".", 0);
	if (!d)
		return -1;
	while ((de = next_child(d))) {
		child = join(path, de->d_name);
		if (!child)
			goto out;
		r = sbx_layer_rec_find(u->priv, child);
		if (r && r->stamp == u->priv->stamp)
			ok = keep_child(u, dirfd(d), de->d_name, child, depth + 1) == 0;
		else
			ok = remove_tree(u, dirfd(d), de->d_name, child) == 0;
		saved = errno;
		free(child);
		errno = saved;
		if (!ok)
			goto out;
	}
	rc = errno ? -1 : 0;
out:
	saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

/* ---- entries ---- */

/* ".wh.NAME" removes NAME below; ".wh..wh..opq" makes the directory opaque. */
static int whiteout(struct sbx_unpack *u, const char *parent, const char *base, struct sbx_err *err)
{
	const char *target = base + strlen(WH), *real;
	char *path = NULL;
	int pfd, rc;

	if (strcmp(base, WH_OPAQUE) != 0 && strncmp(base, WH_META, strlen(WH_META)) == 0) {
		u->skipped++;   /* aufs metadata (.wh..wh.plnk, ...): not part of the image */
		return 0;
	}
	/* As in join: clean_name's copy, which the analyzer loses track of. */
	/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch) */
	if (strcmp(base, WH_OPAQUE) != 0 && (!*target || strcmp(target, ".") == 0
					     || strcmp(target, "..") == 0 || strchr(target, '/')))
		return fail(u, err, 0, HOSTILE, "a whiteout that names no file");
	u->whiteouts++;
	rc = parent_dir(u, parent, 0, &pfd, &real, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;         /* nothing there to hide */
	if (strcmp(base, WH_OPAQUE) == 0) {
		if (make_opaque(u, pfd, real, 0) < 0)
			return fail(u, err, errno, HOSTILE, "making its directory opaque");
		return 0;
	}
	path = join(real, target);
	if (!path)
		return fail(u, err, ENOMEM, NULL, "removing what it hides");
	rc = remove_tree(u, pfd, target, path);
	free(path);
	if (rc < 0)
		return fail(u, err, errno, HOSTILE, "removing what it hides");
	return 0;
}

/* Make room for an entry: an existing non-directory goes, an existing
 * directory stays for a directory entry (returns 1) and goes otherwise. */
static int clear_final(struct sbx_unpack *u, int pfd, const char *base, const char *path,
		       int keep_dir, struct sbx_err *err)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(u, err, errno, NULL, "checking what is there");
	}
	if (S_ISDIR(st.st_mode) && keep_dir) {
		if ((st.st_mode & 0700) != 0700 && fchmodat(pfd, base, (st.st_mode & 0777) | 0700, 0) < 0)
			return fail(u, err, errno, NULL, "opening up the directory");
		return 1;
	}
	if (remove_tree(u, pfd, base, path) < 0)
		return fail(u, err, errno, NULL, "removing what it replaces");
	return 0;
}

static int copy_data(struct sbx_unpack *u, struct archive *a, int fd, uint64_t size, struct sbx_err *err)
{
	const void *buf;
	size_t len, done;
	la_int64_t off;
	ssize_t n;
	int r;

	/* Blocks come with their offsets: pwrite leaves the holes of a sparse
	 * entry unwritten, and ftruncate gives it its trailing hole. */
	while ((r = archive_read_data_block(a, &buf, &len, &off)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return fail(u, err, 0, HOSTILE, "reading its data: %s", archive_error_string(a));
		if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
			return fail(u, err, 0, HOSTILE, "data past its size");
		for (done = 0; done < len; done += (size_t)n) {
			n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
			if (n < 0 && errno == EINTR)
				n = 0;
			else if (n <= 0)
				return fail(u, err, n < 0 ? errno : EIO, NULL, "writing its data");
		}
	}
	if (size > 0 && ftruncate(fd, (off_t)size) < 0)
		return fail(u, err, errno, NULL, "setting its size");
	return 0;
}

/* Every entry costs at least an inode and a block on disk, so a million
 * empty files count too, not only the files' sizes. */
#define ENTRY_COST 4096

static int check_size(struct sbx_unpack *u, uint64_t size, struct sbx_err *err)
{
	uint64_t used = u->bytes + u->entries * ENTRY_COST;
	char shown[32];

	if (u->max_size && (size > u->max_size || used > u->max_size - size))
		return fail(u, err, 0, "images.max_unpacked_size", "the image unpacks to more than %s",
			    sbx_human_size_iec(u->max_size, shown, sizeof(shown)));
	u->bytes += size;
	return 0;
}

static int make_file(struct sbx_unpack *u, struct archive *a, struct archive_entry *e, int pfd,
		     const char *base, struct sbx_err *err)
{
	la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	uint64_t size = sz > 0 ? (uint64_t)sz : 0;
	mode_t mode = (archive_entry_perm(e) & 0777) | 0600;
	int fd;

	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return fail(u, err, errno, NULL, "creating it");
	if (copy_data(u, a, fd, size, err) < 0) {
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return fail(u, err, errno, NULL, "writing its data");
	u->files++;
	return 0;
}

/* linkat(target, entry, 0): the target is found like any entry's parent
 * plus a final name that is never followed. Returns the target's image path. */
static int make_hardlink(struct sbx_unpack *u, const char *raw, int pfd, const char *base,
			 const char *path, char **target_out, struct sbx_err *err)
{
	char *t = NULL, *tbase, *treal = NULL, shown[512];
	struct stat ts, es;
	int tfd = -1, rc = -1, r;

	sbx_layer_show(raw, shown, sizeof(shown));
	r = clean_name(raw, &t);
	if (r != 0) {
		fail(u, err, r < 0 ? ENOMEM : 0, HOSTILE, "hard link to '%s': path leaves the image", shown);
		goto out;
	}
	tbase = strrchr(t, '/');
	if (tbase)
		*tbase++ = '\0';
	/* cppcheck-suppress knownConditionTrueFalse ; tbase is NULL for "name" */
	r = *t || tbase ? resolve_dir(u, tbase ? t : "", 0, &tfd, &treal, err) : 1;
	if (r < 0)
		goto out;
	if (r > 0 || fstatat(tfd, tbase ? tbase : t, &ts, AT_SYMLINK_NOFOLLOW) < 0) {
		fail(u, err, 0, "the archive is broken: a link must come after its target",
		     "hard link to '%s', which the image does not have", shown);
		goto out;
	}
	if (S_ISDIR(ts.st_mode)) {
		fail(u, err, 0, HOSTILE, "hard link to directory '%s'", shown);
		goto out;
	}
	*target_out = join(treal, tbase ? tbase : t);
	if (!*target_out) {
		fail(u, err, ENOMEM, NULL, "linking");
		goto out;
	}
	/* Already the same file (a link listed twice): nothing to do. */
	if (fstatat(pfd, base, &es, AT_SYMLINK_NOFOLLOW) == 0 && es.st_dev == ts.st_dev && es.st_ino == ts.st_ino) {
		rc = 0;
		goto out;
	}
	if (clear_final(u, pfd, base, path, 0, err) < 0)
		goto out;
	if (linkat(tfd, tbase ? tbase : t, pfd, base, 0) < 0) {
		fail(u, err, errno, NULL, "hard link to '%s'", shown);
		goto out;
	}
	u->hardlinks++;
	rc = 0;
out:
	if (tfd >= 0)
		close(tfd);
	free(t);
	free(treal);
	return rc;
}

static uint32_t clamp_id(la_int64_t id)
{
	return id < 0 || id >= (la_int64_t)UINT32_MAX ? OVERFLOW_ID : (uint32_t)id;
}

static int record(struct sbx_unpack *u, struct archive_entry *e, const char *path,
		  const char *link_target, struct sbx_err *err)
{
	struct rec *r = sbx_layer_rec_get(u->priv, path), *t;
	time_t mtime = archive_entry_mtime(e);

	if (!r)
		return fail(u, err, ENOMEM, NULL, "recording its attributes");
	t = link_target ? sbx_layer_rec_find(u->priv, link_target) : NULL;
	if (t) {                /* one inode: the target's attributes */
		r->mode = t->mode;
		r->uid = t->uid;
		r->gid = t->gid;
		r->mtime = t->mtime;
	} else {
		r->mode = (uint32_t)(archive_entry_filetype(e) | (archive_entry_perm(e) & 07777));
		if (link_target)
			r->mode = S_IFREG | (archive_entry_perm(e) & 07777);
		r->uid = clamp_id(archive_entry_uid(e));
		r->gid = clamp_id(archive_entry_gid(e));
		r->mtime = mtime < 0 ? 0 : mtime > (time_t)UINT32_MAX ? UINT32_MAX : (uint32_t)mtime;
	}
	r->stamp = u->priv->stamp;
	return 0;
}

/* Create the entry (parent resolved, base its final name) and record it. */
static int make_entry(struct sbx_unpack *u, struct archive *a, struct archive_entry *e, int pfd,
		      const char *base, const char *path, struct sbx_err *err)
{
	const char *hl = archive_entry_hardlink(e), *target;
	mode_t type = archive_entry_filetype(e), perm = archive_entry_perm(e) & 0777;
	char *link_target = NULL;
	int rc = -1, kept;

	if (hl || (hl = archive_entry_hardlink_utf8(e))) {
		if (make_hardlink(u, hl, pfd, base, path, &link_target, err) < 0)
			goto out;
		rc = record(u, e, path, link_target, err);
		goto out;
	}
	kept = clear_final(u, pfd, base, path, type == AE_IFDIR, err);
	if (kept < 0)
		goto out;
	if (type == AE_IFDIR) {
		if (!kept && mkdirat(pfd, base, perm | 0700) < 0) {
			fail(u, err, errno, NULL, "creating it");
			goto out;
		}
		u->dirs++;
	} else if (type == AE_IFREG) {
		if (make_file(u, a, e, pfd, base, err) < 0)
			goto out;
	} else if (type == AE_IFLNK) {
		target = archive_entry_symlink(e);
		if (!target)
			target = archive_entry_symlink_utf8(e);
		if (!target || !*target) {
			fail(u, err, 0, HOSTILE, "a symlink with no target");
			goto out;
		}
		if (symlinkat(target, pfd, base) < 0) {
			fail(u, err, errno, NULL, "creating the symlink");
			goto out;
		}
		u->symlinks++;
	} else if (mkfifoat(pfd, base, perm | 0600) < 0) {
		fail(u, err, errno, NULL, "creating the FIFO");
		goto out;
	}
	rc = record(u, e, path, NULL, err);
out:
	free(link_target);
	return rc;
}

static int apply_entry(struct sbx_unpack *u, struct archive *a, struct archive_entry *e,
		       int whiteouts, struct sbx_err *err)
{
	const char *raw = archive_entry_pathname(e), *preal;
	char *name = NULL, *path = NULL, *base, *s;
	mode_t type = archive_entry_filetype(e);
	int pfd, rc = -1, r, hardlink;

	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	set_ctx(u, raw ? raw : "");
	if (!raw)
		return fail(u, err, 0, HOSTILE, "an entry with no readable name");
	hardlink = archive_entry_hardlink(e) || archive_entry_hardlink_utf8(e);
	r = clean_name(raw, &name);
	if (r != 0)
		return fail(u, err, r < 0 ? ENOMEM : 0, HOSTILE, "path leaves the image");
	if (strchr(name, '\n')) {
		fail(u, err, 0, "rename it: mksquashfs pseudo files cannot express it",
		     "a name with a newline cannot be stored in the image");
		goto out;
	}
	base = strrchr(name, '/');
	if (base)
		*base++ = '\0';
	else
		base = name;
	s = base == name ? "" : name;
	if (whiteouts && (strncmp(s, WH_META, strlen(WH_META)) == 0 || strstr(s, "/" WH_META))) {
		u->skipped++;   /* inside aufs metadata (.wh..wh.plnk/...) */
		rc = 0;
		goto out;
	}
	if (whiteouts && strncmp(base, WH, strlen(WH)) == 0) {
		rc = whiteout(u, s, base, err);
		goto out;
	}
	if (!hardlink && type != AE_IFDIR && type != AE_IFREG && type != AE_IFLNK && type != AE_IFIFO) {
		u->skipped++;   /* devices, sockets: rootless cannot make them, an image must not have them */
		rc = 0;
		goto out;
	}
	u->entries++;
	if (check_size(u, !hardlink && type == AE_IFREG && archive_entry_size(e) > 0 ?
			       (uint64_t)archive_entry_size(e) : 0, err) < 0)
		goto out;
	if (!*base) {
		if (type != AE_IFDIR || hardlink) {
			fail(u, err, 0, HOSTILE, "only a directory can be the image's root");
			goto out;
		}
		u->dirs++;
		rc = record(u, e, "", NULL, err);
		goto out;
	}
	if (parent_dir(u, s, 1, &pfd, &preal, err) != 0)
		goto out;
	path = join(preal, base);
	if (!path) {
		fail(u, err, ENOMEM, NULL, "recording it");
		goto out;
	}
	r = 0;
	for (s = path; *s; s++)
		r += *s == '/';
	if (r >= MAX_DEPTH - 1) {
		fail(u, err, 0, HOSTILE, "nested deeper than %d directories", MAX_DEPTH - 1);
		goto out;
	}
	rc = make_entry(u, a, e, pfd, base, path, err);
out:
	free(name);
	free(path);
	return rc;
}

/* ---- API ---- */

int sbx_unpack_init(struct sbx_unpack *u, int root_fd, uint64_t max_size, const char *what, struct sbx_err *err)
{
	struct stat st;

	memset(u, 0, sizeof(*u));
	u->root_fd = -1;
	if (fstat(root_fd, &st) < 0)
		return sbx_err_sys(err, NULL, "%s: unpacking: checking the root directory", what);
	if (!S_ISDIR(st.st_mode))
		return sbx_err_set(err, ENOTDIR, NULL, "%s: unpacking: checking the root directory", what);
	u->priv = calloc(1, sizeof(*u->priv));
	if (!u->priv)
		goto nomem;
	u->priv->pc_fd = -1;
	u->priv->what = strdup(what);
	if (sbx_layer_recs_init(u->priv) < 0 || !u->priv->what)
		goto nomem;
	u->root_fd = root_fd;
	u->max_size = max_size;
	u->what = u->priv->what;
	return 0;
nomem:
	sbx_unpack_free(u);
	return sbx_err_set(err, ENOMEM, NULL, "%s: unpacking", what);
}

int sbx_unpack_layer(struct sbx_unpack *u, const char *archive_path, int index, int whiteouts, struct sbx_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char layer[32] = "";
	int fd = -1, rc = -1, r;

	if (index > 0)
		snprintf(layer, sizeof(layer), " layer %d:", index);
	u->priv->index = index;
	u->priv->stamp++;
	u->priv->pc_stale = 1;
	if (!a) {
		sbx_err_set(err, ENOMEM, NULL, "%s:%s unpacking", u->what, layer);
		goto out;
	}
	fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sbx_err_sys(err, NULL, "%s:%s cannot open '%s'", u->what, layer, archive_path);
		goto out;
	}
	if (archive_read_support_filter_all(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK
	    || archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
		sbx_err_set(err, 0, "it is not a tar archive, or it is damaged", "%s:%s '%s': %s",
			    u->what, layer, archive_path, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			sbx_err_set(err, 0, "it is not a tar archive, or it is damaged", "%s:%s '%s': %s",
				    u->what, layer, archive_path, archive_error_string(a));
			goto out;
		}
		if (apply_entry(u, a, e, whiteouts, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (a)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	return rc;
}

void sbx_unpack_free(struct sbx_unpack *u)
{
	struct sbx_unpack_priv *p = u->priv;

	if (!p)
		return;
	sbx_layer_recs_free(p);
	if (p->pc_fd >= 0)
		close(p->pc_fd);
	free(p->pc_name);
	free(p->pc_real);
	free(p->root_real);
	free(p->what);
	free(p);
	u->priv = NULL;
}
