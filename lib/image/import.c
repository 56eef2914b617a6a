#include "image/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util/failpoint.h"
#include "util/fsutil.h"
#include "spec/image.h"
#include "image/digest.h"
#include "image/layer.h"
#include "image/unpacked.h"

enum archive_kind { ARCHIVE_ROOTFS, ARCHIVE_DOCKER, ARCHIVE_OCI };

/* One import, from the first progress line to the published entry. */
struct job {
	const struct sbx_policy *pol;
	const char *ref;          /* as the user named it */
	const char *tmp;          /* the cache entry being written (its path) */
	char what[PATH_MAX + 16]; /* "image 'REF'" */
	int tmp_fd;               /* the cache entry being written */
	struct timespec start;
};

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Progress of an import, on stderr (the helper relays it to the task):
 * only the process that imports shows it, so a step shows one stream however
 * many tasks wait for the image. One line each, whatever the image's file
 * is called (a name may hold a newline). */
__attribute__((format(printf, 1, 2)))
static void progress(const char *fmt, ...)
{
	char line[1024], shown[sizeof(line) * 4 + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sbx_layer_show(line, shown, sizeof(shown));
	fprintf(stderr, "sandbox: %s\n", shown);
}

/* The last non-empty line a tool wrote to fd, without logrus's
 * 'time="..." level=fatal msg="..."' wrapping. */
static void last_line(int fd, char *out, size_t len)
{
	char buf[8192], *line, *p, *q;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	off_t size = lseek(fd, 0, SEEK_END);

	out[0] = '\0';
	if (size > (off_t)sizeof(buf) - 1)
		n = pread(fd, buf, sizeof(buf) - 1, size - (off_t)sizeof(buf) + 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if ((p = strstr(line, "msg=\"")) && (q = strrchr(p + 5, '"')) && q > p + 5) {
		*q = '\0';
		line = p + 5;
	}
	n = (ssize_t)strlen(line);
	if ((size_t)n >= len)
		n = (ssize_t)len - 1;
	memcpy(out, line, (size_t)n);
	out[n] = '\0';
}

/* Run a tool (skopeo, mksquashfs) to completion: stdout to out_fd (or
 * /dev/null), stderr kept for the message. It dies with us (PDEATHSIG), so
 * a killed import leaves no tool running. Returns its exit status
 * (128 + signal), or -1 with errno. */
static int run_tool(char *const argv[], int out_fd, char *msg, size_t msglen)
{
	int errfd = memfd_create("sandbox-tool-stderr", MFD_CLOEXEC);
	pid_t parent = getpid(), pid;
	int status;

	msg[0] = '\0';
	if (errfd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(errfd);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent || null < 0)
			_exit(127);
		if (dup2(null, 0) < 0 || dup2(out_fd >= 0 ? out_fd : null, 1) < 0 || dup2(errfd, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			close(errfd);
			return -1;
		}
	}
	last_line(errfd, msg, msglen);
	close(errfd);
	/* A tool the OOM killer (or anyone) killed says nothing itself. */
	if (WIFSIGNALED(status))
		snprintf(msg, msglen, "killed by signal %d%s", WTERMSIG(status),
			 WTERMSIG(status) == SIGKILL ? " (out of memory? see the memory limit)" : "");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* skopeo's last word, as one line with what to do about it. */
static int registry_error(const char *ref, const char *host, const char *msg, struct sbx_err *err)
{
	if (strstr(msg, "unauthorized") || strstr(msg, "authentication required") ||
	    strstr(msg, "denied"))
		return sbx_err_set(err, 0, "log in with 'skopeo login', or point REGISTRY_AUTH_FILE at an auth file",
				   "image '%s': registry %s requires authentication", ref, host);
	if (strstr(msg, "HTTP response to HTTPS client"))
		return sbx_err_set(err, 0, "an admin may list it in images.insecure_registries",
				   "image '%s': registry %s speaks plain HTTP", ref, host);
	if (strstr(msg, "manifest unknown") || strstr(msg, "name unknown") || strstr(msg, "not found"))
		return sbx_err_set(err, 0, "check the repository and tag",
				   "image '%s': not found in registry %s", ref, host);
	if (strstr(msg, "connection refused") || strstr(msg, "no such host") ||
	    strstr(msg, "timeout") || strstr(msg, "unreachable"))
		return sbx_err_set(err, 0, "check the registry name and the node's network",
				   "image '%s': cannot reach registry %s", ref, host);
	if (strstr(msg, "cannot run"))
		return sbx_err_set(err, 0, "install skopeo", "image '%s': %s", ref, msg);
	return sbx_err_set(err, 0, NULL, "image '%s': skopeo: %s", ref, *msg ? msg : "failed");
}

/* What a tar holds: the top level of docker save and OCI archives is only
 * their own files, so the first other name means a root filesystem. */
static int archive_kind(const char *path, const char *what, enum archive_kind *kind,
			struct sbx_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int has_manifest = 0, has_layout = 0, rootfs = 0, r, rc = -1;

	if (!a)
		return sbx_err_set(err, ENOMEM, NULL, "%s", what);
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		sbx_err_set(err, 0, "give a directory, a squashfs file, a tar archive or docker://...",
			    "%s: not an image (%s)", what, archive_error_string(a));
		goto out;
	}
	while (!rootfs && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		size_t top;

		while (name[0] == '.' && name[1] == '/')
			name += 2;
		top = strcspn(name, "/");
		if (top == 0)
			continue;
		if (strcmp(name, "manifest.json") == 0)
			has_manifest = 1;
		else if (strcmp(name, "oci-layout") == 0)
			has_layout = 1;
		else if (!(strcmp(name, "index.json") == 0 || strcmp(name, "repositories") == 0 ||
			   strncmp(name, "blobs/", 6) == 0 || strcmp(name, "blobs") == 0 ||
			   (top >= 64 && strspn(name, "0123456789abcdef") >= 64)))
			rootfs = 1;
	}
	if (!rootfs && r != ARCHIVE_EOF) {
		sbx_err_set(err, 0, "give a directory, a squashfs file, a tar archive or docker://...",
			    "%s: not an image (%s)", what, archive_error_string(a));
		goto out;
	}
	*kind = rootfs ? ARCHIVE_ROOTFS : has_layout ? ARCHIVE_OCI : has_manifest ? ARCHIVE_DOCKER :
		ARCHIVE_ROOTFS;
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

static int copy_file_at(const char *src, int dirfd, const char *name, struct sbx_err *err)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;

	if (in < 0)
		return sbx_err_sys(err, NULL, "read %s", src);
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		sbx_err_sys(err, NULL, "write %s in the cache", name);
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			sbx_err_sys(err, NULL, "write %s in the cache", name);
			goto out;
		}
	if (n < 0) {
		sbx_err_sys(err, NULL, "read %s", src);
		goto out;
	}
	rc = 0;
out:
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = sbx_err_sys(err, NULL, "write %s in the cache", name);
	return rc;
}

static int write_empty_config(int dirfd, struct sbx_err *err)
{
	int fd = openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, "{}\n", 3) != 3) {
		if (fd >= 0)
			close(fd);
		return sbx_err_sys(err, NULL, "write config.json in the cache");
	}
	return close(fd) < 0 ? sbx_err_sys(err, NULL, "write config.json in the cache") : 0;
}

/* The layers of an OCI layout, unpacked into <tmp>/rootfs, then a squashfs
 * of it; the config beside it. layout NULL: a plain rootfs tarball. */
static int build_entry(struct job *j, const char *layout, const char *tarball, struct sbx_err *err)
{
	struct sbx_oci_image oci = { 0 };
	struct sbx_unpack u;
	struct timespec t0;
	char tmp[PATH_MAX], rootfs[PATH_MAX + 8], pseudo[PATH_MAX + 8], sqfs[PATH_MAX + 16];
	char msg[1024], size[32];
	int root_fd = -1, unpack_ready = 0, rc = -1, st;
	struct stat sb;

	snprintf(tmp, sizeof(tmp), "%s", j->tmp);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
	snprintf(pseudo, sizeof(pseudo), "%s/pseudo", tmp);
	snprintf(sqfs, sizeof(sqfs), "%s/image.sqfs", tmp);
	if (layout && sbx_oci_open(layout, NULL, j->ref, &oci, err) < 0)
		goto out;
	if (mkdirat(j->tmp_fd, "rootfs", 0700) < 0 ||
	    (root_fd = openat(j->tmp_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sbx_err_sys(err, "check the cache's filesystem", "%s: unpack", j->what);
		goto out;
	}
	if (sbx_unpack_init(&u, root_fd, j->pol->max_unpacked_size, j->what, err) < 0)
		goto out;
	unpack_ready = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (layout) {
		for (size_t i = 0; i < oci.layers.n; i++)
			if (sbx_unpack_layer(&u, oci.layers.v[i], (int)i + 1, 1, err) < 0)
				goto out;
	} else if (sbx_unpack_layer(&u, tarball, 0, 0, err) < 0) {
		goto out;
	}
	if (SBX_FAILPOINT("import.unpack", err) < 0 || sbx_unpack_write_pseudo(&u, pseudo, err) < 0)
		goto out;
	progress("unpacked %" PRIu64 " files, %s%s in %.1f s", u.files + u.dirs + u.symlinks,
		 sbx_human_size(u.bytes, size, sizeof(size)),
		 layout ? "" : " (one layer)", since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		/* zstd level 3: about 20 times faster than mksquashfs's default
		 * level 15 for a 10 % bigger image; imports are on the job's
		 * critical path. -mem: mksquashfs would take a quarter of the
		 * node's RAM, past the job's memory limit under Slurm. It takes
		 * the root's owner and mode only from options, never from the
		 * pseudo file. */
		char root_mode[16], root_uid[16], root_gid[16];
		char *argv[] = { "mksquashfs", rootfs, sqfs, "-comp", "zstd", "-Xcompression-level", "3",
				 "-no-xattrs", "-noappend", "-quiet", "-no-progress", "-mem", "256M", "-pf", pseudo,
				 "-root-mode", root_mode, "-root-uid", root_uid, "-root-gid", root_gid, NULL };
		mode_t mode;
		uid_t uid;
		gid_t gid;

		sbx_unpack_root(&u, &mode, &uid, &gid);
		snprintf(root_mode, sizeof(root_mode), "%o", (unsigned)(mode & 07777));
		snprintf(root_uid, sizeof(root_uid), "%u", (unsigned)uid);
		snprintf(root_gid, sizeof(root_gid), "%u", (unsigned)gid);
		if (SBX_FAILPOINT("import.mksquashfs", err) < 0)
			goto out;
		st = run_tool(argv, -1, msg, sizeof(msg));
		if (st != 0) {
			sbx_err_set(err, st < 0 ? errno : 0, st == 127 ? "install squashfs-tools" : NULL,
				    "%s: mksquashfs: %s", j->what, *msg ? msg : "failed");
			goto out;
		}
	}
	if (stat(sqfs, &sb) == 0)
		progress("squashfs %s in %.1f s", sbx_human_size((uint64_t)sb.st_blocks * 512, size,
									 sizeof(size)), since(&t0));
	/* A plain tarball has no config: "{}". */
	if (layout ? copy_file_at(oci.config_path, j->tmp_fd, "config.json", err) < 0 :
	    write_empty_config(j->tmp_fd, err) < 0)
		goto out;
	rc = 0;
out:
	if (unpack_ready)
		sbx_unpack_free(&u);
	if (root_fd >= 0)
		close(root_fd);
	/* Only the squashfs and the config stay in the entry. */
	if (sbx_rmtree_at(j->tmp_fd, "rootfs") < 0 || unlinkat(j->tmp_fd, "pseudo", 0) < 0) {
		/* Publishing checks the entry; leftovers only cost space. */
	}
	sbx_oci_image_free(&oci);
	return rc;
}

/* skopeo copy SRC oci:<tmp>/oci:image, then the OCI path. */
static int import_with_skopeo(struct job *j, const char *src, const char *tls_flag,
			      const char *host, struct sbx_err *err)
{
	struct sbx_oci_image oci = { 0 };
	struct timespec t0;
	char dest[PATH_MAX + 32], layout[PATH_MAX + 16], msg[1024], size[32];
	char *argv[] = { "skopeo", "copy", "--quiet", "--retry-times", "2", (char *)src, dest, NULL, NULL };
	int st, rc = -1;

	snprintf(layout, sizeof(layout), "%s/oci", j->tmp);
	snprintf(dest, sizeof(dest), "oci:%s:image", layout);
	if (tls_flag) {
		argv[5] = (char *)tls_flag;
		argv[6] = (char *)src;
		argv[7] = dest;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = run_tool(argv, -1, msg, sizeof(msg));
	if (st == 0 && SBX_FAILPOINT("import.pull", err) < 0)
		goto out;
	if (st != 0) {
		if (host)
			registry_error(j->ref, host, msg, err);
		else
			sbx_err_set(err, 0, st == 127 ? "install skopeo" : NULL, "%s: skopeo: %s", j->what,
				    *msg ? msg : "failed");
		goto out;
	}
	if (sbx_oci_open(layout, NULL, j->ref, &oci, err) < 0)
		goto out;
	progress("%s %zu layer%s, %s in %.1f s", host ? "pulled" : "read", oci.layers.n,
		 oci.layers.n == 1 ? "" : "s", sbx_human_size(oci.layers_size, size, sizeof(size)),
		 since(&t0));
	sbx_oci_image_free(&oci);
	if (build_entry(j, layout, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	sbx_oci_image_free(&oci);
	if (sbx_rmtree_at(j->tmp_fd, "oci") < 0) {
		/* Only space: publishing ignores it. */
	}
	return rc;
}

/* The cache key of a registry image: its digest, from the reference or
 * from the registry (the manifest's sha256). Offline, the last digest this
 * reference had still works. */
static int registry_key(struct job *j, struct sbx_cache *c, const struct sbx_registry_ref *r,
			const char *tls, char *key, size_t keylen, char *src, size_t srclen,
			struct sbx_err *err)
{
	char target[1200], msg[1024], hex[65];
	long age;
	char *argv[] = { "skopeo", "inspect", "--raw", "--retry-times", "2", target, NULL, NULL };
	int out = -1, st, rc = -1;
	off_t size;
	void *data = MAP_FAILED;

	if (r->digest[0]) {
		snprintf(key, keylen, "%s", r->digest);
		snprintf(src, srclen, "docker://%s/%s@%s", r->host, r->repo, r->digest);
		return 0;
	}
	snprintf(target, sizeof(target), "docker://%s/%s:%s", r->host, r->repo, r->tag);
	/* Asked a moment ago (another step of the job, another node on a
	 * shared cache): no round trip. */
	age = sbx_cache_ref_age(c, target);
	if (age >= 0 && (uint64_t)age < j->pol->tag_ttl && sbx_cache_ref_get(c, target, key) == 1) {
		snprintf(src, srclen, "docker://%s/%s@%s", r->host, r->repo, key);
		return 0;
	}
	if (tls) {
		argv[5] = (char *)tls;
		argv[6] = target;
	}
	out = memfd_create("sandbox-manifest", MFD_CLOEXEC);
	if (out < 0)
		return sbx_err_sys(err, NULL, "%s", j->what);
	st = run_tool(argv, out, msg, sizeof(msg));
	if (st != 0) {
		char cached[72];

		if (sbx_cache_ref_get(c, target, cached) == 1) {
			progress("%s: the registry did not answer (%s); using the cached %.19s",
				 j->what, msg, cached);
			snprintf(key, keylen, "%s", cached);
			snprintf(src, srclen, "docker://%s/%s@%s", r->host, r->repo, cached);
			rc = 1;
			goto out;
		}
		registry_error(j->ref, r->host, msg, err);
		goto out;
	}
	size = lseek(out, 0, SEEK_END);
	if (size <= 0 || size > (64 << 20) ||
	    (data = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, out, 0)) == MAP_FAILED) {
		sbx_err_set(err, 0, NULL, "%s: the registry sent no manifest", j->what);
		goto out;
	}
	sbx_sha256_buf(data, (size_t)size, hex);
	snprintf(key, keylen, "sha256:%s", hex);
	snprintf(src, srclen, "docker://%s/%s@%s", r->host, r->repo, key);
	if (sbx_cache_ref_put(c, target, key, err) < 0)
		goto out;
	rc = 0;
out:
	if (data != MAP_FAILED)
		munmap(data, (size_t)size);
	close(out);
	return rc;
}

/* A local archive's key: the sha256 of its bytes, remembered per (path,
 * inode, size, mtime) so a cache hit costs a stat, not a read. */
static int file_key(struct sbx_cache *c, const char *path, const char *what, char *key, size_t keylen,
		    struct sbx_err *err)
{
	struct stat st;
	char sig[PATH_MAX + 128], hex[65], found[72];

	if (stat(path, &st) < 0)
		return sbx_err_sys(err, NULL, "%s", what);
	snprintf(sig, sizeof(sig), "file:%s:%llu:%llu:%lld:%lld.%09ld", path,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (sbx_cache_ref_get(c, sig, found) == 1) {
		snprintf(key, keylen, "%s", found);
		return 0;
	}
	if (sbx_sha256_file(path, hex, err) < 0)
		return -1;
	snprintf(key, keylen, "sha256:%s", hex);
	return sbx_cache_ref_put(c, sig, key, err);
}

static int import(struct job *j, enum sbx_image_kind kind, enum archive_kind ak, const char *src,
		  const char *tls, const char *host, struct sbx_err *err)
{
	char skopeo_src[PATH_MAX + 32];

	switch (kind) {
	case SBX_IMAGE_REGISTRY:
		return import_with_skopeo(j, src, tls, host, err);
	case SBX_IMAGE_OCI_DIR:
		return build_entry(j, src, NULL, err);
	case SBX_IMAGE_ARCHIVE:
		if (ak == ARCHIVE_ROOTFS)
			return build_entry(j, NULL, src, err);
		if (snprintf(skopeo_src, sizeof(skopeo_src), "%s:%s",
			     ak == ARCHIVE_OCI ? "oci-archive" : "docker-archive", src) >= (int)sizeof(skopeo_src))
			return sbx_err_set(err, ENAMETOOLONG, NULL, "%s", j->what);
		return import_with_skopeo(j, skopeo_src, NULL, NULL, err);
	default:
		return sbx_err_set(err, 0, NULL, "%s: nothing to import", j->what);
	}
}

struct sbx_image_hold {
	struct sbx_cache cache;
	struct sbx_cache_entry entry;
};

void sbx_image_init(struct sbx_image *img)
{
	memset(img, 0, sizeof(*img));
	img->mnt_fd = -1;
	img->unpacked_fd = -1;
}

/* A squashfs started before on this node runs from its unpacked copy, as a
 * directory image (unpacked.h); else one is made in the background. */
static void use_unpacked(const struct sbx_policy *pol, struct sbx_image *img, const char *cache_key)
{
	img->unpacked = sbx_unpacked_use(pol, img->squashfs, cache_key, &img->unpacked_fd);
	if (!img->unpacked)
		return;
	img->dir = img->unpacked;
	free(img->squashfs);
	img->squashfs = NULL;
}

int sbx_image_prepare(const struct sbx_policy *pol, const struct sbx_plan *plan,
		      struct sbx_image *img, struct sbx_err *err)
{
	struct job j = { .pol = pol, .ref = plan->image, .tmp_fd = -1 };
	struct sbx_registry_ref r = { .host = "" };
	struct sbx_oci_image oci = { 0 };
	const char *tls = NULL;
	enum archive_kind ak = ARCHIVE_ROOTFS;
	char key[72] = "", src[PATH_MAX + 32], cfg[PATH_MAX + 16], size[32];
	int found, rc = -1;
	struct stat st;

	snprintf(j.what, sizeof(j.what), "image '%s'", plan->image);
	if (plan->image_kind == SBX_IMAGE_DIR) {
		img->dir = plan->image;
		return 0;
	}
	/* Mounted by root with the kernel's driver (Slurm, kernel_squashfs):
	 * the helper takes the mount from the fd it was given (img->mnt_fd). */
	if (plan->image_kind == SBX_IMAGE_SQUASHFS && plan->premounted)
		return 0;
	if (plan->image_kind == SBX_IMAGE_SQUASHFS) {
		img->squashfs = strdup(plan->image);
		if (!img->squashfs)
			return sbx_err_set(err, ENOMEM, NULL, "out of memory");
		use_unpacked(pol, img, NULL);
		return 0;
	}
	/* What the archive holds, before anything is said or made: a file
	 * that is no archive at all is one error line. */
	if (plan->image_kind == SBX_IMAGE_ARCHIVE && archive_kind(plan->image, j.what, &ak, err) < 0)
		return -1;
	img->hold = calloc(1, sizeof(*img->hold));
	if (!img->hold)
		return sbx_err_set(err, ENOMEM, NULL, "out of memory");
	img->hold->cache.root_fd = -1;
	img->hold->entry.lock_fd = -1;
	if (sbx_cache_open(pol, &img->hold->cache, err) < 0)
		return -1;
	snprintf(src, sizeof(src), "%s", plan->image);
	switch (plan->image_kind) {
	case SBX_IMAGE_REGISTRY:
		if (sbx_registry_ref_parse(plan->image, &r, err) < 0)
			goto out;
		if (sbx_registry_listed(&pol->insecure_registries, r.host))
			tls = "--tls-verify=false";
		if (registry_key(&j, &img->hold->cache, &r, tls, key, sizeof(key), src, sizeof(src), err) < 0)
			goto out;
		/* skopeo copy names the source's flag differently. */
		if (tls)
			tls = "--src-tls-verify=false";
		break;
	case SBX_IMAGE_OCI_DIR:
		if (sbx_oci_open(plan->image, NULL, plan->image, &oci, err) < 0)
			goto out;
		snprintf(key, sizeof(key), "%s", oci.digest);
		break;
	default:
		if (file_key(&img->hold->cache, plan->image, j.what, key, sizeof(key), err) < 0)
			goto out;
		break;
	}
	found = sbx_cache_acquire(&img->hold->cache, key, plan->image, 0, &img->hold->entry, err);
	if (found < 0)
		goto out;
	if (found == 0) {
		clock_gettime(CLOCK_MONOTONIC, &j.start);
		progress("importing %s (%s %.19s)", plan->image,
			 sbx_image_kind_name(plan->image_kind), key);
		j.tmp = img->hold->entry.tmp;
		j.tmp_fd = open(img->hold->entry.tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (j.tmp_fd < 0) {
			sbx_err_sys(err, NULL, "%s: the cache entry", j.what);
			goto out;
		}
		if (SBX_FAILPOINT("import.start", err) < 0 ||
		    import(&j, plan->image_kind, ak, src, tls,
			   plan->image_kind == SBX_IMAGE_REGISTRY ? r.host : NULL, err) < 0 ||
		    SBX_FAILPOINT("import.publish", err) < 0 ||
		    sbx_cache_publish(&img->hold->cache, &img->hold->entry, plan->image, err) < 0)
			goto out;
	}
	if (asprintf(&img->squashfs, "%s/image.sqfs", img->hold->entry.dir) < 0) {
		img->squashfs = NULL;
		sbx_err_set(err, ENOMEM, NULL, "out of memory");
		goto out;
	}
	snprintf(cfg, sizeof(cfg), "%s/config.json", img->hold->entry.dir);
	if (sbx_image_config_load(cfg, plan->image, &img->cfg, err) < 0)
		goto out;
	if (found == 0 && stat(img->squashfs, &st) == 0)
		progress("imported %s as %.19s (%s) in %.1f s", plan->image, key,
			 sbx_human_size((uint64_t)st.st_blocks * 512, size, sizeof(size)), since(&j.start));
	use_unpacked(pol, img, key);
	rc = 0;
out:
	if (j.tmp_fd >= 0)
		close(j.tmp_fd);
	sbx_oci_image_free(&oci);
	return rc;
}

void sbx_image_release(struct sbx_image *img)
{
	if (img->mnt_fd >= 0)
		close(img->mnt_fd);
	img->mnt_fd = -1;
	if (img->hold) {
		sbx_cache_release(&img->hold->entry);
		if (img->hold->cache.root_fd >= 0)
			sbx_cache_close(&img->hold->cache);
		free(img->hold);
		img->hold = NULL;
	}
	sbx_image_config_free(&img->cfg);
	free(img->squashfs);
	img->squashfs = NULL;
	if (img->unpacked_fd >= 0)
		close(img->unpacked_fd);
	img->unpacked_fd = -1;
	if (img->dir == img->unpacked)
		img->dir = NULL;
	free(img->unpacked);
	img->unpacked = NULL;
}
