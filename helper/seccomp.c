#include "helper.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

/* The filter is compiled by libseccomp here (a site's own deny list, about
 * 0.2 ms per sandbox) or taken precompiled for the built-in list
 * (seccomp-default.c), and loaded from /.sandbox by every command's shim. */

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
		  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x00000080 /* NEWTIME */)

static int deny_clone_namespaces(scmp_filter_ctx ctx)
{
	int rc;

	/* clone's flags are its first argument on x86_64 and most arches; one
	 * rule per flag, since a masked compare can only test equality. */
	for (unsigned long bit = 1; bit; bit <<= 1) {
		if (!(NS_FLAGS & bit))
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit));
		if (rc < 0)
			return rc;
	}
	/* clone3 passes its flags in memory, out of seccomp's sight: answer
	 * ENOSYS so libc falls back to clone, which is filtered above. */
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

static int deny_terminal_injection(scmp_filter_ctx ctx)
{
	/* The kernel truncates ioctl's request to 32 bits, so compare only
	 * those: (0x123UL << 32) | TIOCSTI must not slip through
	 * (CVE-2019-10063). */
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCSTI));

	if (rc < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCLINUX));
}

/* --remap-root with a writable root: a root with a single id. Package
 * managers (dpkg, rpm, apk) chown files to ids the one-line map cannot
 * hold (EINVAL); apt drops to its _apt user (setgroups, which a user
 * namespace with setgroups denied refuses, then setresgid/setresuid to
 * unmapped ids); either makes them fail. These calls report success and
 * change nothing, as Charliecloud's seccomp mode and fakeroot(1) do: files
 * and processes stay the user's, which is all the host could ever see
 * (apt does not verify the switch unless APT::Sandbox::Verify is set).
 * What it costs: a call that would have failed for another reason (a
 * missing file) reports success too, and a program that drops privileges
 * keeps them, inside a sandbox where every process is the same user. */
static const char *const fake_root_calls[] = {
	"chown", "fchown", "lchown", "fchownat", "setgroups", "setuid", "setgid", "setreuid",
	"setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", NULL,
};

static int fake_root_ids(scmp_filter_ctx ctx, const struct sbx_plan *plan)
{
	for (size_t i = 0; fake_root_calls[i]; i++) {
		int rc;

		/* The admin's security.seccomp_deny wins. */
		if (sbx_strv_contains(&plan->seccomp_deny, fake_root_calls[i]))
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0),
					  seccomp_syscall_resolve_name(fake_root_calls[i]), 0);

		if (rc < 0 && rc != -EDOM && rc != -EOPNOTSUPP)
			return rc;
	}
	return 0;
}

int sbx_seccomp_compile(const struct sbx_plan *plan, int fd, struct sbx_err *err)
{
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return sbx_err_set(err, ENOMEM, NULL, "seccomp: init");
	/* Other ABIs (i386 int 0x80, x32) would bypass a native-only filter. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0) {
		sbx_err_set(err, -rc, NULL, "seccomp: bad-arch action");
		goto out;
	}
	for (size_t i = 0; i < plan->seccomp_deny.n; i++) {
		const char *name = plan->seccomp_deny.v[i];
		int nr = seccomp_syscall_resolve_name(name);

		if (nr == __NR_SCMP_ERROR) {
			rc = -EINVAL;
			sbx_err_set(err, 0, "fix security.seccomp_deny", "seccomp: unknown syscall '%s'", name);
			goto out;
		}
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		/* A syscall this architecture does not have needs no rule. */
		if (rc == -EDOM || rc == -EOPNOTSUPP)
			rc = 0;
		if (rc < 0) {
			sbx_err_set(err, -rc, NULL, "seccomp: rule for %s", name);
			goto out;
		}
	}
	if (sbx_strv_contains(&plan->seccomp_deny, "unshare")) {
		rc = deny_clone_namespaces(ctx);
		if (rc < 0) {
			sbx_err_set(err, -rc, NULL, "seccomp: clone rules");
			goto out;
		}
	}
	rc = deny_terminal_injection(ctx);
	if (rc < 0) {
		sbx_err_set(err, -rc, NULL, "seccomp: ioctl rules");
		goto out;
	}
	rc = plan->remap_root && plan->writable ? fake_root_ids(ctx, plan) : 0;
	if (rc < 0) {
		sbx_err_set(err, -rc, NULL, "seccomp: remap-root rules");
		goto out;
	}
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		sbx_err_set(err, -rc, NULL, "seccomp: export");
out:
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}
