#include "spec/request.h"
#include "spec/list.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbx_request_init(struct sbx_request *req)
{
	memset(req, 0, sizeof(*req));
	req->writable = SBX_UNSET;
	req->remap_root = SBX_UNSET;
	req->entrypoint = SBX_UNSET;
	req->mount_home = SBX_UNSET;
	req->net = SBX_NET_UNSET;
}

void sbx_mount_spec_free(struct sbx_mount_spec *m)
{
	free(m->src);
	free(m->dst);
	m->src = m->dst = NULL;
}

void sbx_request_free(struct sbx_request *req)
{
	free(req->image);
	for (size_t i = 0; i < req->n_mounts; i++)
		sbx_mount_spec_free(&req->mounts[i]);
	free(req->mounts);
	free(req->workdir);
	sbx_strv_clear(&req->env);
	free(req->hostname);
	for (size_t i = 0; i < req->n_trusted_mounts; i++)
		sbx_mount_spec_free(&req->trusted_mounts[i]);
	free(req->trusted_mounts);
	free(req->persist);
	free(req->save);
	sbx_request_init(req);
}

static int oom(struct sbx_err *err)
{
	return sbx_err_set(err, ENOMEM, NULL, "out of memory");
}

/* Set a string option once; an identical repeat is fine. */
static int set_once(char **slot, const char *v, const char *opt,
		    struct sbx_err *err)
{
	if (*slot) {
		if (strcmp(*slot, v) == 0)
			return 0;
		return sbx_err_set(err, 0, "give it once",
				   "%s %s: conflicts with %s %s", opt, v, opt, *slot);
	}
	*slot = strdup(v);
	return *slot ? 0 : oom(err);
}

static int set_flag(int *slot, int v, const char *yes, const char *no,
		    struct sbx_err *err)
{
	if (*slot != SBX_UNSET && *slot != v)
		return sbx_err_set(err, 0, "choose one", "%s: conflicts with %s",
				   v ? yes : no, v ? no : yes);
	*slot = v;
	return 0;
}

int sbx_request_set_image(struct sbx_request *req, const char *v,
			  struct sbx_err *err)
{
	if (!v || !*v)
		return sbx_err_set(err, 0, "give a path to an image directory",
				   "image '': empty image");
	return set_once(&req->image, v, "image", err);
}

int sbx_path_normalise(const char *in, char **out)
{
	size_t len = strlen(in);
	char *buf = malloc(len + 2), *w = buf;
	const char *p = in;

	if (!buf)
		return -ENOMEM;
	while (*p) {
		size_t seg;

		while (*p == '/')
			p++;
		seg = strcspn(p, "/");
		if (seg == 0)
			break;
		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			free(buf);
			return -EINVAL;
		}
		if (!(seg == 1 && p[0] == '.')) {
			*w++ = '/';
			memcpy(w, p, seg);
			w += seg;
		}
		p += seg;
	}
	if (w == buf)
		*w++ = '/';
	*w = '\0';
	*out = buf;
	return 0;
}

int sbx_mount_spec_parse(const char *s, struct sbx_mount_spec *out,
			 struct sbx_err *err)
{
	const char *hint = "use SRC[:DST[:ro|rw]] with absolute DST";
	char *copy = NULL, *src, *dst, *flags, *extra;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return sbx_err_set(err, 0, hint, "mount '': empty mount spec");
	copy = strdup(s);
	if (!copy)
		return oom(err);
	src = copy;
	dst = strchr(src, ':');
	flags = NULL;
	if (dst) {
		*dst++ = '\0';
		flags = strchr(dst, ':');
		if (flags) {
			*flags++ = '\0';
			extra = strchr(flags, ':');
			if (extra) {
				sbx_err_set(err, 0, hint, "mount '%s': too many ':' fields", s);
				goto out;
			}
		}
	}
	if (!*src) {
		sbx_err_set(err, 0, hint, "mount '%s': empty source", s);
		goto out;
	}
	if (dst && !*dst) {
		sbx_err_set(err, 0, hint, "mount '%s': empty destination", s);
		goto out;
	}
	if (!dst)
		dst = src;
	if (dst[0] != '/') {
		sbx_err_set(err, 0, hint,
			    "mount '%s': destination '%s' is not an absolute path", s, dst);
		goto out;
	}
	out->readonly = 0;
	if (flags) {
		if (strcmp(flags, "ro") == 0) {
			out->readonly = 1;
		} else if (strcmp(flags, "rw") != 0) {
			sbx_err_set(err, 0, "the flags are ro or rw",
				    "mount '%s': unknown flag '%s'", s, flags);
			goto out;
		}
	}
	if (sbx_path_normalise(dst, &out->dst) == -EINVAL) {
		sbx_err_set(err, 0, "use a plain absolute path",
			    "mount '%s': destination contains '..'", s);
		goto out;
	}
	out->src = strdup(src);
	if (!out->src || !out->dst) {
		sbx_mount_spec_free(out);
		oom(err);
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static int add_mount_to(struct sbx_mount_spec **list, size_t *n, const char *spec,
			struct sbx_err *err)
{
	struct sbx_mount_spec m, *grown;

	if (sbx_mount_spec_parse(spec, &m, err) < 0)
		return -1;
	/* Slurm may hand the same option twice: ignore exact duplicates. */
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*list)[i].dst, m.dst) == 0) {
			int same = strcmp((*list)[i].src, m.src) == 0 &&
				   (*list)[i].readonly == m.readonly;

			sbx_mount_spec_free(&m);
			if (same)
				return 0;
			return sbx_err_set(err, 0, "give each destination once",
					   "mount '%s': destination already mounted", spec);
		}
	}
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown) {
		sbx_mount_spec_free(&m);
		return oom(err);
	}
	*list = grown;
	grown[(*n)++] = m;
	return 0;
}

int sbx_request_add_mount(struct sbx_request *req, const char *spec,
			  struct sbx_err *err)
{
	return add_mount_to(&req->mounts, &req->n_mounts, spec, err);
}

/* A repeat must agree with the first value (Slurm may hand an option twice). */
static int set_u64_once(uint64_t *slot, uint64_t v, const char *opt, const char *s,
			struct sbx_err *err)
{
	if (*slot && *slot != v)
		return sbx_err_set(err, 0, "give it once", "%s %s: conflicts with an earlier %s",
				   opt, s, opt);
	*slot = v;
	return 0;
}

int sbx_request_set_memory(struct sbx_request *req, const char *v, struct sbx_err *err)
{
	uint64_t size;

	if (sbx_parse_size(v, &size, err) < 0 || size == 0)
		return sbx_err_set(err, 0, "use a size such as 512M or 4G",
				   "memory '%s': bad size", v ? v : "");
	return set_u64_once(&req->memory, size, "memory", v, err);
}

int sbx_request_set_cpus(struct sbx_request *req, const char *v, struct sbx_err *err)
{
	uint32_t milli;
	uint64_t wide;

	if (sbx_parse_cpus(v, &milli, err) < 0)
		return -1;
	wide = req->cpus;
	if (set_u64_once(&wide, milli, "cpus", v, err) < 0)
		return -1;
	req->cpus = milli;
	return 0;
}

int sbx_request_set_pids(struct sbx_request *req, const char *v, struct sbx_err *err)
{
	uint64_t n;

	if (sbx_parse_count(v, &n, err) < 0)
		return sbx_err_set(err, 0, "use a whole number above 0", "pids '%s': bad count",
				   v ? v : "");
	return set_u64_once(&req->pids, n, "pids", v, err);
}

int sbx_request_add_trusted_mount(struct sbx_request *req, const char *spec,
				  struct sbx_err *err)
{
	return add_mount_to(&req->trusted_mounts, &req->n_trusted_mounts, spec, err);
}

int sbx_request_set_persist(struct sbx_request *req, const char *dir,
			    struct sbx_err *err)
{
	if (!dir || dir[0] != '/')
		return sbx_err_set(err, 0, "give an absolute directory",
				   "persist '%s': not an absolute path", dir ? dir : "");
	return set_once(&req->persist, dir, "persist", err);
}

int sbx_request_set_save(struct sbx_request *req, const char *file, struct sbx_err *err)
{
	if (!file || file[0] != '/')
		return sbx_err_set(err, 0, "give an absolute file name",
				   "save '%s': not an absolute path", file ? file : "");
	return set_once(&req->save, file, "save", err);
}

int sbx_request_add_mounts(struct sbx_request *req, const char *opt, const char *list,
			   struct sbx_err *err)
{
	struct sbx_strv items = { 0 };
	int rc = sbx_list_split(opt, list, "SRC[:DST[:ro|rw]][,...]", &items, err);

	for (size_t i = 0; rc == 0 && i < items.n; i++)
		rc = sbx_request_add_mount(req, items.v[i], err);
	sbx_strv_clear(&items);
	return rc;
}

int sbx_request_set_workdir(struct sbx_request *req, const char *v,
			    struct sbx_err *err)
{
	if (!v || !*v)
		return sbx_err_set(err, 0, "give an absolute directory inside the sandbox",
				   "workdir '': empty workdir");
	if (v[0] != '/')
		return sbx_err_set(err, 0, "give an absolute directory inside the sandbox",
				   "workdir '%s': not an absolute path", v);
	return set_once(&req->workdir, v, "workdir", err);
}

static int valid_env_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

int sbx_request_add_env(struct sbx_request *req, const char *v,
			struct sbx_err *err)
{
	size_t len;

	if (!v)
		v = "";
	len = strcspn(v, "=");
	if (!valid_env_name(v, len))
		return sbx_err_set(err, 0, "use NAME or NAME=VALUE with a valid variable name",
				   "env '%s': bad variable name", v);
	if (sbx_strv_contains(&req->env, v))
		return 0;
	return sbx_strv_push(&req->env, v) < 0 ? oom(err) : 0;
}

int sbx_request_add_env_list(struct sbx_request *req, const char *opt, const char *list,
			     struct sbx_err *err)
{
	struct sbx_strv items = { 0 };
	int rc = sbx_list_split(opt, list, "NAME[=VALUE][,...]", &items, err);

	/* NAME: the job's value; NAME=VALUE: this one (no comma in it). */
	for (size_t i = 0; rc == 0 && i < items.n; i++)
		rc = sbx_request_add_env(req, items.v[i], err);
	sbx_strv_clear(&items);
	return rc;
}

int sbx_request_set_writable(struct sbx_request *req, int writable,
			     struct sbx_err *err)
{
	return set_flag(&req->writable, writable, "--writable", "--readonly", err);
}

int sbx_request_set_remap_root(struct sbx_request *req, int v,
			       struct sbx_err *err)
{
	return set_flag(&req->remap_root, v, "--remap-root", "--no-remap-root", err);
}

int sbx_request_set_mount_home(struct sbx_request *req, int v,
			       struct sbx_err *err)
{
	return set_flag(&req->mount_home, v, "--mount-home", "--no-mount-home", err);
}

int sbx_request_set_entrypoint(struct sbx_request *req, int v,
			       struct sbx_err *err)
{
	return set_flag(&req->entrypoint, v, "--entrypoint", "--no-entrypoint", err);
}

int sbx_request_set_net(struct sbx_request *req, const char *v,
			struct sbx_err *err)
{
	enum sbx_net net;

	if (v && strcmp(v, "none") == 0)
		net = SBX_NET_NONE;
	else if (v && strcmp(v, "host") == 0)
		net = SBX_NET_HOST;
	else
		return sbx_err_set(err, 0, "use host or none",
				   "net '%s': unknown network mode", v ? v : "");
	if (req->net != SBX_NET_UNSET && req->net != net)
		return sbx_err_set(err, 0, "give it once",
				   "net '%s': conflicts with an earlier --net", v);
	req->net = net;
	return 0;
}

int sbx_request_set_hostname(struct sbx_request *req, const char *v,
			     struct sbx_err *err)
{
	const char *hint = "use 1-64 letters, digits, '-' and '.'";
	size_t len = v ? strlen(v) : 0;

	if (len == 0 || len > 64 || v[0] == '-' || v[0] == '.')
		return sbx_err_set(err, 0, hint, "hostname '%s': invalid hostname",
				   v ? v : "");
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '.'))
			return sbx_err_set(err, 0, hint,
					   "hostname '%s': invalid hostname", v);
	return set_once(&req->hostname, v, "hostname", err);
}

enum {
	OPT_CONFIG = 256, OPT_IMAGE, OPT_MOUNT, OPT_WORKDIR, OPT_ENV,
	OPT_WRITABLE, OPT_READONLY, OPT_NET, OPT_REMAP, OPT_NO_REMAP,
	OPT_HOME, OPT_NO_HOME, OPT_HOSTNAME, OPT_TRUSTED, OPT_PERSIST,
	OPT_MEMORY, OPT_CPUS, OPT_PIDS, OPT_CGROUP_VIEW, OPT_ENTRYPOINT, OPT_NO_ENTRYPOINT,
	OPT_PREMOUNTED, OPT_SLURM_STEP, OPT_SAVE, OPT_PER_TASK,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "mount", required_argument, NULL, OPT_MOUNT },
	{ "workdir", required_argument, NULL, OPT_WORKDIR },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "writable", no_argument, NULL, OPT_WRITABLE },
	{ "readonly", no_argument, NULL, OPT_READONLY },
	{ "net", required_argument, NULL, OPT_NET },
	{ "remap-root", no_argument, NULL, OPT_REMAP },
	{ "no-remap-root", no_argument, NULL, OPT_NO_REMAP },
	{ "mount-home", no_argument, NULL, OPT_HOME },
	{ "no-mount-home", no_argument, NULL, OPT_NO_HOME },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "pids", required_argument, NULL, OPT_PIDS },
	{ "trusted-mount", required_argument, NULL, OPT_TRUSTED },
	{ "cgroup-view", no_argument, NULL, OPT_CGROUP_VIEW },
	{ "persist", required_argument, NULL, OPT_PERSIST },
	{ "entrypoint", no_argument, NULL, OPT_ENTRYPOINT },
	{ "no-entrypoint", no_argument, NULL, OPT_NO_ENTRYPOINT },
	{ "premounted", no_argument, NULL, OPT_PREMOUNTED },
	{ "slurm-step", no_argument, NULL, OPT_SLURM_STEP },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ "per-task", no_argument, NULL, OPT_PER_TASK },
	{ NULL, 0, NULL, 0 },
};

static int parse_args(struct sbx_request *req, int argc, char **argv, int *optind_out,
		      char **policy_out, int front_end, struct sbx_err *err)
{
	int c, rc = 0;

	/* 0, not 1: glibc then also resets its internal scan state. */
	optind = 0;
	opterr = 0;
	/* "+": stop at the first non-option, the command; ":": report a
	 * missing value as such. */
	while (rc == 0 && (c = getopt_long(argc, argv, "+:", long_opts, NULL)) != -1) {
		if ((c == OPT_TRUSTED || c == OPT_PERSIST || c == OPT_CGROUP_VIEW || c == OPT_PREMOUNTED ||
		     c == OPT_SLURM_STEP || c == OPT_SAVE) && !front_end) {
			rc = sbx_err_set(err, 0, "see sandbox-run --help", "option %s: unknown option",
					 c == OPT_TRUSTED ? "--trusted-mount" :
					 c == OPT_PERSIST ? "--persist" :
					 c == OPT_PREMOUNTED ? "--premounted" :
					 c == OPT_SLURM_STEP ? "--slurm-step" :
					 c == OPT_SAVE ? "--save" : "--cgroup-view");
			break;
		}
		switch (c) {
		case OPT_CONFIG:
			if (policy_out) {
				free(*policy_out);
				*policy_out = strdup(optarg);
				if (!*policy_out)
					rc = oom(err);
			}
			break;
		case OPT_IMAGE: rc = sbx_request_set_image(req, optarg, err); break;
		case OPT_MOUNT: rc = sbx_request_add_mount(req, optarg, err); break;
		case OPT_WORKDIR: rc = sbx_request_set_workdir(req, optarg, err); break;
		case OPT_ENV: rc = sbx_request_add_env(req, optarg, err); break;
		case OPT_WRITABLE: rc = sbx_request_set_writable(req, 1, err); break;
		case OPT_READONLY: rc = sbx_request_set_writable(req, 0, err); break;
		case OPT_NET: rc = sbx_request_set_net(req, optarg, err); break;
		case OPT_REMAP: rc = sbx_request_set_remap_root(req, 1, err); break;
		case OPT_NO_REMAP: rc = sbx_request_set_remap_root(req, 0, err); break;
		case OPT_HOME: rc = sbx_request_set_mount_home(req, 1, err); break;
		case OPT_NO_HOME: rc = sbx_request_set_mount_home(req, 0, err); break;
		case OPT_HOSTNAME: rc = sbx_request_set_hostname(req, optarg, err); break;
		case OPT_MEMORY: rc = sbx_request_set_memory(req, optarg, err); break;
		case OPT_CPUS: rc = sbx_request_set_cpus(req, optarg, err); break;
		case OPT_PIDS: rc = sbx_request_set_pids(req, optarg, err); break;
		case OPT_TRUSTED: rc = sbx_request_add_trusted_mount(req, optarg, err); break;
		case OPT_CGROUP_VIEW: req->cgroup_view = 1; break;
		case OPT_PREMOUNTED: req->premounted = 1; break;
		case OPT_SLURM_STEP: req->front_end = SBX_FRONT_SLURM; break;
		case OPT_ENTRYPOINT: rc = sbx_request_set_entrypoint(req, 1, err); break;
		case OPT_NO_ENTRYPOINT: rc = sbx_request_set_entrypoint(req, 0, err); break;
		case OPT_PERSIST: rc = sbx_request_set_persist(req, optarg, err); break;
		case OPT_SAVE: rc = sbx_request_set_save(req, optarg, err); break;
		case OPT_PER_TASK: req->per_task = 1; break;
		case ':':
			rc = sbx_err_set(err, 0, "see sandbox-run --help",
					 "option %s: needs a value", argv[optind - 1]);
			break;
		default:
			rc = sbx_err_set(err, 0, "see sandbox-run --help", "option %s: unknown option",
					 argv[optind - 1]);
			break;
		}
	}
	if (optind_out)
		*optind_out = optind;
	return rc;
}

int sbx_request_parse_args(struct sbx_request *req, int argc, char **argv,
			   int *optind_out, char **policy_out, struct sbx_err *err)
{
	return parse_args(req, argc, argv, optind_out, policy_out, 0, err);
}

int sbx_request_parse_helper_args(struct sbx_request *req, int argc, char **argv,
				  int *optind_out, char **policy_out, struct sbx_err *err)
{
	return parse_args(req, argc, argv, optind_out, policy_out, 1, err);
}

static int push2(struct sbx_strv *out, const char *opt, const char *val)
{
	if (sbx_strv_push(out, opt) < 0 || sbx_strv_push(out, val) < 0)
		return -1;
	return 0;
}

static int push_mounts(struct sbx_strv *out, const char *opt,
		       const struct sbx_mount_spec *list, size_t n)
{
	char buf[8192];

	for (size_t i = 0; i < n; i++) {
		if ((size_t)snprintf(buf, sizeof(buf), "%s:%s:%s", list[i].src, list[i].dst,
				     list[i].readonly ? "ro" : "rw") >= sizeof(buf)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (push2(out, opt, buf) < 0)
			return -1;
	}
	return 0;
}

int sbx_request_to_args(const struct sbx_request *req, struct sbx_strv *out)
{
	if (req->image && push2(out, "--image", req->image) < 0)
		return -1;
	if (push_mounts(out, "--mount", req->mounts, req->n_mounts) < 0 ||
	    push_mounts(out, "--trusted-mount", req->trusted_mounts, req->n_trusted_mounts) < 0)
		return -1;
	if (req->persist && push2(out, "--persist", req->persist) < 0)
		return -1;
	if (req->save && push2(out, "--save", req->save) < 0)
		return -1;
	if (req->per_task && sbx_strv_push(out, "--per-task") < 0)
		return -1;
	if (req->cgroup_view && sbx_strv_push(out, "--cgroup-view") < 0)
		return -1;
	if (req->premounted && sbx_strv_push(out, "--premounted") < 0)
		return -1;
	if (req->front_end == SBX_FRONT_SLURM && sbx_strv_push(out, "--slurm-step") < 0)
		return -1;
	if (req->entrypoint != SBX_UNSET &&
	    sbx_strv_push(out, req->entrypoint ? "--entrypoint" : "--no-entrypoint") < 0)
		return -1;
	if (req->workdir && push2(out, "--workdir", req->workdir) < 0)
		return -1;
	for (size_t i = 0; i < req->env.n; i++)
		if (push2(out, "--env", req->env.v[i]) < 0)
			return -1;
	if (req->writable != SBX_UNSET &&
	    sbx_strv_push(out, req->writable ? "--writable" : "--readonly") < 0)
		return -1;
	if (req->remap_root != SBX_UNSET &&
	    sbx_strv_push(out, req->remap_root ? "--remap-root" : "--no-remap-root") < 0)
		return -1;
	if (req->mount_home != SBX_UNSET &&
	    sbx_strv_push(out, req->mount_home ? "--mount-home" : "--no-mount-home") < 0)
		return -1;
	if (req->net != SBX_NET_UNSET &&
	    push2(out, "--net", req->net == SBX_NET_HOST ? "host" : "none") < 0)
		return -1;
	if (req->hostname && push2(out, "--hostname", req->hostname) < 0)
		return -1;
	if (req->memory) {
		char num[32];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)req->memory);
		if (push2(out, "--memory", num) < 0)
			return -1;
	}
	if (req->cpus) {
		char num[32];

		snprintf(num, sizeof(num), "%u.%03u", req->cpus / 1000, req->cpus % 1000);
		if (push2(out, "--cpus", num) < 0)
			return -1;
	}
	if (req->pids) {
		char num[32];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)req->pids);
		if (push2(out, "--pids", num) < 0)
			return -1;
	}
	return 0;
}
