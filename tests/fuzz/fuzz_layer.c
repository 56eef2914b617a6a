/* libFuzzer target: the layer applier (lib/image/layer.c). The input is an
 * archive (any format libarchive reads), applied to a scratch root twice:
 * as an OCI layer (whiteouts) and again as a plain rootfs tarball on top;
 * then the mksquashfs pseudo file is written. Afterwards nothing may exist
 * outside the root: the root's parent holds only root/, canary/ (which stays
 * empty), the archive and the pseudo file, and the scratch directory above
 * only that parent. The root is removed after each input (sbx_rmtree_at). */
#include <dirent.h>
#include <limits.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "util/fsutil.h"

#define MAX_UNPACKED (64u << 20)

static char base[PATH_MAX], outer[PATH_MAX];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	/* The scratch paths below are built from base: a TMPDIR too long for
	 * them is a setup error, named, not a finding. */
	if (strlen(tmp) > PATH_MAX - 64) {
		fprintf(stderr, "fuzz_layer: TMPDIR '%s' is too long; use a shorter one\n", tmp);
		exit(2);
	}
	snprintf(base, sizeof(base), "%s/fuzz-layer.XXXXXX", tmp);
	if (!mkdtemp(base)) {
		perror("fuzz_layer: mkdtemp");
		exit(2);
	}
	snprintf(outer, sizeof(outer), "%s/outer", base);
	if (mkdir(outer, 0755) < 0) {
		perror("fuzz_layer: mkdir");
		exit(2);
	}
}

/* Abort unless dir holds only the names in allowed (NULL-terminated). */
static void only(const char *dir, const char *const *allowed)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		abort();
	while ((e = readdir(d))) {
		const char *const *a;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (a = allowed; *a && strcmp(*a, e->d_name); a++)
			;
		if (!*a) {
			fprintf(stderr, "fuzz_layer: %s/%s was created outside the root\n", dir, e->d_name);
			abort();
		}
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const in_outer[] = { "root", "canary", "in.tar", "pseudo", NULL };
	static const char *const in_base[] = { "outer", NULL };
	static const char *const none[] = { NULL };
	struct sbx_unpack u = { 0 };
	struct sbx_err err = { 0 };
	char path[PATH_MAX], canary[PATH_MAX], archive[PATH_MAX];
	int fd, outer_fd = -1, root_fd = -1;
	mode_t mode;
	uid_t uid;
	gid_t gid;

	if (!base[0])
		setup();
	snprintf(archive, sizeof(archive), "%s/in.tar", outer);
	snprintf(canary, sizeof(canary), "%s/canary", outer);
	fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	outer_fd = open(outer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (outer_fd < 0 || mkdirat(outer_fd, "root", 0755) < 0 || mkdirat(outer_fd, "canary", 0755) < 0)
		abort();
	root_fd = openat(outer_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		abort();

	if (sbx_unpack_init(&u, root_fd, MAX_UNPACKED, "image 'fuzz'", &err) == 0) {
		if (sbx_unpack_layer(&u, archive, 1, 1, &err) == 0 &&
		    sbx_unpack_layer(&u, archive, 0, 0, &err) == 0)
			err.msg[0] = '\0';
		/* FUZZ_VERBOSE=1: say what a seed does. */
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "fuzz_layer: %s (files %llu, dirs %llu, symlinks %llu, skipped %llu)\n",
				err.msg[0] ? err.msg : "ok", (unsigned long long)u.files,
				(unsigned long long)u.dirs, (unsigned long long)u.symlinks,
				(unsigned long long)u.skipped);
		snprintf(path, sizeof(path), "%s/pseudo", outer);
		sbx_unpack_write_pseudo(&u, path, &err);
		sbx_unpack_root(&u, &mode, &uid, &gid);
		sbx_unpack_free(&u);
	}

	only(canary, none);
	only(outer, in_outer);
	only(base, in_base);

	close(root_fd);
	if (sbx_rmtree_at(outer_fd, "root") < 0 || sbx_rmtree_at(outer_fd, "canary") < 0)
		abort();
	unlinkat(outer_fd, "pseudo", 0);
	close(outer_fd);
	return 0;
}
