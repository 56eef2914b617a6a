#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* passwd, group, hostname and hosts are generated into the helper's own
 * tmpfs and bound read-only over the image's files: the image is never
 * written, and a writable sandbox cannot corrupt them either. */

#define ETC_MAX (4 << 20)

struct buf {
	char *data;
	size_t len;
};

static int read_fd_all(int fd, struct buf *b)
{
	size_t cap = 0;

	b->data = NULL;
	b->len = 0;
	for (;;) {
		ssize_t n;

		if (b->len + 4096 > cap) {
			char *grown;

			cap = cap ? cap * 2 : 8192;
			if (cap > ETC_MAX) {
				errno = EFBIG;
				return -1;
			}
			grown = realloc(b->data, cap);
			if (!grown)
				return -1;
			b->data = grown;
		}
		n = read(fd, b->data + b->len, cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	if (b->data)
		b->data[b->len] = '\0';
	return 0;
}

/* The image's own copy, read through the root so a symlinked /etc/passwd
 * in a hostile image still resolves inside it. Missing is fine. */
static int read_image_file(int root_fd, const char *path, struct buf *b,
			   struct sbx_err *err)
{
	int pfd, fd, rc;
	char proc[64];

	b->data = NULL;
	b->len = 0;
	pfd = sbx_open_in_root(root_fd, path, 0, 0, NULL);
	if (pfd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	close(pfd);
	if (fd < 0)
		return 0;
	rc = read_fd_all(fd, b);
	close(fd);
	if (rc < 0)
		return sbx_err_sys(err, NULL, "read the image's %s", path);
	return 0;
}

/* 1 when a passwd/group line has the given numeric id in field 3. */
static int has_id(const char *data, unsigned id)
{
	const char *line = data;

	while (line && *line) {
		const char *p = line;
		int field = 0;

		while (*p && *p != '\n' && field < 2) {
			if (*p == ':')
				field++;
			p++;
		}
		if (field == 2) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);

			if (end != p && *end == ':' && v == id)
				return 1;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

static int write_file_at(int dir_fd, const char *name, const char *a,
			 size_t alen, const char *b, struct sbx_err *err)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return sbx_err_sys(err, NULL, "write %s", name);
	if ((alen && write(fd, a, alen) != (ssize_t)alen) ||
	    (b && write(fd, b, strlen(b)) != (ssize_t)strlen(b)))
		rc = sbx_err_sys(err, NULL, "write %s", name);
	if (close(fd) < 0 && rc == 0)
		rc = sbx_err_sys(err, NULL, "write %s", name);
	return rc;
}

static int bind_over(int root_fd, int src_dir, const char *src_name,
		     const char *dst, struct sbx_err *err)
{
	int src = openat(src_dir, src_name, O_PATH | O_CLOEXEC);
	int dfd = -1, rc = -1;

	if (src < 0)
		return sbx_err_sys(err, NULL, "open %s", src_name);
	dfd = sbx_open_in_root(root_fd, dst, 1, 1, err);
	if (dfd < 0)
		goto out;
	rc = sbx_bind_fd(src, dfd, 1, dst, err);
out:
	close(src);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static int gen_ids(int root_fd, int files_fd, const char *path, const char *name,
		   unsigned id, const char *line, struct sbx_err *err)
{
	struct buf b;
	int rc = -1;
	const char *sep;

	if (read_image_file(root_fd, path, &b, err) < 0)
		return -1;
	sep = (b.len && b.data[b.len - 1] != '\n') ? "\n" : "";
	if (!b.data || !has_id(b.data, id)) {
		char *extra;

		if (asprintf(&extra, "%s%s", sep, line) < 0) {
			sbx_err_set(err, ENOMEM, NULL, "out of memory");
			goto out;
		}
		rc = write_file_at(files_fd, name, b.data, b.len, extra, err);
		free(extra);
	} else {
		rc = write_file_at(files_fd, name, b.data, b.len, NULL, err);
	}
	if (rc == 0)
		rc = bind_over(root_fd, files_fd, name, path, err);
out:
	free(b.data);
	return rc;
}

int sbx_etc_setup(int root_fd, int files_fd, const struct sbx_plan *plan,
		  struct sbx_err *err)
{
	char line[PATH_MAX * 2 + 128], host[HOST_NAME_MAX + 1];
	const char *name = plan->hostname;
	unsigned uid = plan->remap_root ? 0 : (unsigned)plan->uid;
	unsigned gid = plan->remap_root ? 0 : (unsigned)plan->gid;
	struct buf hosts = { 0 };
	int fd, rc = -1;

	if (plan->remap_root)
		snprintf(line, sizeof(line), "root:x:0:0:root:/root:/bin/sh\n");
	else
		snprintf(line, sizeof(line), "%s:x:%u:%u::%s:%s\n", plan->user, uid,
			 gid, plan->home, plan->shell);
	if (gen_ids(root_fd, files_fd, "/etc/passwd", "passwd", uid, line, err) < 0)
		goto out;
	snprintf(line, sizeof(line), "%s:x:%u:\n", plan->remap_root ? "root" : plan->user, gid);
	if (gen_ids(root_fd, files_fd, "/etc/group", "group", gid, line, err) < 0)
		goto out;

	if (!name) {
		if (gethostname(host, sizeof(host)) < 0) {
			sbx_err_sys(err, NULL, "hostname");
			goto out;
		}
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	snprintf(line, sizeof(line), "%s\n", name);
	if (write_file_at(files_fd, "hostname", line, strlen(line), NULL, err) < 0 ||
	    bind_over(root_fd, files_fd, "hostname", "/etc/hostname", err) < 0)
		goto out;

	/* The host's hosts file, plus the sandbox's own name when it differs. */
	fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		int r = read_fd_all(fd, &hosts);

		close(fd);
		if (r < 0) {
			sbx_err_sys(err, NULL, "read /etc/hosts");
			goto out;
		}
	}
	snprintf(line, sizeof(line), "%s127.0.1.1\t%s\n",
		 hosts.len && hosts.data[hosts.len - 1] != '\n' ? "\n" : "", name);
	if (write_file_at(files_fd, "hosts", hosts.data, hosts.len,
			  plan->hostname ? line : NULL, err) < 0 ||
	    bind_over(root_fd, files_fd, "hosts", "/etc/hosts", err) < 0)
		goto out;

	fd = open("/etc/resolv.conf", O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		int dfd = sbx_open_in_root(root_fd, "/etc/resolv.conf", 1, 1, err);

		rc = dfd < 0 ? -1 : sbx_bind_fd(fd, dfd, 1, "/etc/resolv.conf", err);
		close(fd);
		if (dfd >= 0)
			close(dfd);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	free(hosts.data);
	return rc;
}
