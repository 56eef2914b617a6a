/* sandbox-run cache: the caller's image cache, as a person looks after it:
 * what is there (ls), what goes (rm), and trimming it (gc). Everything runs
 * as the caller, on the cache the site policy gives them; images a sandbox
 * is using are never removed. */
#include "cache-cmd.h"
#include "util/fsutil.h"
#include "image/cache.h"    /* lib/image/cache.h: the cache itself */
#include "image/unpacked.h" /* node-local unpacked copies */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_SETUP 125
#define EXIT_USAGE 2
#define DAY 86400

struct cache_opts {
	char *policy_path;
	const char *command;     /* ls, rm, gc */
	char **args;             /* what follows the command */
	int nargs;
	int all;                 /* rm --all */
	const char *max_size;    /* gc --max-size */
	const char *older_than;  /* gc --older-than */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sandbox-run cache [--config FILE] ls\n"
		"       sandbox-run cache [--config FILE] rm DIGEST-PREFIX... | --all\n"
		"       sandbox-run cache [--config FILE] gc [--max-size SIZE] [--older-than DAYS]\n"
		"Lists, removes or trims your image cache. gc removes images unused for DAYS,\n"
		"then the least recently used until the cache fits SIZE (default: the site's\n"
		"images.cache_max_size). Images a running sandbox uses are always kept.\n"
		"ls and gc also list and trim the node-local unpacked copies of squashfs\n"
		"images (images.unpack_dir; defaults unpack_max_size, unpack_max_age).\n");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "sandbox: cache: %s%s%s\n"
		"usage: sandbox-run cache [--config FILE] ls | rm DIGEST-PREFIX...|--all | "
		"gc [--max-size SIZE] [--older-than DAYS]\n", what, arg ? " " : "", arg ? arg : "");
	return EXIT_USAGE;
}

static int fail(const struct sbx_err *err)
{
	char line[SBX_ERR_MAX + 16];

	fprintf(stderr, "%s\n", sbx_err_line(err, line, sizeof(line)));
	return EXIT_SETUP;
}

static const char *human(uint64_t n, char buf[16])
{
	return sbx_human_size(n, buf, 16);
}

static const char *age(time_t now, time_t then, char buf[32])
{
	long long s = now > then ? (long long)(now - then) : 0;

	if (s < 60)
		snprintf(buf, 32, "%llds ago", s);
	else if (s < 3600)
		snprintf(buf, 32, "%lldm ago", s / 60);
	else if (s < DAY)
		snprintf(buf, 32, "%lldh ago", s / 3600);
	else
		snprintf(buf, 32, "%lldd ago", s / DAY);
	return buf;
}

static const char *cap_text(uint64_t cap, char buf[32])
{
	char size[16];

	if (cap)
		snprintf(buf, 32, "cap %s", human(cap, size));
	else
		snprintf(buf, 32, "no cap");
	return buf;
}

static uint64_t total_size(const struct sbx_cache_item *items, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += items[i].size;
	return total;
}

static int cmd_ls(struct sbx_cache *c)
{
	struct sbx_cache_item *items = NULL;
	char size[16], created[32], used[32], cap[32];
	time_t now = time(NULL);
	size_t n = 0;
	struct sbx_err err = { 0 };

	if (sbx_cache_list(c, &items, &n, &err) < 0)
		return fail(&err);
	printf("%-12s  %7s  %-9s  %-9s  %-6s  %s\n", "DIGEST", "SIZE", "CREATED", "LAST USED",
	       "IN USE", "SOURCE");
	for (size_t i = 0; i < n; i++)
		printf("%.12s  %7s  %-9s  %-9s  %-6s  %s\n", items[i].hex, human(items[i].size, size),
		       age(now, items[i].created, created), age(now, items[i].last_used, used),
		       items[i].in_use ? "yes" : "no", items[i].source[0] ? items[i].source : "-");
	printf("%zu image%s, %s (%s) in %s\n", n, n == 1 ? "" : "s",
	       human(total_size(items, n), size), cap_text(c->max_size, cap), c->root);
	sbx_cache_items_free(items, n);
	return 0;
}

/* The listed item a digest prefix named, for the report line. */
static const struct sbx_cache_item *find(const struct sbx_cache_item *items, size_t n,
					 const char *prefix)
{
	if (strncmp(prefix, "sha256:", 7) == 0)
		prefix += 7;
	for (size_t i = 0; i < n; i++)
		if (strncmp(items[i].hex, prefix, strlen(prefix)) == 0)
			return &items[i];
	return NULL;
}

static int cmd_rm(struct sbx_cache *c, const struct cache_opts *o)
{
	struct sbx_cache_item *items = NULL;
	const struct sbx_cache_item *it;
	struct sbx_err err = { 0 };
	size_t n = 0;
	char size[16];
	int rc = 0;

	if (sbx_cache_list(c, &items, &n, &err) < 0)
		return fail(&err);
	for (size_t i = 0; i < (o->all ? n : (size_t)o->nargs); i++) {
		const char *target = o->all ? items[i].hex : o->args[i];

		if (sbx_cache_remove(c, target, &err) < 0) {
			rc = fail(&err);
			continue;
		}
		it = find(items, n, target);
		if (it)
			printf("removed %.12s (%s)\n", it->hex, human(it->size, size));
		else
			printf("removed %s\n", target);
	}
	sbx_cache_items_free(items, n);
	return rc;
}

static int cmd_gc(struct sbx_cache *c, uint64_t max_size, uint64_t older_than)
{
	struct sbx_cache_item *items = NULL;
	struct sbx_err err = { 0 };
	char freed_s[16], now_s[16], cap[32];
	uint64_t freed = 0;
	size_t removed = 0, n = 0;

	if (sbx_cache_gc(c, max_size, older_than, &freed, &removed, &err) < 0 ||
	    sbx_cache_list(c, &items, &n, &err) < 0)
		return fail(&err);
	printf("removed %zu image%s, freed %s; cache now %s (%s)\n", removed, removed == 1 ? "" : "s",
	       human(freed, freed_s), human(total_size(items, n), now_s), cap_text(max_size, cap));
	sbx_cache_items_free(items, n);
	return 0;
}

/* The node-local unpacked copies of squashfs images (images.unpack_dir),
 * listed after the cache and trimmed with it; nothing when they are off. */
static int unpacked_ls(const struct sbx_policy *pol)
{
	struct sbx_unpacked_item *items = NULL;
	char *root = NULL, size[16], used[32], cap[32];
	struct sbx_err err = { 0 };
	time_t now = time(NULL);
	uint64_t total = 0;
	size_t n = 0;
	int fd, rc = 0;

	if (!pol->unpack_dir || !*pol->unpack_dir)
		return 0;
	fd = sbx_unpacked_open(pol, &root, &err);
	if (fd < 0)
		return fail(&err);
	if (sbx_unpacked_list(fd, &items, &n) < 0) {
		sbx_err_sys(&err, NULL, "unpacked copies '%s'", root);
		rc = fail(&err);
		goto out;
	}
	printf("\n%-12s  %7s  %-9s  %s\n", "UNPACKED", "SIZE", "LAST USED", "OF");
	for (size_t i = 0; i < n; i++) {
		total += items[i].bytes;
		printf("%.12s  %7s  %-9s  %s\n", items[i].name + 1,
		       items[i].failed ? "-" : human(items[i].bytes, size), age(now, items[i].last_use, used),
		       items[i].failed ? "unpack failed, squashfuse used" :
		       items[i].name[0] == 'c' ? "cache entry" : "squashfs file");
	}
	printf("%zu unpacked cop%s, %s (%s) in %s\n", n, n == 1 ? "y" : "ies", human(total, size),
	       cap_text(pol->unpack_max_size, cap), root);
out:
	free(items);
	free(root);
	close(fd);
	return rc;
}

static int unpacked_gc(const struct sbx_policy *pol, uint64_t max_size, uint64_t days)
{
	char *root = NULL, freed_s[16];
	struct sbx_err err = { 0 };
	uint64_t freed = 0;
	int fd, rc = 0;

	if (!pol->unpack_dir || !*pol->unpack_dir)
		return 0;
	fd = sbx_unpacked_open(pol, &root, &err);
	if (fd < 0)
		return fail(&err);
	if (sbx_unpacked_gc(fd, max_size, days, NULL, &freed) < 0) {
		sbx_err_sys(&err, NULL, "unpacked copies '%s': gc", root);
		rc = fail(&err);
	} else
		printf("unpacked copies: freed %s\n", human(freed, freed_s));
	free(root);
	close(fd);
	return rc;
}

/* Options may come before or after the command (getopt_long permutes).
 * Returns -1 when parsed, else the exit status (0 after --help). */
static int parse(int argc, char **argv, struct cache_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "max-size", required_argument, NULL, 's' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0;
	optind = 0;   /* glibc: start afresh, whatever parsed argv before */
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			free(o->policy_path);
			o->policy_path = strdup(optarg);
			if (!o->policy_path) {
				perror("sandbox: cache");
				return EXIT_SETUP;
			}
			break;
		case 'a': o->all = 1; break;
		case 's': o->max_size = optarg; break;
		case 'o': o->older_than = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown option or missing value:", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no command given", NULL);
	o->command = argv[optind];
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	if (strcmp(o->command, "ls") && strcmp(o->command, "rm") && strcmp(o->command, "gc"))
		return usage_error("unknown command", o->command);
	if (o->all && strcmp(o->command, "rm"))
		return usage_error("--all is for rm", NULL);
	if ((o->max_size || o->older_than) && strcmp(o->command, "gc"))
		return usage_error("--max-size and --older-than are for gc", NULL);
	if (strcmp(o->command, "rm") ? o->nargs > 0 : (o->all == (o->nargs > 0)))
		return usage_error(strcmp(o->command, "rm") ? "unexpected argument" :
				   "rm takes digest prefixes or --all", o->nargs > 0 && !o->all ? o->args[0] : NULL);
	return -1;
}

int sbx_cache_main(int argc, char **argv)
{
	struct cache_opts o = { 0 };
	struct sbx_policy pol = { 0 };
	struct sbx_cache c = { .root_fd = -1 };
	struct sbx_err err = { 0 };
	uint64_t max_size = 0, days = 0;
	int rc = parse(argc, argv, &o);

	if (rc >= 0)
		goto out;
	rc = EXIT_USAGE;
	if (o.max_size && sbx_parse_size(o.max_size, &max_size, &err) < 0) {
		fprintf(stderr, "sandbox: cache gc --max-size: %s\n", err.msg);
		goto out;
	}
	if (o.older_than && (sbx_parse_count(o.older_than, &days, &err) < 0 || days > UINT32_MAX)) {
		fprintf(stderr, "sandbox: cache gc --older-than: bad number of days '%s'\n", o.older_than);
		goto out;
	}
	if (sbx_policy_open(&pol, o.policy_path, o.policy_path != NULL, &err) < 0 ||
	    sbx_cache_open(&pol, &c, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	if (strcmp(o.command, "ls") == 0) {
		rc = cmd_ls(&c);
		if (rc == 0)
			rc = unpacked_ls(&pol);
	} else if (strcmp(o.command, "rm") == 0) {
		rc = cmd_rm(&c, &o);
	} else {
		rc = cmd_gc(&c, o.max_size ? max_size : pol.cache_max_size, days * DAY);
		if (rc == 0)
			rc = unpacked_gc(&pol, o.max_size ? max_size : pol.unpack_max_size,
					 o.older_than ? days : pol.unpack_max_age);
	}
out:
	sbx_cache_close(&c);
	sbx_policy_free(&pol);
	free(o.policy_path);
	return rc;
}
