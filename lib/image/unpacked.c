/* Node-local unpacked copies of squashfs images: see unpacked.h. Runs as the
 * user, in the helper (use, background unpack) and in sandbox-run cache. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "image/cache-store.h"
#include "image/digest.h"
#include "image/unpacked.h"
#include "util/fsutil.h"

#define TMP_PREFIX ".tmp."
#define FAILED_SUFFIX ".failed"
#define LOCK_SUFFIX ".lock"
/* A failed unpack is tried again after this long (a disk since freed). */
#define FAILED_RETRY_SECONDS 86400
/* ioprio_set(2) has no glibc wrapper. Best effort, lowest level: not the
 * idle class, which a node kept busy by its jobs would never serve. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_SHIFT 13

/* A user's file's name: "f" + the sha256 of its identity. */
static void file_name(const struct stat *st, char name[72])
{
	char sig[160], hex[65];

	/* ctime too: a rewrite in place that restores the mtime still changes it. */
	snprintf(sig, sizeof(sig), "%llu:%llu:%lld:%lld.%09ld:%lld.%09ld",
		 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, (long long)st->st_size,
		 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		 (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
	sbx_sha256_buf(sig, strlen(sig), hex);
	snprintf(name, 72, "f%s", hex);
}

int sbx_unpacked_name(const char *path, const char *cache_key, char name[72])
{
	struct stat st;

	if (cache_key) {
		const char *h = sbx_digest_valid(cache_key) ? sbx_digest_hex(cache_key) : NULL;

		if (!h || strlen(h) != 64)
			return -1;
		snprintf(name, 72, "c%s", h);
		return 0;
	}
	if (stat(path, &st) < 0)
		return -1;
	file_name(&st, name);
	return 0;
}

int sbx_unpacked_open(const struct sbx_policy *pol, char **root, struct sbx_err *err)
{
	uid_t uid = geteuid();
	char name[16];
	struct stat st;
	int base = -1, fd = -1;

	*root = NULL;
	if (!pol->unpack_dir || !*pol->unpack_dir)
		return sbx_err_set(err, 0, "an admin sets images.unpack_dir", "unpacked copies: off");
	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	if (asprintf(root, "%s/%s", pol->unpack_dir, name) < 0) {
		*root = NULL;
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	}
	base = open(pol->unpack_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0 || fstat(base, &st) < 0) {
		sbx_err_sys(err, "an admin creates it, root-owned, mode 1777", "images.unpack_dir '%s'",
			    pol->unpack_dir);
		goto bad;
	}
	/* The same rule as a site cache_dir: another user must not be able to
	 * replace <uid> with a tree of their choosing. */
	if ((st.st_uid != 0 && st.st_uid != uid) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))) {
		sbx_err_set(err, 0, "an admin makes it root-owned, mode 1777",
			    "images.unpack_dir '%s': another user could replace your copies", pol->unpack_dir);
		goto bad;
	}
	if (mkdirat(base, name, 0700) < 0 && errno != EEXIST) {
		sbx_err_sys(err, NULL, "unpacked copies '%s': create", *root);
		goto bad;
	}
	fd = openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		sbx_err_sys(err, NULL, "unpacked copies '%s'", *root);
		goto bad;
	}
	if (st.st_uid != uid || (st.st_mode & 077)) {
		sbx_err_set(err, 0, "it must be yours, mode 0700: remove it",
			    "unpacked copies '%s': owned by uid %u, mode %04o", *root,
			    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		goto bad;
	}
	close(base);
	return fd;
bad:
	if (fd >= 0)
		close(fd);
	if (base >= 0)
		close(base);
	free(*root);
	*root = NULL;
	return -1;
}

/* Run unsquashfs on the file at fd into root/tmp; 0 when it succeeded. */
static int run_unsquashfs(const char *root, const char *tmp, int fd)
{
	char src[32], dst[PATH_MAX];
	pid_t pid;
	int st;

	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (snprintf(dst, sizeof(dst), "%s/%s", root, tmp) >= (int)sizeof(dst))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* -no-xattrs: the user may not set trusted.* or security.*;
		 * one thread: a background job on a node that runs jobs. */
		char *argv[] = { "unsquashfs", "-no-progress", "-no-xattrs", "-quiet", "-processors", "1",
				 "-d", dst, src, NULL };

		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The background child: unpack fd into a temporary directory, check that
 * the file is the one name says (it may have been replaced since the start
 * named it) and did not change meanwhile, publish by rename, then cut back.
 * A cache entry's file never changes: its name is its digest. */
static int unpack(const struct sbx_policy *pol, int root_fd, const char *root, int fd,
		  const char *name)
{
	char tmp[96], failed[96], now[72];
	struct stat before, after;
	uint64_t bytes = 0, freed;
	int ok, mark;

	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld.%s", (long)getpid(), name);
	snprintf(failed, sizeof(failed), "%s" FAILED_SUFFIX, name);
	ok = fstat(fd, &before) == 0;
	if (ok && name[0] == 'f') {
		file_name(&before, now);
		ok = !strcmp(now, name);
	}
	ok = ok && run_unsquashfs(root, tmp, fd) == 0 &&
	     fstat(fd, &after) == 0 && same_file(&before, &after) &&
	     sbx_cache_du_tree(root_fd, tmp, &bytes) == 0 &&
	     (!pol->unpack_max_size || bytes <= pol->unpack_max_size);
	if (ok && renameat(root_fd, tmp, root_fd, name) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		ok = 0;
	/* A rename that lost to another unpack of the same image leaves tmp. */
	sbx_rmtree_at(root_fd, tmp);
	if (!ok) {
		/* Not tried again on every start; the gc forgets it. A full disk
		 * may refuse even this mark: the next start tries again. */
		mark = openat(root_fd, failed, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (mark >= 0)
			close(mark);
		return -1;
	}
	return sbx_unpacked_gc(root_fd, pol->unpack_max_size, pol->unpack_max_age, name, &freed);
}

/* Start the unpack detached from the helper: its own session, no fd of the
 * launcher's (its pipes must see EOF when the helper is done), nice 19 and
 * the lowest best-effort I/O priority so that it yields to the sandbox that
 * is starting (not SCHED_IDLE: on a node busy with jobs it never runs). */
static void start_unpack(const struct sbx_policy *pol, int root_fd, const char *root,
			 const char *path, const char *name)
{
	char lock[96];
	sigset_t none;
	int fd, null_fd, lock_fd, st;
	pid_t pid;

	/* One unpack of an image at a time: the starts that come while it
	 * runs use squashfuse and leave it alone. The lock goes with the
	 * unpacking process (its fd), and its file with the unpack. */
	snprintf(lock, sizeof(lock), "%s" LOCK_SUFFIX, name);
	lock_fd = openat(root_fd, lock, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock_fd < 0)
		return;
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		close(lock_fd);
		return;
	}
	pid = fork();
	if (pid != 0) {
		close(lock_fd);
		while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return;
	}
	if (setsid() < 0 || fork() != 0)
		_exit(0);
	/* waitpid for unsquashfs needs SIGCHLD's default, whatever the helper set. */
	sigemptyset(&none);
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
		_exit(1);
	/* Every other inherited fd goes (the status, control and progress
	 * pipes), but the image, the lock and the copies' directory. */
	for (int i = 3; i < 1024; i++)
		if (i != fd && i != lock_fd && i != root_fd)
			close(i);
	if (close_range(1024, ~0U, 0) < 0 || fcntl(fd, F_SETFD, 0) < 0)
		_exit(1);
	/* Best effort: a kernel that refuses only makes the unpack compete. */
	(void)setpriority(PRIO_PROCESS, 0, 19);
	(void)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | 7);
	st = unpack(pol, root_fd, root, fd, name);
	unlinkat(root_fd, lock, 0);
	_exit(st < 0 ? 1 : 0);
}

char *sbx_unpacked_use(const struct sbx_policy *pol, const char *path, const char *cache_key,
		       int *hold_fd)
{
	char name[72], failed[96], *root = NULL, *dir = NULL;
	struct stat a, b;
	struct sbx_err err;
	int root_fd, fd = -1;

	*hold_fd = -1;
	if (!pol->unpack_dir || !*pol->unpack_dir || sbx_unpacked_name(path, cache_key, name) < 0)
		return NULL;
	root_fd = sbx_unpacked_open(pol, &root, &err);
	if (root_fd < 0)
		goto out;
	fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			goto out;
		snprintf(failed, sizeof(failed), "%s" FAILED_SUFFIX, name);
		if (fstatat(root_fd, failed, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (time(NULL) - a.st_mtime <= FAILED_RETRY_SECONDS || unlinkat(root_fd, failed, 0) < 0))
			goto out;
		start_unpack(pol, root_fd, root, path, name);
		goto out;
	}
	/* Held shared while the sandbox lives: the gc takes it exclusively
	 * before it removes a copy, and keeps it until the copy is gone. */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 || fstat(fd, &a) < 0 ||
	    fstatat(root_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino)
		goto out;
	/* Its mtime is its last use, for the gc. */
	if (futimens(fd, NULL) < 0 || asprintf(&dir, "%s/%s", root, name) < 0) {
		dir = NULL;
		goto out;
	}
	*hold_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (root_fd >= 0)
		close(root_fd);
	free(root);
	return dir;
}

struct list_ctx {
	struct sbx_unpacked_item *items;
	size_t n, cap;
};

static int list_child(int dfd, const char *name, void *arg)
{
	struct list_ctx *l = arg;
	struct sbx_unpacked_item *it;
	size_t len = strlen(name);
	struct stat st;

	if (!strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) || len >= sizeof(it->name) ||
	    (len > strlen(LOCK_SUFFIX) && !strcmp(name + len - strlen(LOCK_SUFFIX), LOCK_SUFFIX)))
		return 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->items, cap * sizeof(*l->items));

		if (!p)
			return -1;
		l->items = p;
		l->cap = cap;
	}
	it = &l->items[l->n];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->last_use = st.st_mtime;
	it->failed = len > strlen(FAILED_SUFFIX) && !strcmp(name + len - strlen(FAILED_SUFFIX), FAILED_SUFFIX);
	if (!it->failed && (!S_ISDIR(st.st_mode) || sbx_cache_du_tree(dfd, name, &it->bytes) < 0))
		return 0;
	l->n++;
	return 0;
}

int sbx_unpacked_list(int root_fd, struct sbx_unpacked_item **items, size_t *n)
{
	struct list_ctx l = { 0 };

	if (sbx_cache_each_name(root_fd, ".", list_child, &l) < 0) {
		free(l.items);
		return -1;
	}
	*items = l.items;
	*n = l.n;
	return 0;
}

static int by_last_use(const void *a, const void *b)
{
	const struct sbx_unpacked_item *x = a, *y = b;

	return (x->last_use > y->last_use) - (x->last_use < y->last_use);
}

/* The lock file of an unpack whose process was killed (a step that ended
 * first): nobody holds it. Taken first, so a start that takes it meanwhile
 * keeps its unpack; at worst two unpacks race and the rename's loser goes. */
static void drop_stale_lock(int dfd, const char *name)
{
	size_t len = strlen(name);
	int fd;

	if (len <= strlen(LOCK_SUFFIX) || strcmp(name + len - strlen(LOCK_SUFFIX), LOCK_SUFFIX))
		return;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		unlinkat(dfd, name, 0);
	close(fd);
}

/* An unpack whose process is gone (this node's pids: the copies are local),
 * and its lock file. */
static int drop_dead_tmp(int dfd, const char *name, void *freed)
{
	long pid;

	drop_stale_lock(dfd, name);
	if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) ||
	    sscanf(name + strlen(TMP_PREFIX), "%ld.", &pid) != 1 || pid <= 0 ||
	    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return 0;
	sbx_cache_du_tree(dfd, name, freed);
	sbx_rmtree_at(dfd, name);
	return 0;
}

/* A copy no running sandbox holds: removal renames it away first, so a
 * start that looks it up meanwhile finds nothing and uses squashfuse. */
static int drop(int root_fd, const struct sbx_unpacked_item *it)
{
	char gone[96];
	int fd, rc;

	if (it->failed)
		return unlinkat(root_fd, it->name, 0) < 0 && errno != ENOENT ? -1 : 0;
	fd = openat(root_fd, it->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return errno == EWOULDBLOCK ? 1 : -1;
	}
	snprintf(gone, sizeof(gone), TMP_PREFIX "%ld.%s", (long)getpid(), it->name);
	rc = renameat(root_fd, it->name, root_fd, gone) < 0 ? (errno == ENOENT ? 0 : -1) :
	     sbx_rmtree_at(root_fd, gone);
	close(fd);
	return rc;
}

int sbx_unpacked_gc(int root_fd, uint64_t max_size, uint64_t max_age, const char *keep,
		    uint64_t *freed)
{
	struct sbx_unpacked_item *items = NULL;
	uint64_t total = 0;
	time_t now = time(NULL);
	size_t n = 0;
	int rc = -1;

	*freed = 0;
	if (sbx_cache_each_name(root_fd, ".", drop_dead_tmp, freed) < 0 ||
	    sbx_unpacked_list(root_fd, &items, &n) < 0)
		return -1;
	qsort(items, n, sizeof(*items), by_last_use);
	for (size_t i = 0; i < n; i++)
		total += items[i].bytes;
	for (size_t i = 0; i < n; i++) {
		int old = max_age && now - items[i].last_use > (time_t)(max_age * 86400);
		int over = max_size && total > max_size && !items[i].failed;

		if ((keep && !strcmp(items[i].name, keep)) || (!old && !over))
			continue;
		switch (drop(root_fd, &items[i])) {
		case -1:
			goto out;
		case 1: /* in use */
			continue;
		}
		total -= items[i].bytes;
		*freed += items[i].bytes;
	}
	rc = 0;
out:
	free(items);
	return rc;
}
