/* The layer unpacker as an image import meets it: real archives built here
 * with libarchive's writer, unpacked into <tmp>/root next to <tmp>/victim.
 * Hostile archives are refused or land inside the root, and after each one
 * the victim and the test's own directory are exactly as they were. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/layer.h"

#define WHAT "image 'test'"
#define MTIME 1000000000
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

enum { PLAIN, GZIP, ZSTD };

/* One archive entry; type 0 is a regular file. */
struct ent {
	const char *name;
	mode_t mode;            /* type | permissions */
	const char *data;       /* file contents, or symlink target */
	const char *hardlink;   /* set: a hard link to this name */
	int uid, gid;
	uint64_t sparse_size;   /* set: a sparse file this big, 4 KiB of data */
};

#define F(n, m, d) { .name = (n), .mode = S_IFREG | (m), .data = (d) }
#define D(n, m) { .name = (n), .mode = S_IFDIR | (m) }
#define L(n, t) { .name = (n), .mode = S_IFLNK | 0777, .data = (t) }
#define H(n, t) { .name = (n), .mode = S_IFREG | 0644, .hardlink = (t) }
#define END { .name = NULL }

struct fx {
	char base[PATH_MAX];    /* mkdtemp: root/, victim/, *.tar */
	char root[PATH_MAX + 8];
	char victim[PATH_MAX + 8];
	int root_fd;
	struct sbx_unpack u;
	struct sbx_err err;
	char before[8192];      /* snapshot of base/ and victim/ */
	int fds;                /* open before the test */
};

static int count_fds(void)
{
	struct dirent **names;
	int i, n = scandir("/proc/self/fd", &names, NULL, NULL);

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -1 : 0;
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(data, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The names in base/ and victim/ and the victim file's contents. */
static void snapshot(struct fx *x, char *out, size_t len)
{
	const char *dirs[] = { x->base, x->victim };
	struct dirent **names;
	char path[PATH_MAX * 2], data[256];
	size_t n = 0;
	int i, j, k;

	for (i = 0; i < 2; i++) {
		k = scandir(dirs[i], &names, NULL, alphasort);
		assert_true(k >= 0);
		for (j = 0; j < k; j++) {
			n += (size_t)snprintf(out + n, len - n, "%s/%s\n", i ? "victim" : "", names[j]->d_name);
			free(names[j]);
		}
		free(names);
	}
	snprintf(path, sizeof(path), "%s/victimfile", x->victim);
	snprintf(out + n, len - n, "victimfile=%s", read_text(path, data, sizeof(data)) ? data : "(gone)");
}

static void assert_untouched(struct fx *x)
{
	char now[8192];

	snapshot(x, now, sizeof(now));
	assert_string_equal(now, x->before);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX * 2];

	assert_non_null(x);
	x->fds = count_fds();
	snprintf(x->base, sizeof(x->base), "%s/layer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(x->base));
	snprintf(x->root, sizeof(x->root), "%s/root", x->base);
	snprintf(x->victim, sizeof(x->victim), "%s/victim", x->base);
	assert_int_equal(mkdir(x->root, 0700), 0);
	assert_int_equal(mkdir(x->victim, 0700), 0);
	snprintf(path, sizeof(path), "%s/victimfile", x->victim);
	write_file(path, "precious");
	x->root_fd = open(x->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(x->root_fd >= 0);
	if (sbx_unpack_init(&x->u, x->root_fd, 0, WHAT, &x->err) < 0)
		fail_msg("init: %s", x->err.msg);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	int fds, want = x->fds;

	sbx_unpack_free(&x->u);
	close(x->root_fd);
	fds = count_fds();
	nftw(x->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(x);
	assert_int_equal(fds, want);    /* no fd left open */
	return 0;
}

static void add_entry(struct archive *a, const struct ent *t)
{
	struct archive_entry *e = archive_entry_new();
	char *block = NULL;
	size_t len = t->data && S_ISREG(t->mode) ? strlen(t->data) : 0;

	assert_non_null(e);
	archive_entry_copy_pathname(e, t->name);
	archive_entry_set_mode(e, t->mode);
	archive_entry_set_uid(e, t->uid);
	archive_entry_set_gid(e, t->gid);
	archive_entry_set_mtime(e, MTIME, 0);
	if (t->hardlink) {
		archive_entry_copy_hardlink(e, t->hardlink);
		len = 0;
	} else if (S_ISLNK(t->mode)) {
		archive_entry_copy_symlink(e, t->data);
	} else if (S_ISCHR(t->mode) || S_ISBLK(t->mode)) {
		archive_entry_set_rdevmajor(e, 1);
		archive_entry_set_rdevminor(e, 3);
	}
	if (t->sparse_size) {
		archive_entry_set_size(e, (la_int64_t)t->sparse_size);
		archive_entry_sparse_add_entry(e, 0, 4096);
		len = 4096;
		block = calloc(1, len);
		assert_non_null(block);
	} else {
		archive_entry_set_size(e, (la_int64_t)len);
	}
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (len)
		assert_int_equal(archive_write_data(a, block ? block : t->data, len), (la_ssize_t)len);
	free(block);
	archive_entry_free(e);
}

/* base/NAME: a pax archive of ents. Returns its path (static buffer). */
static const char *make_archive(struct fx *x, const char *name, int filter, const struct ent *ents)
{
	static char path[PATH_MAX * 2];
	struct archive *a = archive_write_new();

	assert_non_null(a);
	/* Names go in as UTF-8 (pax without hdrcharset), as docker writes
	 * them; the unpacker then reads them in the C locale. */
	assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
	snprintf(path, sizeof(path), "%s/%s", x->base, name);
	assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
	if (filter == GZIP)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	else if (filter == ZSTD)
		assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (; ents->name; ents++)
		add_entry(a, ents);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	assert_non_null(setlocale(LC_CTYPE, "C"));
	return path;
}

static void unpack_ok(struct fx *x, const char *archive, int index, int whiteouts)
{
	if (sbx_unpack_layer(&x->u, archive, index, whiteouts, &x->err) < 0)
		fail_msg("unpack %s: %s", archive, x->err.msg);
}

/* A hostile layer: refused with want (NULL: accepted), nothing outside touched. */
static void unpack_hostile(struct fx *x, const struct ent *ents, const char *want)
{
	const char *ar = make_archive(x, "hostile.tar", PLAIN, ents);
	int rc;

	snapshot(x, x->before, sizeof(x->before));
	rc = sbx_unpack_layer(&x->u, ar, 1, 1, &x->err);
	if (want) {
		assert_int_equal(rc, -1);
		assert_string_equal(x->err.msg, want);
		assert_null(strchr(x->err.msg, '\n'));
	} else if (rc < 0) {
		fail_msg("refused: %s", x->err.msg);
	}
	assert_untouched(x);
}

static struct stat at(struct fx *x, const char *name)
{
	struct stat st;

	if (fstatat(x->root_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail_msg("root/%s: %s", name, strerror(errno));
	return st;
}

static int exists(struct fx *x, const char *name)
{
	struct stat st;

	return fstatat(x->root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static const char *contents(struct fx *x, const char *name)
{
	static char buf[256];
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", x->root, name);
	if (!read_text(path, buf, sizeof(buf)))
		fail_msg("root/%s: %s", name, strerror(errno));
	return buf;
}

/* The pseudo file, with a leading newline so every line is "\n...\n". */
static const char *pseudo(struct fx *x)
{
	static char buf[65536];
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/pseudo", x->base);
	if (sbx_unpack_write_pseudo(&x->u, path, &x->err) < 0)
		fail_msg("pseudo: %s", x->err.msg);
	buf[0] = '\n';
	assert_non_null(read_text(path, buf + 1, sizeof(buf) - 1));
	return buf;
}

static void assert_line(const char *text, const char *line)
{
	char want[1024];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("no line '%s' in:%s", line, text);
}

/* ---- ordinary images ---- */

static const struct ent basic[] = {
	D("./", 0755),
	D("etc", 0755),
	F("etc/passwd", 0644, "root:x:0:0::/root:/bin/sh\n"),
	D("bin", 0755),
	F("bin/tool", 0755, "#!/bin/true\n"),
	L("bin/sh", "tool"),
	H("bin/hard", "bin/tool"),
	{ .name = "home/u/", .mode = S_IFDIR | 0700, .uid = 1000, .gid = 1000 },
	{ .name = "home/u/notes", .mode = S_IFREG | 0600, .data = "hi", .uid = 1000, .gid = 100 },
	F("ro", 0400, "read only"),
	{ .name = "fifo", .mode = S_IFIFO | 0644 },
	END
};

static void check_basic(struct fx *x)
{
	struct stat tool = at(x, "bin/tool"), hard = at(x, "bin/hard");
	char target[64];
	ssize_t n;

	assert_string_equal(contents(x, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
	assert_string_equal(contents(x, "home/u/notes"), "hi");
	assert_int_equal(tool.st_ino, hard.st_ino);
	n = readlinkat(x->root_fd, "bin/sh", target, sizeof(target) - 1);
	assert_int_equal(n, 4);
	target[n] = '\0';
	assert_string_equal(target, "tool");
	assert_true(S_ISFIFO(at(x, "fifo").st_mode));
	/* On disk the owner can always read and write: later layers and
	 * mksquashfs run as the same user. */
	assert_int_equal(at(x, "ro").st_mode & 0600, 0600);
	assert_int_equal(x->u.files, 4);
	assert_int_equal(x->u.dirs, 4);
	assert_int_equal(x->u.symlinks, 1);
	assert_int_equal(x->u.hardlinks, 1);
}

static void files_dirs_links_and_modes_are_unpacked(void **state)
{
	struct fx *x = *state;
	const char *p;

	unpack_ok(x, make_archive(x, "rootfs.tar", PLAIN, basic), 0, 0);
	check_basic(x);
	p = pseudo(x);
	assert_line(p, "etc m 0755 0 0");
	assert_line(p, "etc/passwd M 1000000000 0644 0 0");
	assert_line(p, "home m 0755 0 0");           /* never listed */
	assert_line(p, "home/u m 0700 1000 1000");
	assert_line(p, "home/u/notes M 1000000000 0600 1000 100");
	assert_line(p, "bin/sh M 1000000000 0777 0 0");
	assert_line(p, "bin/hard M 1000000000 0755 0 0");
	assert_line(p, "ro M 1000000000 0400 0 0");
	assert_line(p, "fifo M 1000000000 0644 0 0");
	assert_int_equal(at(x, "home/u").st_mtime, MTIME);
}

static void gzip_and_zstd_layers_are_read(void **state)
{
	struct fx *x = *state;

	unpack_ok(x, make_archive(x, "l.tar.gz", GZIP, basic), 1, 1);
	check_basic(x);
	unpack_ok(x, make_archive(x, "l.tar.zst", ZSTD, (const struct ent[]){
		F("etc/passwd", 0644, "zstd"), END }), 2, 1);
	assert_string_equal(contents(x, "etc/passwd"), "zstd");
}

static void non_ascii_and_odd_names_are_kept(void **state)
{
	struct fx *x = *state;
	const char *p;

	unpack_ok(x, make_archive(x, "l.tar", PLAIN, (const struct ent[]){
		F("caf\xc3\xa9", 0644, "utf8"), F("a b", 0644, "space"), F("q\"uote", 0644, "q"),
		F("back\\slash", 0644, "b"), F("#hash", 0644, "h"), F("cr\rx", 0644, "cr"), END }), 1, 1);
	assert_string_equal(contents(x, "caf\xc3\xa9"), "utf8");
	assert_string_equal(contents(x, "a b"), "space");
	p = pseudo(x);
	assert_line(p, "caf\xc3\xa9 M 1000000000 0644 0 0");
	assert_line(p, "a\\ b M 1000000000 0644 0 0");
	assert_line(p, "q\\\"uote M 1000000000 0644 0 0");
	assert_line(p, "back\\\\slash M 1000000000 0644 0 0");
	assert_line(p, "\\#hash M 1000000000 0644 0 0");
	assert_line(p, "cr\\\rx M 1000000000 0644 0 0");
}

/* ---- layers ---- */

static void whiteouts_delete_files_and_directories(void **state)
{
	struct fx *x = *state;

	unpack_ok(x, make_archive(x, "1.tar", PLAIN, (const struct ent[]){
		F("a/f", 0644, "f"), F("a/keep", 0644, "k"), F("d/sub/x", 0644, "x"), END }), 1, 1);
	unpack_ok(x, make_archive(x, "2.tar", PLAIN, (const struct ent[]){
		F("a/.wh.f", 0644, ""), F(".wh.d", 0644, ""), F("a/.wh.never-there", 0644, ""),
		D(".wh..wh.plnk", 0700), F(".wh..wh.plnk/1.2", 0644, "aufs"), END }), 2, 1);
	assert_false(exists(x, "a/f"));
	assert_false(exists(x, "d"));
	assert_false(exists(x, "a/.wh.f"));
	assert_false(exists(x, ".wh.d"));
	assert_string_equal(contents(x, "a/keep"), "k");
	assert_int_equal(x->u.whiteouts, 3);
	assert_int_equal(x->u.skipped, 2);      /* aufs metadata is no part of the image */
	assert_false(exists(x, ".wh..wh.plnk"));
	assert_null(strstr(pseudo(x), "\nd"));
}

static void opaque_directory(struct fx *x, int marker_last)
{
	static const struct ent first[] = {
		F("o/.wh..wh..opq", 0644, ""), F("o/new", 0644, "n"), F("o/sub/new2", 0644, "n2"), END
	};
	static const struct ent last[] = {
		F("o/new", 0644, "n"), F("o/sub/new2", 0644, "n2"), F("o/.wh..wh..opq", 0644, ""), END
	};

	unpack_ok(x, make_archive(x, "1.tar", PLAIN, (const struct ent[]){
		F("o/old", 0644, "o"), F("o/sub/old2", 0644, "o"), F("other/stays", 0644, "s"), END }), 1, 1);
	unpack_ok(x, make_archive(x, "2.tar", PLAIN, marker_last ? last : first), 2, 1);
	assert_false(exists(x, "o/old"));
	assert_false(exists(x, "o/sub/old2"));
	assert_false(exists(x, "o/.wh..wh..opq"));
	assert_string_equal(contents(x, "o/new"), "n");
	assert_string_equal(contents(x, "o/sub/new2"), "n2");
	assert_string_equal(contents(x, "other/stays"), "s");
	assert_int_equal(x->u.whiteouts, 1);
}

static void an_opaque_marker_first_keeps_the_layers_own_entries(void **state)
{
	opaque_directory(*state, 0);
}

static void an_opaque_marker_last_keeps_the_layers_own_entries(void **state)
{
	opaque_directory(*state, 1);
}

static void a_layer_replaces_a_dir_by_a_file_and_a_file_by_a_dir(void **state)
{
	struct fx *x = *state;

	unpack_ok(x, make_archive(x, "1.tar", PLAIN, (const struct ent[]){
		D("x", 0755), F("x/inner", 0644, "i"), F("y", 0644, "y"), END }), 1, 1);
	unpack_ok(x, make_archive(x, "2.tar", PLAIN, (const struct ent[]){
		F("x", 0644, "now a file"), D("y", 0750), F("y/z", 0644, "z"), END }), 2, 1);
	assert_string_equal(contents(x, "x"), "now a file");
	assert_string_equal(contents(x, "y/z"), "z");
	assert_line(pseudo(x), "y m 0750 0 0");
}

static void read_only_directories_stay_writable_for_later_layers(void **state)
{
	struct fx *x = *state;

	unpack_ok(x, make_archive(x, "1.tar", PLAIN, (const struct ent[]){
		D("locked", 0500), F("locked/f", 0444, "f"), D("locked/sub", 0000), F("locked/sub/g", 0000, "g"), END }),
		  1, 1);
	unpack_ok(x, make_archive(x, "2.tar", PLAIN, (const struct ent[]){
		F("locked/new", 0644, "n"), F("locked/f", 0444, "f2"), F("locked/.wh.sub", 0644, ""), END }), 2, 1);
	assert_string_equal(contents(x, "locked/f"), "f2");
	assert_string_equal(contents(x, "locked/new"), "n");
	assert_false(exists(x, "locked/sub"));
	assert_line(pseudo(x), "locked m 0500 0 0");
}

static void plain_tarballs_keep_whiteout_names(void **state)
{
	struct fx *x = *state;

	unpack_ok(x, make_archive(x, "1.tar", PLAIN, (const struct ent[]){
		F("a", 0644, "a"), F(".wh.a", 0644, "w"), END }), 0, 0);
	assert_string_equal(contents(x, "a"), "a");
	assert_string_equal(contents(x, ".wh.a"), "w");
}

/* ---- hostile archives ---- */

static void dotdot_is_refused(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){ F("../x", 0644, "x"), END },
		       WHAT ": layer 1: entry '../x': path leaves the image (the archive is hostile or broken)");
	unpack_hostile(x, (const struct ent[]){ F("a/../../victim/victimfile", 0644, "x"), END },
		       WHAT ": layer 1: entry 'a/../../victim/victimfile': path leaves the image "
		       "(the archive is hostile or broken)");
	assert_false(exists(x, "a"));
}

static void absolute_names_land_inside(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){ F("/abs/path", 0644, "in"), END }, NULL);
	assert_string_equal(contents(x, "abs/path"), "in");
}

static void a_symlink_out_of_the_root_is_followed_inside_it(void **state)
{
	struct fx *x = *state;
	char inside[PATH_MAX * 2];

	unpack_hostile(x, (const struct ent[]){
		L("evil", x->victim), F("evil/pwned", 0644, "p"), F("evil/victimfile", 0644, "p"), END }, NULL);
	snprintf(inside, sizeof(inside), "%s/pwned", x->victim + 1);
	assert_string_equal(contents(x, inside), "p");
	assert_true(S_ISLNK(at(x, "evil").st_mode));

	unpack_hostile(x, (const struct ent[]){ L("up", "../../../.."), F("up/x", 0644, "x"), END }, NULL);
	assert_string_equal(contents(x, "x"), "x");
}

static void hard_links_stay_inside(void **state)
{
	struct fx *x = *state;
	struct stat victim;
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/victimfile", x->victim);
	assert_int_equal(stat(path, &victim), 0);
	unpack_hostile(x, (const struct ent[]){ H("h", "../../outside"), END },
		       WHAT ": layer 1: entry 'h': hard link to '../../outside': path leaves the image "
		       "(the archive is hostile or broken)");
	unpack_hostile(x, (const struct ent[]){ F("etc/passwd", 0644, "image's"), H("h", "/etc/passwd"), END }, NULL);
	assert_int_equal(at(x, "h").st_ino, at(x, "etc/passwd").st_ino);
	snprintf(path, sizeof(path), "sl/victimfile");
	unpack_hostile(x, (const struct ent[]){ L("sl", x->victim), H("h2", path), END },
		       WHAT ": layer 1: entry 'h2': hard link to 'sl/victimfile', which the image does not have "
		       "(the archive is broken: a link must come after its target)");
	snprintf(path, sizeof(path), "%s/victimfile", x->victim);
	assert_int_equal(stat(path, &victim), 0);
	assert_int_equal(victim.st_nlink, 1);
}

static void symlink_loops_and_links_to_directories_are_refused(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){ L("loop", "loop"), F("loop/x", 0644, "x"), END },
		       WHAT ": layer 1: entry 'loop/x': directory 'loop' cannot be used: "
		       "Too many levels of symbolic links (the archive is hostile or broken)");
	unpack_hostile(x, (const struct ent[]){ L("c1", "c2"), L("c2", "/c3"), L("c3", "../d/e"),
		F("c1/f", 0644, "chain"), END }, NULL);
	assert_string_equal(contents(x, "d/e/f"), "chain");
	unpack_hostile(x, (const struct ent[]){ D("dir", 0755), H("h", "dir"), END },
		       WHAT ": layer 1: entry 'h': hard link to directory 'dir' (the archive is hostile or broken)");
}

static void devices_are_skipped(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){
		{ .name = "dev/null", .mode = S_IFCHR | 0666 }, { .name = "sda", .mode = S_IFBLK | 0660 },
		END }, NULL);
	assert_int_equal(x->u.skipped, 2);
	assert_false(exists(x, "dev/null"));
	assert_false(exists(x, "sda"));
	assert_false(exists(x, "dev"));
}

static void setuid_and_setgid_bits_are_stripped(void **state)
{
	struct fx *x = *state;
	const char *p;

	unpack_ok(x, make_archive(x, "1.tar", PLAIN, (const struct ent[]){
		F("su", 06755, "s"), D("tmp", 01777), D("sgid-dir", 02775), END }), 1, 1);
	assert_int_equal(at(x, "su").st_mode & 07000, 0);
	p = pseudo(x);
	assert_line(p, "su M 1000000000 0755 0 0");
	assert_line(p, "tmp m 1777 0 0");
	assert_line(p, "sgid-dir m 0775 0 0");
}

static void a_huge_sparse_file_is_refused_before_writing(void **state)
{
	struct fx *x = *state;
	const char *ar;
	struct stat st;

	sbx_unpack_free(&x->u);
	assert_int_equal(sbx_unpack_init(&x->u, x->root_fd, GIB, WHAT, &x->err), 0);
	ar = make_archive(x, "big.tar", PLAIN, (const struct ent[]){
		F("small", 0644, "s"), { .name = "big", .mode = S_IFREG | 0644, .sparse_size = TIB }, END });
	assert_int_equal(stat(ar, &st), 0);
	assert_true(st.st_size < 1 << 20);
	snapshot(x, x->before, sizeof(x->before));
	assert_int_equal(sbx_unpack_layer(&x->u, ar, 3, 1, &x->err), -1);
	assert_string_equal(x->err.msg, WHAT ": layer 3: entry 'big': the image unpacks to more than 1.0 GiB "
			    "(images.max_unpacked_size)");
	assert_false(exists(x, "big"));
	assert_untouched(x);
}

/* A million empty files cost disk and time too: each entry counts an inode
 * and a block (4 KiB) against the same cap. */
static void many_empty_files_are_refused_by_the_same_cap(void **state)
{
	struct fx *x = *state;
	static char names[40][16];
	struct ent ents[41];
	const char *ar;

	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "empty%02d", i);
		ents[i] = (struct ent)F(names[i], 0644, "");
	}
	ents[40] = (struct ent)END;
	sbx_unpack_free(&x->u);
	assert_int_equal(sbx_unpack_init(&x->u, x->root_fd, 64 * 1024, WHAT, &x->err), 0);
	ar = make_archive(x, "many.tar", PLAIN, ents);
	assert_int_equal(sbx_unpack_layer(&x->u, ar, 1, 1, &x->err), -1);
	assert_string_equal(x->err.msg, WHAT ": layer 1: entry 'empty16': the image unpacks to more than "
			    "64.0 KiB (images.max_unpacked_size)");
	assert_false(exists(x, "empty16"));
}

static void bad_whiteouts_are_refused(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){ F("a/.wh..", 0644, ""), END },
		       WHAT ": layer 1: entry 'a/.wh..': a whiteout that names no file (the archive is hostile or broken)");
	unpack_hostile(x, (const struct ent[]){ F(".wh...", 0644, ""), END },
		       WHAT ": layer 1: entry '.wh...': a whiteout that names no file (the archive is hostile or broken)");
	unpack_hostile(x, (const struct ent[]){ F(".wh.", 0644, ""), END },
		       WHAT ": layer 1: entry '.wh.': a whiteout that names no file (the archive is hostile or broken)");
}

static void a_whiteout_through_a_symlink_stays_inside(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){ L("evil", x->victim), END }, NULL);
	unpack_hostile(x, (const struct ent[]){ F("evil/.wh.victimfile", 0644, ""), END }, NULL);
	unpack_hostile(x, (const struct ent[]){ F("evil/.wh..wh..opq", 0644, ""), END }, NULL);
	assert_int_equal(x->u.whiteouts, 2);
}

static void a_newline_in_a_name_is_refused(void **state)
{
	struct fx *x = *state;

	unpack_hostile(x, (const struct ent[]){ F("bad\nname", 0644, ""), END },
		       WHAT ": layer 1: entry 'bad\\x0aname': a name with a newline cannot be stored in the image "
		       "(rename it: mksquashfs pseudo files cannot express it)");
}

/* ---- the real thing ---- */

static int run(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, k;

	if (!p)
		return -1;
	while (n + 1 < len && (k = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += k;
	out[n] = '\0';
	return pclose(p);
}

static void mksquashfs_gives_the_recorded_owners_and_modes(void **state)
{
	struct fx *x = *state;
	char cmd[PATH_MAX * 6], out[16384];
	mode_t mode;
	uid_t uid;
	gid_t gid;

	if (system("command -v mksquashfs >/dev/null && command -v unsquashfs >/dev/null") != 0) {
		print_message("mksquashfs or unsquashfs not found: skipped\n");
		skip();
	}
	unpack_ok(x, make_archive(x, "1.tar", GZIP, basic), 1, 1);
	unpack_ok(x, make_archive(x, "2.tar", PLAIN, (const struct ent[]){
		D("./", 0750), F("su", 06755, "s"), D("tmp", 01777), F("a b", 0640, "sp"),
		{ .name = "srv/", .mode = S_IFDIR | 0710, .uid = 33, .gid = 34 },
		{ .name = "srv/q\"x\\y#", .mode = S_IFREG | 0604, .uid = 33, .gid = 34, .data = "q" },
		F("caf\xc3\xa9", 0644, "u"), END }), 2, 1);
	pseudo(x);
	sbx_unpack_root(&x->u, &mode, &uid, &gid);
	assert_int_equal(mode, 0750);
	snprintf(cmd, sizeof(cmd), "mksquashfs '%s' '%s/image.sqfs' -comp zstd -no-xattrs -noappend -quiet "
		 "-no-progress -pf '%s/pseudo' -root-mode %o -root-uid %u -root-gid %u 2>&1 && "
		 "TZ=UTC unsquashfs -lln '%s/image.sqfs' 2>&1", x->root, x->base, x->base, (unsigned)mode,
		 (unsigned)uid, (unsigned)gid, x->base);
	if (run(cmd, out, sizeof(out)) != 0)
		fail_msg("%s\n%s", cmd, out);
	if (strstr(out, "Ignoring") || strstr(out, "WARNING"))
		fail_msg("mksquashfs complained:\n%s", out);
#define HAS(s) do { if (!strstr(out, s)) fail_msg("no '%s' in:\n%s", s, out); } while (0)
	HAS("drwxr-x--- 0/0 ");
	HAS("-rwxr-xr-x 0/0                       1 2001-09-09 01:46 squashfs-root/su\n");
	HAS("drwxrwxrwt 0/0 ");
	HAS("drwx------ 1000/1000 ");
	HAS("-rw------- 1000/100 ");
	HAS("squashfs-root/home/u/notes\n");
	HAS("drwx--x--- 33/34 ");
	HAS("-rw----r-- 33/34 ");
	HAS("squashfs-root/srv/q\"x\\y#\n");
	HAS("-rw-r----- 0/0 ");
	HAS("squashfs-root/a b\n");
	HAS("squashfs-root/caf\xc3\xa9\n");
	HAS("-r-------- 0/0 ");
	HAS("prw-r--r-- 0/0 ");
	HAS("lrwxrwxrwx 0/0 ");
	HAS("squashfs-root/bin/sh -> tool\n");
	HAS("drwxr-xr-x 0/0 ");
#undef HAS
	assert_null(strstr(out, "rws"));
	assert_null(strstr(out, "r-s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(files_dirs_links_and_modes_are_unpacked, setup, teardown),
		cmocka_unit_test_setup_teardown(gzip_and_zstd_layers_are_read, setup, teardown),
		cmocka_unit_test_setup_teardown(non_ascii_and_odd_names_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(whiteouts_delete_files_and_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(an_opaque_marker_first_keeps_the_layers_own_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(an_opaque_marker_last_keeps_the_layers_own_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(a_layer_replaces_a_dir_by_a_file_and_a_file_by_a_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_directories_stay_writable_for_later_layers, setup, teardown),
		cmocka_unit_test_setup_teardown(plain_tarballs_keep_whiteout_names, setup, teardown),
		cmocka_unit_test_setup_teardown(dotdot_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(absolute_names_land_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(a_symlink_out_of_the_root_is_followed_inside_it, setup, teardown),
		cmocka_unit_test_setup_teardown(hard_links_stay_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_loops_and_links_to_directories_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(devices_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(setuid_and_setgid_bits_are_stripped, setup, teardown),
		cmocka_unit_test_setup_teardown(a_huge_sparse_file_is_refused_before_writing, setup, teardown),
		cmocka_unit_test_setup_teardown(many_empty_files_are_refused_by_the_same_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_whiteouts_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_whiteout_through_a_symlink_stays_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(a_newline_in_a_name_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(mksquashfs_gives_the_recorded_owners_and_modes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
