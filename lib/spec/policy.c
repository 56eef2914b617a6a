/* The site policy: built-in defaults, overridden by an INI file the admin
 * owns. Parsing is strict (unknown sections, keys and values are errors that
 * name FILE:LINE) because a typo in a security policy must never fall back
 * silently to a laxer default. */
#include "spec/policy.h"
#include "spec/site.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/types.h>
#include "spec/syscalls.h"

#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define ALNUM ALPHA "0123456789"
#define SIZE_HINT "use a number with an optional K, M, G or T suffix"
#define GIB (UINT64_C(1) << 30)

static const char default_passthrough[] =
	"TERM LANG LANGUAGE LC_* TZ SLURM_* SLURMD_* PMI_* PMIX_* OMPI_* I_MPI_* "
	"CUDA_VISIBLE_DEVICES NVIDIA_VISIBLE_DEVICES OMP_NUM_THREADS TMPDIR";

enum key_type {
	KEY_BOOL, KEY_SIZE, KEY_NET, KEY_NET_BOTH, KEY_SYS, KEY_SHARE, KEY_HOSTNAME,
	KEY_DIRS, KEY_ENV_NAMES, KEY_CAPS, KEY_SYSCALLS,
	KEY_OPT_SIZE, KEY_SWAP, KEY_CPUS, KEY_COUNT, KEY_UNAVAILABLE, KEY_CGROUP_PATH,
	KEY_HOSTS, KEY_PATH, KEY_ENV_MODE,
	KEY_DEVICES, KEY_DEVICES_IF, KEY_HOST_BINDS, KEY_HOST_BINDS_IF,
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;          /* of the field in struct sbx_policy */
};

#define KEY(sec, name, type, field) \
	{ sec, name, type, offsetof(struct sbx_policy, field) }

static const struct key keys[] = {
	KEY("images", "allowed", KEY_DIRS, image_paths),
	KEY("images", "registries", KEY_HOSTS, registries),
	KEY("images", "insecure_registries", KEY_HOSTS, insecure_registries),
	KEY("images", "cache_dir", KEY_PATH, cache_dir),
	KEY("images", "cache_max_size", KEY_SIZE, cache_max_size),
	KEY("images", "cache_wait", KEY_COUNT, cache_wait),
	KEY("images", "tag_ttl", KEY_COUNT, tag_ttl),
	KEY("images", "max_unpacked_size", KEY_SIZE, max_unpacked_size),
	KEY("images", "unpack_dir", KEY_PATH, unpack_dir),
	KEY("images", "unpack_max_size", KEY_SIZE, unpack_max_size),
	KEY("images", "unpack_max_age", KEY_COUNT, unpack_max_age),
	KEY("images", "entrypoint", KEY_BOOL, entrypoint),
	KEY("images", "kernel_squashfs", KEY_DIRS, kernel_squashfs),
	KEY("mounts", "allowed_sources", KEY_DIRS, mount_sources),
	KEY("mounts", "mount_home", KEY_BOOL, mount_home),
	KEY("mounts", "allow_mount_home", KEY_BOOL, allow_mount_home),
	KEY("rootfs", "writable", KEY_BOOL, writable),
	KEY("rootfs", "allow_writable", KEY_BOOL, allow_writable),
	KEY("rootfs", "writable_size", KEY_SIZE, writable_size),
	KEY("rootfs", "tmp_size", KEY_SIZE, tmp_size),
	KEY("rootfs", "sys", KEY_SYS, sys),
	KEY("rootfs", "tmp", KEY_SHARE, tmp),
	KEY("rootfs", "shm", KEY_SHARE, shm),
	KEY("namespaces", "net", KEY_NET_BOTH, slurm_net),
	KEY("namespaces", "slurm_net", KEY_NET, slurm_net),
	KEY("namespaces", "sandbox_run_net", KEY_NET, sandbox_run_net),
	KEY("namespaces", "allow_net_host", KEY_BOOL, allow_net_host),
	KEY("namespaces", "hostname", KEY_HOSTNAME, hostname),
	KEY("namespaces", "allow_hostname", KEY_BOOL, allow_hostname),
	KEY("namespaces", "remap_root", KEY_BOOL, remap_root),
	KEY("namespaces", "allow_remap_root", KEY_BOOL, allow_remap_root),
	KEY("environment", "mode", KEY_ENV_MODE, env_clean),
	KEY("environment", "passthrough", KEY_ENV_NAMES, env_passthrough),
	KEY("environment", "deny", KEY_ENV_NAMES, env_deny),
	KEY("environment", "allow_user_env", KEY_BOOL, allow_user_env),
	KEY("security", "capabilities", KEY_CAPS, capabilities),
	KEY("security", "seccomp", KEY_BOOL, seccomp),
	KEY("security", "seccomp_allow", KEY_SYSCALLS, seccomp_allow),
	KEY("security", "seccomp_deny", KEY_SYSCALLS, seccomp_deny),
	KEY("cgroups", "memory", KEY_OPT_SIZE, cg_memory),
	KEY("cgroups", "max_memory", KEY_OPT_SIZE, cg_max_memory),
	KEY("cgroups", "swap", KEY_SWAP, cg_swap),
	KEY("cgroups", "memory_high", KEY_OPT_SIZE, cg_memory_high),
	KEY("cgroups", "cpus", KEY_CPUS, cg_cpus),
	KEY("cgroups", "max_cpus", KEY_CPUS, cg_max_cpus),
	KEY("cgroups", "pids", KEY_COUNT, cg_pids),
	KEY("cgroups", "max_pids", KEY_COUNT, cg_max_pids),
	KEY("cgroups", "when_unavailable", KEY_UNAVAILABLE, cg_required),
	KEY("cgroups", "parent", KEY_CGROUP_PATH, cg_parent),
	KEY("slurm", "client", KEY_BOOL, slurm_client),
	KEY("slurm", "client_paths", KEY_DIRS, slurm_client_paths),
	KEY("devices", "expose", KEY_DEVICES, dev_expose),
	KEY("devices", "expose_if_set", KEY_DEVICES_IF, dev_expose_if_set),
	KEY("binds", "host", KEY_HOST_BINDS, host_binds),
	KEY("binds", "host_if_set", KEY_HOST_BINDS_IF, host_binds_if_set),
	KEY("hooks", "dir", KEY_PATH, hooks_dir),
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= SBX_POLICY_MAX_KEYS, "raise SBX_POLICY_MAX_KEYS");

struct word {
	const char *word;
	int value;
};

static const struct word bool_words[] = {
	{ "yes", 1 }, { "true", 1 }, { "on", 1 }, { "1", 1 },
	{ "no", 0 }, { "false", 0 }, { "off", 0 }, { "0", 0 }, { NULL, 0 },
};
static const struct word net_words[] = {
	{ "none", SBX_NET_NONE }, { "host", SBX_NET_HOST }, { NULL, 0 },
};
static const struct word sys_words[] = {
	{ "ro", SBX_SYS_RO }, { "none", SBX_SYS_NONE }, { NULL, 0 },
};
static const struct word unavailable_words[] = {
	{ "error", 1 }, { "warn", 0 }, { NULL, 0 },
};
static const struct word share_words[] = {
	{ "private", SBX_SHARE_PRIVATE }, { "host", SBX_SHARE_HOST }, { NULL, 0 },
};
static const struct word env_mode_words[] = {
	{ "inherit", 0 }, { "clean", 1 }, { NULL, 0 },
};

/* The value of s in words (case-insensitive), or -1. */
static int lookup_word(const struct word *words, const char *s)
{
	for (; words->word; words++)
		if (strcasecmp(words->word, s) == 0)
			return words->value;
	return -1;
}

/* State shared by the line reader and the key handler during one load. */
struct load_ctx {
	struct sbx_policy *pol;        /* the temporary policy being filled */
	const char *path;
	FILE *file;
	char *buf;                     /* getline() buffer */
	size_t buf_size;
	int lineno;                    /* line inih is processing */
	int fail_line;                 /* line of the first error; 0: none yet */
	struct sbx_err first;          /* that error, "FILE:LINE: ..." */
	unsigned char list_given[N_KEYS]; /* list key already met in this file */
	/* Check mode (sbx_policy_check_file): every problem is appended here
	 * and the parse goes on; fail_line then marks only what ends it. */
	struct sbx_strv *problems;
	int prev_key;                  /* a key line came since the last heading */
};

static int fail_nomem(struct load_ctx *ctx);

/* Record the first error at the current line (in check mode: one more
 * problem); returns 0, inih's "failed". */
__attribute__((format(printf, 3, 4)))
static int fail(struct load_ctx *ctx, const char *hint, const char *fmt, ...)
{
	char what[SBX_ERR_MAX];
	va_list ap;

	if (ctx->fail_line)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ctx->problems) {
		struct sbx_err one;

		sbx_err_set(&one, 0, hint, "%s:%d: %s", ctx->path, ctx->lineno, what);
		if (sbx_strv_push(ctx->problems, one.msg) < 0)
			fail_nomem(ctx);
		return 0;
	}
	ctx->fail_line = ctx->lineno;
	sbx_err_set(&ctx->first, 0, hint, "%s:%d: %s", ctx->path, ctx->lineno,
		    what);
	return 0;
}

static int fail_nomem(struct load_ctx *ctx)
{
	if (!ctx->fail_line) {
		ctx->fail_line = ctx->lineno;
		sbx_err_set(&ctx->first, ENOMEM, NULL, "%s:%d", ctx->path,
			    ctx->lineno);
	}
	return 0;
}

static int known_section(const char *name, size_t len);

/* inih's inline comments: ';' after whitespace ends the text. The first of
 * chars in s before such a comment, or NULL. */
static const char *find_before_comment(const char *s, const char *chars)
{
	for (const char *p = s; *p; p++) {
		if (*p == ';' && p > s && (p[-1] == ' ' || p[-1] == '\t'))
			return NULL;
		if (strchr(chars, *p))
			return p;
	}
	return NULL;
}

/* Check mode only: inih's own syntax rules (ini.c, ini_parse_stream), so a
 * bad line is reported where it stands and the parse goes on. inih reports
 * only its first; the loader stays the judge (sbx_policy_check_file). */
static int syntax_ok(struct load_ctx *ctx, const char *line)
{
	const char *p = line + strspn(line, " \t");

	if (!*p || *p == '\r' || *p == '\n' || *p == ';' || *p == '#')
		return 1;
	if (ctx->prev_key && p > line)
		return 1;               /* an indented continuation of a list */
	if (*p == '[') {
		ctx->prev_key = 0;
		return find_before_comment(p, "]") != NULL;
	}
	if (!find_before_comment(p, "=:"))
		return 0;
	ctx->prev_key = 1;
	return 1;
}

/* inih reports keys, never headings: check a heading where it stands, so
 * the error names its line (and an empty misspelled section is caught). */
static void check_heading(struct load_ctx *ctx, const char *line)
{
	const char *p = line + strspn(line, " \t"), *end;

	if (*p != '[')
		return;
	end = strchr(p, ']');
	if (!end)
		return;         /* inih reports the syntax error */
	p++;
	if (!known_section(p, (size_t)(end - p)))
		fail(ctx, "use images, mounts, rootfs, namespaces, environment, security, cgroups, devices, binds or hooks",
		     "unknown section [%.*s]", (int)(end - p), p);
}

/* An fgets()-like reader for ini_parse_stream(). It counts lines, since
 * Debian's inih is built without INI_HANDLER_LINENO; it refuses lines that
 * do not fit inih's buffer (inih would split them into two "lines"); and it
 * ends the parse at the first error. */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	ssize_t len;

	if (ctx->fail_line)
		return NULL;
	len = getline(&ctx->buf, &ctx->buf_size, ctx->file);
	if (len < 0) {
		if (ferror(ctx->file)) {        /* e.g. EISDIR */
			ctx->fail_line = ctx->lineno + 1;
			sbx_err_set(&ctx->first, errno, NULL, "config %s",
				    ctx->path);
		}
		return NULL;
	}
	ctx->lineno++;
	/* inih's buffer holds num - 1 characters: the text, "\r\n". */
	if ((ssize_t)strcspn(ctx->buf, "\r\n") > num - 3 || len > num - 1) {
		fail(ctx, "continue a long list on indented lines",
		     "line longer than %d characters", num - 3);
		goto skip;
	}
	if (ctx->problems && !syntax_ok(ctx, ctx->buf)) {
		fail(ctx, "use [section] headings and key = value lines", "syntax error");
		goto skip;
	}
	check_heading(ctx, ctx->buf);
	if (ctx->fail_line)
		return NULL;
	memcpy(str, ctx->buf, (size_t)len + 1);
	return str;
skip:
	/* Check mode goes on past the line, as a blank one. */
	if (ctx->fail_line)
		return NULL;
	strcpy(str, "\n");
	return str;
}

static int valid_hostname(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= 64 && s[0] != '-' &&
	       strspn(s, ALNUM ".-") == len;
}

/* Policy paths are compared as strings with canonical paths, so store them
 * in that form: no "//", no "." and no trailing "/" ("/" itself stays).
 * ".." cannot be resolved without the filesystem: EINVAL. */
static int normalise_path(const char *in, char **out)
{
	char *res = malloc(strlen(in) + 2);
	char *w = res;
	const char *p = in;
	int rc = -1;

	if (!res)
		goto out;
	for (;;) {
		size_t len;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			errno = EINVAL;
			goto out;
		}
		if (len != 1 || p[0] != '.') {
			*w++ = '/';
			memcpy(w, p, len);
			w += len;
		}
		p += len;
	}
	if (w == res)
		*w++ = '/';
	*w = '\0';
	*out = res;
	res = NULL;
	rc = 0;
out:
	free(res);
	return rc;
}

static char *dir_item(struct load_ctx *ctx, const struct key *key,
		      const char *item)
{
	char *path = NULL;

	if (item[0] != '/') {
		fail(ctx, "use an absolute directory", "relative path '%s' in %s.%s",
		     item, key->section, key->name);
	} else if (normalise_path(item, &path) < 0) {
		if (errno == EINVAL)
			fail(ctx, "write the path without '..'",
			     "path '%s' in %s.%s has a '..' component",
			     item, key->section, key->name);
		else
			fail_nomem(ctx);
	}
	return path;
}

/* A variable name or a glob over names (SLURM_*): anything else, such as
 * "NAME=VALUE", is a mistake in a list of names. */
static char *env_item(struct load_ctx *ctx, const struct key *key,
		      const char *item)
{
	char *copy = NULL;

	if (isdigit((unsigned char)item[0]) ||
	    strspn(item, ALNUM "_*?") != strlen(item))
		fail(ctx, "use variable names or globs such as SLURM_*",
		     "bad name '%s' in %s.%s", item, key->section, key->name);
	else if (!(copy = strdup(item)))
		fail_nomem(ctx);
	return copy;
}

/* Accepts "CAP_SYS_PTRACE" or "sys_ptrace" in any case; stores CAP_SYS_PTRACE. */
static char *cap_item(struct load_ctx *ctx, const struct key *key,
		      const char *item)
{
	const char *bare = item;
	char *name = NULL;
	cap_value_t cap;

	if (strncasecmp(bare, "cap_", 4) == 0)
		bare += 4;
	/* cap_from_name() also takes numbers and ignores trailing junk, so
	 * insist on a plain name (capability names are letters and '_'). */
	if (!*bare || strspn(bare, ALPHA "_") != strlen(bare))
		goto unknown;
	if (asprintf(&name, "CAP_%s", bare) < 0) {
		name = NULL;
		fail_nomem(ctx);
		goto out;
	}
	for (char *c = name; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if (cap_from_name(name, &cap) == 0)
		goto out;
	free(name);
	name = NULL;
unknown:
	fail(ctx, "use names from capabilities(7), such as CAP_SYS_PTRACE",
	     "unknown capability '%s' in %s.%s", item, key->section, key->name);
out:
	return name;
}

static char *syscall_item(struct load_ctx *ctx, const struct key *key,
			  const char *item)
{
	char *copy = NULL;

	if (!sbx_syscall_known(item))
		fail(ctx, "use names from syscalls(2), such as ptrace",
		     "unknown system call '%s' in %s.%s", item, key->section,
		     key->name);
	else if (!(copy = strdup(item)))
		fail_nomem(ctx);
	return copy;
}

/* A registry host[:port], or a glob over them ("*", "*.example.org"). */
static char *host_item(struct load_ctx *ctx, const struct key *key,
		       const char *item)
{
	char *copy = NULL;

	if (strspn(item, ALNUM ".-:*?[]") != strlen(item))
		fail(ctx, "use host names or host:port, globs allowed (registry.example.org, *.example.org)",
		     "bad registry '%s' in %s.%s", item, key->section, key->name);
	else if (!(copy = strdup(item)))
		fail_nomem(ctx);
	return copy;
}

/* A device glob or host bind of the site (spec/site.h). */
static char *site_item(struct load_ctx *ctx, const struct key *key,
		       const char *item)
{
	static const enum sbx_site_kind kinds[] = {
		[KEY_DEVICES] = SBX_SITE_DEVICE, [KEY_DEVICES_IF] = SBX_SITE_DEVICE_IF,
		[KEY_HOST_BINDS] = SBX_SITE_BIND, [KEY_HOST_BINDS_IF] = SBX_SITE_BIND_IF,
	};
	const char *hint, *why = sbx_site_item_check(kinds[key->type], item, &hint);
	char *copy = NULL;

	if (why)
		fail(ctx, hint, "%s '%s' in %s.%s", why, item, key->section, key->name);
	else if (!(copy = strdup(item)))
		fail_nomem(ctx);
	return copy;
}

/* The stored form of one list item (malloc'd), or NULL once the error is
 * recorded. */
static char *list_item(struct load_ctx *ctx, const struct key *key,
		       const char *item)
{
	switch (key->type) {
	case KEY_DIRS:
		return dir_item(ctx, key, item);
	case KEY_ENV_NAMES:
		return env_item(ctx, key, item);
	case KEY_CAPS:
		return cap_item(ctx, key, item);
	case KEY_HOSTS:
		return host_item(ctx, key, item);
	case KEY_DEVICES:
	case KEY_DEVICES_IF:
	case KEY_HOST_BINDS:
	case KEY_HOST_BINDS_IF:
		return site_item(ctx, key, item);
	default:
		return syscall_item(ctx, key, item);
	}
}

static int set_list(struct load_ctx *ctx, size_t k, const char *value)
{
	const struct key *key = &keys[k];
	struct sbx_strv *list = (void *)((char *)ctx->pol + key->offset);
	struct sbx_strv items = { 0 };
	int ok = 0;

	if (sbx_strv_push_list(&items, value) < 0) {
		fail_nomem(ctx);
		goto out;
	}
	/* The first mention replaces the built-in list; later ones (inih calls
	 * us again for each indented continuation line) add to it. */
	if (!ctx->list_given[k]) {
		sbx_strv_clear(list);
		ctx->list_given[k] = 1;
	}
	for (size_t i = 0; i < items.n; i++) {
		char *item = list_item(ctx, key, items.v[i]);
		int rc = 0;

		if (!item)
			goto out;
		if (!sbx_strv_contains(list, item))
			rc = sbx_strv_push(list, item);
		free(item);
		if (rc < 0) {
			fail_nomem(ctx);
			goto out;
		}
	}
	ok = 1;
out:
	sbx_strv_clear(&items);
	return ok;
}

static int set_choice(struct load_ctx *ctx, const struct key *key,
		      const char *value, void *field)
{
	const struct word *words = key->type == KEY_NET || key->type == KEY_NET_BOTH ? net_words :
				   key->type == KEY_SYS ? sys_words :
				   key->type == KEY_ENV_MODE ? env_mode_words : share_words;
	char hint[64];
	int v = lookup_word(words, value);

	if (v < 0) {
		snprintf(hint, sizeof(hint), "use %s or %s", words[0].word,
			 words[1].word);
		return fail(ctx, hint, "bad value '%s' for %s.%s", value,
			    key->section, key->name);
	}
	if (key->type == KEY_NET_BOTH)
		/* The one key of both front ends: the file's order decides, as
		 * for any key given twice. */
		ctx->pol->slurm_net = ctx->pol->sandbox_run_net = (enum sbx_net)v;
	else if (key->type == KEY_NET)
		*(enum sbx_net *)field = (enum sbx_net)v;
	else if (key->type == KEY_SYS)
		*(enum sbx_sys *)field = (enum sbx_sys)v;
	else if (key->type == KEY_ENV_MODE)
		*(int *)field = v;
	else
		*(enum sbx_share *)field = (enum sbx_share)v;
	return 1;
}

static int set_key(struct load_ctx *ctx, size_t k, const char *value)
{
	const struct key *key = &keys[k];
	void *field = (char *)ctx->pol + key->offset;
	struct sbx_err ignored;
	uint64_t size;
	char *copy = NULL;
	int b;

	switch (key->type) {
	case KEY_BOOL:
		b = sbx_parse_bool(value);
		if (b < 0)
			return fail(ctx, "use yes or no", "bad value '%s' for %s.%s",
				    value, key->section, key->name);
		*(int *)field = b;
		return 1;
	case KEY_SIZE:
		if (sbx_parse_size(value, &size, &ignored) < 0)
			return fail(ctx, SIZE_HINT, "bad size '%s' for %s.%s",
				    value, key->section, key->name);
		/* tmpfs reads size=0 as "no limit" (tmpfs(5)), the opposite
		 * of what an admin writing 0 would expect. */
		if (size == 0)
			return fail(ctx, "use a size greater than 0",
				    "bad size '%s' for %s.%s", value,
				    key->section, key->name);
		*(uint64_t *)field = size;
		return 1;
	case KEY_NET:
	case KEY_NET_BOTH:
	case KEY_SYS:
	case KEY_SHARE:
	case KEY_ENV_MODE:
		return set_choice(ctx, key, value, field);
	case KEY_OPT_SIZE:
		/* Empty: no such limit. */
		if (!*value) {
			*(uint64_t *)field = 0;
			return 1;
		}
		if (sbx_parse_size(value, &size, &ignored) < 0 || size == 0)
			return fail(ctx, SIZE_HINT ", or nothing for no limit",
				    "bad size '%s' for %s.%s", value, key->section, key->name);
		*(uint64_t *)field = size;
		return 1;
	case KEY_SWAP:
		/* Unlike the other limits, 0 means something here: no swap. */
		ctx->pol->cg_swap_set = *value != '\0';
		*(uint64_t *)field = 0;
		if (*value && sbx_parse_size(value, (uint64_t *)field, &ignored) < 0)
			return fail(ctx, SIZE_HINT ", or nothing to leave swap alone",
				    "bad size '%s' for %s.%s", value, key->section, key->name);
		return 1;
	case KEY_CPUS:
		if (!*value) {
			*(uint32_t *)field = 0;
			return 1;
		}
		if (sbx_parse_cpus(value, (uint32_t *)field, &ignored) < 0)
			return fail(ctx, "use a CPU count such as 2 or 0.5, or nothing for no limit",
				    "bad CPU count '%s' for %s.%s", value, key->section, key->name);
		return 1;
	case KEY_COUNT:
		if (!*value) {
			*(uint64_t *)field = 0;
			return 1;
		}
		if (sbx_parse_count(value, (uint64_t *)field, &ignored) < 0)
			return fail(ctx, "use a whole number above 0, or nothing for no limit",
				    "bad count '%s' for %s.%s", value, key->section, key->name);
		return 1;
	case KEY_UNAVAILABLE:
		b = lookup_word(unavailable_words, value);
		if (b < 0)
			return fail(ctx, "use error or warn", "bad value '%s' for %s.%s",
				    value, key->section, key->name);
		*(int *)field = b;
		return 1;
	case KEY_CGROUP_PATH:
		if (*value && (value[0] != '/' || strstr(value, "..")))
			return fail(ctx, "use a cgroup path such as /sandbox.slice",
				    "bad cgroup path '%s' for %s.%s", value, key->section, key->name);
		if (*value && !(copy = strdup(value)))
			return fail_nomem(ctx);
		free(*(char **)field);
		*(char **)field = copy;
		return 1;
	case KEY_PATH:
		if (*value && value[0] != '/')
			return fail(ctx, "use an absolute directory, or nothing for the default",
				    "relative path '%s' in %s.%s", value, key->section, key->name);
		if (*value && normalise_path(value, &copy) < 0)
			return errno == EINVAL ?
				fail(ctx, "write the path without '..'", "path '%s' in %s.%s has a '..' component",
				     value, key->section, key->name) : fail_nomem(ctx);
		free(*(char **)field);
		*(char **)field = copy;
		return 1;
	case KEY_HOSTNAME:
		if (*value && !valid_hostname(value))
			return fail(ctx, "use 1-64 letters, digits, '.' or '-', not starting with '-'",
				    "bad hostname '%s' for %s.%s", value,
				    key->section, key->name);
		if (*value && !(copy = strdup(value)))
			return fail_nomem(ctx);
		free(*(char **)field);
		*(char **)field = copy;   /* NULL: keep the host's name */
		return 1;
	default:
		return set_list(ctx, k, value);
	}
}

/* Remember the line that set keys[k] (a list: its first line; the
 * indented lines after it continue it). */
static void note_origin(struct load_ctx *ctx, size_t k, int was_given)
{
	struct sbx_policy_origin o = { .line = ctx->lineno, .via = -1 };

	if (keys[k].type == KEY_NET_BOTH) {
		o.via = (short)k;
		for (size_t i = 0; i < N_KEYS; i++)
			if (keys[i].type == KEY_NET)
				ctx->pol->origin[i] = o;
	}
	if (!was_given)
		ctx->pol->origin[k] = o;
}

/* inih's handler: returns 1 on success, 0 on error. */
static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct load_ctx *ctx = user;
	int section_known = 0;

	if (!*section)
		return fail(ctx, "put it under a [section] heading",
			    "key '%s' outside any section", name);
	for (size_t k = 0; k < N_KEYS; k++) {
		if (strcmp(keys[k].section, section) != 0)
			continue;
		section_known = 1;
		if (strcmp(keys[k].name, name) == 0) {
			int was_given = ctx->list_given[k];

			if (!set_key(ctx, k, value))
				return 0;
			note_origin(ctx, k, was_given);
			return 1;
		}
	}
	/* A key of earlier releases: say what replaced it. */
	if (strcmp(section, "environment") == 0 && strcmp(name, "clean") == 0)
		return fail(ctx, "write mode = clean, or mode = inherit for the job's whole environment",
			    "key 'clean' in [environment] is now 'mode'");
	/* Headings are checked by the reader (check mode: reported there, once
	 * for the section, not again for each of its keys); a safety net. */
	if (!section_known && ctx->problems)
		return 1;
	if (!section_known)
		return fail(ctx, "use images, mounts, rootfs, namespaces, environment, security, cgroups, slurm, devices, binds or hooks",
			    "unknown section [%s]", section);
	return fail(ctx, "see docs/policy.md for the keys",
		    "unknown key '%s' in [%s]", name, section);
}

static int known_section(const char *name, size_t len)
{
	for (size_t k = 0; k < N_KEYS; k++)
		if (strlen(keys[k].section) == len && strncmp(keys[k].section, name, len) == 0)
			return 1;
	return 0;
}

int sbx_policy_init_defaults(struct sbx_policy *pol, struct sbx_err *err)
{
	struct sbx_policy def = {
		.mount_home = 0,
		.allow_mount_home = 1,
		.writable = 0,
		.allow_writable = 1,
		.writable_size = GIB,
		.tmp_size = GIB,
		.sys = SBX_SYS_RO,
		.tmp = SBX_SHARE_PRIVATE,
		.shm = SBX_SHARE_PRIVATE,
		/* A Slurm step gets the node's network, as with Pyxis, Slurm's
		 * own --container, Apptainer and Charliecloud: MPI over TCP or
		 * InfiniBand, license servers and srun from inside need it. */
		.slurm_net = SBX_NET_HOST,
		.sandbox_run_net = SBX_NET_NONE,
		.allow_net_host = 1,
		.allow_hostname = 1,
		.remap_root = 0,
		.allow_remap_root = 1,
		.env_clean = 0,
		.allow_user_env = 1,
		.seccomp = 1,
		.cache_max_size = 20 * GIB,
		.cache_wait = 600,
		.tag_ttl = 60,
		.max_unpacked_size = 64 * GIB,
		/* srun from inside a sandboxed batch script: the host's client. */
		.slurm_client = 1,
		.unpack_max_size = 20 * GIB,
		.unpack_max_age = 14,
	};
	int rc = -1;

	if (sbx_strv_push(&def.image_paths, "/") < 0 ||
	    sbx_strv_push(&def.registries, "*") < 0 ||
	    sbx_strv_push(&def.mount_sources, "/") < 0 ||
	    sbx_strv_push(&def.slurm_client_paths, "/run/munge") < 0 ||
	    sbx_strv_push_list(&def.env_passthrough, default_passthrough) < 0) {
		sbx_err_sys(err, NULL, "policy defaults");
		memset(pol, 0, sizeof(*pol));
		goto out;
	}
	*pol = def;
	memset(&def, 0, sizeof(def));
	rc = 0;
out:
	sbx_policy_free(&def);
	return rc;
}

static const char *open_hint(int errnum, int explicit_path)
{
	if (errnum == EACCES)
		return "the site policy must be readable by every user";
	if (explicit_path && (errnum == ENOENT || errnum == ENOTDIR))
		return "pass an existing file to --config";
	return NULL;
}

/* Release what a load holds: the file, the line buffer, the policy being
 * filled (kept only once moved out). */
static void end_load(struct load_ctx *ctx)
{
	if (ctx->file)
		fclose(ctx->file);
	free(ctx->buf);
	sbx_policy_free(ctx->pol);
}

/* Open path into ctx->file. Returns 1 when opened, 0 when there is no site
 * file at the default path (the built-in policy), -1 on error. */
static int open_file(struct load_ctx *ctx, int explicit_path, struct sbx_err *err)
{
	ctx->file = fopen(ctx->path, "re");
	if (ctx->file)
		return 1;
	if (errno == ENOENT && !explicit_path)
		return 0;
	return sbx_err_sys(err, open_hint(errno, explicit_path), "config %s", ctx->path);
}

int sbx_policy_load(struct sbx_policy *pol, const char *path, int explicit_path,
		    struct sbx_err *err)
{
	struct sbx_policy tmp = { 0 };
	struct load_ctx ctx = { .pol = &tmp, .path = path };
	int line, rc = -1;

	if (!path) {
		path = ctx.path = SBX_DEFAULT_POLICY;
		explicit_path = 0;
	}
	if (sbx_policy_init_defaults(&tmp, err) < 0)
		goto out;
	switch (open_file(&ctx, explicit_path, err)) {
	case 0:
		goto use_tmp;
	case -1:
		goto out;
	}
	tmp.path = strdup(path);
	if (!tmp.path) {
		sbx_err_sys(err, NULL, "config %s", path);
		goto out;
	}
	line = ini_parse_stream(read_line, &ctx, on_key, &ctx);
	/* inih reports its own syntax errors only as a line number; one met
	 * before the handler's error is the first error. */
	if (line > 0 && (!ctx.fail_line || line < ctx.fail_line)) {
		sbx_err_set(err, 0, "use [section] headings and key = value lines",
			    "%s:%d: syntax error", path, line);
		goto out;
	}
	if (ctx.fail_line) {
		if (err)
			*err = ctx.first;
		goto out;
	}
	if (line < 0) {
		sbx_err_set(err, ENOMEM, NULL, "config %s", path);
		goto out;
	}
use_tmp:
	sbx_policy_free(pol);
	*pol = tmp;
	memset(&tmp, 0, sizeof(tmp));
	rc = 0;
out:
	end_load(&ctx);
	return rc;
}

int sbx_policy_check_file(const char *path, struct sbx_strv *problems, struct sbx_err *err)
{
	struct sbx_policy tmp = { 0 };
	struct load_ctx ctx = { .pol = &tmp, .path = path, .problems = problems };
	size_t before = problems->n;
	int rc = -1;

	if (sbx_policy_init_defaults(&tmp, err) < 0 || open_file(&ctx, 1, err) < 0)
		goto out;
	if (ini_parse_stream(read_line, &ctx, on_key, &ctx) < 0 && !ctx.fail_line) {
		sbx_err_set(&ctx.first, ENOMEM, NULL, "config %s", path);
		ctx.fail_line = -1;
	}
	if (ctx.fail_line) {            /* out of memory, or a read error */
		if (err)
			*err = ctx.first;
		goto out;
	}
	/* The loader is the judge: a file it refuses is never "no problems",
	 * even if the check above missed a rule of inih's. */
	if (problems->n == before) {
		struct sbx_policy loaded = { 0 };
		struct sbx_err why;

		if (sbx_policy_load(&loaded, path, 1, &why) < 0 &&
		    sbx_strv_push(problems, why.msg) < 0) {
			sbx_err_set(err, ENOMEM, NULL, "config %s", path);
			goto out;
		}
		sbx_policy_free(&loaded);
	}
	rc = (int)(problems->n - before);
out:
	end_load(&ctx);
	return rc;
}

const char *sbx_policy_origin(const struct sbx_policy *pol, const char *key, char *buf,
			      size_t len)
{
	for (size_t k = 0; k < N_KEYS; k++) {
		const struct sbx_policy_origin *o = &pol->origin[k];
		const struct key *via;
		size_t sec = strlen(keys[k].section);

		if (strncmp(key, keys[k].section, sec) != 0 || key[sec] != '.' ||
		    strcmp(key + sec + 1, keys[k].name) != 0)
			continue;
		if (!o->line || !pol->path) {
			snprintf(buf, len, "the built-in default");
			return buf;
		}
		if (o->via < 0) {
			snprintf(buf, len, "%s:%d", pol->path, o->line);
			return buf;
		}
		via = &keys[o->via];
		snprintf(buf, len, "%s:%d, as %s.%s", pol->path, o->line, via->section, via->name);
		return buf;
	}
	return NULL;
}

int sbx_policy_open(struct sbx_policy *pol, const char *path, int required,
		    struct sbx_err *err)
{
	memset(pol, 0, sizeof(*pol));
	return sbx_policy_load(pol, path ? path : SBX_DEFAULT_POLICY, required, err);
}

void sbx_policy_free(struct sbx_policy *pol)
{
	if (!pol)
		return;
	free(pol->path);
	free(pol->hostname);
	free(pol->cg_parent);
	free(pol->cache_dir);
	free(pol->hooks_dir);
	sbx_strv_clear(&pol->dev_expose);
	sbx_strv_clear(&pol->dev_expose_if_set);
	sbx_strv_clear(&pol->host_binds);
	sbx_strv_clear(&pol->host_binds_if_set);
	free(pol->unpack_dir);
	sbx_strv_clear(&pol->image_paths);
	sbx_strv_clear(&pol->registries);
	sbx_strv_clear(&pol->insecure_registries);
	sbx_strv_clear(&pol->kernel_squashfs);
	sbx_strv_clear(&pol->mount_sources);
	sbx_strv_clear(&pol->env_passthrough);
	sbx_strv_clear(&pol->env_deny);
	sbx_strv_clear(&pol->capabilities);
	sbx_strv_clear(&pol->seccomp_allow);
	sbx_strv_clear(&pol->seccomp_deny);
	sbx_strv_clear(&pol->slurm_client_paths);
	memset(pol, 0, sizeof(*pol));
}

int sbx_parse_cpus(const char *s, uint32_t *out, struct sbx_err *err)
{
	const char *hint = "use a CPU count such as 2 or 0.5";
	uint64_t whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	if (!s || !*s)
		return sbx_err_set(err, 0, hint, "cpus '': empty CPU count");
	while (*p >= '0' && *p <= '9' && whole <= 1000000)
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	if (*p == '.') {
		p++;
		for (int digits = 0; *p >= '0' && *p <= '9'; digits++, p++) {
			if (digits < 3) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
		}
	}
	if (*p || p == s || whole > 1000000 || whole * 1000 + frac == 0)
		return sbx_err_set(err, 0, hint, "cpus '%s': bad CPU count", s);
	*out = (uint32_t)(whole * 1000 + frac);
	return 0;
}

int sbx_parse_count(const char *s, uint64_t *out, struct sbx_err *err)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || !*s)
		return sbx_err_set(err, 0, "use a whole number above 0", "count '': empty");
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return sbx_err_set(err, ERANGE, "use a whole number above 0", "count '%s'", s);
	if (*p || v == 0)
		return sbx_err_set(err, 0, "use a whole number above 0", "count '%s': bad number", s);
	*out = v;
	return 0;
}

int sbx_parse_bool(const char *s)
{
	return s ? lookup_word(bool_words, s) : -1;
}

/* Digits, then an optional K/M/G/T, then an optional "B" or (after a unit)
 * "iB". "0" parses; callers that need a positive size check it. */
int sbx_parse_size(const char *s, uint64_t *out, struct sbx_err *err)
{
	static const char units[] = "KMGT";
	const char *p = s;
	const char *unit;
	unsigned shift = 0;
	uint64_t v = 0;

	if (!s || !isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			goto bad;
	if (*p && (unit = strchr(units, toupper((unsigned char)*p)))) {
		shift = 10 * (unsigned)(unit - units + 1);
		p++;
		if (strcasecmp(p, "iB") == 0)
			p += 2;
	}
	if (strcasecmp(p, "B") == 0)
		p++;
	if (*p || __builtin_mul_overflow(v, UINT64_C(1) << shift, &v))
		goto bad;
	*out = v;
	return 0;
bad:
	return sbx_err_set(err, 0, SIZE_HINT, "bad size '%s'", s ? s : "");
}

int sbx_path_within(const char *path, const char *dir)
{
	size_t len;

	if (!path || !dir || path[0] != '/' || dir[0] != '/')
		return 0;
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 1)
		return 1;
	return strncmp(path, dir, len) == 0 &&
	       (path[len] == '\0' || path[len] == '/');
}

int sbx_path_allowed(const char *path, const struct sbx_strv *dirs)
{
	if (!dirs)
		return 0;
	for (size_t i = 0; i < dirs->n; i++)
		if (sbx_path_within(path, dirs->v[i]))
			return 1;
	return 0;
}
