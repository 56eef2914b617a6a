/* sandbox-run info: what this host allows for unprivileged sandboxes, and why.
 *
 * Everything is probed the way the sandbox itself will use it, as the calling
 * user: sysctls are read, and namespaces, overlayfs, proc and seccomp are
 * actually tried in forked children. A child that mounts first enters its own
 * user and mount namespace and covers /tmp with a tmpfs there, so the host
 * never sees a mount or a temporary file, and everything vanishes when the
 * child exits. The checks are gathered into a report first and printed last,
 * so the text and JSON forms say exactly the same thing. */
#include "info.h"
#include "json-out.h"
#include "info-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PATH_BUF 4096

#define HINT_UNIFIED "cgroup v2 limits need a unified (cgroup v2) host: " \
	"boot with systemd.unified_cgroup_hierarchy=1"
#define HINT_DELEGATE "run inside a systemd user scope with Delegate=yes, e.g. " \
	"systemd-run --user --scope -p Delegate=yes sandbox-run ..."
#define HINT_APPARMOR "give sandbox-helper an AppArmor profile that allows 'userns,', " \
	"or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
#define HINT_USERNS_FIRST "fix unprivileged user namespaces first (see above)"

enum verdict { VERDICT_NA, VERDICT_NO, VERDICT_YES };

struct check {
	const char *name;
	enum verdict verdict;
	char detail[384];
	char hint[256];         /* "" when there is nothing to suggest */
};

/* More than the checks below can add; report_add() drops extras anyway. */
#define MAX_CHECKS 32

struct report {
	struct check checks[MAX_CHECKS];
	size_t n;
};


static void __attribute__((format(printf, 5, 6)))
report_add(struct report *r, const char *name, enum verdict v, const char *hint,
	   const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (r->n >= MAX_CHECKS)
		return;
	c = &r->checks[r->n++];
	c->name = name;
	c->verdict = v;
	snprintf(c->hint, sizeof(c->hint), "%s", hint ? hint : "");
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}


/* First line of a small file (sysctl, cgroup file), without its newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t got;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	do
		got = read(fd, buf, len - 1);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		goto out;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	ret = 0;
out:
	close_quietly(fd);
	return ret;
}

static int read_long(const char *path, long *value)
{
	char buf[64], *end;

	if (read_line(path, buf, sizeof(buf)) < 0)
		return -1;
	errno = 0;
	*value = strtol(buf, &end, 10);
	if (errno || end == buf) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}


/* The rest of the first line of PATH that starts with PREFIX; ENOENT if none. */
static int read_keyed_line(const char *path, const char *prefix, char *buf, size_t len)
{
	size_t cap = 0, prefix_len = strlen(prefix);
	char *line = NULL;
	int ret = -1;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	errno = ENOENT;
	while (ret < 0 && getline(&line, &cap, f) >= 0) {
		if (strncmp(line, prefix, prefix_len) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line + prefix_len);
			ret = 0;
		}
	}
	free(line);
	fclose(f);              /* read-only: nothing to lose */
	return ret;
}

/* A number in /proc/self/status, such as "Seccomp:" or "NoNewPrivs:". */
static int status_field(const char *key, long *value)
{
	char buf[64];

	if (read_keyed_line("/proc/self/status", key, buf, sizeof(buf)) < 0)
		return -1;
	*value = strtol(buf, NULL, 10);
	return 0;
}

/* ---- forked probes -------------------------------------------------- */


/* ---- the checks ----------------------------------------------------- */

static void check_kernel(struct report *r, int *major, int *minor)
{
	struct utsname uts;
	bool new_enough;

	*major = *minor = 0;
	if (uname(&uts) < 0) {
		report_add(r, "kernel", VERDICT_NA, NULL, "uname: %s", strerror(errno));
		return;
	}
	if (sscanf(uts.release, "%d.%d", major, minor) != 2) {
		report_add(r, "kernel", VERDICT_NA, NULL, "Linux %s %s (version not understood)",
			   uts.release, uts.machine);
		return;
	}
	new_enough = *major > 5 || (*major == 5 && *minor >= 11);
	report_add(r, "kernel", new_enough ? VERDICT_YES : VERDICT_NO,
		   "overlayfs in a user namespace needs Linux >= 5.11 or a distribution backport",
		   "Linux %s %s%s", uts.release, uts.machine,
		   new_enough ? "" : " (older than 5.11)");
}

/* Each known reason for a refused user namespace, most specific first. */
static const char *userns_hint(const struct probe *p, long max_ns, long clone,
			       long aa_restrict)
{
	long seccomp_mode = 0;

	if (max_ns == 0 || p->err == ENOSPC)
		return "sysctl -w user.max_user_namespaces=15000";
	if (clone == 0)
		return "sysctl -w kernel.unprivileged_userns_clone=1";
	if (aa_restrict == 1)
		return HINT_APPARMOR;
	if (p->err == EINVAL && strcmp(p->step, "unshare") == 0)
		return "the kernel was built without user namespaces (CONFIG_USER_NS)";
	if (p->err == EPERM && status_field("Seccomp:", &seccomp_mode) == 0 &&
	    seccomp_mode == SECCOMP_MODE_FILTER)
		return "a seccomp filter (a container runtime?) blocks unshare(); run on the host";
	return "the kernel or a security module refuses unprivileged user namespaces; see dmesg";
}

static void check_userns(struct report *r, bool *works)
{
	long max_ns = -1, clone = -1, aa = -1;
	struct probe p;

	if (read_long("/proc/sys/user/max_user_namespaces", &max_ns) < 0)
		report_add(r, "user.max_user_namespaces", VERDICT_NA, NULL,
			   "/proc/sys/user/max_user_namespaces: %s", strerror(errno));
	else if (max_ns == 0)
		report_add(r, "user.max_user_namespaces", VERDICT_NO,
			   "sysctl -w user.max_user_namespaces=15000",
			   "0: user namespaces are disabled");
	else
		report_add(r, "user.max_user_namespaces", VERDICT_YES, NULL, "%ld", max_ns);

	/* A Debian/Ubuntu kernel patch; absent upstream. */
	if (read_long("/proc/sys/kernel/unprivileged_userns_clone", &clone) == 0)
		report_add(r, "kernel.unprivileged_userns_clone",
			   clone ? VERDICT_YES : VERDICT_NO,
			   "sysctl -w kernel.unprivileged_userns_clone=1",
			   clone ? "%ld" : "%ld: only root may create user namespaces", clone);

	/* Ubuntu 23.10+: unshare succeeds, but the new namespace gets no
	 * capabilities unless an AppArmor profile allows "userns". */
	if (read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &aa) == 0)
		report_add(r, "apparmor userns restriction", aa == 1 ? VERDICT_NO : VERDICT_YES,
			   HINT_APPARMOR, aa == 1 ? "%ld: AppArmor restricts unprivileged user namespaces"
			   : "%ld: not restricted", aa);

	run_probe(probe_userns, &p);
	*works = p.ok;
	if (p.ok)
		report_add(r, "user namespace", VERDICT_YES, NULL,
			   "unshare(CLONE_NEWUSER|CLONE_NEWNS) and uid/gid maps work");
	else
		report_add(r, "user namespace", VERDICT_NO, userns_hint(&p, max_ns, clone, aa),
			   "%s", p.why);
}

static void check_overlay(struct report *r, int major, int minor, bool userns_ok,
			  bool *works)
{
	const char *hint;
	struct probe p;

	run_probe(probe_overlay, &p);
	*works = p.ok;
	if (p.ok) {
		report_add(r, "overlayfs in userns", VERDICT_YES, NULL, "mounted %s",
			   p.userxattr ? "with userxattr"
			   : "without userxattr (the kernel rejected the option)");
	} else {
		if (!userns_ok)
			hint = HINT_USERNS_FIRST;
		else if (major < 5 || (major == 5 && minor < 11))
			hint = "unprivileged overlayfs needs Linux >= 5.11";
		else
			hint = "the kernel refused overlayfs in a user namespace; "
			       "see dmesg for 'overlayfs:' lines";
		report_add(r, "overlayfs in userns", VERDICT_NO, hint, "%s", p.why);
	}

	if (p.xattr_err < 0)
		report_add(r, "tmpfs user xattrs", VERDICT_NA, NULL,
			   "not tested: the overlay probe failed before it");
	else if (p.xattr_err == 0)
		report_add(r, "tmpfs user xattrs", VERDICT_YES, NULL,
			   "setxattr user.* works on tmpfs: writable sandboxes can delete directories from the image");
	else
		report_add(r, "tmpfs user xattrs", VERDICT_NO,
			   "Linux >= 6.6 gives tmpfs user xattrs",
			   "setxattr user.* on tmpfs: %s; a writable sandbox cannot delete directories from the image",
			   strerror(p.xattr_err));
}

static void check_proc(struct report *r, bool userns_ok, bool *works)
{
	const char *hint;
	struct probe p;

	run_probe(probe_proc, &p);
	*works = p.ok;
	if (p.ok) {
		report_add(r, "proc in pid namespace", VERDICT_YES, NULL,
			   "pid 1 of a new user+pid namespace mounted a fresh proc");
		return;
	}
	if (!userns_ok)
		hint = HINT_USERNS_FIRST;
	else if (strcmp(p.step, "mount proc") == 0)
		/* The kernel refuses a new proc unless the existing one is fully
		 * visible (mount_too_revealing()), as container runtimes hide
		 * /proc/kcore and friends under other mounts. */
		hint = "the host's /proc has covered paths (e.g. inside a container); run on the host";
	else
		hint = "the kernel refused a pid namespace; see dmesg";
	report_add(r, "proc in pid namespace", VERDICT_NO, hint, "%s", p.why);
}

static void check_seccomp(struct report *r)
{
	long status_mode = -1, nnp_now = -1;
	int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	bool have_line = status_field("Seccomp:", &status_mode) == 0;
	struct probe p;

	run_probe(probe_seccomp, &p);
	if (p.ok)
		report_add(r, "seccomp filter", VERDICT_YES, NULL,
			   "a filter loads after no_new_privs (this process: %s)",
			   mode == SECCOMP_MODE_FILTER ? "already filtered, e.g. by a container" : "unfiltered");
	else
		report_add(r, "seccomp filter", VERDICT_NO,
			   (mode < 0 && !have_line) || p.err == EINVAL
			   ? "the kernel was built without seccomp filters (CONFIG_SECCOMP_FILTER)"
			   : "a security module or an outer filter forbids new filters; run on the host",
			   "%s; /proc/self/status %s", p.why,
			   have_line ? "has a Seccomp: line" : "has no Seccomp: line");

	if (p.nnp_err < 0)
		report_add(r, "no_new_privs", VERDICT_NA, NULL, "not tested: the probe died");
	else if (p.nnp_err == 0)
		report_add(r, "no_new_privs", VERDICT_YES, NULL,
			   "prctl(PR_SET_NO_NEW_PRIVS) works (this process: NoNewPrivs %ld)",
			   status_field("NoNewPrivs:", &nnp_now) == 0 ? nnp_now : -1L);
	else
		report_add(r, "no_new_privs", VERDICT_NO,
			   "needs Linux >= 3.5; sandboxes cannot load seccomp filters without it",
			   "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(p.nnp_err));
}

static void check_fuse(struct report *r)
{
	static const char chmod_hint[] =
		"chmod 0666 /dev/fuse (the default on Debian/RHEL); squashfs images need it";
	char owner[32], prog[PATH_BUF];
	const char *hint;
	struct stat st;
	int fd;

	if (stat("/dev/fuse", &st) < 0) {
		report_add(r, "/dev/fuse", VERDICT_NO,
			   "modprobe fuse (and make /dev/fuse mode 0666); squashfs images need it",
			   "/dev/fuse: %s", strerror(errno));
	} else if (!S_ISCHR(st.st_mode)) {
		report_add(r, "/dev/fuse", VERDICT_NO, "mknod -m 0666 /dev/fuse c 10 229",
			   "/dev/fuse is not a character device");
	} else {
		if (st.st_uid == 0)
			snprintf(owner, sizeof(owner), "root");
		else
			snprintf(owner, sizeof(owner), "uid %u", (unsigned)st.st_uid);
		fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			close_quietly(fd);
			report_add(r, "/dev/fuse", VERDICT_YES, NULL,
				   "mode %04o, owner %s, opens read-write", st.st_mode & 07777, owner);
		} else {
			if (errno == EACCES)
				hint = chmod_hint;
			else if (errno == EPERM)
				hint = "a device cgroup (container?) denies /dev/fuse; "
				       "run on the host or allow c 10:229 rw";
			else
				hint = "modprobe fuse; squashfs images need it";
			report_add(r, "/dev/fuse", VERDICT_NO, hint,
				   "mode %04o, owner %s, open read-write: %s",
				   st.st_mode & 07777, owner, strerror(errno));
		}
	}

	/* Informational: squashfuse needs the setuid fusermount only when it
	 * mounts outside a user namespace. */
	if (find_program("fusermount3", prog, sizeof(prog)) ||
	    find_program("fusermount", prog, sizeof(prog))) {
		bool setuid_root = stat(prog, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid == 0;

		report_add(r, "fusermount", VERDICT_YES, NULL, "%s (%s)", prog,
			   setuid_root ? "setuid root" : "not setuid root");
	} else {
		report_add(r, "fusermount", VERDICT_NO,
			   "optional: install fuse3 if squashfuse must mount images outside a user namespace",
			   "neither fusermount3 nor fusermount in PATH");
	}
}

/* The tools images need: squashfuse for every squashfs (and every
 * imported image, which is stored as one), mksquashfs and skopeo to import. */
static void check_image_tools(struct report *r)
{
	static const struct {
		const char *names[3];
		const char *label, *hint;
	} tools[] = {
		{ { "squashfuse_ll", "squashfuse", NULL }, "squashfuse",
		  "install squashfuse: squashfs and imported images are mounted with it" },
		{ { "mksquashfs", NULL, NULL }, "mksquashfs",
		  "install squashfs-tools: imported images are stored as squashfs" },
		{ { "skopeo", NULL, NULL }, "skopeo",
		  "install skopeo: docker:// images, docker save and OCI archives need it" },
	};
	char prog[PATH_BUF];

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		bool found = false;

		for (size_t k = 0; !found && tools[i].names[k]; k++)
			found = find_program(tools[i].names[k], prog, sizeof(prog));
		if (found)
			report_add(r, tools[i].label, VERDICT_YES, NULL, "%s", prog);
		else
			report_add(r, tools[i].label, VERDICT_NO, tools[i].hint, "not found in PATH");
	}
}

/* ---- cgroups -------------------------------------------------------- */

struct cgroup_layout {
	char v2_mount[PATH_BUF];  /* where cgroup2 is mounted, "" if nowhere */
	char v1_names[256];       /* comma list of v1 hierarchies */
	int v1_count;
};

/* mountinfo escapes blanks and backslashes in paths as \ooo (proc(5)). */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++, out++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out = *s;
		}
	}
	*out = '\0';
}

static int cgroup2_rank(const char *mnt)
{
	if (strcmp(mnt, "/sys/fs/cgroup") == 0)
		return 3;
	if (strcmp(mnt, "/sys/fs/cgroup/unified") == 0)
		return 2;
	return 1;
}

static int scan_mountinfo(struct cgroup_layout *lay)
{
	char mnt[PATH_BUF], fstype[64], *line = NULL;
	const char *sep, *base;
	size_t cap = 0, used;
	int ret = -1;
	FILE *f;

	memset(lay, 0, sizeof(*lay));
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) >= 0) {
		/* "id parent dev root mountpoint opts [optional...] - fstype ..." */
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		unescape_octal(mnt);
		if (strcmp(fstype, "cgroup2") == 0) {
			if (cgroup2_rank(mnt) > (lay->v2_mount[0] ? cgroup2_rank(lay->v2_mount) : 0))
				snprintf(lay->v2_mount, sizeof(lay->v2_mount), "%s", mnt);
		} else if (strcmp(fstype, "cgroup") == 0) {
			lay->v1_count++;
			base = strrchr(mnt, '/') ? strrchr(mnt, '/') + 1 : mnt;
			used = strlen(lay->v1_names);
			snprintf(lay->v1_names + used, sizeof(lay->v1_names) - used, "%s%s",
				 used ? "," : "", base);
		}
	}
	ret = ferror(f) ? -1 : 0;
	free(line);
	if (fclose(f) == EOF)
		ret = -1;
	return ret;
}

static void check_cgroup_v2(struct report *r, const char *mount_point)
{
	char own[PATH_BUF], dir[PATH_BUF], file[PATH_BUF + 32], controllers[512];

	/* cgroup v2 is the "0::/path" line (cgroups(7)). */
	if (read_keyed_line("/proc/self/cgroup", "0::", own, sizeof(own)) < 0) {
		report_add(r, "cgroup v2 controllers", VERDICT_NA, NULL,
			   "/proc/self/cgroup has no 0:: line: %s", strerror(errno));
		report_add(r, "cgroup delegation", VERDICT_NA, NULL, "own cgroup unknown");
		return;
	}
	snprintf(dir, sizeof(dir), "%s%s", mount_point, strcmp(own, "/") ? own : "");

	snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
	if (read_line(file, controllers, sizeof(controllers)) < 0)
		report_add(r, "cgroup v2 controllers", VERDICT_NO, HINT_DELEGATE, "%s: %s",
			   file, strerror(errno));
	else if (!controllers[0])
		report_add(r, "cgroup v2 controllers", VERDICT_NO, HINT_DELEGATE,
			   "none available in %s", dir);
	else
		report_add(r, "cgroup v2 controllers", VERDICT_YES, NULL, "%s in %s",
			   controllers, dir);

	/* Making a child cgroup needs write access to our cgroup directory;
	 * moving a process into it needs write access to cgroup.procs of the
	 * common ancestor, which is our own cgroup (cgroup-v2 "Delegation"). */
	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	if (access(dir, W_OK) < 0)
		report_add(r, "cgroup delegation", VERDICT_NO, HINT_DELEGATE,
			   "cannot create child cgroups in %s: %s", dir, strerror(errno));
	else if (access(file, W_OK) < 0)
		report_add(r, "cgroup delegation", VERDICT_NO, HINT_DELEGATE,
			   "cannot move processes via %s: %s", file, strerror(errno));
	else
		report_add(r, "cgroup delegation", VERDICT_YES, NULL,
			   "can create child cgroups under %s", dir);
}

static void check_cgroups(struct report *r)
{
	struct cgroup_layout lay;
	struct statfs sfs;

	if (scan_mountinfo(&lay) < 0) {
		report_add(r, "cgroup layout", VERDICT_NA, NULL, "/proc/self/mountinfo: %s",
			   strerror(errno));
		return;
	}
	/* statfs settles what mountinfo may leave open, e.g. a cgroup2 mount
	 * hidden under another mount at /sys/fs/cgroup. */
	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		report_add(r, "cgroup layout", VERDICT_YES, NULL,
			   "unified: cgroup2 at /sys/fs/cgroup");
		check_cgroup_v2(r, "/sys/fs/cgroup");
		return;
	}
	if (lay.v1_count && lay.v2_mount[0])
		report_add(r, "cgroup layout", VERDICT_NO, HINT_UNIFIED,
			   "hybrid: %d v1 hierarchies (%s) plus cgroup2 at %s",
			   lay.v1_count, lay.v1_names, lay.v2_mount);
	else if (lay.v1_count)
		report_add(r, "cgroup layout", VERDICT_NO, HINT_UNIFIED,
			   "v1 only: %d hierarchies (%s)", lay.v1_count, lay.v1_names);
	else if (lay.v2_mount[0])
		report_add(r, "cgroup layout", VERDICT_YES, NULL,
			   "unified: cgroup2 at %s", lay.v2_mount);
	else
		report_add(r, "cgroup layout", VERDICT_NO, HINT_UNIFIED,
			   "no cgroup filesystem is mounted");

	if (lay.v2_mount[0] && !lay.v1_count) {
		check_cgroup_v2(r, lay.v2_mount);
	} else {
		report_add(r, "cgroup v2 controllers", VERDICT_NA, NULL,
			   "needs a unified cgroup v2 host");
		report_add(r, "cgroup delegation", VERDICT_NA, NULL,
			   "needs a unified cgroup v2 host");
	}
}

/* Only whether it can be opened: the policy's meaning is lib/policy's job. */
static void check_policy(struct report *r, const char *path)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO given by mistake must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		report_add(r, "policy file", VERDICT_NO,
			   "check the path and that the calling user can read it",
			   "%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		report_add(r, "policy file", VERDICT_NO, "give the path of a regular file",
			   "%s: not a regular file", path);
	else
		report_add(r, "policy file", VERDICT_YES, NULL, "%s is readable", path);
	close_quietly(fd);
}

/* ---- output --------------------------------------------------------- */

static const char *verdict_word(enum verdict v)
{
	return v == VERDICT_YES ? "yes" : v == VERDICT_NO ? "no" : "n/a";
}

static void print_text(FILE *out, const struct report *r, bool ok)
{
	int width = 0, len;
	size_t i;

	fputs("sandbox-run info: what this host allows for unprivileged sandboxes\n", out);
	if (geteuid() == 0)
		fputs("  (running as root: an ordinary user may get different answers)\n", out);
	for (i = 0; i < r->n; i++) {
		len = (int)strlen(r->checks[i].name);
		if (len > width)
			width = len;
	}
	for (i = 0; i < r->n; i++) {
		const struct check *c = &r->checks[i];

		fprintf(out, "  %-*s  %-3s  %s\n", width, c->name, verdict_word(c->verdict),
			c->detail);
		if (c->verdict == VERDICT_NO && c->hint[0])
			fprintf(out, "  %-*s       hint: %s\n", width, "", c->hint);
	}
	fprintf(out, "%s\n", ok ? "unprivileged sandboxes work on this host"
	       : "unprivileged sandboxes do not work on this host (see the hints above)");
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static void print_json(FILE *out, const struct report *r, bool ok)
{
	size_t i;

	fputs("{\"checks\":[", out);
	for (i = 0; i < r->n; i++) {
		const struct check *c = &r->checks[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		sbx_json_string(out, c->name);
		fprintf(out, ",\"ok\":%s,\"detail\":", c->verdict == VERDICT_YES ? "true"
			: c->verdict == VERDICT_NO ? "false" : "null");
		sbx_json_string(out, c->detail);
		fputs(",\"hint\":", out);
		if (c->hint[0] && c->verdict == VERDICT_NO)
			sbx_json_string(out, c->hint);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fprintf(out, "],\"ok\":%s}\n", ok ? "true" : "false");
}

static void usage(FILE *out)
{
	fputs("usage: sandbox-run info [--json] [--config FILE]\n"
	      "\n"
	      "Report what this host allows for unprivileged sandboxes (user namespaces,\n"
	      "overlayfs, proc, seccomp, FUSE, cgroup v2) and how to fix each \"no\".\n"
	      "Runs as the calling user; nothing is left mounted or written on the host.\n"
	      "\n"
	      "  --json         print one JSON object instead of text\n"
	      "  --config FILE  also report whether the policy file FILE is readable\n"
	      "  --help         show this help\n"
	      "\n"
	      "Exit status: 0 if user namespaces, overlayfs in a user namespace and a fresh\n"
	      "/proc all work, 1 if not, 2 on a usage error.\n", out);
}

int sbx_info_main(int argc, char **argv)
{
	bool json = false, userns_ok, overlay_ok, proc_ok, ok;
	const char *policy_path = NULL;
	struct report *r = NULL;
	int major, minor, i, rc = 2;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			policy_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			policy_path = argv[i] + 9;
		} else {
			fprintf(stderr, "sandbox: info: %s '%s' (see 'sandbox-run info --help')\n",
				strcmp(argv[i], "--config") == 0 ? "missing FILE after"
				: "unknown option", argv[i]);
			goto out;
		}
	}

	/* ~10 KiB: keep it off the stack of whatever front end calls us. */
	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "sandbox: info: allocating the report: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	check_kernel(r, &major, &minor);
	check_userns(r, &userns_ok);
	check_overlay(r, major, minor, userns_ok, &overlay_ok);
	check_proc(r, userns_ok, &proc_ok);
	check_seccomp(r);
	check_fuse(r);
	check_image_tools(r);
	check_cgroups(r);
	if (policy_path)
		check_policy(r, policy_path);

	ok = userns_ok && overlay_ok && proc_ok;
	if (json)
		print_json(stdout, r, ok);
	else
		print_text(stdout, r, ok);
	rc = ok ? 0 : 1;
out:
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "sandbox: info: writing the report: %s\n", strerror(errno));
		rc = rc == 0 ? 1 : rc;
	}
	free(r);
	return rc;
}
