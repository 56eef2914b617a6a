/* The plan: a request checked against the site policy and resolved on the
 * host (real paths, defaults, environment, seccomp, capabilities), with the
 * refusal a user sees for each thing the site does not allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/plan.h"

#define BUILTIN "the built-in defaults"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct fixture {
	struct sbx_policy pol;    /* starts as the built-in defaults */
	struct sbx_request req;   /* starts empty */
	struct sbx_plan plan;
	struct sbx_err err;
	char tmp[64];             /* a fresh directory under /tmp, removed by teardown */
	char *real_tmp;           /* the same, symlinks resolved */
	int cwd;                  /* restored by teardown */
	char path[8][PATH_MAX];   /* scratch paths built by at() */
	int next_path;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || sbx_policy_init_defaults(&fx->pol, &fx->err) < 0)
		return -1;
	sbx_request_init(&fx->req);
	strcpy(fx->tmp, "/tmp/sbx-plan-XXXXXX");
	if (!mkdtemp(fx->tmp))
		return -1;
	fx->real_tmp = realpath(fx->tmp, NULL);
	fx->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!fx->real_tmp || fx->cwd < 0)
		return -1;
	*state = fx;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc = 0;

	if (fchdir(fx->cwd) < 0)
		rc = -1;
	close(fx->cwd);
	if (nftw(fx->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		rc = -1;
	sbx_plan_free(&fx->plan);
	sbx_request_free(&fx->req);
	sbx_policy_free(&fx->pol);
	free(fx->real_tmp);
	free(fx);
	return rc;
}

/* "<tmp>/rel" (or "<real tmp>/rel" when real); valid until eight more calls. */
static const char *path_in(struct fixture *fx, int real, const char *rel)
{
	char *p = fx->path[fx->next_path++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", real ? fx->real_tmp : fx->tmp, rel);
	return p;
}

static const char *at(struct fixture *fx, const char *rel)
{
	return path_in(fx, 0, rel);
}

static const char *real_at(struct fixture *fx, const char *rel)
{
	return path_in(fx, 1, rel);
}

static const char *make_dir(struct fixture *fx, const char *rel)
{
	const char *p = at(fx, rel);

	assert_int_equal(mkdir(p, 0755), 0);
	return p;
}

static const char *make_file(struct fixture *fx, const char *rel)
{
	const char *p = at(fx, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	close(fd);
	return p;
}

static const char *make_link(struct fixture *fx, const char *target, const char *rel)
{
	const char *p = at(fx, rel);

	assert_int_equal(symlink(target, p), 0);
	return p;
}

/* A list policy key holding just dir. */
static void only(struct sbx_strv *list, const char *dir)
{
	sbx_strv_clear(list);
	assert_int_equal(sbx_strv_push(list, dir), 0);
}

static void ok(int rc, const struct sbx_err *err)
{
	if (rc != 0)
		fail_msg("unexpected error: %s", err->msg);
}

static void assert_msg_contains(const struct sbx_err *err, const char *part)
{
	if (!strstr(err->msg, part))
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, part);
}

static void assert_contains(const struct sbx_strv *sv, const char *s)
{
	if (!sbx_strv_contains(sv, s))
		fail_msg("\"%s\" missing from the list", s);
}

static void assert_lacks(const struct sbx_strv *sv, const char *s)
{
	if (sbx_strv_contains(sv, s))
		fail_msg("\"%s\" unexpectedly in the list", s);
}

/* sbx_plan_check fails with exactly want. */
static void assert_check_refuses(struct fixture *fx, const char *want)
{
	assert_int_equal(sbx_plan_check(&fx->pol, &fx->req, &fx->err), -1);
	assert_string_equal(fx->err.msg, want);
}

static void assert_plan_empty(const struct sbx_plan *plan)
{
	assert_null(plan->image);
	assert_null(plan->binds);
	assert_int_equal(plan->n_binds, 0);
	assert_null(plan->user);
	assert_null(plan->env_identity.v);
	assert_null(plan->seccomp_deny.v);
}

/* sbx_plan_build fails with exactly want and leaves an empty plan. */
static void assert_build_refuses(struct fixture *fx, const char *want)
{
	assert_int_equal(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), -1);
	assert_string_equal(fx->err.msg, want);
	assert_plan_empty(&fx->plan);
}

static void build_ok(struct fixture *fx)
{
	ok(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), &fx->err);
}

/* A request for an image directory in the temp dir. */
static void with_image(struct fixture *fx)
{
	ok(sbx_request_set_image(&fx->req, make_dir(fx, "image"), &fx->err), &fx->err);
}

static void add_user_mount(struct fixture *fx, const char *src, const char *dst_and_flags)
{
	char spec[PATH_MAX * 2];

	snprintf(spec, sizeof(spec), "%s:%s", src, dst_and_flags);
	ok(sbx_request_add_mount(&fx->req, spec, &fx->err), &fx->err);
}

static const struct sbx_bind *find_bind(const struct sbx_plan *plan, const char *dst)
{
	for (size_t i = 0; i < plan->n_binds; i++)
		if (strcmp(plan->binds[i].dst, dst) == 0)
			return &plan->binds[i];
	fail_msg("no bind at %s", dst);
	return NULL;
}

/* ---- sbx_plan_check: what the site forbids ---- */

static void writable_is_refused_when_the_site_forbids_it(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_writable = 0;
	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	assert_check_refuses(fx, "--writable: refused by site policy "
			     "(rootfs.allow_writable = no in " BUILTIN ")");
}

static void a_refusal_names_the_policy_file(void **state)
{
	struct fixture *fx = *state;

	fx->pol.path = strdup("/etc/slurm/sandbox.conf");
	assert_non_null(fx->pol.path);
	fx->pol.allow_writable = 0;
	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	assert_check_refuses(fx, "--writable: refused by site policy "
			     "(rootfs.allow_writable = no in /etc/slurm/sandbox.conf)");
}

static void remap_root_is_refused_when_the_site_forbids_it(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_remap_root = 0;
	ok(sbx_request_set_remap_root(&fx->req, 1, &fx->err), &fx->err);
	assert_check_refuses(fx, "--remap-root: refused by site policy "
			     "(namespaces.allow_remap_root = no in " BUILTIN ")");
}

static void mount_home_is_refused_when_the_site_forbids_it(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_mount_home = 0;
	ok(sbx_request_set_mount_home(&fx->req, 1, &fx->err), &fx->err);
	assert_check_refuses(fx, "--mount-home: refused by site policy "
			     "(mounts.allow_mount_home = no in " BUILTIN ")");
}

static void net_host_is_refused_when_the_site_forbids_it(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_net_host = 0;
	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	assert_check_refuses(fx, "--net host: refused by site policy "
			     "(namespaces.allow_net_host = no in " BUILTIN ")");
}

static void a_hostname_is_refused_when_the_site_forbids_it(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_hostname = 0;
	ok(sbx_request_set_hostname(&fx->req, "mybox", &fx->err), &fx->err);
	assert_check_refuses(fx, "--hostname mybox: refused by site policy "
			     "(namespaces.allow_hostname = no in " BUILTIN ")");
}

static void user_env_is_refused_when_the_site_forbids_it(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_user_env = 0;
	ok(sbx_request_add_env(&fx->req, "FOO=1", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "BAR", &fx->err), &fx->err);
	assert_check_refuses(fx, "--env FOO=1: refused by site policy "
			     "(environment.allow_user_env = no in " BUILTIN ")");
}

static void asking_for_less_is_always_allowed(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_writable = 0;
	fx->pol.allow_remap_root = 0;
	fx->pol.allow_mount_home = 0;
	fx->pol.allow_net_host = 0;
	fx->pol.allow_hostname = 0;
	fx->pol.allow_user_env = 0;
	ok(sbx_request_set_writable(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_mount_home(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_net(&fx->req, "none", &fx->err), &fx->err);
	ok(sbx_plan_check(&fx->pol, &fx->req, &fx->err), &fx->err);
}

static void the_built_in_policy_allows_every_option(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_mount_home(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	ok(sbx_request_set_hostname(&fx->req, "box", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "FOO=1", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/tmp:/data", &fx->err), &fx->err);
	ok(sbx_plan_check(&fx->pol, &fx->req, &fx->err), &fx->err);
}

static void a_destination_with_dotdot_is_refused(void **state)
{
	struct fixture *fx = *state;

	/* The mount parser refuses it first; here a request made another way
	 * (a front end filling the struct) must still be refused. */
	assert_int_equal(sbx_request_add_mount(&fx->req, "/tmp:/data/../etc", &fx->err), -1);
	fx->req.mounts = calloc(1, sizeof(*fx->req.mounts));
	assert_non_null(fx->req.mounts);
	fx->req.mounts[0].src = strdup("/tmp");
	fx->req.mounts[0].dst = strdup("/data/../etc");
	fx->req.n_mounts = 1;
	assert_check_refuses(fx, "mount '/tmp:/data/../etc': destination contains '..' "
			     "(use a plain absolute path)");
}

static void a_destination_ending_in_dotdot_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_add_mount(&fx->req, "/tmp:/data/..", &fx->err), -1);
	assert_string_equal(fx->err.msg, "mount '/tmp:/data/..': destination contains '..' "
			    "(use a plain absolute path)");
}

static void dots_inside_a_name_are_not_dotdot(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mount(&fx->req, "/tmp:/data..old", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/tmp:/...", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/tmp:/.hidden", &fx->err), &fx->err);
	ok(sbx_plan_check(&fx->pol, &fx->req, &fx->err), &fx->err);
}

static void destinations_reserved_by_the_sandbox_are_refused(void **state)
{
	struct fixture *fx = *state;
	const char *reserved[] = {
		"/", "//", "/.", "/proc", "/proc/", "/proc/x", "/proc/self/ns",
		"//proc", "/./proc", "/.sandbox", "/.sandbox/shim",
	};
	char spec[128], want[SBX_ERR_MAX];

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		sbx_request_free(&fx->req);
		snprintf(spec, sizeof(spec), "/tmp:%s", reserved[i]);
		ok(sbx_request_add_mount(&fx->req, spec, &fx->err), &fx->err);
		/* The destination is named as the parser normalised it. */
		snprintf(want, sizeof(want), "mount '/tmp:%s': destination is reserved by the sandbox "
			 "(choose another destination)", fx->req.mounts[0].dst);
		assert_check_refuses(fx, want);
	}
}

static void a_name_that_only_starts_like_a_reserved_one_is_allowed(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mount(&fx->req, "/tmp:/procfoo", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/tmp:/.sandboxes", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/tmp:/data/proc", &fx->err), &fx->err);
	ok(sbx_plan_check(&fx->pol, &fx->req, &fx->err), &fx->err);
}

static void the_check_needs_no_image(void **state)
{
	struct fixture *fx = *state;

	/* srun runs it before the image may exist anywhere. */
	ok(sbx_request_set_image(&fx->req, "/nonexistent/image", &fx->err), &fx->err);
	ok(sbx_plan_check(&fx->pol, &fx->req, &fx->err), &fx->err);
}

/* ---- sbx_plan_build: the image ---- */

static void a_request_without_an_image_is_refused(void **state)
{
	assert_build_refuses(*state, "image: no image given (pass --image with a directory, "
			     "squashfs, archive or docker:// reference)");
}

static void a_policy_refusal_comes_before_the_image_is_looked_at(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_net_host = 0;
	ok(sbx_request_set_image(&fx->req, "/nonexistent/image", &fx->err), &fx->err);
	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	assert_build_refuses(fx, "--net host: refused by site policy "
			     "(namespaces.allow_net_host = no in " BUILTIN ")");
}

static void a_missing_image_is_named_with_the_reason(void **state)
{
	struct fixture *fx = *state;
	const char *img = at(fx, "nope");
	char want[SBX_ERR_MAX];

	ok(sbx_request_set_image(&fx->req, img, &fx->err), &fx->err);
	snprintf(want, sizeof(want), "image '%s': No such file or directory (check the path)", img);
	assert_build_refuses(fx, want);
	assert_int_equal(fx->err.errnum, ENOENT);
}

/* "ubuntu:22.04" (Pyxis's spelling) that is no file here: the hint says
 * how to name a registry image. */
static void a_bare_image_name_gets_the_registry_hint(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(chdir(fx->tmp), 0);
	ok(sbx_request_set_image(&fx->req, "ubuntu:22.04", &fx->err), &fx->err);
	assert_build_refuses(fx, "image 'ubuntu:22.04': No such file or directory "
			     "(check the path; for a registry image write docker://ubuntu:22.04)");
}

static void an_image_below_a_file_is_named_with_the_reason(void **state)
{
	struct fixture *fx = *state;
	char img[PATH_MAX], want[PATH_MAX + SBX_ERR_MAX];

	snprintf(img, sizeof(img), "%s/rootfs", make_file(fx, "plain"));
	ok(sbx_request_set_image(&fx->req, img, &fx->err), &fx->err);
	snprintf(want, sizeof(want), "image '%s': Not a directory (check the path)", img);
	assert_build_refuses(fx, want);
	assert_int_equal(fx->err.errnum, ENOTDIR);
}

static void an_empty_image_file_is_refused(void **state)
{
	struct fixture *fx = *state;
	const char *img = make_file(fx, "image.sqsh");
	char want[SBX_ERR_MAX];

	ok(sbx_request_set_image(&fx->req, img, &fx->err), &fx->err);
	snprintf(want, sizeof(want), "image '%s': empty file "
		 "(give a directory, a squashfs file, a tar archive or docker://...)", img);
	assert_build_refuses(fx, want);
}

static void write_at(struct fixture *fx, const char *rel, const char *data, size_t len)
{
	int fd = open(at(fx, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* What a reference is comes from its content, never from its name. */
static void image_kinds_are_told_by_content(void **state)
{
	struct fixture *fx = *state;
	enum sbx_image_kind kind;
	char *res = NULL;

	write_at(fx, "image.tar.gz", "hsqs\0\0\0\0", 8);
	ok(sbx_image_resolve(&fx->pol, at(fx, "image.tar.gz"), &kind, &res, &fx->err), &fx->err);
	assert_int_equal(kind, SBX_IMAGE_SQUASHFS);
	free(res);
	write_at(fx, "image.sqfs", "\x1f\x8b\x08\0", 4);
	ok(sbx_image_resolve(&fx->pol, at(fx, "image.sqfs"), &kind, &res, &fx->err), &fx->err);
	assert_int_equal(kind, SBX_IMAGE_ARCHIVE);
	free(res);
	make_dir(fx, "layout");
	write_at(fx, "layout/oci-layout", "{}", 2);
	ok(sbx_image_resolve(&fx->pol, at(fx, "layout"), &kind, &res, &fx->err), &fx->err);
	assert_int_equal(kind, SBX_IMAGE_OCI_DIR);
	free(res);
	ok(sbx_image_resolve(&fx->pol, "docker://127.0.0.1:5000/a/b:1", &kind, &res, &fx->err), &fx->err);
	assert_int_equal(kind, SBX_IMAGE_REGISTRY);
	assert_string_equal(res, "docker://127.0.0.1:5000/a/b:1");
	free(res);
}

static void registry_references_are_parsed_as_docker_does(void **state)
{
	struct fixture *fx = *state;
	struct sbx_registry_ref r;
	const char *digest = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char ref[256];

	ok(sbx_registry_ref_parse("docker://ubuntu", &r, &fx->err), &fx->err);
	assert_string_equal(r.host, "docker.io");
	assert_string_equal(r.repo, "library/ubuntu");
	assert_string_equal(r.tag, "latest");
	ok(sbx_registry_ref_parse("docker://localhost:5000/team/app:v1.2", &r, &fx->err), &fx->err);
	assert_string_equal(r.host, "localhost:5000");
	assert_string_equal(r.repo, "team/app");
	assert_string_equal(r.tag, "v1.2");
	snprintf(ref, sizeof(ref), "docker://nvcr.io/nvidia/pytorch@%s", digest);
	ok(sbx_registry_ref_parse(ref, &r, &fx->err), &fx->err);
	assert_string_equal(r.host, "nvcr.io");
	assert_string_equal(r.repo, "nvidia/pytorch");
	assert_string_equal(r.digest, digest);
	assert_string_equal(r.tag, "");
	assert_int_equal(sbx_registry_ref_parse("docker://reg.io/a/../b", &r, &fx->err), -1);
	assert_string_equal(fx->err.msg, "image 'docker://reg.io/a/../b': bad repository name "
			    "(use docker://[REGISTRY/]REPO[:TAG|@sha256:DIGEST] (repository names are lowercase))");
	assert_int_equal(sbx_registry_ref_parse("docker://reg.io/a@sha256:XYZ", &r, &fx->err), -1);
	assert_string_equal(fx->err.msg, "image 'docker://reg.io/a@sha256:XYZ': bad digest 'sha256:XYZ' "
			    "(a digest is sha256: and 64 lowercase hex digits)");
	assert_int_equal(sbx_registry_ref_parse("docker://reg.io/a:", &r, &fx->err), -1);
}

static void a_registry_outside_the_policy_is_refused(void **state)
{
	struct fixture *fx = *state;
	enum sbx_image_kind kind;
	char *res = NULL;

	sbx_strv_clear(&fx->pol.registries);
	assert_int_equal(sbx_strv_push(&fx->pol.registries, "*.example.org"), 0);
	ok(sbx_image_resolve(&fx->pol, "docker://registry.example.org/a", &kind, &res, &fx->err), &fx->err);
	free(res);
	assert_int_equal(sbx_image_resolve(&fx->pol, "docker://evil.io/a", &kind, &res, &fx->err), -1);
	assert_string_equal(fx->err.msg, "image 'docker://evil.io/a': registry evil.io is not allowed "
			    "(images.registries in the built-in defaults)");
	assert_null(res);
	assert_int_equal(sbx_image_resolve(&fx->pol, "https://evil.io/a", &kind, &res, &fx->err), -1);
	assert_string_equal(fx->err.msg, "image 'https://evil.io/a': unknown transport "
			    "(use docker://... for registry images, or a path)");
}

static void an_image_outside_the_allowed_locations_is_refused(void **state)
{
	struct fixture *fx = *state;
	char want[SBX_ERR_MAX];

	make_dir(fx, "images");
	only(&fx->pol.image_paths, real_at(fx, "images"));
	ok(sbx_request_set_image(&fx->req, make_dir(fx, "elsewhere"), &fx->err), &fx->err);
	snprintf(want, sizeof(want), "image '%s': outside the allowed image locations "
		 "(images.allowed in " BUILTIN ")", real_at(fx, "elsewhere"));
	assert_build_refuses(fx, want);
}

static void a_symlink_into_the_allowed_images_from_outside_is_resolved(void **state)
{
	struct fixture *fx = *state;

	make_dir(fx, "images");
	make_dir(fx, "images/debian");
	only(&fx->pol.image_paths, real_at(fx, "images"));
	make_link(fx, real_at(fx, "images/debian"), "debian-link");
	ok(sbx_request_set_image(&fx->req, at(fx, "debian-link"), &fx->err), &fx->err);
	build_ok(fx);
	assert_string_equal(fx->plan.image, real_at(fx, "images/debian"));
}

static void a_symlink_inside_the_allowed_images_pointing_out_is_refused(void **state)
{
	struct fixture *fx = *state;
	char want[SBX_ERR_MAX];

	make_dir(fx, "images");
	make_dir(fx, "secret");
	only(&fx->pol.image_paths, real_at(fx, "images"));
	make_link(fx, real_at(fx, "secret"), "images/escape");
	ok(sbx_request_set_image(&fx->req, at(fx, "images/escape"), &fx->err), &fx->err);
	snprintf(want, sizeof(want), "image '%s': outside the allowed image locations "
		 "(images.allowed in " BUILTIN ")", real_at(fx, "secret"));
	assert_build_refuses(fx, want);
}

static void a_relative_image_is_resolved_to_its_real_path(void **state)
{
	struct fixture *fx = *state;

	make_dir(fx, "images");
	make_dir(fx, "images/debian");
	assert_int_equal(chdir(fx->tmp), 0);
	ok(sbx_request_set_image(&fx->req, "images/./debian/", &fx->err), &fx->err);
	build_ok(fx);
	assert_string_equal(fx->plan.image, real_at(fx, "images/debian"));
}

static void a_symlinked_image_is_resolved_to_its_real_path(void **state)
{
	struct fixture *fx = *state;

	make_dir(fx, "images");
	make_dir(fx, "images/debian-12");
	make_link(fx, "debian-12", "images/debian");
	ok(sbx_request_set_image(&fx->req, at(fx, "images/debian"), &fx->err), &fx->err);
	build_ok(fx);
	assert_string_equal(fx->plan.image, real_at(fx, "images/debian-12"));
}

/* ---- sbx_plan_build: mounts ---- */

static void a_missing_mount_source_is_named(void **state)
{
	struct fixture *fx = *state;
	const char *src = at(fx, "nope");
	char want[SBX_ERR_MAX];

	with_image(fx);
	add_user_mount(fx, src, "/data");
	snprintf(want, sizeof(want), "mount '%s:/data': source '%s': No such file or directory "
		 "(create it or fix the path)", src, src);
	assert_build_refuses(fx, want);
	assert_int_equal(fx->err.errnum, ENOENT);
}

static void a_mount_source_outside_the_allowed_sources_is_refused(void **state)
{
	struct fixture *fx = *state;
	const char *src;
	char want[SBX_ERR_MAX];

	with_image(fx);
	make_dir(fx, "allowed");
	only(&fx->pol.mount_sources, real_at(fx, "allowed"));
	src = make_dir(fx, "private");
	add_user_mount(fx, src, "/data");
	snprintf(want, sizeof(want), "mount '%s:/data': source '%s' is outside the allowed "
		 "mount sources (mounts.allowed_sources in " BUILTIN ")",
		 src, real_at(fx, "private"));
	assert_build_refuses(fx, want);
}

static void a_symlink_inside_the_allowed_sources_pointing_out_is_refused(void **state)
{
	struct fixture *fx = *state;
	const char *src;
	char want[SBX_ERR_MAX];

	with_image(fx);
	make_dir(fx, "allowed");
	make_dir(fx, "private");
	only(&fx->pol.mount_sources, real_at(fx, "allowed"));
	src = make_link(fx, real_at(fx, "private"), "allowed/escape");
	add_user_mount(fx, src, "/data:ro");
	snprintf(want, sizeof(want), "mount '%s:/data': source '%s' is outside the allowed "
		 "mount sources (mounts.allowed_sources in " BUILTIN ")",
		 src, real_at(fx, "private"));
	assert_build_refuses(fx, want);
}

static void dotdot_in_a_source_cannot_leave_the_allowed_sources(void **state)
{
	struct fixture *fx = *state;
	char src[PATH_MAX];

	with_image(fx);
	make_dir(fx, "allowed");
	make_dir(fx, "private");
	only(&fx->pol.mount_sources, real_at(fx, "allowed"));
	snprintf(src, sizeof(src), "%s/../private", real_at(fx, "allowed"));
	add_user_mount(fx, src, "/data");
	assert_int_equal(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), -1);
	assert_msg_contains(&fx->err, "mounts.allowed_sources");
}

static void a_mount_source_inside_the_allowed_sources_is_bound(void **state)
{
	struct fixture *fx = *state;
	const struct sbx_bind *b;

	with_image(fx);
	make_dir(fx, "allowed");
	make_dir(fx, "allowed/data");
	make_file(fx, "allowed/input.txt");
	only(&fx->pol.mount_sources, real_at(fx, "allowed"));
	add_user_mount(fx, at(fx, "allowed/./data/"), "/data:ro");
	add_user_mount(fx, at(fx, "allowed//input.txt"), "/in.txt");
	build_ok(fx);
	assert_int_equal(fx->plan.n_binds, 2);
	b = find_bind(&fx->plan, "/data");
	assert_string_equal(b->src, real_at(fx, "allowed/data"));
	assert_int_equal(b->readonly, 1);
	b = find_bind(&fx->plan, "/in.txt");
	assert_string_equal(b->src, real_at(fx, "allowed/input.txt"));
	assert_int_equal(b->readonly, 0);
}

static void a_relative_mount_source_is_resolved_to_its_real_path(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	make_dir(fx, "data");
	assert_int_equal(chdir(fx->tmp), 0);
	ok(sbx_request_add_mount(&fx->req, "data:/data", &fx->err), &fx->err);
	build_ok(fx);
	assert_string_equal(find_bind(&fx->plan, "/data")->src, real_at(fx, "data"));
}

static void trusted_mounts_bypass_the_allowed_sources(void **state)
{
	struct fixture *fx = *state;
	char spec[PATH_MAX];
	const struct sbx_bind *b;

	with_image(fx);
	make_dir(fx, "allowed");
	make_file(fx, "spool-script");
	only(&fx->pol.mount_sources, real_at(fx, "allowed"));
	snprintf(spec, sizeof(spec), "%s:/job/script:ro", at(fx, "spool-script"));
	ok(sbx_request_add_trusted_mount(&fx->req, spec, &fx->err), &fx->err);
	build_ok(fx);
	assert_int_equal(fx->plan.n_binds, 1);
	b = find_bind(&fx->plan, "/job/script");
	assert_string_equal(b->src, real_at(fx, "spool-script"));
	assert_int_equal(b->readonly, 1);
}

static void a_missing_trusted_mount_source_is_still_refused(void **state)
{
	struct fixture *fx = *state;
	char spec[PATH_MAX];

	with_image(fx);
	snprintf(spec, sizeof(spec), "%s:/job/script", at(fx, "gone"));
	ok(sbx_request_add_trusted_mount(&fx->req, spec, &fx->err), &fx->err);
	assert_int_equal(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), -1);
	assert_msg_contains(&fx->err, "No such file or directory");
	assert_msg_contains(&fx->err, at(fx, "gone"));
}

static void mount_destinations_are_normalised(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	add_user_mount(fx, fx->tmp, "/a//b/./c/");
	build_ok(fx);
	assert_int_equal(fx->plan.n_binds, 1);
	assert_string_equal(fx->plan.binds[0].dst, "/a/b/c");
	assert_string_equal(fx->plan.binds[0].src, fx->real_tmp);
}

static void a_reserved_destination_stops_the_build(void **state)
{
	struct fixture *fx = *state;
	char want[SBX_ERR_MAX];

	with_image(fx);
	add_user_mount(fx, fx->tmp, "/proc/sys");
	snprintf(want, sizeof(want), "mount '%s:/proc/sys': destination is reserved by the "
		 "sandbox (choose another destination)", fx->tmp);
	assert_build_refuses(fx, want);
}

/* ---- sbx_plan_build: defaults and choices ---- */

static void unset_choices_take_the_policy_defaults(void **state)
{
	struct fixture *fx = *state;

	fx->pol.writable = 1;
	fx->pol.remap_root = 1;
	fx->pol.sandbox_run_net = SBX_NET_HOST;
	fx->pol.hostname = strdup("sandbox");
	fx->pol.writable_size = 512u << 20;
	fx->pol.tmp_size = 64u << 20;
	fx->pol.sys = SBX_SYS_NONE;
	fx->pol.tmp = SBX_SHARE_HOST;
	fx->pol.shm = SBX_SHARE_HOST;
	assert_non_null(fx->pol.hostname);
	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.writable, 1);
	assert_int_equal(fx->plan.remap_root, 1);
	assert_int_equal(fx->plan.net, SBX_NET_HOST);
	assert_string_equal(fx->plan.hostname, "sandbox");
	assert_int_equal(fx->plan.writable_size, 512u << 20);
	assert_int_equal(fx->plan.tmp_size, 64u << 20);
	assert_int_equal(fx->plan.sys, SBX_SYS_NONE);
	assert_int_equal(fx->plan.tmp, SBX_SHARE_HOST);
	assert_int_equal(fx->plan.shm, SBX_SHARE_HOST);
}

static void the_built_in_defaults_give_a_closed_read_only_sandbox(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	build_ok(fx);
	assert_string_equal(fx->plan.image, real_at(fx, "image"));
	assert_int_equal(fx->plan.writable, 0);
	assert_int_equal(fx->plan.remap_root, 0);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
	assert_null(fx->plan.hostname);
	assert_null(fx->plan.workdir);
	assert_null(fx->plan.persist);
	assert_int_equal(fx->plan.n_binds, 0);
	assert_int_equal(fx->plan.writable_size, UINT64_C(1) << 30);
	assert_int_equal(fx->plan.tmp_size, UINT64_C(1) << 30);
	assert_int_equal(fx->plan.sys, SBX_SYS_RO);
	assert_int_equal(fx->plan.tmp, SBX_SHARE_PRIVATE);
	assert_int_equal(fx->plan.shm, SBX_SHARE_PRIVATE);
}

static void the_request_wins_over_the_policy_defaults(void **state)
{
	struct fixture *fx = *state;

	fx->pol.writable = 1;
	fx->pol.remap_root = 1;
	fx->pol.sandbox_run_net = SBX_NET_HOST;
	fx->pol.hostname = strdup("sandbox");
	assert_non_null(fx->pol.hostname);
	with_image(fx);
	ok(sbx_request_set_writable(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_net(&fx->req, "none", &fx->err), &fx->err);
	ok(sbx_request_set_hostname(&fx->req, "mine", &fx->err), &fx->err);
	build_ok(fx);
	assert_int_equal(fx->plan.writable, 0);
	assert_int_equal(fx->plan.remap_root, 0);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
	assert_string_equal(fx->plan.hostname, "mine");
}

static void the_request_can_ask_for_more_than_the_defaults(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	build_ok(fx);
	assert_int_equal(fx->plan.writable, 1);
	assert_int_equal(fx->plan.remap_root, 1);
	assert_int_equal(fx->plan.net, SBX_NET_HOST);
}

static void a_host_network_default_the_site_forbids_falls_back_to_none(void **state)
{
	struct fixture *fx = *state;

	fx->pol.sandbox_run_net = SBX_NET_HOST;
	fx->pol.allow_net_host = 0;
	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
}

static void a_slurm_step_gets_the_nodes_network_and_sandbox_run_none_by_default(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
	sbx_plan_free(&fx->plan);
	fx->req.front_end = SBX_FRONT_SLURM;
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_HOST);
}

static void a_slurm_step_asking_for_no_network_gets_none(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	fx->req.front_end = SBX_FRONT_SLURM;
	ok(sbx_request_set_net(&fx->req, "none", &fx->err), &fx->err);
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
}

static void a_site_forbidding_the_host_network_gives_slurm_steps_none_without_an_error(void **state)
{
	struct fixture *fx = *state;

	fx->pol.allow_net_host = 0;
	with_image(fx);
	fx->req.front_end = SBX_FRONT_SLURM;
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
	/* Asking for it is still refused, naming the key. */
	sbx_plan_free(&fx->plan);
	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	assert_int_equal(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), -1);
	assert_msg_contains(&fx->err, "namespaces.allow_net_host = no");
}

static void each_front_end_takes_its_own_network_default(void **state)
{
	struct fixture *fx = *state;

	fx->pol.slurm_net = SBX_NET_NONE;
	fx->pol.sandbox_run_net = SBX_NET_HOST;
	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_HOST);
	sbx_plan_free(&fx->plan);
	fx->req.front_end = SBX_FRONT_SLURM;
	build_ok(fx);
	assert_int_equal(fx->plan.net, SBX_NET_NONE);
}

static void the_workdir_is_normalised(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	ok(sbx_request_set_workdir(&fx->req, "/data//run/./", &fx->err), &fx->err);
	build_ok(fx);
	assert_string_equal(fx->plan.workdir, "/data/run");
}

static void a_workdir_with_dotdot_is_refused(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	ok(sbx_request_set_workdir(&fx->req, "/data/../etc", &fx->err), &fx->err);
	assert_build_refuses(fx, "workdir '/data/../etc': invalid path (use a plain absolute path)");
}

static void the_callers_identity_is_carried_in(void **state)
{
	struct fixture *fx = *state;
	struct passwd *pw = getpwuid(getuid());

	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.uid, getuid());
	assert_int_equal(fx->plan.gid, getgid());
	if (pw) {
		assert_string_equal(fx->plan.user, pw->pw_name);
		assert_string_equal(fx->plan.home, pw->pw_dir[0] ? pw->pw_dir : "/");
	}
	assert_non_null(fx->plan.shell);
}

/* ---- sbx_plan_build: environment ---- */

/* The plan holds the environment's rules; the values come from the image
 * and each task's environment (test_environment.c). */
static void the_default_environment_inherits_the_job(void **state)
{
	struct fixture *fx = *state;
	char want[PATH_MAX + 16];

	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.env_clean, 0);
	assert_int_equal(fx->plan.env_passthrough.n, 0);
	assert_int_equal(fx->plan.env_deny.n, 0);
	assert_int_equal(fx->plan.env_user.n, 0);
	/* The default PATH is the lowest layer (an image's PATH wins over it). */
	assert_int_equal(fx->plan.env_base.n, 1);
	assert_string_equal(fx->plan.env_base.v[0], DEFAULT_PATH);
	assert_int_equal(fx->plan.env_identity.n, 3);
	snprintf(want, sizeof(want), "HOME=%s", fx->plan.home);
	assert_string_equal(fx->plan.env_identity.v[0], want);
	snprintf(want, sizeof(want), "USER=%s", fx->plan.user);
	assert_string_equal(fx->plan.env_identity.v[1], want);
	snprintf(want, sizeof(want), "LOGNAME=%s", fx->plan.user);
	assert_string_equal(fx->plan.env_identity.v[2], want);
}

static void a_clean_environment_keeps_only_the_passthrough_list(void **state)
{
	struct fixture *fx = *state;

	fx->pol.env_clean = 1;
	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.env_clean, 1);
	assert_int_equal(fx->plan.env_passthrough.n, fx->pol.env_passthrough.n);
	for (size_t i = 0; i < fx->pol.env_passthrough.n; i++)
		assert_string_equal(fx->plan.env_passthrough.v[i], fx->pol.env_passthrough.v[i]);
}

static void the_deny_list_goes_into_the_plan_in_either_mode(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_strv_push(&fx->pol.env_deny, "AWS_*"), 0);
	with_image(fx);
	build_ok(fx);
	assert_contains(&fx->plan.env_deny, "AWS_*");
	sbx_plan_free(&fx->plan);
	fx->pol.env_clean = 1;
	build_ok(fx);
	assert_contains(&fx->plan.env_deny, "AWS_*");
}

static void user_env_names_and_values_are_kept_in_order(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	ok(sbx_request_add_env(&fx->req, "MY_TOKEN", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "OMP_NUM_THREADS=8", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "PATH=/opt/app/bin:/usr/bin", &fx->err), &fx->err);
	build_ok(fx);
	assert_int_equal(fx->plan.env_user.n, 3);
	assert_string_equal(fx->plan.env_user.v[0], "MY_TOKEN");
	assert_string_equal(fx->plan.env_user.v[1], "OMP_NUM_THREADS=8");
	assert_string_equal(fx->plan.env_user.v[2], "PATH=/opt/app/bin:/usr/bin");
	/* The lower layers stay: the shim puts the user's above them. */
	assert_contains(&fx->plan.env_base, DEFAULT_PATH);
	assert_int_equal(fx->plan.env_identity.n, 3);
}

static void a_remapped_root_is_root_in_the_environment(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	ok(sbx_request_set_remap_root(&fx->req, 1, &fx->err), &fx->err);
	build_ok(fx);
	assert_contains(&fx->plan.env_identity, "HOME=/root");
	assert_contains(&fx->plan.env_identity, "USER=root");
	assert_contains(&fx->plan.env_identity, "LOGNAME=root");
}

/* ---- sbx_plan_build: seccomp and capabilities ---- */

static void the_default_deny_list_is_used(void **state)
{
	struct fixture *fx = *state;
	size_t n = 0;

	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.seccomp, 1);
	for (; sbx_seccomp_default_deny[n]; n++)
		assert_string_equal(fx->plan.seccomp_deny.v[n], sbx_seccomp_default_deny[n]);
	assert_int_equal(fx->plan.seccomp_deny.n, n);
	assert_contains(&fx->plan.seccomp_deny, "mount");
	assert_contains(&fx->plan.seccomp_deny, "unshare");
	assert_contains(&fx->plan.seccomp_deny, "bpf");
	assert_contains(&fx->plan.seccomp_deny, "keyctl");
}

static void seccomp_allow_removes_a_call_from_the_deny_list(void **state)
{
	struct fixture *fx = *state;
	size_t n = 0;

	while (sbx_seccomp_default_deny[n])
		n++;
	assert_int_equal(sbx_strv_push(&fx->pol.seccomp_allow, "perf_event_open"), 0);
	with_image(fx);
	build_ok(fx);
	assert_lacks(&fx->plan.seccomp_deny, "perf_event_open");
	assert_contains(&fx->plan.seccomp_deny, "bpf");
	assert_int_equal(fx->plan.seccomp_deny.n, n - 1);
}

static void seccomp_deny_adds_a_call_once(void **state)
{
	struct fixture *fx = *state;
	size_t n = 0;

	while (sbx_seccomp_default_deny[n])
		n++;
	assert_int_equal(sbx_strv_push_list(&fx->pol.seccomp_deny, "ptrace bpf"), 0);
	with_image(fx);
	build_ok(fx);
	assert_contains(&fx->plan.seccomp_deny, "ptrace");
	/* bpf is denied already: not twice. */
	assert_int_equal(fx->plan.seccomp_deny.n, n + 1);
	assert_string_equal(fx->plan.seccomp_deny.v[n], "ptrace");
}

static void seccomp_off_in_the_policy_is_off_in_the_plan(void **state)
{
	struct fixture *fx = *state;

	fx->pol.seccomp = 0;
	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.seccomp, 0);
}

static void no_capabilities_are_kept_by_default(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.caps, 0);
}

static void kept_capabilities_become_a_bit_mask(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_strv_push_list(&fx->pol.capabilities,
					    "CAP_SYS_PTRACE CAP_NET_BIND_SERVICE"), 0);
	with_image(fx);
	build_ok(fx);
	assert_int_equal(CAP_SYS_PTRACE, 19);
	assert_int_equal(CAP_NET_BIND_SERVICE, 10);
	assert_int_equal(fx->plan.caps, (UINT64_C(1) << 19) | (UINT64_C(1) << 10));
}

static void an_unknown_capability_stops_the_build(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_strv_push(&fx->pol.capabilities, "CAP_BOGUS"), 0);
	with_image(fx);
	assert_build_refuses(fx, "capability 'CAP_BOGUS': unknown (fix security.capabilities)");
}

/* ---- sbx_plan_build: persist and home ---- */

static void persist_is_the_real_directory_and_makes_the_root_writable(void **state)
{
	struct fixture *fx = *state;

	make_dir(fx, "named");
	make_link(fx, "named", "named-link");
	with_image(fx);
	ok(sbx_request_set_persist(&fx->req, at(fx, "named-link"), &fx->err), &fx->err);
	build_ok(fx);
	assert_string_equal(fx->plan.persist, real_at(fx, "named"));
	assert_int_equal(fx->plan.writable, 1);
}

/* The front end's word that root mounted the image (it holds the fd). */
static void a_premounted_image_stays_premounted_in_the_plan(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	build_ok(fx);
	assert_int_equal(fx->plan.premounted, 0);
	sbx_plan_free(&fx->plan);
	fx->req.premounted = 1;
	build_ok(fx);
	assert_int_equal(fx->plan.premounted, 1);
}

static void a_missing_persist_directory_is_named(void **state)
{
	struct fixture *fx = *state;
	const char *dir = at(fx, "gone");
	char want[SBX_ERR_MAX];

	with_image(fx);
	ok(sbx_request_set_persist(&fx->req, dir, &fx->err), &fx->err);
	snprintf(want, sizeof(want), "persist '%s': No such file or directory", dir);
	assert_build_refuses(fx, want);
}

static void mount_home_binds_the_home_directory(void **state)
{
	struct fixture *fx = *state;
	const struct sbx_bind *b;

	with_image(fx);
	ok(sbx_request_set_mount_home(&fx->req, 1, &fx->err), &fx->err);
	build_ok(fx);
	if (strcmp(fx->plan.home, "/") == 0)
		skip();        /* no home to bind */
	assert_int_equal(fx->plan.n_binds, 1);
	b = find_bind(&fx->plan, fx->plan.home);
	assert_string_equal(b->src, fx->plan.home);
	assert_int_equal(b->readonly, 0);
}

static void the_policy_can_mount_home_by_default(void **state)
{
	struct fixture *fx = *state;

	fx->pol.mount_home = 1;
	with_image(fx);
	build_ok(fx);
	if (strcmp(fx->plan.home, "/") == 0)
		skip();
	assert_int_equal(fx->plan.n_binds, 1);
	assert_string_equal(fx->plan.binds[0].dst, fx->plan.home);
}

static void no_mount_home_overrides_the_policy_default(void **state)
{
	struct fixture *fx = *state;

	fx->pol.mount_home = 1;
	with_image(fx);
	ok(sbx_request_set_mount_home(&fx->req, 0, &fx->err), &fx->err);
	build_ok(fx);
	assert_int_equal(fx->plan.n_binds, 0);
}

/* ---- freeing ---- */

static void freeing_a_plan_after_a_failed_build_is_safe(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_image(&fx->req, at(fx, "nope"), &fx->err), &fx->err);
	assert_int_equal(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), -1);
	sbx_plan_free(&fx->plan);
	sbx_plan_free(&fx->plan);
	assert_plan_empty(&fx->plan);
}

static void freeing_a_built_plan_twice_is_safe(void **state)
{
	struct fixture *fx = *state;

	with_image(fx);
	add_user_mount(fx, fx->tmp, "/data");
	ok(sbx_request_add_env(&fx->req, "A=1", &fx->err), &fx->err);
	ok(sbx_request_set_hostname(&fx->req, "h", &fx->err), &fx->err);
	ok(sbx_request_set_workdir(&fx->req, "/data", &fx->err), &fx->err);
	build_ok(fx);
	sbx_plan_free(&fx->plan);
	sbx_plan_free(&fx->plan);
	assert_plan_empty(&fx->plan);
	/* And the plan can be built again. */
	build_ok(fx);
	assert_int_equal(fx->plan.n_binds, 1);
}

static void a_failure_late_in_the_build_frees_what_was_made(void **state)
{
	struct fixture *fx = *state;

	/* Image, home and a bind are resolved before the capability fails;
	 * ASan's leak check holds the rest of this test. */
	assert_int_equal(sbx_strv_push(&fx->pol.capabilities, "CAP_BOGUS"), 0);
	fx->pol.mount_home = 1;
	with_image(fx);
	add_user_mount(fx, fx->tmp, "/data");
	ok(sbx_request_set_hostname(&fx->req, "h", &fx->err), &fx->err);
	assert_int_equal(sbx_plan_build(&fx->pol, &fx->req, &fx->plan, &fx->err), -1);
	assert_plan_empty(&fx->plan);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(writable_is_refused_when_the_site_forbids_it),
		T(a_refusal_names_the_policy_file),
		T(remap_root_is_refused_when_the_site_forbids_it),
		T(mount_home_is_refused_when_the_site_forbids_it),
		T(net_host_is_refused_when_the_site_forbids_it),
		T(a_hostname_is_refused_when_the_site_forbids_it),
		T(user_env_is_refused_when_the_site_forbids_it),
		T(asking_for_less_is_always_allowed),
		T(the_built_in_policy_allows_every_option),
		T(a_destination_with_dotdot_is_refused),
		T(a_destination_ending_in_dotdot_is_refused),
		T(dots_inside_a_name_are_not_dotdot),
		T(destinations_reserved_by_the_sandbox_are_refused),
		T(a_name_that_only_starts_like_a_reserved_one_is_allowed),
		T(the_check_needs_no_image),
		T(a_request_without_an_image_is_refused),
		T(a_policy_refusal_comes_before_the_image_is_looked_at),
		T(a_missing_image_is_named_with_the_reason),
		T(an_image_below_a_file_is_named_with_the_reason),
		T(an_empty_image_file_is_refused),
		T(a_bare_image_name_gets_the_registry_hint),
		T(image_kinds_are_told_by_content),
		T(registry_references_are_parsed_as_docker_does),
		T(a_registry_outside_the_policy_is_refused),
		T(an_image_outside_the_allowed_locations_is_refused),
		T(a_symlink_into_the_allowed_images_from_outside_is_resolved),
		T(a_symlink_inside_the_allowed_images_pointing_out_is_refused),
		T(a_relative_image_is_resolved_to_its_real_path),
		T(a_symlinked_image_is_resolved_to_its_real_path),
		T(a_missing_mount_source_is_named),
		T(a_mount_source_outside_the_allowed_sources_is_refused),
		T(a_symlink_inside_the_allowed_sources_pointing_out_is_refused),
		T(dotdot_in_a_source_cannot_leave_the_allowed_sources),
		T(a_mount_source_inside_the_allowed_sources_is_bound),
		T(a_relative_mount_source_is_resolved_to_its_real_path),
		T(trusted_mounts_bypass_the_allowed_sources),
		T(a_missing_trusted_mount_source_is_still_refused),
		T(mount_destinations_are_normalised),
		T(a_reserved_destination_stops_the_build),
		T(unset_choices_take_the_policy_defaults),
		T(the_built_in_defaults_give_a_closed_read_only_sandbox),
		T(the_request_wins_over_the_policy_defaults),
		T(the_request_can_ask_for_more_than_the_defaults),
		T(a_host_network_default_the_site_forbids_falls_back_to_none),
		T(a_slurm_step_gets_the_nodes_network_and_sandbox_run_none_by_default),
		T(a_slurm_step_asking_for_no_network_gets_none),
		T(a_site_forbidding_the_host_network_gives_slurm_steps_none_without_an_error),
		T(each_front_end_takes_its_own_network_default),
		T(the_workdir_is_normalised),
		T(a_workdir_with_dotdot_is_refused),
		T(the_callers_identity_is_carried_in),
		T(the_default_environment_inherits_the_job),
		T(a_clean_environment_keeps_only_the_passthrough_list),
		T(the_deny_list_goes_into_the_plan_in_either_mode),
		T(user_env_names_and_values_are_kept_in_order),
		T(a_remapped_root_is_root_in_the_environment),
		T(the_default_deny_list_is_used),
		T(seccomp_allow_removes_a_call_from_the_deny_list),
		T(seccomp_deny_adds_a_call_once),
		T(seccomp_off_in_the_policy_is_off_in_the_plan),
		T(no_capabilities_are_kept_by_default),
		T(kept_capabilities_become_a_bit_mask),
		T(an_unknown_capability_stops_the_build),
		T(persist_is_the_real_directory_and_makes_the_root_writable),
		T(a_missing_persist_directory_is_named),
		T(a_premounted_image_stays_premounted_in_the_plan),
		T(mount_home_binds_the_home_directory),
		T(the_policy_can_mount_home_by_default),
		T(no_mount_home_overrides_the_policy_default),
		T(freeing_a_plan_after_a_failed_build_is_safe),
		T(freeing_a_built_plan_twice_is_safe),
		T(a_failure_late_in_the_build_frees_what_was_made),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
