/* `sandbox-run selftest`: the driver. It builds the scratch image (a
 * directory with the installed static probe, and from it a tar archive and,
 * where mksquashfs exists, a squashfs), runs each check as a real sandbox
 * started by this binary under the site policy, reports, and leaves
 * nothing behind: the scratch directory, its mounts and every process the
 * checks started are gone when it returns, and the last check says so.
 *
 * What a FAIL means: a protection the project gives every sandbox (its own
 * namespaces, ids mapped to the caller only, no capabilities, no_new_privs,
 * the seccomp filter and its denials, no inherited fds, /proc covered, no
 * mount propagation, cleanup) is not in force. When the site policy is
 * what turned it off, the reason names the key and its FILE:LINE: an admin
 * who chose that sees exactly what it costs. */
#include "selftest.h"
#include "selftest-int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "json-out.h"
#include "spec/request.h"
#include "util/fsutil.h"

#ifndef SBX_PROBE_PATH
#define SBX_PROBE_PATH "/usr/local/libexec/sandbox-probe"
#endif

#define EXIT_SETUP 125
#define RUN_TIMEOUT_MS 60000

void st_report(struct st *st, const char *name, enum st_result result, const char *fmt, ...)
{
	struct st_check *grown = realloc(st->checks, (st->n_checks + 1) * sizeof(*grown));
	va_list ap;

	if (!grown) {
		st->broken = 1;
		return;
	}
	st->checks = grown;
	grown += st->n_checks++;
	snprintf(grown->name, sizeof(grown->name), "%s", name);
	grown->result = result;
	va_start(ap, fmt);
	vsnprintf(grown->reason, sizeof(grown->reason), fmt, ap);
	va_end(ap);
}

const char *st_key(const struct st *st, const char *key, const char *value, char *buf, size_t len)
{
	char origin[PATH_MAX + 64];

	if (!sbx_policy_origin(&st->pol, key, origin, sizeof(origin)))
		snprintf(origin, sizeof(origin), "?");
	snprintf(buf, len, "%s = %s (%s)", key, value, origin);
	return buf;
}

/* argv for sandbox-run: the options, then the probe as the command. */
static char **run_argv(struct st *st, const char *image, const char *const *opts,
		       const char *const *probe_args)
{
	size_t n = 0, i = 0;
	char **argv;

	while (opts && opts[n])
		n++;
	for (size_t k = 0; probe_args[k]; k++)
		n++;
	argv = calloc(n + 8, sizeof(*argv));
	if (!argv)
		return NULL;
	argv[i++] = st->self;
	argv[i++] = "--config";
	argv[i++] = st->conf;
	argv[i++] = "--image";
	argv[i++] = (char *)(image ? image : st->rootfs);
	for (size_t k = 0; opts && opts[k]; k++)
		argv[i++] = (char *)opts[k];
	argv[i++] = "--";
	argv[i++] = "/bin/sbx-probe";
	for (size_t k = 0; probe_args[k]; k++)
		argv[i++] = (char *)probe_args[k];
	return argv;
}

/* The child's side: stdin from /dev/null, stdout and stderr to the pipes
 * (err_fd -1: /dev/null), then sandbox-run. */
static void exec_child(char **argv, int out_fd, int err_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(err_fd >= 0 ? err_fd : null, 2) < 0)
		_exit(EXIT_SETUP);
	execv(argv[0], argv);
	_exit(EXIT_SETUP);
}

static int exit_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int st_run(struct st *st, const char *image, const char *const *opts, const char *const *probe_args)
{
	char **argv = run_argv(st, image, opts, probe_args);
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, status = 0, rc = -1;
	size_t n_out = 0, n_err = 0;
	pid_t pid = -1;

	st->out[0] = st->err[0] = '\0';
	st->status = -1;
	if (!argv || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		snprintf(st->err, sizeof(st->err), "selftest: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(st->err, sizeof(st->err), "selftest: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_child(argv, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	/* Both pipes to their end; a sandbox that hangs is killed. */
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
		int ready = poll(fds, 2, RUN_TIMEOUT_MS);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			kill(pid, SIGKILL);
			snprintf(st->err, sizeof(st->err), "no answer within %d s: killed", RUN_TIMEOUT_MS / 1000);
			break;
		}
		for (int k = 0; k < 2; k++) {
			char *buf = k ? st->err : st->out;
			size_t cap = k ? sizeof(st->err) : sizeof(st->out), *len = k ? &n_err : &n_out;
			char scratch[512];
			ssize_t got;

			if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)) || fds[k].fd < 0)
				continue;
			/* Past the buffer's end, the rest is read and dropped. */
			got = *len + 1 < cap ? read(fds[k].fd, buf + *len, cap - 1 - *len)
					     : read(fds[k].fd, scratch, sizeof(scratch));
			if (got > 0 && *len + 1 < cap) {
				*len += (size_t)got;
				buf[*len] = '\0';
			} else if (got == 0 || (got < 0 && errno != EINTR)) {
				close(k ? err[0] : out[0]);
				if (k)
					err[0] = -1;
				else
					out[0] = -1;
				open_fds--;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	st->status = exit_status(status);
	rc = st->status;
out:
	for (int k = 0; k < 2; k++) {
		if (out[k] >= 0)
			close(out[k]);
		if (err[k] >= 0)
			close(err[k]);
	}
	free(argv);
	return rc;
}

pid_t st_start(struct st *st, const char *const *opts, const char *const *probe_args, int *out_fd)
{
	char **argv = run_argv(st, NULL, opts, probe_args);
	int out[2];
	pid_t pid = -1;

	if (!argv || pipe2(out, O_CLOEXEC) < 0)
		goto out;
	pid = fork();
	if (pid == 0)
		exec_child(argv, out[1], -1);
	close(out[1]);
	if (pid < 0)
		close(out[0]);
	else
		*out_fd = out[0];
out:
	free(argv);
	return pid;
}

int st_count_named(const struct st *st)
{
	DIR *proc = opendir("/proc");
	struct dirent *ent;
	int n = 0;

	if (!proc)
		return -1;
	while ((ent = readdir(proc))) {
		char path[300], comm[32] = "";
		int fd;
		ssize_t len;

		if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", ent->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len > 0 && strncmp(comm, st->comm, strlen(st->comm)) == 0 && comm[strlen(st->comm)] == '\n')
			n++;
	}
	closedir(proc);
	return n;
}

/* --- the scratch image ------------------------------------------------ */

static int write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0)
		rc = 0;
	close(fd);
	return rc;
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\nnogroup:x:65534:\n";

/* The directory image: the probe as /bin/sbx-probe and the mount points
 * the sandbox needs. */
static int build_rootfs(struct st *st, char *why, size_t len)
{
	static const char *const dirs[] = { "bin", "etc", "proc", "dev", "sys", "tmp", "root", "home",
					    "mnt", "var", "var/tmp", NULL };
	int root = -1, probe = -1, rc = -1;
	struct stat sb;
	char *bytes = NULL;

	if (mkdir(st->rootfs, 0755) < 0 || (root = open(st->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, len, "%s: %s", st->rootfs, strerror(errno));
		goto out;
	}
	for (size_t i = 0; dirs[i]; i++)
		if (mkdirat(root, dirs[i], 0755) < 0) {
			snprintf(why, len, "%s/%s: %s", st->rootfs, dirs[i], strerror(errno));
			goto out;
		}
	if (fchmodat(root, "tmp", 01777, 0) < 0 || fchmodat(root, "var/tmp", 01777, 0) < 0 ||
	    write_file_at(root, "etc/passwd", passwd, strlen(passwd), 0644) < 0 ||
	    write_file_at(root, "etc/group", group, strlen(group), 0644) < 0) {
		snprintf(why, len, "%s/etc: %s", st->rootfs, strerror(errno));
		goto out;
	}
	probe = open(st->probe, O_RDONLY | O_CLOEXEC);
	if (probe < 0 || fstat(probe, &sb) < 0 || !(bytes = malloc((size_t)sb.st_size + 1)) ||
	    read(probe, bytes, (size_t)sb.st_size) != sb.st_size ||
	    write_file_at(root, "bin/sbx-probe", bytes, (size_t)sb.st_size, 0755) < 0) {
		snprintf(why, len, "copy %s into the image: %s", st->probe, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(bytes);
	if (probe >= 0)
		close(probe);
	if (root >= 0)
		close(root);
	return rc;
}

/* The site policy, plus where the scratch image and its cache are: appended
 * after the site's own lines, so those keep their line numbers, and a list
 * the site set (images.allowed) is added to, not replaced. */
static int write_conf(struct st *st, char *why, size_t len)
{
	FILE *in = NULL, *out = fopen(st->conf, "wxe");
	char buf[4096];
	size_t n;
	int rc = -1;

	if (!out) {
		snprintf(why, len, "%s: %s", st->conf, strerror(errno));
		goto out;
	}
	if (st->pol.path && !(in = fopen(st->pol.path, "re"))) {
		snprintf(why, len, "%s: %s", st->pol.path, strerror(errno));
		goto out;
	}
	while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fprintf(out, "\n[images]\nallowed = %s\ncache_dir = %s/cache\n", st->tmp, st->tmp);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(why, len, "%s: %s", st->conf, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return rc;
}

static int setup(struct st *st, char *why, size_t len)
{
	struct sbx_request req;
	struct sbx_err err = { 0 };
	const char *probe = getenv("SANDBOX_PROBE"), *tmpdir = getenv("TMPDIR");
	ssize_t n = readlink("/proc/self/exe", st->self, sizeof(st->self) - 1);
	int rc = -1;

	sbx_request_init(&req);
	if (n < 0) {
		snprintf(why, len, "/proc/self/exe: %s", strerror(errno));
		goto out;
	}
	st->self[n] = '\0';
	snprintf(st->probe, sizeof(st->probe), "%s", probe && *probe ? probe : SBX_PROBE_PATH);
	if (access(st->probe, X_OK) < 0) {
		snprintf(why, len, "probe %s: %s (install it with make install, or set SANDBOX_PROBE)",
			 st->probe, strerror(errno));
		goto out;
	}
	if (sbx_policy_open(&st->pol, st->site_path, st->site_path != NULL, &err) < 0 ||
	    sbx_plan_settings(&st->pol, &req, &st->plan, &err) < 0) {
		snprintf(why, len, "%s (check it with sandbox-run policy check)", err.msg);
		goto out;
	}
	snprintf(st->tmp, sizeof(st->tmp), "%s/sbx-selftest.XXXXXX", tmpdir && *tmpdir == '/' ? tmpdir : "/tmp");
	if (!mkdtemp(st->tmp)) {
		snprintf(why, len, "scratch directory %s: %s", st->tmp, strerror(errno));
		st->tmp[0] = '\0';
		goto out;
	}
	snprintf(st->rootfs, sizeof(st->rootfs), "%s/rootfs", st->tmp);
	snprintf(st->conf, sizeof(st->conf), "%s/sandbox.conf", st->tmp);
	snprintf(st->comm, sizeof(st->comm), "sbxst-%06lx",
		 ((unsigned long)getpid() ^ (unsigned long)time(NULL)) & 0xffffff);
	if (build_rootfs(st, why, len) < 0 || write_conf(st, why, len) < 0)
		goto out;
	/* The archive check's cache: the caller's own directory, which the
	 * cache accepts as a site cache_dir. */
	snprintf(st->cache, sizeof(st->cache), "%s/cache", st->tmp);
	if (mkdir(st->cache, 0700) < 0) {
		snprintf(why, len, "%s: %s", st->cache, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sbx_request_free(&req);
	return rc;
}

/* The last check: no mount under the scratch directory on the host, no
 * process of the checks alive, and the directory itself removed. */
static void finish(struct st *st)
{
	char line[8192];
	int mounts = 0, procs = st_count_named(st), removed;
	FILE *mi = fopen("/proc/self/mountinfo", "re");

	while (mi && fgets(line, sizeof(line), mi))
		if (strstr(line, st->tmp))
			mounts++;
	if (mi)
		fclose(mi);
	removed = sbx_rmtree_at(AT_FDCWD, st->tmp) == 0 && access(st->tmp, F_OK) < 0 && errno == ENOENT;
	if (mounts || procs || !removed)
		st_report(st, "leftovers", ST_FAIL, "%d mount%s under %s, %d process%s named %s, scratch directory %s",
			  mounts, mounts == 1 ? "" : "s", st->tmp, procs, procs == 1 ? "" : "es", st->comm,
			  removed ? "removed" : "not removed");
	else
		st_report(st, "leftovers", ST_PASS, "no mount, no process and no file left behind (%s)", st->tmp);
	st->tmp[0] = '\0';
}

static const char *const result_words[] = { "PASS", "FAIL", "SKIP" };

static int print_report(const struct st *st, int json)
{
	size_t count[3] = { 0 };

	for (size_t i = 0; i < st->n_checks; i++)
		count[st->checks[i].result]++;
	if (json) {
		fputs("{\"checks\":[", stdout);
		for (size_t i = 0; i < st->n_checks; i++) {
			fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
			sbx_json_string(stdout, st->checks[i].name);
			printf(",\"result\":\"%s\",\"reason\":", result_words[st->checks[i].result]);
			sbx_json_string(stdout, st->checks[i].reason);
			fputc('}', stdout);
		}
		printf("],\"passed\":%zu,\"failed\":%zu,\"skipped\":%zu,\"ok\":%s}\n", count[ST_PASS],
		       count[ST_FAIL], count[ST_SKIP], count[ST_FAIL] ? "false" : "true");
	} else {
		for (size_t i = 0; i < st->n_checks; i++)
			printf("%s %s: %s\n", result_words[st->checks[i].result], st->checks[i].name,
			       st->checks[i].reason);
		printf("selftest: %zu passed, %zu failed, %zu skipped\n", count[ST_PASS], count[ST_FAIL],
		       count[ST_SKIP]);
	}
	return count[ST_FAIL] ? 1 : 0;
}

static void usage(FILE *out)
{
	fputs("usage: sandbox-run selftest [--config FILE] [--json]\n"
	      "\n"
	      "Check that sandboxes on this node are isolated as they should be, under the\n"
	      "site policy: ids, capabilities, no_new_privs, seccomp and its denials, fds,\n"
	      "/proc, mount propagation, namespaces, network, hostname, cgroup limits,\n"
	      "squashfs and archive images, and 100-process / spawn-and-kill stress with\n"
	      "nothing left behind. One line per check: PASS, FAIL or SKIP with the reason;\n"
	      "a FAIL caused by the policy names the key and its FILE:LINE.\n"
	      "Needs no compiler: the image is built around LIBEXECDIR/sandbox-probe\n"
	      "(SANDBOX_PROBE overrides it).\n"
	      "\n"
	      "Exit status: 0 no check failed, 1 one did, 2 usage, 125 setup error.\n", out);
}

int sbx_selftest_main(int argc, char **argv)
{
	struct st *st = calloc(1, sizeof(*st));
	char why[PATH_MAX + 256];
	int json = 0, rc = 2;

	if (!st) {
		fprintf(stderr, "sandbox: selftest: out of memory\n");
		return EXIT_SETUP;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			st->site_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			st->site_path = argv[i] + 9;
		} else {
			fprintf(stderr, "sandbox: selftest: unknown option '%s' (see 'sandbox-run selftest --help')\n",
				argv[i]);
			goto out;
		}
	}
	if (setup(st, why, sizeof(why)) < 0) {
		fprintf(stderr, "sandbox: selftest: %s\n", why);
		rc = EXIT_SETUP;
		goto out;
	}
	st_check_identity(st);
	st_check_status(st);
	st_check_seccomp_denials(st);
	st_check_fds(st);
	st_check_mounts(st);
	st_check_namespaces(st);
	st_check_network(st);
	st_check_hostname(st);
	st_check_cgroups(st);
	st_check_images(st);
	st_check_stress(st);
	finish(st);
	if (st->broken) {
		fprintf(stderr, "sandbox: selftest: out of memory\n");
		rc = EXIT_SETUP;
		goto out;
	}
	rc = print_report(st, json);
out:
	if (st->tmp[0])
		sbx_rmtree_at(AT_FDCWD, st->tmp);
	sbx_plan_free(&st->plan);
	sbx_policy_free(&st->pol);
	free(st->checks);
	free(st);
	if (fflush(stdout) == EOF && rc == 0)
		rc = 1;
	return rc;
}
