#!/bin/bash
# Inside a VM lane (cgroup v2 only; Debian 12's kernel, or another lane's):
# `sandbox-run selftest` as an unprivileged user, under the example site
# policy, as an admin runs it after an install. Lane-agnostic: it needs only
# the build, the test user and a cgroup2 /sys/fs/cgroup.
#
#   tests/vm/run.sh tests/vm/sandbox-selftest.sh
#
# Prints ok/not ok per check (with selftest's own lines as "# ") and exits
# non-zero if any failed.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=${SBX_TEST_USER:-sbxtest}
conf=$repo/conf/sandbox.conf
failed=0
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; failed=$((failed + 1)); }
show() { sed 's/^/# /' <<<"$1"; }

id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
# /dev/fuse as the distributions ship it (squashfs images through FUSE).
[ -c /dev/fuse ] && chmod 0666 /dev/fuse
selftest() {
	runuser -u "$user" -- env SANDBOX_HELPER="$BUILD/sandbox-helper" SANDBOX_PROBE="$BUILD/sandbox-probe" \
		TMPDIR=/var/tmp "$BUILD/sandbox-run" selftest "$@" 2>&1
}

echo "# kernel $(uname -r), $(stat -fc %T /sys/fs/cgroup) on /sys/fs/cgroup"

# 1. As a user logs in: no delegated cgroup, so the cgroup checks skip.
out=$(selftest --config "$conf"); rc=$?
show "$out"
if [ "$rc" -eq 0 ] && ! grep -q '^FAIL ' <<<"$out" && grep -q '^PASS leftovers:' <<<"$out"; then
	pass "selftest passes under the example site policy"
else
	fail "selftest passes under the example site policy (exit $rc)"
fi

# 2. In a delegated cgroup v2 tree, as systemd's Delegate=yes makes one:
# the limits are applied and seen inside.
D=/sys/fs/cgroup/sbx-selftest
mkdir -p "$D/shell"
chown "$user" "$D" "$D/cgroup.procs" "$D/cgroup.subtree_control" "$D/cgroup.threads" \
	"$D/shell" "$D/shell/cgroup.procs"
out=$( (echo $BASHPID >"$D/shell/cgroup.procs" && selftest --config "$conf") ); rc=$?
show "$(grep cgroup <<<"$out")"
if [ "$rc" -eq 0 ] && grep -q '^PASS cgroup-memory:' <<<"$out" && grep -q '^PASS cgroup-pids:' <<<"$out"; then
	pass "in a delegated cgroup v2 tree, the cgroup limits pass"
else
	show "$out"
	fail "in a delegated cgroup v2 tree, the cgroup limits pass (exit $rc)"
fi
if [ -z "$(find "$D" -mindepth 1 -maxdepth 1 -type d -name 'sandbox-*')" ]; then
	pass "no sandbox cgroup is left behind"
else
	fail "no sandbox cgroup is left behind"
fi
rmdir "$D/shell" "$D" 2>/dev/null

# 3. A protection switched off by policy fails by name.
off=$(runuser -u "$user" -- mktemp /var/tmp/sbx-selftest-off.XXXXXX)
{ cat "$conf"; printf '[security]\nseccomp = no\n'; } | runuser -u "$user" -- tee "$off" >/dev/null
out=$(selftest --config "$off"); rc=$?
rm -f "$off"
if [ "$rc" -eq 1 ] && grep -q "^FAIL seccomp: no filter: turned off by security.seccomp = no ($off:" <<<"$out"; then
	pass "seccomp switched off by policy fails the seccomp check, naming the line"
else
	show "$out"
	fail "seccomp switched off by policy fails the seccomp check (exit $rc)"
fi

echo "# $failed failed"
[ "$failed" -eq 0 ]
