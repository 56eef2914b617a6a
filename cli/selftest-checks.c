/* The checks of `sandbox-run selftest`, each a real sandbox running the
 * probe (probe/sandbox-probe.c), compared with what the plan promises
 * under the site policy (st->plan). A check whose protection the policy
 * itself turned off FAILs with that key's FILE:LINE (st_key). */
#include "selftest-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "info-probe.h"

#define KEY_MAX (PATH_MAX + 160)

/* The first line of stderr, for a reason. */
static const char *first_err(struct st *st)
{
	char *nl = strchr(st->err, '\n'); // NOLINT(clang-analyzer-core.NonNullParamChecker): an array

	if (nl)
		*nl = '\0';
	return st->err[0] ? st->err : "no message";
}

/* "KEY: VALUE" in out, its value into buf (NULL when absent). */
static const char *field(const char *out, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			const char *v = p + klen + 1 + strspn(p + klen + 1, " \t");

			snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
			return buf;
		}
	}
	return NULL;
}

static const char *const no_opts[] = { NULL };

/* --- uid and gid maps ------------------------------------------------- */

/* The map must hold one line: inside -> the caller's own id, count 1. */
static void check_map(struct st *st, const char *name, const char *file, unsigned long own,
		      unsigned long inside)
{
	const char *args[] = { "read", file, NULL };
	unsigned long in, outside, count;
	int n;

	if (st_run(st, NULL, no_opts, args) != 0) {
		st_report(st, name, ST_FAIL, "the sandbox did not run: %s", first_err(st));
		return;
	}
	if (sscanf(st->out, "%lu %lu %lu %n", &in, &outside, &count, &n) != 3 || st->out[n] != '\0')
		st_report(st, name, ST_FAIL, "%s holds more than one line: %s", file, st->out);
	else if (outside != own || count != 1 || in != inside)
		st_report(st, name, ST_FAIL, "%s maps %lu to %lu (%lu ids), not %lu to your own %lu only",
			  file, in, outside, count, inside, own);
	else
		st_report(st, name, ST_PASS, "%s maps %lu inside to your own %lu, nothing else", file, in, own);
}

void st_check_identity(struct st *st)
{
	check_map(st, "uid-map", "/proc/self/uid_map", getuid(), st->plan.remap_root ? 0 : getuid());
	check_map(st, "gid-map", "/proc/self/gid_map", getgid(), st->plan.remap_root ? 0 : getgid());
}

/* --- capabilities, no_new_privs, seccomp mode -------------------------- */

void st_check_status(struct st *st)
{
	const char *args[] = { "status", NULL };
	char eff[64] = "", bnd[64] = "", nnp[16] = "", mode[16] = "", key[KEY_MAX];
	uint64_t want = st->plan.caps;

	if (st_run(st, NULL, no_opts, args) != 0 || !field(st->out, "CapEff", eff, sizeof(eff)) ||
	    !field(st->out, "CapBnd", bnd, sizeof(bnd)) || !field(st->out, "NoNewPrivs", nnp, sizeof(nnp)) ||
	    !field(st->out, "Seccomp", mode, sizeof(mode))) {
		st_report(st, "capabilities", ST_FAIL, "no /proc/self/status from the sandbox: %s", first_err(st));
		return;
	}
	if (want)
		st_report(st, "capabilities", ST_FAIL, "kept inside: CapEff %s, by %s", eff,
			  st_key(st, "security.capabilities", "...", key, sizeof(key)));
	else if (strtoull(eff, NULL, 16) != 0 || strtoull(bnd, NULL, 16) != 0)
		st_report(st, "capabilities", ST_FAIL, "CapEff %s CapBnd %s: not all dropped", eff, bnd);
	else
		st_report(st, "capabilities", ST_PASS, "none: CapEff and CapBnd are 0");
	if (strcmp(nnp, "1") != 0)
		st_report(st, "no_new_privs", ST_FAIL, "NoNewPrivs is %s: setuid files could raise privileges", nnp);
	else
		st_report(st, "no_new_privs", ST_PASS, "NoNewPrivs is 1");
	if (!st->plan.seccomp)
		st_report(st, "seccomp", ST_FAIL, "no filter: turned off by %s",
			  st_key(st, "security.seccomp", "no", key, sizeof(key)));
	else if (strcmp(mode, "2") != 0)
		st_report(st, "seccomp", ST_FAIL, "Seccomp is %s, not 2 (filter): the filter is not in force", mode);
	else
		st_report(st, "seccomp", ST_PASS, "a filter is in force (Seccomp: 2), %zu system calls denied",
			  st->plan.seccomp_deny.n);
}

/* --- the seccomp denials ------------------------------------------------ */

void st_check_seccomp_denials(struct st *st)
{
	/* The probe's name, the system call the deny list names. */
	static const struct { const char *probe, *syscall; } calls[] = {
		{ "keyctl", "keyctl" }, { "add-key", "add_key" }, { "unshare-user", "unshare" },
		{ "mount", "mount" }, { "bpf", "bpf" }, { "perf", "perf_event_open" },
		{ "userfaultfd", "userfaultfd" }, { "tiocsti", NULL },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const char *args[] = { calls[i].probe, NULL };
		char name[32], got[64] = "", key[KEY_MAX];
		int denied;

		snprintf(name, sizeof(name), "seccomp-%s", calls[i].probe);
		if (!st->plan.seccomp) {
			st_report(st, name, ST_SKIP, "the filter is off (see the seccomp check)");
			continue;
		}
		if (st_run(st, NULL, no_opts, args) != 0 || !field(st->out, calls[i].probe, got, sizeof(got))) {
			st_report(st, name, ST_FAIL, "the probe did not answer: %s", first_err(st));
			continue;
		}
		/* TIOCSTI is refused by argument, the upper 32 bits ignored. */
		denied = calls[i].syscall ? strcmp(got, "EPERM") == 0
					  : strcmp(got, "EPERM high-bits: EPERM") == 0;
		if (calls[i].syscall && !sbx_strv_contains(&st->plan.seccomp_deny, calls[i].syscall))
			st_report(st, name, ST_FAIL, "%s answered %s: let through by %s", calls[i].syscall, got,
				  st_key(st, "security.seccomp_allow", calls[i].syscall, key, sizeof(key)));
		else if (!denied)
			st_report(st, name, ST_FAIL, "%s answered %s, not EPERM: the filter did not refuse it",
				  calls[i].syscall ? calls[i].syscall : "ioctl(TIOCSTI)", got);
		else
			st_report(st, name, ST_PASS, "%s refused with EPERM",
				  calls[i].syscall ? calls[i].syscall : "ioctl(TIOCSTI), also with junk in the upper bits");
	}
}

/* --- file descriptors ---------------------------------------------------- */

/* A check whose probe prints one line: PASS when it is want. */
static void check_line(struct st *st, const char *name, const char *const *opts,
		       const char *const *args, const char *want, const char *wrong, const char *right)
{
	size_t len = strlen(want);

	if (st_run(st, NULL, opts, args) != 0)
		st_report(st, name, ST_FAIL, "the sandbox did not run: %s", first_err(st));
	/* st->out is an array: the analyzer's "null pointer" here is its own mistake. */
	else if (strncmp(st->out, want, len) != 0 || strcmp(st->out + len, "\n") != 0) // NOLINT(clang-analyzer-core.NonNullParamChecker)
		st_report(st, name, ST_FAIL, "%s: '%.*s'", wrong, (int)strcspn(st->out, "\n"), st->out);
	else
		st_report(st, name, ST_PASS, "%s", right);
}

void st_check_fds(struct st *st)
{
	const char *args[] = { "fds", NULL };

	check_line(st, "fds", no_opts, args, "fds: 0 1 2",
		   "the command inherits more than stdin, stdout and stderr",
		   "only 0 1 2 are open in the command");
}

/* --- /proc and mount propagation (the sandbox's mountinfo) ---------------- */

/* mountinfo(5): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER". */
static int mount_line(const char *line, char *point, size_t plen, char *opts, size_t olen,
		      char *optional, size_t oplen)
{
	const char *dash = strstr(line, " - ");
	int n = 0;

	if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s %255s %n", point, opts, &n) != 2 ||
	    plen < 1024 || olen < 256)
		return -1;
	snprintf(optional, oplen, "%.*s", dash > line + n ? (int)(dash - line - n) : 0, line + n);
	return 0;
}

void st_check_mounts(struct st *st)
{
	static const char *const covered[] = { "/proc/sys", "/proc/sysrq-trigger", NULL };
	const char *args[] = { "read", "/proc/self/mountinfo", NULL };
	char shared[1024] = "", missing[256] = "";
	int lines = 0;

	if (st_run(st, NULL, no_opts, args) != 0) {
		st_report(st, "proc-masking", ST_FAIL, "the sandbox did not run: %s", first_err(st));
		st_report(st, "mount-propagation", ST_FAIL, "the sandbox did not run");
		return;
	}
	for (size_t i = 0; covered[i]; i++) {
		int ro = 0;

		/* A fresh /proc has what the host's has (no sysrq-trigger
		 * without CONFIG_MAGIC_SYSRQ): nothing to cover then. */
		if (access(covered[i], F_OK) < 0)
			continue;

		for (const char *p = st->out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			char point[1024], opts[256], optional[512], line[2048];

			snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
			if (mount_line(line, point, sizeof(point), opts, sizeof(opts), optional, sizeof(optional)) < 0)
				continue;
			if (strcmp(point, covered[i]) == 0)
				ro = strncmp(opts, "ro", 2) == 0 && (opts[2] == ',' || !opts[2]);
		}
		if (!ro)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s", covered[i]);
	}
	for (const char *p = st->out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char point[1024], opts[256], optional[512], line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		if (mount_line(line, point, sizeof(point), opts, sizeof(opts), optional, sizeof(optional)) < 0)
			continue;
		lines++;
		if (strstr(optional, "shared:") && strlen(shared) + strlen(point) + 2 < sizeof(shared))
			snprintf(shared + strlen(shared), sizeof(shared) - strlen(shared), " %s", point);
	}
	if (missing[0])
		st_report(st, "proc-masking", ST_FAIL, "not read-only inside:%s", missing);
	else
		st_report(st, "proc-masking", ST_PASS, "/proc/sys%s read-only",
			  access("/proc/sysrq-trigger", F_OK) == 0 ? " and /proc/sysrq-trigger are" : " is");
	if (!lines)
		st_report(st, "mount-propagation", ST_FAIL, "no mountinfo from the sandbox");
	else if (shared[0])
		st_report(st, "mount-propagation", ST_FAIL, "shared with a peer group (mounts propagate):%s", shared);
	else
		st_report(st, "mount-propagation", ST_PASS, "none of the %d mounts is shared: nothing propagates out",
			  lines);
}

/* --- namespaces -------------------------------------------------------- */

static unsigned long host_ns(const char *name)
{
	char path[64], target[128];
	unsigned long ino = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return 0;
	target[len] = '\0';
	sscanf(target, "%*[^[][%lu]", &ino);
	return ino;
}

/* The sandbox's inode of namespace name, from a `probe ns` run in st->out. */
static unsigned long sandbox_ns(const struct st *st, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "%s:", name);
	for (p = st->out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, strlen(key)) == 0)
			return strtoul(p + strlen(key), NULL, 10);
	return 0;
}

void st_check_namespaces(struct st *st)
{
	static const char *const names[] = { "user", "mnt", "pid", "ipc", "uts", "cgroup", NULL };
	const char *ns_args[] = { "ns", NULL }, *init_args[] = { "read", "/proc/1/comm", NULL };
	char same[128] = "";

	if (st_run(st, NULL, no_opts, ns_args) != 0) {
		st_report(st, "namespaces", ST_FAIL, "the sandbox did not run: %s", first_err(st));
	} else {
		for (size_t i = 0; names[i]; i++) {
			unsigned long in = sandbox_ns(st, names[i]);

			if (!in || in == host_ns(names[i]))
				snprintf(same + strlen(same), sizeof(same) - strlen(same), " %s", names[i]);
		}
		if (same[0])
			st_report(st, "namespaces", ST_FAIL, "the host's own:%s", same);
		else
			st_report(st, "namespaces", ST_PASS, "user, mnt, pid, ipc, uts and cgroup are the sandbox's own");
	}
	check_line(st, "pid-namespace", no_opts, init_args, "sandbox-init",
		   "pid 1 is not sandbox-init", "pid 1 is sandbox-init, in a fresh /proc");
}

/* --- network ------------------------------------------------------------- */

void st_check_network(struct st *st)
{
	const char *none[] = { "--net", "none", NULL }, *host[] = { "--net", "host", NULL };
	const char *ns_args[] = { "ns", NULL }, *dev_args[] = { "read", "/proc/net/dev", NULL };
	char key[KEY_MAX], ifaces[256] = "";
	unsigned long in;

	/* --net none: a namespace of its own with loopback alone. */
	if (st_run(st, NULL, none, ns_args) != 0 || !(in = sandbox_ns(st, "net"))) {
		st_report(st, "net-none", ST_FAIL, "the sandbox did not run: %s", first_err(st));
	} else if (in == host_ns("net")) {
		st_report(st, "net-none", ST_FAIL, "--net none runs in the host's network namespace");
	} else if (st_run(st, NULL, none, dev_args) != 0) {
		st_report(st, "net-none", ST_FAIL, "no /proc/net/dev: %s", first_err(st));
	} else {
		/* Two header lines, then "  NAME: counters". */
		const char *p = strchr(st->out, '\n');

		p = p ? strchr(p + 1, '\n') : NULL;
		for (p = p ? p + 1 : NULL; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			const char *name = p + strspn(p, " ");

			snprintf(ifaces + strlen(ifaces), sizeof(ifaces) - strlen(ifaces), "%s%.*s",
				 ifaces[0] ? " " : "", (int)strcspn(name, ":\n"), name);
		}
		if (strcmp(ifaces, "lo") != 0)
			st_report(st, "net-none", ST_FAIL, "--net none sees interfaces: %s", ifaces);
		else
			st_report(st, "net-none", ST_PASS, "--net none: its own namespace, loopback only");
	}
	if (!st->pol.allow_net_host) {
		st_report(st, "net-host", ST_SKIP, "--net host is refused by %s",
			  st_key(st, "namespaces.allow_net_host", "no", key, sizeof(key)));
	} else if (st_run(st, NULL, host, ns_args) != 0 || !(in = sandbox_ns(st, "net"))) {
		st_report(st, "net-host", ST_FAIL, "the sandbox did not run: %s", first_err(st));
	} else if (in != host_ns("net")) {
		st_report(st, "net-host", ST_FAIL, "--net host runs in a network namespace of its own");
	} else {
		st_report(st, "net-host", ST_PASS, "--net host: the node's network namespace");
	}
}

/* --- hostname ------------------------------------------------------------ */

void st_check_hostname(struct st *st)
{
	const char *opts[] = { "--hostname", "sbx-selftest", NULL };
	const char *args[] = { "read", "/proc/sys/kernel/hostname", NULL };
	char before[256] = "", after[256] = "", key[KEY_MAX];

	if (!st->pol.allow_hostname) {
		st_report(st, "hostname", ST_SKIP, "--hostname is refused by %s",
			  st_key(st, "namespaces.allow_hostname", "no", key, sizeof(key)));
		return;
	}
	gethostname(before, sizeof(before) - 1);
	if (st_run(st, NULL, opts, args) != 0)
		st_report(st, "hostname", ST_FAIL, "the sandbox did not run: %s", first_err(st));
	else if (gethostname(after, sizeof(after) - 1) < 0 || strcmp(before, after) != 0)
		st_report(st, "hostname", ST_FAIL, "the host's name changed from %s to %s", before, after);
	else if (strcmp(st->out, "sbx-selftest\n") != 0)
		st_report(st, "hostname", ST_FAIL, "inside it is '%.*s', not sbx-selftest",
			  (int)strcspn(st->out, "\n"), st->out);
	else
		st_report(st, "hostname", ST_PASS, "sbx-selftest inside, %s outside, unchanged", after);
}

/* --- cgroup limits -------------------------------------------------------- */

static void check_limit(struct st *st, const char *name, const char *opt, const char *value,
			const char *file, const char *want)
{
	const char *opts[] = { opt, value, NULL }, *args[] = { "read", file, NULL };

	if (st_run(st, NULL, opts, args) != 0) {
		/* No delegated cgroup v2 here: the launch says so, and why. */
		if (strstr(st->err, "cgroup"))
			st_report(st, name, ST_SKIP, "%s", first_err(st));
		else
			st_report(st, name, ST_FAIL, "the sandbox did not run: %s", first_err(st));
	} else if (strstr(st->err, "cgroup")) {
		st_report(st, name, ST_SKIP, "%s", first_err(st));
	} else if (strncmp(st->out, want, strlen(want)) != 0 || st->out[strlen(want)] != '\n') {
		st_report(st, name, ST_FAIL, "%s %s gives %s '%.*s', not %s", opt, value, file,
			  (int)strcspn(st->out, "\n"), st->out, want);
	} else {
		st_report(st, name, ST_PASS, "%s %s: %s inside reads %s", opt, value, file, want);
	}
}

void st_check_cgroups(struct st *st)
{
	char key[KEY_MAX];

	if (st->pol.cg_max_memory && st->pol.cg_max_memory < (64u << 20))
		st_report(st, "cgroup-memory", ST_SKIP, "--memory 64M is above %s",
			  st_key(st, "cgroups.max_memory", "...", key, sizeof(key)));
	else
		check_limit(st, "cgroup-memory", "--memory", "64M", "/sys/fs/cgroup/memory.max", "67108864");
	if (st->pol.cg_max_pids && st->pol.cg_max_pids < 64)
		st_report(st, "cgroup-pids", ST_SKIP, "--pids 64 is above %s",
			  st_key(st, "cgroups.max_pids", "...", key, sizeof(key)));
	else
		check_limit(st, "cgroup-pids", "--pids", "64", "/sys/fs/cgroup/pids.max", "64");
}

/* --- images ---------------------------------------------------------------- */

/* Run a program, quietly; its exit status or -1. */
static int run_quiet(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_squashfs(struct st *st)
{
	const char *args[] = { "uid", NULL };
	char mksquashfs[PATH_MAX], squashfuse[PATH_MAX], image[PATH_MAX + 16];

	if (!find_program("mksquashfs", mksquashfs, sizeof(mksquashfs))) {
		st_report(st, "image-squashfs", ST_SKIP, "no mksquashfs to make the test image (apt-get install squashfs-tools)");
		return;
	}
	if (!find_program("squashfuse", squashfuse, sizeof(squashfuse)) || access("/dev/fuse", R_OK | W_OK) < 0) {
		st_report(st, "image-squashfs", ST_SKIP, "no squashfuse or no usable /dev/fuse: squashfs images cannot be mounted here (sandbox-run info says why)");
		return;
	}
	snprintf(image, sizeof(image), "%s/image.sqfs", st->tmp);
	{
		char *argv[] = { mksquashfs, st->rootfs, image, "-quiet", "-no-progress", "-noappend", NULL };

		if (run_quiet(argv) != 0) {
			st_report(st, "image-squashfs", ST_FAIL, "%s could not make %s", mksquashfs, image);
			return;
		}
	}
	if (st_run(st, image, no_opts, args) != 0 || strncmp(st->out, "uid:", 4) != 0)
		st_report(st, "image-squashfs", ST_FAIL, "a squashfs image did not run: %s", first_err(st));
	else
		st_report(st, "image-squashfs", ST_PASS, "a squashfs image, mounted with squashfuse, unpacked nowhere");
}

/* The scratch image as a tar archive, written by tar(1) (Debian marks it
 * essential): libarchive's writer would pull every format it can write,
 * with libxml2, ICU and libstdc++, into sandbox-run, which every start
 * execs (docs/performance.md). 1: written, 0: no tar here, -1: failed. */
static int write_tar(const struct st *st, const char *path)
{
	char tar[PATH_MAX];

	if (!find_program("tar", tar, sizeof(tar)))
		return 0;
	{
		char *argv[] = { tar, "--format=pax", "-C", (char *)st->rootfs, "-cf", (char *)path, ".", NULL };

		return run_quiet(argv) == 0 ? 1 : -1;
	}
}

static void check_archive(struct st *st)
{
	const char *args[] = { "uid", NULL };
	char image[PATH_MAX + 16], cache[PATH_MAX + 48];
	struct stat sb;
	int rc;

	snprintf(image, sizeof(image), "%s/image.tar", st->tmp);
	snprintf(cache, sizeof(cache), "%s/%u", st->cache, (unsigned)getuid());
	rc = write_tar(st, image);
	if (rc == 0)
		st_report(st, "image-archive", ST_SKIP, "no tar to make the test image (apt-get install tar)");
	else if (rc < 0)
		st_report(st, "image-archive", ST_FAIL, "tar could not write %s", image);
	else if (st_run(st, image, no_opts, args) != 0 || strncmp(st->out, "uid:", 4) != 0) // NOLINT(clang-analyzer-core.NonNullParamChecker): an array
		st_report(st, "image-archive", ST_FAIL, "a tar image did not run: %s", first_err(st));
	else if (stat(cache, &sb) < 0)
		st_report(st, "image-archive", ST_FAIL, "it ran, but nothing was imported into %s", cache);
	else
		st_report(st, "image-archive", ST_PASS, "a tar archive imported into a scratch cache and run");
}

void st_check_images(struct st *st)
{
	check_squashfs(st);
	check_archive(st);
}

/* --- stress --------------------------------------------------------------- */

/* Read fd until a line starts with want, or EOF / a minute passes. */
static int wait_for_line(int fd, const char *want)
{
	char buf[256];
	size_t len = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 60000) <= 0)
			return -1;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, want))
			return 0;
		if (len == sizeof(buf) - 1)
			return -1;
	}
}

void st_check_stress(struct st *st)
{
	const char *spawn100[] = { "spawn", "100", st->comm, "exit", NULL };
	const char *spawn10[] = { "spawn", "10", st->comm, "hold", NULL };
	char key[KEY_MAX];
	int left, rounds = 10, done = 0;

	if (st->plan.cg_pids && st->plan.cg_pids < 128) {
		st_report(st, "stress-processes", ST_SKIP, "100 processes are over %s",
			  st_key(st, "cgroups.pids", "...", key, sizeof(key)));
	} else if (st_run(st, NULL, no_opts, spawn100) != 0 || strcmp(st->out, "spawn: 100\n") != 0) {
		st_report(st, "stress-processes", ST_FAIL, "could not start 100 processes: %.*s %s",
			  (int)strcspn(st->out, "\n"), st->out, first_err(st));
	} else if ((left = st_count_named(st)) != 0) {
		st_report(st, "stress-processes", ST_FAIL, "%d of 100 processes outlived their sandbox", left);
	} else {
		st_report(st, "stress-processes", ST_PASS, "100 processes started, none left once the command exited");
	}
	/* Rapid spawn and kill: each sandbox holds 11 processes when SIGTERM
	 * reaches sandbox-run, which must take them all down. */
	for (; done < rounds; done++) {
		int out_fd = -1, status;
		pid_t pid = st_start(st, no_opts, spawn10, &out_fd);

		if (pid < 0)
			break;
		if (wait_for_line(out_fd, "spawn: 10\n") < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(out_fd);
			break;
		}
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		close(out_fd);
	}
	left = st_count_named(st);
	if (done < rounds)
		st_report(st, "stress-spawn-kill", ST_FAIL, "sandbox %d of %d never held its 11 processes", done + 1,
			  rounds);
	else if (left)
		st_report(st, "stress-spawn-kill", ST_FAIL, "%d processes outlived their killed sandboxes", left);
	else
		st_report(st, "stress-spawn-kill", ST_PASS, "%d sandboxes of 11 processes killed with SIGTERM, none left",
			  rounds);
}
