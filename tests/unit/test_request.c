/* What a user asks for, as sandbox-run and the plugin hear it: mount specs,
 * the setters every front end shares, the option table, and the argument
 * list handed to sandbox-helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/list.h"
#include "spec/request.h"

#define MOUNT_HINT "(use SRC[:DST[:ro|rw]] with absolute DST)"
#define ENV_HINT "(use NAME or NAME=VALUE with a valid variable name)"
#define HOSTNAME_HINT "(use 1-64 letters, digits, '-' and '.')"
#define ARGS_HINT "(see sandbox-run --help)"

struct fixture {
	struct sbx_request req;   /* starts empty (sbx_request_init) */
	struct sbx_mount_spec spec;
	struct sbx_err err;
	char *policy_path;           /* --config, as parse_args hands it back */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	sbx_request_init(&fx->req);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	sbx_request_free(&fx->req);
	sbx_mount_spec_free(&fx->spec);
	free(fx->policy_path);
	free(fx);
	return 0;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!got || !want)
		assert_ptr_equal(got, want);
	else
		assert_string_equal(got, want);
}

static void assert_msg_contains(const struct sbx_err *err, const char *part)
{
	if (!strstr(err->msg, part))
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, part);
}

static void assert_mount(const struct sbx_mount_spec *m, const char *src,
			 const char *dst, int readonly)
{
	assert_string_equal(m->src, src);
	assert_string_equal(m->dst, dst);
	assert_int_equal(m->readonly, readonly);
}

/* Parsing spec fails with exactly want and leaves nothing behind. */
static void assert_spec_refused(struct fixture *fx, const char *spec,
				const char *want)
{
	assert_int_equal(sbx_mount_spec_parse(spec, &fx->spec, &fx->err), -1);
	assert_string_equal(fx->err.msg, want);
	assert_null(fx->spec.src);
	assert_null(fx->spec.dst);
}

static void ok(int rc, const struct sbx_err *err)
{
	if (rc != 0)
		fail_msg("unexpected error: %s", err->msg);
}

static int count_args(char **argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

/* sbx_request_parse_args over a NULL-terminated argv. */
static int parse(struct fixture *fx, char **argv, int *first)
{
	return sbx_request_parse_args(&fx->req, count_args(argv), argv, first,
				      &fx->policy_path, &fx->err);
}

/* ---- mount specs ---- */

static void a_bare_source_is_mounted_read_write_at_the_same_path(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_mount_spec_parse("/scratch/data", &fx->spec, &fx->err), &fx->err);
	assert_mount(&fx->spec, "/scratch/data", "/scratch/data", 0);
}

static void a_source_and_destination_are_mounted_read_write(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_mount_spec_parse("/scratch/data:/data", &fx->spec, &fx->err), &fx->err);
	assert_mount(&fx->spec, "/scratch/data", "/data", 0);
}

static void the_ro_flag_makes_a_read_only_mount(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_mount_spec_parse("/scratch/data:/data:ro", &fx->spec, &fx->err), &fx->err);
	assert_mount(&fx->spec, "/scratch/data", "/data", 1);
}

static void the_rw_flag_makes_a_read_write_mount(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_mount_spec_parse("/scratch/data:/data:rw", &fx->spec, &fx->err), &fx->err);
	assert_mount(&fx->spec, "/scratch/data", "/data", 0);
}

static void a_relative_source_is_kept_as_given(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_mount_spec_parse("data:/data", &fx->spec, &fx->err), &fx->err);
	assert_mount(&fx->spec, "data", "/data", 0);
}

static void an_empty_mount_spec_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_spec_refused(fx, "", "mount '': empty mount spec " MOUNT_HINT);
	assert_spec_refused(fx, NULL, "mount '': empty mount spec " MOUNT_HINT);
}

static void a_lone_colon_is_refused(void **state)
{
	assert_spec_refused(*state, ":", "mount ':': empty source " MOUNT_HINT);
}

static void a_mount_with_an_empty_destination_is_refused(void **state)
{
	assert_spec_refused(*state, "/tmp:", "mount '/tmp:': empty destination " MOUNT_HINT);
}

static void a_mount_with_an_empty_source_is_refused(void **state)
{
	assert_spec_refused(*state, ":/x", "mount ':/x': empty source " MOUNT_HINT);
}

static void a_mount_with_four_fields_is_refused(void **state)
{
	assert_spec_refused(*state, "a:b:c:d",
			    "mount 'a:b:c:d': too many ':' fields " MOUNT_HINT);
}

static void a_relative_destination_is_refused(void **state)
{
	assert_spec_refused(*state, "/a:b",
			    "mount '/a:b': destination 'b' is not an absolute path " MOUNT_HINT);
}

static void a_relative_source_without_a_destination_is_refused(void **state)
{
	/* DST defaults to SRC, which must then be absolute. */
	assert_spec_refused(*state, "data",
			    "mount 'data': destination 'data' is not an absolute path " MOUNT_HINT);
}

static void an_unknown_mount_flag_is_refused(void **state)
{
	assert_spec_refused(*state, "/a:/b:rx",
			    "mount '/a:/b:rx': unknown flag 'rx' (the flags are ro or rw)");
	assert_spec_refused(*state, "/a:/b:RO",
			    "mount '/a:/b:RO': unknown flag 'RO' (the flags are ro or rw)");
}

static void an_empty_mount_flag_is_refused(void **state)
{
	assert_spec_refused(*state, "/a:/b:",
			    "mount '/a:/b:': unknown flag '' (the flags are ro or rw)");
}

/* ---- lists: --sandbox-mounts, --sandbox-env and their SANDBOX_* presets ---- */

#define MOUNTS_HINT "(use SRC[:DST[:ro|rw]][,...] with no empty element)"
#define ENV_LIST_HINT "(use NAME[=VALUE][,...] with no empty element)"

static void a_comma_list_adds_every_mount_in_order(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mounts(&fx->req, "--sandbox-mounts", "/a:/x,/b:/y:ro,/c", &fx->err), &fx->err);
	assert_int_equal(fx->req.n_mounts, 3);
	assert_mount(&fx->req.mounts[0], "/a", "/x", 0);
	assert_mount(&fx->req.mounts[1], "/b", "/y", 1);
	assert_mount(&fx->req.mounts[2], "/c", "/c", 0);
}

static void a_comma_list_adds_every_variable_name_in_order(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_env_list(&fx->req, "--sandbox-env", "FOO,BAR,_X1", &fx->err), &fx->err);
	assert_int_equal(fx->req.env.n, 3);
	assert_string_equal(fx->req.env.v[0], "FOO");
	assert_string_equal(fx->req.env.v[1], "BAR");
	assert_string_equal(fx->req.env.v[2], "_X1");
}

/* Every list option and preset refuses an empty element the same way: one
 * line naming what the user wrote, the list and the element's position, and
 * nothing of the list is taken. */
typedef int (*list_adder)(struct sbx_request *, const char *, const char *, struct sbx_err *);

static void assert_list_refused(struct fixture *fx, list_adder add, const char *hint,
				const char *opt, const char *list, const char *want)
{
	char msg[512];

	assert_int_equal(add(&fx->req, opt, list, &fx->err), -1);
	snprintf(msg, sizeof(msg), "%s %s", want, hint);
	assert_string_equal(fx->err.msg, msg);
	assert_int_equal(fx->req.n_mounts, 0);
	assert_int_equal(fx->req.env.n, 0);
}

#define assert_mounts_refused(fx, opt, list, want) \
	assert_list_refused(fx, sbx_request_add_mounts, MOUNTS_HINT, opt, list, want)
#define assert_env_refused(fx, opt, list, want) \
	assert_list_refused(fx, sbx_request_add_env_list, ENV_LIST_HINT, opt, list, want)

static void an_empty_element_of_sandbox_mounts_is_refused_with_its_position(void **state)
{
	struct fixture *fx = *state;

	assert_mounts_refused(fx, "--sandbox-mounts", "/a:/b,,/c:/d",
			      "--sandbox-mounts '/a:/b,,/c:/d': element 2 of 3 is empty");
	assert_mounts_refused(fx, "--sandbox-mounts", "/a,",
			      "--sandbox-mounts '/a,': element 2 of 2 is empty");
	assert_mounts_refused(fx, "--sandbox-mounts", ",/a",
			      "--sandbox-mounts ',/a': element 1 of 2 is empty");
	assert_mounts_refused(fx, "--sandbox-mounts", ",",
			      "--sandbox-mounts ',': element 1 of 2 is empty");
}

static void an_empty_element_of_sandbox_env_is_refused_with_its_position(void **state)
{
	struct fixture *fx = *state;

	assert_env_refused(fx, "--sandbox-env", "FOO,", "--sandbox-env 'FOO,': element 2 of 2 is empty");
	assert_env_refused(fx, "--sandbox-env", "FOO,,BAR",
			   "--sandbox-env 'FOO,,BAR': element 2 of 3 is empty");
	assert_env_refused(fx, "--sandbox-env", ",FOO", "--sandbox-env ',FOO': element 1 of 2 is empty");
}

static void an_empty_element_of_a_preset_is_refused_naming_the_variable(void **state)
{
	struct fixture *fx = *state;

	assert_mounts_refused(fx, "SANDBOX_MOUNTS", "/a:/b,,/c:/d",
			      "SANDBOX_MOUNTS '/a:/b,,/c:/d': element 2 of 3 is empty");
	assert_env_refused(fx, "SANDBOX_ENV", "FOO,", "SANDBOX_ENV 'FOO,': element 2 of 2 is empty");
}

static void an_empty_list_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_mounts_refused(fx, "--sandbox-mounts", "", "--sandbox-mounts '': empty list");
	assert_mounts_refused(fx, "SANDBOX_MOUNTS", "", "SANDBOX_MOUNTS '': empty list");
	assert_env_refused(fx, "--sandbox-env", "", "--sandbox-env '': empty list");
	assert_env_refused(fx, "SANDBOX_ENV", "", "SANDBOX_ENV '': empty list");
}

static void a_refused_list_adds_nothing(void **state)
{
	struct fixture *fx = *state;

	/* The whole list is checked before any element is taken. */
	assert_int_equal(sbx_request_add_mounts(&fx->req, "--sandbox-mounts", "/a:/x,/b:/y,", &fx->err), -1);
	assert_int_equal(fx->req.n_mounts, 0);
	assert_int_equal(sbx_request_add_env_list(&fx->req, "--sandbox-env", "FOO,BAR,", &fx->err), -1);
	assert_int_equal(fx->req.env.n, 0);
}

static void the_env_list_takes_names_and_values(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_add_env_list(&fx->req, "--sandbox-env", "FOO=1,BAR", &fx->err), 0);
	assert_int_equal(fx->req.env.n, 2);
	assert_string_equal(fx->req.env.v[0], "FOO=1");
	assert_string_equal(fx->req.env.v[1], "BAR");
}

static void the_list_splitter_keeps_every_element_as_written(void **state)
{
	struct fixture *fx = *state;
	struct sbx_strv out = { 0 };

	ok(sbx_list_split("--x", "a, b,c:d", "A[,A...]", &out, &fx->err), &fx->err);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[0], "a");
	assert_string_equal(out.v[1], " b");
	assert_string_equal(out.v[2], "c:d");
	sbx_strv_clear(&out);
	assert_int_equal(sbx_list_split("--x", "a,b,", "A[,A...]", &out, &fx->err), -1);
	assert_int_equal(out.n, 0);
	assert_null(out.v);
}

static void a_bad_item_in_a_mount_list_is_named(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_add_mounts(&fx->req, "--sandbox-mounts", "/a:/x,/b:rel", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "mount '/b:rel': destination 'rel' is not an absolute path " MOUNT_HINT);
}

static void an_identical_mount_given_twice_is_kept_once(void **state)
{
	struct fixture *fx = *state;

	/* Slurm 22.05 runs remote option callbacks twice. */
	ok(sbx_request_add_mounts(&fx->req, "--sandbox-mounts", "/a:/x:ro,/b", &fx->err), &fx->err);
	ok(sbx_request_add_mounts(&fx->req, "--sandbox-mounts", "/a:/x:ro,/b", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/a:/x:ro", &fx->err), &fx->err);
	assert_int_equal(fx->req.n_mounts, 2);
	assert_mount(&fx->req.mounts[0], "/a", "/x", 1);
	assert_mount(&fx->req.mounts[1], "/b", "/b", 0);
}

static void a_second_source_for_the_same_destination_is_refused(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mount(&fx->req, "/a:/x", &fx->err), &fx->err);
	assert_int_equal(sbx_request_add_mount(&fx->req, "/b:/x", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "mount '/b:/x': destination already mounted (give each destination once)");
	assert_int_equal(fx->req.n_mounts, 1);
	assert_mount(&fx->req.mounts[0], "/a", "/x", 0);
}

static void the_same_mount_with_another_flag_is_refused(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mount(&fx->req, "/a:/x:rw", &fx->err), &fx->err);
	assert_int_equal(sbx_request_add_mount(&fx->req, "/a:/x:ro", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "mount '/a:/x:ro': destination already mounted (give each destination once)");
	assert_int_equal(fx->req.n_mounts, 1);
}

/* ---- image, workdir, env ---- */

static void an_empty_image_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_set_image(&fx->req, "", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "image '': empty image (give a path to an image directory)");
	assert_int_equal(sbx_request_set_image(&fx->req, NULL, &fx->err), -1);
	assert_null(fx->req.image);
}

static void the_same_image_twice_is_accepted(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_image(&fx->req, "/srv/images/debian", &fx->err), &fx->err);
	ok(sbx_request_set_image(&fx->req, "/srv/images/debian", &fx->err), &fx->err);
	assert_string_equal(fx->req.image, "/srv/images/debian");
}

static void a_different_second_image_is_refused(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_image(&fx->req, "/srv/a", &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_image(&fx->req, "/srv/b", &fx->err), -1);
	assert_string_equal(fx->err.msg, "image /srv/b: conflicts with image /srv/a (give it once)");
	assert_string_equal(fx->req.image, "/srv/a");
}

static void a_relative_workdir_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_set_workdir(&fx->req, "work", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "workdir 'work': not an absolute path "
			    "(give an absolute directory inside the sandbox)");
	assert_null(fx->req.workdir);
}

static void an_empty_workdir_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_set_workdir(&fx->req, "", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "workdir '': empty workdir (give an absolute directory inside the sandbox)");
	assert_null(fx->req.workdir);
}

static void a_second_workdir_must_be_the_same(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_workdir(&fx->req, "/work", &fx->err), &fx->err);
	ok(sbx_request_set_workdir(&fx->req, "/work", &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_workdir(&fx->req, "/data", &fx->err), -1);
	assert_string_equal(fx->err.msg, "workdir /data: conflicts with workdir /work (give it once)");
	assert_string_equal(fx->req.workdir, "/work");
}

static void env_takes_a_name_or_a_name_and_value(void **state)
{
	struct fixture *fx = *state;
	const char *good[] = { "TERM", "OMP_NUM_THREADS=4", "_x1=", "A=b=c", "PATH=/opt/bin:/bin" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(sbx_request_add_env(&fx->req, good[i], &fx->err), &fx->err);
	assert_int_equal(fx->req.env.n, 5);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_string_equal(fx->req.env.v[i], good[i]);
}

static void env_with_a_bad_name_is_refused(void **state)
{
	struct fixture *fx = *state;
	const char *bad[] = { "1BAD", "=x", "", "A-B=1", "A B", "A.B=1" };
	char want[SBX_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "env '%s': bad variable name " ENV_HINT, bad[i]);
		assert_int_equal(sbx_request_add_env(&fx->req, bad[i], &fx->err), -1);
		assert_string_equal(fx->err.msg, want);
	}
	assert_int_equal(sbx_request_add_env(&fx->req, NULL, &fx->err), -1);
	assert_int_equal(fx->req.env.n, 0);
}

static void a_repeated_env_is_kept_once(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_env(&fx->req, "FOO=1", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "TERM", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "FOO=1", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "TERM", &fx->err), &fx->err);
	assert_int_equal(fx->req.env.n, 2);
	assert_string_equal(fx->req.env.v[0], "FOO=1");
	assert_string_equal(fx->req.env.v[1], "TERM");
}

/* ---- yes/no flags ---- */

static void writable_then_readonly_is_a_conflict(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_writable(&fx->req, 0, &fx->err), -1);
	assert_string_equal(fx->err.msg, "--readonly: conflicts with --writable (choose one)");
	assert_int_equal(fx->req.writable, 1);
}

static void readonly_then_writable_is_a_conflict(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_writable(&fx->req, 0, &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_writable(&fx->req, 1, &fx->err), -1);
	assert_string_equal(fx->err.msg, "--writable: conflicts with --readonly (choose one)");
	assert_int_equal(fx->req.writable, 0);
}

static void the_same_flag_twice_is_accepted(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(&fx->req, 0, &fx->err), &fx->err);
	ok(sbx_request_set_mount_home(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_mount_home(&fx->req, 1, &fx->err), &fx->err);
	assert_int_equal(fx->req.writable, 1);
	assert_int_equal(fx->req.remap_root, 0);
	assert_int_equal(fx->req.mount_home, 1);
}

static void remap_root_and_no_remap_root_conflict(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_remap_root(&fx->req, 1, &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_remap_root(&fx->req, 0, &fx->err), -1);
	assert_string_equal(fx->err.msg, "--no-remap-root: conflicts with --remap-root (choose one)");
	assert_int_equal(fx->req.remap_root, 1);
}

static void mount_home_and_no_mount_home_conflict(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_mount_home(&fx->req, 0, &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_mount_home(&fx->req, 1, &fx->err), -1);
	assert_string_equal(fx->err.msg, "--mount-home: conflicts with --no-mount-home (choose one)");
	assert_int_equal(fx->req.mount_home, 0);
}

static void a_new_request_leaves_every_choice_to_the_policy(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fx->req.writable, SBX_UNSET);
	assert_int_equal(fx->req.remap_root, SBX_UNSET);
	assert_int_equal(fx->req.mount_home, SBX_UNSET);
	assert_int_equal(fx->req.net, SBX_NET_UNSET);
	assert_null(fx->req.image);
	assert_null(fx->req.hostname);
	assert_int_equal(fx->req.n_mounts, 0);
	assert_int_equal(fx->req.env.n, 0);
}

/* ---- net, hostname, persist ---- */

static void net_host_and_none_are_understood(void **state)
{
	struct fixture *fx = *state;
	struct sbx_request other;

	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	assert_int_equal(fx->req.net, SBX_NET_HOST);
	sbx_request_init(&other);
	ok(sbx_request_set_net(&other, "none", &fx->err), &fx->err);
	assert_int_equal(other.net, SBX_NET_NONE);
	sbx_request_free(&other);
}

static void an_unknown_net_mode_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_set_net(&fx->req, "bogus", &fx->err), -1);
	assert_string_equal(fx->err.msg, "net 'bogus': unknown network mode (use host or none)");
	assert_int_equal(sbx_request_set_net(&fx->req, "HOST", &fx->err), -1);
	assert_int_equal(sbx_request_set_net(&fx->req, NULL, &fx->err), -1);
	assert_string_equal(fx->err.msg, "net '': unknown network mode (use host or none)");
	assert_int_equal(fx->req.net, SBX_NET_UNSET);
}

static void a_second_net_mode_must_be_the_same(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	ok(sbx_request_set_net(&fx->req, "host", &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_net(&fx->req, "none", &fx->err), -1);
	assert_string_equal(fx->err.msg, "net 'none': conflicts with an earlier --net (give it once)");
	assert_int_equal(fx->req.net, SBX_NET_HOST);
}

static void a_valid_hostname_is_kept(void **state)
{
	struct fixture *fx = *state;
	char longest[65];

	ok(sbx_request_set_hostname(&fx->req, "node-01.cluster", &fx->err), &fx->err);
	assert_string_equal(fx->req.hostname, "node-01.cluster");
	sbx_request_free(&fx->req);
	memset(longest, 'h', 64);
	longest[64] = '\0';
	ok(sbx_request_set_hostname(&fx->req, longest, &fx->err), &fx->err);
	assert_string_equal(fx->req.hostname, longest);
}

static void invalid_hostnames_are_refused(void **state)
{
	struct fixture *fx = *state;
	char too_long[66];
	const char *bad[] = { too_long, "-node", ".node", "node_1", "no de", "node!", "" };
	char want[SBX_ERR_MAX];

	memset(too_long, 'h', 65);
	too_long[65] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "hostname '%s': invalid hostname " HOSTNAME_HINT, bad[i]);
		assert_int_equal(sbx_request_set_hostname(&fx->req, bad[i], &fx->err), -1);
		assert_string_equal(fx->err.msg, want);
	}
	assert_int_equal(sbx_request_set_hostname(&fx->req, NULL, &fx->err), -1);
	assert_null(fx->req.hostname);
}

static void a_second_hostname_must_be_the_same(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_hostname(&fx->req, "box", &fx->err), &fx->err);
	ok(sbx_request_set_hostname(&fx->req, "box", &fx->err), &fx->err);
	assert_int_equal(sbx_request_set_hostname(&fx->req, "crate", &fx->err), -1);
	assert_string_equal(fx->err.msg, "hostname crate: conflicts with hostname box (give it once)");
	assert_string_equal(fx->req.hostname, "box");
}

static void a_relative_persist_directory_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_set_persist(&fx->req, "keep", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "persist 'keep': not an absolute path (give an absolute directory)");
	assert_int_equal(sbx_request_set_persist(&fx->req, "", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "persist '': not an absolute path (give an absolute directory)");
	assert_null(fx->req.persist);
}

static void an_absolute_persist_directory_is_kept(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_persist(&fx->req, "/var/lib/sandbox/job1", &fx->err), &fx->err);
	ok(sbx_request_set_persist(&fx->req, "/var/lib/sandbox/job1", &fx->err), &fx->err);
	assert_string_equal(fx->req.persist, "/var/lib/sandbox/job1");
	assert_int_equal(sbx_request_set_persist(&fx->req, "/var/lib/sandbox/job2", &fx->err), -1);
	assert_msg_contains(&fx->err, "conflicts with persist /var/lib/sandbox/job1");
}

static void trusted_mounts_are_kept_apart_from_user_mounts(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mount(&fx->req, "/home/u/data:/data", &fx->err), &fx->err);
	/* The same destination in the other list is not a repeat. */
	ok(sbx_request_add_trusted_mount(&fx->req, "/var/spool/slurmd/job1/script:/data:ro",
					 &fx->err), &fx->err);
	assert_int_equal(fx->req.n_mounts, 1);
	assert_int_equal(fx->req.n_trusted_mounts, 1);
	assert_mount(&fx->req.mounts[0], "/home/u/data", "/data", 0);
	assert_mount(&fx->req.trusted_mounts[0], "/var/spool/slurmd/job1/script", "/data", 1);
}

static void a_trusted_mount_is_checked_like_a_user_mount(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_request_add_trusted_mount(&fx->req, "/a:rel", &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "mount '/a:rel': destination 'rel' is not an absolute path " MOUNT_HINT);
	ok(sbx_request_add_trusted_mount(&fx->req, "/a:/x", &fx->err), &fx->err);
	ok(sbx_request_add_trusted_mount(&fx->req, "/a:/x", &fx->err), &fx->err);
	assert_int_equal(sbx_request_add_trusted_mount(&fx->req, "/b:/x", &fx->err), -1);
	assert_int_equal(fx->req.n_trusted_mounts, 1);
	assert_int_equal(fx->req.n_mounts, 0);
}

/* ---- the option table ---- */

static void a_full_sandbox_run_command_line_sets_every_field(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = {
		"sandbox-run", "--config", "/etc/slurm/site.conf",
		"--image", "/srv/images/debian", "--mount", "/scratch/in:/in:ro",
		"--mount", "/scratch/out:/out", "--workdir", "/out",
		"--env", "OMP_NUM_THREADS=8", "--env", "TERM", "--writable",
		"--net", "host", "--remap-root", "--mount-home", "--hostname", "box",
		"--", "cmd", "arg", NULL,
	};
	int first = -1;

	ok(parse(fx, argv, &first), &fx->err);
	assert_int_equal(first, 23);
	assert_string_equal(argv[first], "cmd");
	assert_string_equal(fx->policy_path, "/etc/slurm/site.conf");
	assert_string_equal(fx->req.image, "/srv/images/debian");
	assert_int_equal(fx->req.n_mounts, 2);
	assert_mount(&fx->req.mounts[0], "/scratch/in", "/in", 1);
	assert_mount(&fx->req.mounts[1], "/scratch/out", "/out", 0);
	assert_string_equal(fx->req.workdir, "/out");
	assert_int_equal(fx->req.env.n, 2);
	assert_string_equal(fx->req.env.v[0], "OMP_NUM_THREADS=8");
	assert_string_equal(fx->req.env.v[1], "TERM");
	assert_int_equal(fx->req.writable, 1);
	assert_int_equal(fx->req.net, SBX_NET_HOST);
	assert_int_equal(fx->req.remap_root, 1);
	assert_int_equal(fx->req.mount_home, 1);
	assert_string_equal(fx->req.hostname, "box");
	assert_int_equal(fx->req.n_trusted_mounts, 0);
	assert_null(fx->req.persist);
}

static void the_negative_options_set_their_fields_to_no(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = {
		"sandbox-run", "--image=/img", "--readonly", "--no-remap-root",
		"--no-mount-home", "--net=none", "cmd", NULL,
	};
	int first = -1;

	ok(parse(fx, argv, &first), &fx->err);
	assert_int_equal(first, 6);
	assert_string_equal(fx->req.image, "/img");
	assert_int_equal(fx->req.writable, 0);
	assert_int_equal(fx->req.remap_root, 0);
	assert_int_equal(fx->req.mount_home, 0);
	assert_int_equal(fx->req.net, SBX_NET_NONE);
	assert_null(fx->policy_path);
}

static void the_front_end_options_fill_trusted_mounts_and_persist(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = {
		"sandbox-helper", "--image", "/img", "--trusted-mount", "/spool/job1/script:/job/script:ro",
		"--persist", "/var/lib/sandbox/named", "--", "cmd", NULL,
	};
	int first = -1;

	ok(sbx_request_parse_helper_args(&fx->req, count_args(argv), argv, &first, &fx->policy_path,
					 &fx->err), &fx->err);
	assert_int_equal(first, 8);
	assert_int_equal(fx->req.n_trusted_mounts, 1);
	assert_int_equal(fx->req.n_mounts, 0);
	assert_mount(&fx->req.trusted_mounts[0], "/spool/job1/script", "/job/script", 1);
	assert_string_equal(fx->req.persist, "/var/lib/sandbox/named");
}

static void parsing_stops_at_the_command_without_a_double_dash(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--image", "/img", "cmd", "--writable", NULL };
	int first = -1;

	ok(parse(fx, argv, &first), &fx->err);
	assert_int_equal(first, 3);
	assert_string_equal(argv[first], "cmd");
	/* "--writable" belongs to the command. */
	assert_int_equal(fx->req.writable, SBX_UNSET);
	assert_string_equal(argv[4], "--writable");
}

static void a_command_line_without_options_points_at_the_command(void **state)
{
	struct fixture *fx = *state;
	char *with_cmd[] = { "sandbox-run", "cmd", NULL };
	char *alone[] = { "sandbox-run", NULL };
	int first = -1;

	ok(parse(fx, with_cmd, &first), &fx->err);
	assert_int_equal(first, 1);
	first = -1;
	ok(parse(fx, alone, &first), &fx->err);
	assert_int_equal(first, 1);
	assert_null(fx->req.image);
}

static void the_config_file_is_handed_back_not_stored(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--config", "/a.conf", "--config", "/b.conf", "cmd", NULL };
	int first = -1;

	/* The last --config wins; the first copy is freed (ASan checks). */
	ok(parse(fx, argv, &first), &fx->err);
	assert_string_equal(fx->policy_path, "/b.conf");
	assert_int_equal(first, 5);
	assert_null(fx->req.image);
}

static void config_may_be_ignored_by_the_caller(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--config", "/a.conf", "--image", "/img", "cmd", NULL };

	ok(sbx_request_parse_args(&fx->req, 6, argv, NULL, NULL, &fx->err), &fx->err);
	assert_string_equal(fx->req.image, "/img");
}

static void front_end_options_are_not_for_users(void **state)
{
	struct fixture *fx = *state;
	char *trusted[] = { "sandbox-run", "--trusted-mount", "/etc:/x", "cmd", NULL };
	char *persist[] = { "sandbox-run", "--persist", "/tmp", "cmd", NULL };
	char *premounted[] = { "sandbox-run", "--premounted", "--image", "/img.sqfs", "cmd", NULL };
	char *slurm_step[] = { "sandbox-run", "--slurm-step", "--image", "/img", "cmd", NULL };

	assert_int_equal(sbx_request_parse_args(&fx->req, 4, trusted, NULL, NULL, &fx->err), -1);
	assert_string_equal(fx->err.msg, "option --trusted-mount: unknown option (see sandbox-run --help)");
	assert_int_equal(sbx_request_parse_args(&fx->req, 4, persist, NULL, NULL, &fx->err), -1);
	assert_string_equal(fx->err.msg, "option --persist: unknown option (see sandbox-run --help)");
	/* Only a front end that holds the mount's fd may say so. */
	assert_int_equal(sbx_request_parse_args(&fx->req, 5, premounted, NULL, NULL, &fx->err), -1);
	assert_string_equal(fx->err.msg, "option --premounted: unknown option (see sandbox-run --help)");
	/* Only the plugin's steps take the policy's slurm_net default. */
	assert_int_equal(sbx_request_parse_args(&fx->req, 5, slurm_step, NULL, NULL, &fx->err), -1);
	assert_string_equal(fx->err.msg, "option --slurm-step: unknown option (see sandbox-run --help)");
	assert_int_equal((int)fx->req.n_trusted_mounts, 0);
	assert_null(fx->req.persist);
	assert_int_equal(fx->req.premounted, 0);
	assert_int_equal(fx->req.front_end, SBX_FRONT_SANDBOX_RUN);
}

static void a_missing_value_is_reported_as_such(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--image", NULL };

	assert_int_equal(sbx_request_parse_args(&fx->req, 2, argv, NULL, NULL, &fx->err), -1);
	assert_string_equal(fx->err.msg, "option --image: needs a value (see sandbox-run --help)");
}

static void a_destination_spelled_another_way_is_the_same_destination(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_add_mount(&fx->req, "/tmp:/x", &fx->err), &fx->err);
	assert_int_equal(sbx_request_add_mount(&fx->req, "/etc:/x/", &fx->err), -1);
	assert_int_equal(sbx_request_add_mount(&fx->req, "/usr://x", &fx->err), -1);
	assert_msg_contains(&fx->err, "destination already mounted");
	assert_int_equal((int)fx->req.n_mounts, 1);
	assert_string_equal(fx->req.mounts[0].dst, "/x");
}

static void parsing_after_a_permuting_getopt_starts_afresh(void **state)
{
	struct fixture *fx = *state;
	char *other[] = { "prog", "file", "-v", NULL };
	char *argv[] = { "sandbox-run", "--image=/x", "cmd", "--writable", NULL };
	int first = -1;

	/* Another getopt user in the same process, permuting its argv. */
	optind = 0;
	while (getopt(3, other, "v") != -1)
		;
	ok(sbx_request_parse_args(&fx->req, 4, argv, &first, NULL, &fx->err), &fx->err);
	assert_int_equal(first, 2);
	assert_int_equal(fx->req.writable, SBX_UNSET);
}

static void an_unknown_option_is_named(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--image", "/img", "--bogus", "cmd", NULL };
	int first = -1;

	assert_int_equal(parse(fx, argv, &first), -1);
	assert_string_equal(fx->err.msg, "option --bogus: unknown option " ARGS_HINT);
}

static void a_short_option_is_unknown(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "-w", "cmd", NULL };
	int first = -1;

	assert_int_equal(parse(fx, argv, &first), -1);
	assert_string_equal(fx->err.msg, "option -w: unknown option " ARGS_HINT);
}

static void an_option_missing_its_value_is_named(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--writable", "--image", NULL };
	int first = -1;

	assert_int_equal(parse(fx, argv, &first), -1);
	assert_msg_contains(&fx->err, "option --image:");
	assert_null(fx->req.image);
}

static void a_bad_value_reports_the_setters_error(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--net", "bogus", "cmd", NULL };
	int first = -1;

	assert_int_equal(parse(fx, argv, &first), -1);
	assert_string_equal(fx->err.msg, "net 'bogus': unknown network mode (use host or none)");
}

static void conflicting_options_on_one_command_line_are_refused(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = { "sandbox-run", "--writable", "--readonly", "cmd", NULL };
	int first = -1;

	assert_int_equal(parse(fx, argv, &first), -1);
	assert_string_equal(fx->err.msg, "--readonly: conflicts with --writable (choose one)");
}

static void parsing_twice_in_one_process_starts_afresh(void **state)
{
	struct fixture *fx = *state;
	char *bad[] = { "sandbox-run", "--image", "/a", "--bogus", "--writable", "cmd", NULL };
	char *first_line[] = { "sandbox-run", "--image", "/a", "--", "one", NULL };
	char *second_line[] = { "sandbox-run", "--net", "none", "--hostname", "h2",
				"--image", "/b", "two", "x", NULL };
	struct sbx_request second;
	int first = -1;

	/* A parse abandoned midway must not leave getopt state behind. */
	assert_int_equal(parse(fx, bad, &first), -1);
	sbx_request_free(&fx->req);

	ok(parse(fx, first_line, &first), &fx->err);
	assert_int_equal(first, 4);
	assert_string_equal(fx->req.image, "/a");

	sbx_request_init(&second);
	first = -1;
	ok(sbx_request_parse_args(&second, 9, second_line, &first, NULL, &fx->err), &fx->err);
	assert_int_equal(first, 7);
	assert_string_equal(second.image, "/b");
	assert_string_equal(second.hostname, "h2");
	assert_int_equal(second.net, SBX_NET_NONE);
	sbx_request_free(&second);
}

/* ---- to_args: the request handed on to sandbox-helper ---- */

static void assert_same_mounts(const struct sbx_mount_spec *a, size_t na,
			       const struct sbx_mount_spec *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_mount(&a[i], b[i].src, b[i].dst, b[i].readonly);
}

static void assert_same_request(const struct sbx_request *a, const struct sbx_request *b)
{
	assert_str_or_null(a->image, b->image);
	assert_same_mounts(a->mounts, a->n_mounts, b->mounts, b->n_mounts);
	assert_same_mounts(a->trusted_mounts, a->n_trusted_mounts,
			   b->trusted_mounts, b->n_trusted_mounts);
	assert_str_or_null(a->persist, b->persist);
	assert_str_or_null(a->workdir, b->workdir);
	assert_int_equal(a->env.n, b->env.n);
	for (size_t i = 0; i < a->env.n; i++)
		assert_string_equal(a->env.v[i], b->env.v[i]);
	assert_int_equal(a->writable, b->writable);
	assert_int_equal(a->remap_root, b->remap_root);
	assert_int_equal(a->mount_home, b->mount_home);
	assert_int_equal(a->net, b->net);
	assert_str_or_null(a->hostname, b->hostname);
	assert_int_equal(a->cgroup_view, b->cgroup_view);
	assert_int_equal(a->premounted, b->premounted);
	assert_int_equal(a->front_end, b->front_end);
}

/* req -> arguments -> a fresh request, which must equal req. */
static void assert_round_trip(struct fixture *fx, const struct sbx_request *req)
{
	struct sbx_strv args = { 0 };
	struct sbx_request back;
	char **argv;
	int first = -1;

	assert_int_equal(sbx_request_to_args(req, &args), 0);
	argv = calloc(args.n + 3, sizeof(*argv));
	assert_non_null(argv);
	argv[0] = "sandbox-helper";
	for (size_t i = 0; i < args.n; i++)
		argv[i + 1] = args.v[i];
	argv[args.n + 1] = "cmd";
	sbx_request_init(&back);
	ok(sbx_request_parse_helper_args(&back, (int)args.n + 2, argv, &first, NULL, &fx->err), &fx->err);
	assert_int_equal(first, (int)args.n + 1);
	assert_same_request(&back, req);
	sbx_request_free(&back);
	free(argv);
	sbx_strv_clear(&args);
}

static void a_full_request_survives_the_trip_to_the_helper(void **state)
{
	struct fixture *fx = *state;
	struct sbx_request *r = &fx->req;

	ok(sbx_request_set_image(r, "/srv/images/debian", &fx->err), &fx->err);
	ok(sbx_request_add_mounts(r, "--sandbox-mounts", "/scratch/in:/in:ro,/scratch/out:/out,/opt", &fx->err),
	   &fx->err);
	ok(sbx_request_add_trusted_mount(r, "/spool/job1/script:/job/script:ro", &fx->err), &fx->err);
	ok(sbx_request_add_trusted_mount(r, "/spool/job1/env:/job/env", &fx->err), &fx->err);
	ok(sbx_request_set_persist(r, "/var/lib/sandbox/named", &fx->err), &fx->err);
	ok(sbx_request_set_workdir(r, "/out", &fx->err), &fx->err);
	ok(sbx_request_add_env(r, "TERM", &fx->err), &fx->err);
	ok(sbx_request_add_env(r, "MSG=a b,c:d=e", &fx->err), &fx->err);
	ok(sbx_request_add_env(r, "EMPTY=", &fx->err), &fx->err);
	ok(sbx_request_set_writable(r, 1, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(r, 1, &fx->err), &fx->err);
	ok(sbx_request_set_mount_home(r, 1, &fx->err), &fx->err);
	ok(sbx_request_set_net(r, "host", &fx->err), &fx->err);
	ok(sbx_request_set_hostname(r, "box.example", &fx->err), &fx->err);
	r->cgroup_view = 1;
	r->premounted = 1;
	r->front_end = SBX_FRONT_SLURM;
	assert_round_trip(fx, r);
}

static void explicit_noes_survive_the_trip_to_the_helper(void **state)
{
	struct fixture *fx = *state;
	struct sbx_request *r = &fx->req;

	ok(sbx_request_set_image(r, "/img", &fx->err), &fx->err);
	ok(sbx_request_set_writable(r, 0, &fx->err), &fx->err);
	ok(sbx_request_set_remap_root(r, 0, &fx->err), &fx->err);
	ok(sbx_request_set_mount_home(r, 0, &fx->err), &fx->err);
	ok(sbx_request_set_net(r, "none", &fx->err), &fx->err);
	assert_round_trip(fx, r);
}

static void an_empty_request_gives_no_arguments(void **state)
{
	struct fixture *fx = *state;
	struct sbx_strv args = { 0 };

	assert_int_equal(sbx_request_to_args(&fx->req, &args), 0);
	assert_int_equal(args.n, 0);
	sbx_strv_clear(&args);
	assert_round_trip(fx, &fx->req);
}

static void a_premounted_image_is_handed_on_as_a_flag_without_a_path(void **state)
{
	struct fixture *fx = *state;
	struct sbx_strv args = { 0 };

	ok(sbx_request_set_image(&fx->req, "/admin/app.sqfs", &fx->err), &fx->err);
	fx->req.premounted = 1;
	assert_int_equal(sbx_request_to_args(&fx->req, &args), 0);
	assert_int_equal(args.n, 3);
	assert_string_equal(args.v[0], "--image");
	assert_string_equal(args.v[2], "--premounted");
	sbx_strv_clear(&args);
}

static void mounts_are_handed_on_with_an_explicit_flag(void **state)
{
	struct fixture *fx = *state;
	struct sbx_strv args = { 0 };

	ok(sbx_request_add_mount(&fx->req, "/data", &fx->err), &fx->err);
	assert_int_equal(sbx_request_to_args(&fx->req, &args), 0);
	assert_int_equal(args.n, 2);
	assert_string_equal(args.v[0], "--mount");
	assert_string_equal(args.v[1], "/data:/data:rw");
	sbx_strv_clear(&args);
}

/* ---- freeing ---- */

static void freeing_an_empty_request_twice_is_safe(void **state)
{
	struct sbx_request req;

	(void)state;
	sbx_request_init(&req);
	sbx_request_free(&req);
	sbx_request_free(&req);
	assert_null(req.image);
	assert_int_equal(req.writable, SBX_UNSET);
}

static void a_freed_request_is_empty_and_reusable(void **state)
{
	struct fixture *fx = *state;

	ok(sbx_request_set_image(&fx->req, "/a", &fx->err), &fx->err);
	ok(sbx_request_add_mount(&fx->req, "/a:/x", &fx->err), &fx->err);
	ok(sbx_request_add_trusted_mount(&fx->req, "/b:/y", &fx->err), &fx->err);
	ok(sbx_request_add_env(&fx->req, "A=1", &fx->err), &fx->err);
	ok(sbx_request_set_writable(&fx->req, 1, &fx->err), &fx->err);
	ok(sbx_request_set_persist(&fx->req, "/p", &fx->err), &fx->err);
	ok(sbx_request_set_hostname(&fx->req, "h", &fx->err), &fx->err);
	ok(sbx_request_set_workdir(&fx->req, "/w", &fx->err), &fx->err);
	sbx_request_free(&fx->req);
	sbx_request_free(&fx->req);
	assert_null(fx->req.image);
	assert_int_equal(fx->req.n_mounts, 0);
	assert_int_equal(fx->req.n_trusted_mounts, 0);
	assert_int_equal(fx->req.env.n, 0);
	assert_int_equal(fx->req.writable, SBX_UNSET);
	/* A different image is no longer a conflict. */
	ok(sbx_request_set_image(&fx->req, "/b", &fx->err), &fx->err);
	ok(sbx_request_set_writable(&fx->req, 0, &fx->err), &fx->err);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_bare_source_is_mounted_read_write_at_the_same_path),
		T(a_source_and_destination_are_mounted_read_write),
		T(the_ro_flag_makes_a_read_only_mount),
		T(the_rw_flag_makes_a_read_write_mount),
		T(a_relative_source_is_kept_as_given),
		T(an_empty_mount_spec_is_refused),
		T(a_lone_colon_is_refused),
		T(a_mount_with_an_empty_destination_is_refused),
		T(a_mount_with_an_empty_source_is_refused),
		T(a_mount_with_four_fields_is_refused),
		T(a_relative_destination_is_refused),
		T(a_relative_source_without_a_destination_is_refused),
		T(an_unknown_mount_flag_is_refused),
		T(an_empty_mount_flag_is_refused),
		T(a_comma_list_adds_every_mount_in_order),

		T(front_end_options_are_not_for_users),
		T(a_missing_value_is_reported_as_such),
		T(a_destination_spelled_another_way_is_the_same_destination),
		T(parsing_after_a_permuting_getopt_starts_afresh),
		T(a_comma_list_adds_every_variable_name_in_order),
		T(an_empty_element_of_sandbox_mounts_is_refused_with_its_position),
		T(an_empty_element_of_sandbox_env_is_refused_with_its_position),
		T(an_empty_element_of_a_preset_is_refused_naming_the_variable),
		T(an_empty_list_is_refused),
		T(a_refused_list_adds_nothing),
		T(the_env_list_takes_names_and_values),
		T(the_list_splitter_keeps_every_element_as_written),
		T(a_bad_item_in_a_mount_list_is_named),
		T(an_identical_mount_given_twice_is_kept_once),
		T(a_second_source_for_the_same_destination_is_refused),
		T(the_same_mount_with_another_flag_is_refused),
		T(an_empty_image_is_refused),
		T(the_same_image_twice_is_accepted),
		T(a_different_second_image_is_refused),
		T(a_relative_workdir_is_refused),
		T(an_empty_workdir_is_refused),
		T(a_second_workdir_must_be_the_same),
		T(env_takes_a_name_or_a_name_and_value),
		T(env_with_a_bad_name_is_refused),
		T(a_repeated_env_is_kept_once),
		T(writable_then_readonly_is_a_conflict),
		T(readonly_then_writable_is_a_conflict),
		T(the_same_flag_twice_is_accepted),
		T(remap_root_and_no_remap_root_conflict),
		T(mount_home_and_no_mount_home_conflict),
		T(a_new_request_leaves_every_choice_to_the_policy),
		T(net_host_and_none_are_understood),
		T(an_unknown_net_mode_is_refused),
		T(a_second_net_mode_must_be_the_same),
		T(a_valid_hostname_is_kept),
		T(invalid_hostnames_are_refused),
		T(a_second_hostname_must_be_the_same),
		T(a_relative_persist_directory_is_refused),
		T(an_absolute_persist_directory_is_kept),
		T(trusted_mounts_are_kept_apart_from_user_mounts),
		T(a_trusted_mount_is_checked_like_a_user_mount),
		T(a_full_sandbox_run_command_line_sets_every_field),
		T(the_negative_options_set_their_fields_to_no),
		T(the_front_end_options_fill_trusted_mounts_and_persist),
		T(parsing_stops_at_the_command_without_a_double_dash),
		T(a_command_line_without_options_points_at_the_command),
		T(the_config_file_is_handed_back_not_stored),
		T(config_may_be_ignored_by_the_caller),
		T(an_unknown_option_is_named),
		T(a_short_option_is_unknown),
		T(an_option_missing_its_value_is_named),
		T(a_bad_value_reports_the_setters_error),
		T(conflicting_options_on_one_command_line_are_refused),
		T(parsing_twice_in_one_process_starts_afresh),
		T(a_full_request_survives_the_trip_to_the_helper),
		T(explicit_noes_survive_the_trip_to_the_helper),
		T(a_premounted_image_is_handed_on_as_a_flag_without_a_path),
		T(an_empty_request_gives_no_arguments),
		T(mounts_are_handed_on_with_an_explicit_flag),
		cmocka_unit_test(freeing_an_empty_request_twice_is_safe),
		T(a_freed_request_is_empty_and_reusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
