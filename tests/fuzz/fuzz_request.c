/* libFuzzer target: what users type (lib/spec/request.c, lib/spec/list.c).
 * The input, split at newlines, becomes an argv for the helper's option
 * parser; a request it accepts must survive sbx_request_to_args and a second
 * parse unchanged. Each line also goes through the mount-spec, path, comma
 * list, env-list and size/count/CPU parsers on their own, and through the
 * setters the plugin's SANDBOX_* presets call (plugin/args.c
 * sbx_options_apply_presets), each on a request of its own. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/list.h"
#include "spec/policy.h"
#include "spec/request.h"

#define MAX_ARGS 64

typedef int (*setter_fn)(struct sbx_request *, const char *, struct sbx_err *);

/* SANDBOX_IMAGE, _WORKDIR, _NET, _HOSTNAME, _MEMORY, _CPUS, _PIDS = line. */
static void preset_setters(const char *line)
{
	static const setter_fn setters[] = {
		sbx_request_set_image, sbx_request_set_workdir, sbx_request_set_net,
		sbx_request_set_hostname, sbx_request_set_memory, sbx_request_set_cpus,
		sbx_request_set_pids,
	};

	for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
		struct sbx_err err = { 0 };
		struct sbx_request req;

		sbx_request_init(&req);
		setters[i](&req, line, &err);
		sbx_request_free(&req);
	}
}

static void parse_one_line(const char *line)
{
	struct sbx_err err = { 0 };
	struct sbx_mount_spec m = { 0 };
	struct sbx_request req;
	struct sbx_strv parts = { 0 };
	char *norm = NULL;
	uint64_t u64;
	uint32_t u32;

	if (sbx_mount_spec_parse(line, &m, &err) == 0)
		sbx_mount_spec_free(&m);
	if (sbx_path_normalise(line, &norm) == 0)
		free(norm);
	sbx_list_split("--sandbox-mounts", line, "SRC[:DST[:ro|rw]][,...]", &parts, &err);
	sbx_strv_clear(&parts);
	sbx_request_init(&req);
	sbx_request_add_mounts(&req, "--sandbox-mounts", line, &err);
	sbx_request_add_env_list(&req, "--sandbox-env", line, &err);
	sbx_request_free(&req);
	preset_setters(line);
	sbx_parse_size(line, &u64, &err);
	sbx_parse_count(line, &u64, &err);
	sbx_parse_cpus(line, &u32, &err);
	sbx_parse_bool(line);
}

/* The argv a request becomes, as argv[0] + sbx_request_to_args. */
static int request_args(const struct sbx_request *req, struct sbx_strv *out)
{
	if (sbx_strv_push(out, "sandbox-helper") < 0)
		return -1;
	return sbx_request_to_args(req, out);
}

static void round_trip(const struct sbx_request *req)
{
	struct sbx_strv a1 = { 0 }, a2 = { 0 };
	struct sbx_request req2;
	struct sbx_err err = { 0 };
	char *policy = NULL;
	int optind_out = 0;
	size_t i;

	sbx_request_init(&req2);
	if (request_args(req, &a1) < 0)
		goto out;
	if (sbx_request_parse_helper_args(&req2, (int)a1.n, a1.v, &optind_out, &policy, &err) < 0) {
		/* What to_args writes, the helper must read back. */
		abort();
	}
	if (request_args(&req2, &a2) < 0)
		goto out;
	if (a1.n != a2.n)
		abort();
	for (i = 0; i < a1.n; i++)
		if (strcmp(a1.v[i], a2.v[i]) != 0)
			abort();
out:
	free(policy);
	sbx_request_free(&req2);
	sbx_strv_clear(&a1);
	sbx_strv_clear(&a2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 2], *line, *nl;
	struct sbx_request req;
	struct sbx_err err = { 0 };
	char *policy = NULL;
	int argc = 0, optind_out = 0;

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "sandbox-helper";
	for (line = buf; argc < MAX_ARGS + 1; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		argv[argc++] = line;
		if (!nl)
			break;
	}
	argv[argc] = NULL;

	for (int i = 1; i < argc; i++)
		parse_one_line(argv[i]);

	sbx_request_init(&req);
	if (sbx_request_parse_helper_args(&req, argc, argv, &optind_out, &policy, &err) == 0)
		round_trip(&req);
	sbx_request_free(&req);
	free(policy);
	free(buf);
	return 0;
}
