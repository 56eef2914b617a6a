/* fake-stepd: a mini slurmstepd that loads the real spank_sandbox.so and calls
 * its root callbacks in Slurm's remote order, as often as a race test needs.
 *
 *   fake-stepd --plugin SO [--plugin SO] --scenario prepare|epilog --uid N --gid N [options]
 *
 * Each --plugin is loaded in order, like plugstack.conf's lines (the main
 * plugin and spank_sandbox_named.so, which has the job epilog); each
 * callback runs in every plugin that defines it.
 *
 * prepare  one step's remote start, as slurmstepd runs it (as root):
 *          slurm_spank_init(plugstack args) -> each option callback, remote=1,
 *          twice as 22.05 does -> slurm_spank_init_post_opt -> slurm_spank_exit
 * epilog   the job's end on the node (root, S_CTX_JOB_SCRIPT):
 *          slurm_spank_job_epilog(plugstack args) -> slurm_spank_exit
 *
 * Options:
 *   --uid N --gid N    the job's user and group (S_JOB_UID, S_JOB_GID)
 *   --groups G[,G..]   the job's supplementary groups (S_JOB_SUPPLEMENTARY_GIDS)
 *   --job N            S_JOB_ID (default 1000); --step N: S_JOB_STEPID of the
 *                      first iteration (default 0), each iteration is the next step
 *   --tasks N          S_JOB_LOCAL_TASK_COUNT (default 1)
 *   --arg K=V          a plugstack.conf argument (config=, named_dir=, helper=)
 *   --opt NAME=VALUE   the user's --NAME=VALUE (e.g. sandbox-name=build)
 *   --env NAME=VALUE   a variable of the job's environment (spank_getenv)
 *   --iterations N     how many times (default 1); --seconds S: stop earlier
 *   --user-tree DIR,N,LINK  before each iteration, as the job's user, what a
 *                      job's own processes leave in a named sandbox: DIR/d with
 *                      N empty files f001.. and DIR/decoy, a symlink to LINK
 *                      (an earlier DIR is moved aside, for the epilog)
 *   --watch PATH       a canary: PATH's lstat (type, mode, owner, size, mtime)
 *                      and, for a directory, every entry's, must not change;
 *                      the run stops at the first iteration that changes one
 *
 * The plugin is loaded once for all iterations (slurmstepd is a fresh
 * process per step): its init and exit callbacks reset what a step uses.
 *
 * Exit status: 0 all iterations ran and no canary changed; 3 a canary changed
 * (the line says which, how, and after how many iterations); 1 the harness
 * failed; 2 usage. The last line on stdout is the summary. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <slurm/spank.h>

#define MAX_ITEMS 64
#define LOG_LIMIT 5

struct spank_handle {
	int magic;
};

static struct {
	spank_context_t ctx;
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_ITEMS];
	int n_groups;
	uint32_t job, step, tasks;
	char *args[MAX_ITEMS];           /* plugstack.conf arguments */
	int n_args;
	char *opts[MAX_ITEMS];           /* NAME=VALUE */
	int n_opts;
	char *env[MAX_ITEMS];            /* NAME=VALUE, the job's environment */
	int n_env;
	struct spank_option registered[MAX_ITEMS];
	int n_registered;
	long messages;                   /* lines the plugin logged */
} job = { .job = 1000, .tasks = 1 };

static char *job_argv[] = { "/bin/true", NULL };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fake-stepd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------ what Slurm gives a plugin */

/* Only the first few lines: a race can make the plugin log on every
 * iteration, and the count says the rest. */
static void plugin_log(const char *level, const char *fmt, va_list ap)
{
	if (++job.messages > LOG_LIMIT)
		return;
	fprintf(stderr, "fake-stepd: plugin %s: ", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define LOG_FN(fn, level)                          \
	void fn(const char *fmt, ...)              \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		plugin_log(level, fmt, ap);        \
		va_end(ap);                        \
	}
LOG_FN(slurm_error, "error")
LOG_FN(slurm_info, "info")
LOG_FN(slurm_verbose, "verbose")
LOG_FN(slurm_debug, "debug")
LOG_FN(slurm_debug2, "debug2")
LOG_FN(slurm_debug3, "debug3")
LOG_FN(slurm_spank_log, "log")

spank_context_t spank_context(void)
{
	return job.ctx;
}

int spank_remote(spank_t sp)
{
	return sp ? job.ctx == S_CTX_REMOTE : -1;
}

int spank_symbol_supported(const char *symbol)
{
	(void)symbol;
	return 1;
}

const char *spank_strerror(spank_err_t err)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "spank error %d", (int)err);
	return err == ESPANK_SUCCESS ? "success" : buf;
}

spank_err_t spank_option_register(spank_t sp, struct spank_option *opt)
{
	if (!sp || !opt || !opt->name || job.n_registered == MAX_ITEMS)
		return ESPANK_BAD_ARG;
	job.registered[job.n_registered++] = *opt;
	return ESPANK_SUCCESS;
}

/* The value the user gave --NAME, or NULL. */
static const char *user_option(const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < job.n_opts; i++)
		if (strncmp(job.opts[i], name, len) == 0 && job.opts[i][len] == '=')
			return job.opts[i] + len + 1;
	return NULL;
}

spank_err_t spank_option_getopt(spank_t sp, struct spank_option *opt, char **optarg)
{
	const char *v;

	if (!sp || !opt || !opt->name)
		return ESPANK_BAD_ARG;
	if (job.ctx != S_CTX_JOB_SCRIPT)
		return ESPANK_NOT_AVAIL;
	v = user_option(opt->name);
	if (!v)
		return ESPANK_ERROR;
	if (optarg)
		*optarg = (char *)v;
	return ESPANK_SUCCESS;
}

spank_err_t spank_get_item(spank_t sp, spank_item_t item, ...)
{
	spank_err_t rc = ESPANK_SUCCESS;
	va_list ap;

	if (!sp)
		return ESPANK_BAD_ARG;
	/* The job-script context has the job's ids only. */
	if (job.ctx == S_CTX_JOB_SCRIPT && item != S_JOB_UID && item != S_JOB_GID && item != S_JOB_ID)
		return ESPANK_NOT_AVAIL;
	va_start(ap, item);
	switch (item) {
	case S_JOB_UID:
		*va_arg(ap, uid_t *) = job.uid;
		break;
	case S_JOB_GID:
		*va_arg(ap, gid_t *) = job.gid;
		break;
	case S_JOB_ID:
		*va_arg(ap, uint32_t *) = job.job;
		break;
	case S_JOB_STEPID:
		*va_arg(ap, uint32_t *) = job.step;
		break;
	case S_JOB_LOCAL_TASK_COUNT:
		*va_arg(ap, uint32_t *) = job.tasks;
		break;
	case S_JOB_SUPPLEMENTARY_GIDS: {
		gid_t **gids = va_arg(ap, gid_t **);

		*gids = job.groups;
		*va_arg(ap, int *) = job.n_groups;
		break;
	}
	case S_JOB_ARGV: {
		int *argc = va_arg(ap, int *);

		*argc = 1;
		*va_arg(ap, char ***) = job_argv;
		break;
	}
	case S_TASK_ID:
		*va_arg(ap, int *) = 0;
		break;
	case S_TASK_PID:
		*va_arg(ap, pid_t *) = getpid();
		break;
	default:
		rc = ESPANK_NOT_AVAIL;
		break;
	}
	va_end(ap);
	return rc;
}

static int env_find(const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < job.n_env; i++)
		if (strncmp(job.env[i], name, len) == 0 && job.env[i][len] == '=')
			return i;
	return -1;
}

spank_err_t spank_getenv(spank_t sp, const char *var, char *buf, int len)
{
	int i;

	if (!sp || !var || !buf || len <= 0)
		return ESPANK_BAD_ARG;
	if (job.ctx != S_CTX_REMOTE)
		return ESPANK_NOT_REMOTE;
	i = env_find(var);
	if (i < 0)
		return ESPANK_ENV_NOEXIST;
	if ((size_t)snprintf(buf, (size_t)len, "%s", job.env[i] + strlen(var) + 1) >= (size_t)len)
		return ESPANK_NOSPACE;
	return ESPANK_SUCCESS;
}

spank_err_t spank_setenv(spank_t sp, const char *var, const char *val, int overwrite)
{
	char *entry;
	int i;

	if (!sp || !var || !val)
		return ESPANK_BAD_ARG;
	if (job.ctx != S_CTX_REMOTE)
		return ESPANK_NOT_REMOTE;
	i = env_find(var);
	if (i >= 0 && !overwrite)
		return ESPANK_ENV_EXISTS;
	if (i < 0 && job.n_env == MAX_ITEMS)
		return ESPANK_NOSPACE;
	if (asprintf(&entry, "%s=%s", var, val) < 0)
		return ESPANK_ERROR;
	if (i < 0)
		i = job.n_env++;
	else
		free(job.env[i]);
	job.env[i] = entry;
	return ESPANK_SUCCESS;
}

spank_err_t spank_unsetenv(spank_t sp, const char *var)
{
	int i;

	if (!sp || !var)
		return ESPANK_BAD_ARG;
	if (job.ctx != S_CTX_REMOTE)
		return ESPANK_NOT_REMOTE;
	i = env_find(var);
	if (i >= 0) {
		free(job.env[i]);
		job.env[i] = job.env[--job.n_env];
	}
	return ESPANK_SUCCESS;
}

spank_err_t spank_job_control_getenv(spank_t sp, const char *name, char *buf, int len)
{
	(void)sp, (void)name, (void)buf, (void)len;
	return ESPANK_NOT_LOCAL;
}

spank_err_t spank_job_control_setenv(spank_t sp, const char *name, const char *value, int overwrite)
{
	(void)sp, (void)name, (void)value, (void)overwrite;
	return ESPANK_NOT_LOCAL;
}

spank_err_t spank_job_control_unsetenv(spank_t sp, const char *name)
{
	(void)sp, (void)name;
	return ESPANK_NOT_LOCAL;
}

/* ------------------------------------------------------------- canaries */

struct entry {
	char name[NAME_MAX + 1];        /* "" for the watched path itself */
	int exists;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	struct timespec mtime;
};

struct watch {
	const char *path;
	struct entry *e;
	size_t n;
};

static struct watch watches[MAX_ITEMS];
static int n_watches;

static void entry_of(const struct stat *st, const char *name, struct entry *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->exists = 1;
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void snapshot(const char *path, struct entry **out, size_t *n_out)
{
	struct entry *e = calloc(1, sizeof(*e));
	size_t n = 1, cap = 1;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (!e)
		die("out of memory");
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			die("canary %s: lstat: %s", path, strerror(errno));
		*out = e;                /* exists = 0: must stay absent */
		*n_out = 1;
		return;
	}
	entry_of(&st, "", &e[0]);
	if (S_ISDIR(st.st_mode)) {
		d = opendir(path);
		if (!d)
			die("canary %s: opendir: %s", path, strerror(errno));
		errno = 0;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				die("canary %s/%s: lstat: %s", path, de->d_name, strerror(errno));
			if (n == cap) {
				cap *= 2;
				e = realloc(e, cap * sizeof(*e));
				if (!e)
					die("out of memory");
			}
			entry_of(&st, de->d_name, &e[n++]);
			errno = 0;
		}
		if (errno)
			die("canary %s: readdir: %s", path, strerror(errno));
		if (closedir(d) < 0)
			die("canary %s: closedir: %s", path, strerror(errno));
		qsort(e + 1, n - 1, sizeof(*e), by_name);
	}
	*out = e;
	*n_out = n;
}

static const struct entry *find(const struct entry *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

/* The changes found, as one line: "PATH: mode 0755 -> 0700; PATH/x: deleted". */
struct changes {
	char *buf;
	size_t len, off;
	int n;
};

static void note(struct changes *c, const char *path, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void note(struct changes *c, const char *path, const char *name, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (++c->n > 8 || c->off >= c->len)
		return;
	w = snprintf(c->buf + c->off, c->len - c->off, "%s%s%s%s: ", c->n > 1 ? "; " : "", path,
		     name[0] ? "/" : "", name);
	if (w > 0)
		c->off += (size_t)w;
	if (c->off >= c->len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(c->buf + c->off, c->len - c->off, fmt, ap);
	va_end(ap);
	if (w > 0)
		c->off += (size_t)w;
}

/* Every way b differs from a (one entry). content = 0 leaves out size and
 * mtime (a directory's, which its entries' changes move). */
static void differs(struct changes *c, const char *path, const struct entry *a,
		    const struct entry *b, int content)
{
	const char *name = a->exists ? a->name : b->name;

	if (a->exists != b->exists) {
		if (a->exists)
			note(c, path, name, "deleted");
		else
			note(c, path, name, "created (mode %04o, owner %u:%u)",
			     (unsigned)(b->mode & 07777), (unsigned)b->uid, (unsigned)b->gid);
		return;
	}
	if (!a->exists)
		return;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
		note(c, path, name, "file type changed");
	else if (a->mode != b->mode)
		note(c, path, name, "mode %04o -> %04o", (unsigned)(a->mode & 07777),
		     (unsigned)(b->mode & 07777));
	if (a->uid != b->uid || a->gid != b->gid)
		note(c, path, name, "owner %u:%u -> %u:%u", (unsigned)a->uid, (unsigned)a->gid,
		     (unsigned)b->uid, (unsigned)b->gid);
	if (content && a->size != b->size)
		note(c, path, name, "size %lld -> %lld", (long long)a->size, (long long)b->size);
	else if (content && (a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec))
		note(c, path, name, "modified");
}

/* Every change of the canaries since the start, into buf; how many. */
static int canary_changed(char *buf, size_t len)
{
	struct changes c = { .buf = buf, .len = len };

	buf[0] = '\0';
	for (int w = 0; w < n_watches; w++) {
		struct watch *was = &watches[w];
		struct entry *now;
		size_t n;
		int before = c.n;

		snapshot(was->path, &now, &n);
		/* Every entry that was there, every new one, then the path
		 * itself. */
		for (size_t i = 1; i < was->n; i++) {
			const struct entry *e = find(now + 1, n - 1, was->e[i].name);
			struct entry gone = was->e[i];

			gone.exists = 0;
			differs(&c, was->path, &was->e[i], e ? e : &gone, 1);
		}
		for (size_t i = 1; i < n; i++) {
			struct entry fresh = { .exists = 0 };

			if (!find(was->e + 1, was->n - 1, now[i].name))
				differs(&c, was->path, &fresh, &now[i], 1);
		}
		differs(&c, was->path, &was->e[0], &now[0], c.n == before);
		free(now);
	}
	if (c.n > 8 && c.off < c.len)
		snprintf(c.buf + c.off, c.len - c.off, "; and %d more", c.n - 8);
	return c.n;
}

/* --------------------------------------------------------------- driver */

typedef int (*spank_fn)(spank_t, int, char **);

struct plugin {
	void *dl;
	spank_fn init, init_post_opt, job_epilog, exit;
};

#define MAX_PLUGINS 2
static struct plugin plugins[MAX_PLUGINS];
static int n_plugins;

/* NULL when the plugin does not define it, as Slurm allows. */
static spank_fn symbol(void *dl, const char *name)
{
	spank_fn fn;

	*(void **)&fn = dlsym(dl, name);
	return fn;
}

static void load(const char *path, struct plugin *p)
{
	p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl)
		die("load %s: %s", path, dlerror());
	p->init = symbol(p->dl, "slurm_spank_init");
	p->init_post_opt = symbol(p->dl, "slurm_spank_init_post_opt");
	p->job_epilog = symbol(p->dl, "slurm_spank_job_epilog");
	p->exit = symbol(p->dl, "slurm_spank_exit");
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime: %s", strerror(errno));
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --user-tree */
struct user_tree {
	char dir[PATH_MAX], link[PATH_MAX];
	int files;
};

static int tree_failed(const char *what, const char *path)
{
	fprintf(stderr, "fake-stepd: user tree: %s %s: %s\n", what, path, strerror(errno));
	return -1;
}

/* In the child, as the user: nothing here can reach what the user cannot. */
static int build_user_tree(const struct user_tree *t, long iteration)
{
	char path[PATH_MAX + 32];

	/* What an epilog left (it failed, or there was none yet) stays for the
	 * next one to remove, out of the racers' way. Not removed here: a
	 * racer's rename already past the path lookup can still swap in it. */
	snprintf(path, sizeof(path), "%s.%ld", t->dir, iteration);
	if (rename(t->dir, path) < 0 && errno != ENOENT)
		return tree_failed("move aside", t->dir);
	/* DIR/d and its parents: the epilog removed the job's directory. */
	snprintf(path, sizeof(path), "%s/d", t->dir);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return tree_failed("mkdir", path);
		*p = '/';
	}
	if (mkdir(path, 0700) < 0)
		return tree_failed("mkdir", path);
	for (int i = 1; i <= t->files; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/d/f%03d", t->dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || close(fd) < 0)
			return tree_failed("create", path);
	}
	snprintf(path, sizeof(path), "%s/decoy", t->dir);
	if (symlink(t->link, path) < 0)
		return tree_failed("symlink", path);
	return 0;
}

static void user_tree(const struct user_tree *t, long iteration)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (setgroups((size_t)job.n_groups, job.groups) < 0 ||
		    setresgid(job.gid, job.gid, job.gid) < 0 || setresuid(job.uid, job.uid, job.uid) < 0) {
			fprintf(stderr, "fake-stepd: become uid %u: %s\n", (unsigned)job.uid, strerror(errno));
			_exit(1);
		}
		_exit(build_user_tree(t, iteration) < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("--user-tree failed in iteration %ld (status 0x%x)", iteration, status);
}

static void step_prepare(spank_t sp)
{
	job.ctx = S_CTX_REMOTE;
	job.n_registered = 0;
	for (int i = 0; i < n_plugins; i++)
		if (plugins[i].init && plugins[i].init(sp, job.n_args, job.args) != 0)
			die("slurm_spank_init failed (plugstack arguments?)");
	/* 22.05 runs each option callback twice in slurmstepd: from the
	 * launch message, then from the _SLURM_SPANK_OPTION_* variables. */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < job.n_opts; i++) {
			size_t len = strcspn(job.opts[i], "=");
			struct spank_option *o = NULL;

			for (int r = 0; r < job.n_registered; r++)
				if (strlen(job.registered[r].name) == len &&
				    strncmp(job.registered[r].name, job.opts[i], len) == 0)
					o = &job.registered[r];
			if (!o)
				die("--opt %s: the plugin registered no such option", job.opts[i]);
			if (o->cb && o->cb(o->val, o->has_arg ? job.opts[i] + len + 1 : NULL, 1) != 0)
				die("--opt %s: the plugin's callback refused it", job.opts[i]);
		}
	/* The plugin keeps a remote failure for task_init and returns 0. */
	for (int i = 0; i < n_plugins; i++)
		if (plugins[i].init_post_opt)
			plugins[i].init_post_opt(sp, job.n_args, job.args);
	for (int i = 0; i < n_plugins; i++)
		if (plugins[i].exit)
			plugins[i].exit(sp, job.n_args, job.args);
}

static void job_epilog(spank_t sp)
{
	int ran = 0;

	job.ctx = S_CTX_JOB_SCRIPT;
	for (int i = 0; i < n_plugins; i++)
		if (plugins[i].job_epilog) {
			if (plugins[i].job_epilog(sp, job.n_args, job.args) != 0)
				die("slurm_spank_job_epilog failed: a real epilog failure drains the node");
			ran = 1;
		}
	if (!ran)
		die("no plugin has slurm_spank_job_epilog (give --plugin spank_sandbox_named.so)");
	for (int i = 0; i < n_plugins; i++)
		if (plugins[i].exit)
			plugins[i].exit(sp, job.n_args, job.args);
}

static long number(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0)
		die("%s '%s': not a number", opt, s);
	return v;
}

static void add(char **list, int *n, const char *opt, const char *v)
{
	if (*n == MAX_ITEMS)
		die("%s: at most %d", opt, MAX_ITEMS);
	if (strcmp(opt, "--arg") != 0 && !strchr(v, '='))
		die("%s '%s': use NAME=VALUE", opt, v);
	list[(*n)++] = (char *)v;
}

static void usage(void)
{
	fprintf(stderr, "usage: fake-stepd --plugin SO [--plugin SO] --scenario prepare|epilog --uid N --gid N\n"
			"         [--groups G,..] [--job N] [--step N] [--tasks N] [--arg K=V]..\n"
			"         [--opt NAME=VALUE].. [--env NAME=VALUE].. [--iterations N] [--seconds S]\n"
			"         [--user-tree DIR,N,LINK] [--watch PATH]..\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plugin", required_argument, NULL, 'p' }, { "scenario", required_argument, NULL, 's' },
		{ "uid", required_argument, NULL, 'u' },    { "gid", required_argument, NULL, 'g' },
		{ "groups", required_argument, NULL, 'G' }, { "job", required_argument, NULL, 'j' },
		{ "step", required_argument, NULL, 'S' },   { "tasks", required_argument, NULL, 't' },
		{ "arg", required_argument, NULL, 'a' },    { "opt", required_argument, NULL, 'o' },
		{ "env", required_argument, NULL, 'e' },    { "iterations", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'T' }, { "user-tree", required_argument, NULL, 'U' },
		{ "watch", required_argument, NULL, 'w' },  { NULL, 0, NULL, 0 },
	};
	const char *plugin_path[MAX_PLUGINS], *scenario = NULL;
	struct user_tree tree = { .files = -1 };
	long iterations = 1, seconds = 0, done = 0;
	int c, uid_set = 0, gid_set = 0, changes = 0;
	struct spank_handle handle = { .magic = 1 };
	char what[8 * PATH_MAX];
	double start, end;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (n_plugins == MAX_PLUGINS)
				die("--plugin: at most %d", MAX_PLUGINS);
			plugin_path[n_plugins++] = optarg;
			break;
		case 's': scenario = optarg; break;
		case 'u': job.uid = (uid_t)number("--uid", optarg); uid_set = 1; break;
		case 'g': job.gid = (gid_t)number("--gid", optarg); gid_set = 1; break;
		case 'G':
			for (char *g = strtok(optarg, ","); g; g = strtok(NULL, ",")) {
				if (job.n_groups == MAX_ITEMS)
					die("--groups: at most %d", MAX_ITEMS);
				job.groups[job.n_groups++] = (gid_t)number("--groups", g);
			}
			break;
		case 'j': job.job = (uint32_t)number("--job", optarg); break;
		case 'S': job.step = (uint32_t)number("--step", optarg); break;
		case 't': job.tasks = (uint32_t)number("--tasks", optarg); break;
		case 'a': add(job.args, &job.n_args, "--arg", optarg); break;
		case 'o': add(job.opts, &job.n_opts, "--opt", optarg); break;
		case 'e': add(job.env, &job.n_env, "--env", optarg); break;
		case 'n': iterations = number("--iterations", optarg); break;
		case 'T': seconds = number("--seconds", optarg); break;
		case 'U':
			if (sscanf(optarg, "%4095[^,],%d,%4095s", tree.dir, &tree.files, tree.link) != 3 ||
			    tree.dir[0] != '/' || tree.files < 0 || tree.files > 999)
				die("--user-tree '%s': use /DIR,N,LINK (N up to 999)", optarg);
			break;
		case 'w':
			if (n_watches == MAX_ITEMS)
				die("--watch: at most %d", MAX_ITEMS);
			watches[n_watches++].path = optarg;
			break;
		default: usage();
		}
	}
	if (optind != argc || !n_plugins || !scenario || !uid_set || !gid_set || iterations < 1 ||
	    (strcmp(scenario, "prepare") != 0 && strcmp(scenario, "epilog") != 0))
		usage();
	if (geteuid() != 0)
		die("run me as root: the plugin's callbacks run as root in slurmstepd");
	for (int i = 0; i < job.n_env; i++)
		if (!(job.env[i] = strdup(job.env[i])))
			die("out of memory");
	for (int w = 0; w < n_watches; w++)
		snapshot(watches[w].path, &watches[w].e, &watches[w].n);
	for (int i = 0; i < n_plugins; i++)
		load(plugin_path[i], &plugins[i]);

	start = now();
	end = start + (double)seconds;
	while (done < iterations && !(seconds > 0 && now() >= end)) {
		if (tree.files >= 0)
			user_tree(&tree, done + 1);
		if (strcmp(scenario, "prepare") == 0)
			step_prepare(&handle);
		else
			job_epilog(&handle);
		done++;
		job.step++;
		changes = canary_changed(what, sizeof(what));
		if (changes > 0)
			break;
	}
	if (changes > 0)
		printf("fake-stepd: %s: CANARY CHANGED after %ld iteration%s (%.1f s), %d change%s: %s",
		       scenario, done, done == 1 ? "" : "s", now() - start, changes,
		       changes == 1 ? "" : "s", what);
	else
		printf("fake-stepd: %s: %ld iteration%s in %.1f s, no canary changed", scenario, done,
		       done == 1 ? "" : "s", now() - start);
	printf("; the plugin logged %ld line%s\n", job.messages, job.messages == 1 ? "" : "s");
	if (fflush(stdout) != 0)
		die("stdout: %s", strerror(errno));
	return changes > 0 ? 3 : 0;
}
