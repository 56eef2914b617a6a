#!/bin/bash
# Inside the VM lane: sandbox-run on Debian 12's own kernel (6.1), the
# kernel users run, as an unprivileged user. Prints ok/not ok per check.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=sbxtest
failed=0
check() {
	local name=$1
	shift
	if out=$("$@" 2>&1); then
		echo "ok - $name"
	else
		echo "not ok - $name"
		sed 's/^/# /' <<<"$out"
		failed=$((failed + 1))
	fi
}
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
img=$(runuser -u "$user" -- mktemp -d /tmp/sbx-vm-img.XXXXXX)/image
runuser -u "$user" -- env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$img" >/dev/null
sbx() { runuser -u "$user" -- env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" --image "$img" "$@"; }

echo "# kernel $(uname -r)"
uid=$(id -u "$user")
check "a sandbox runs as the user, with its own pid 1" \
	sbx -- sh -c "[ \$(id -u) = $uid ] && [ \"\$(cat /proc/1/comm)\" = sandbox-init ]"
check "the sandbox's namespaces differ from the host's" \
	sbx -- sh -c "[ \$(readlink /proc/self/ns/mnt) != $(readlink /proc/self/ns/mnt) ] && [ \$(readlink /proc/self/ns/user) != $(readlink /proc/self/ns/user) ]"
check "the root is read-only" sbx -- sh -c '! touch /x 2>/dev/null'
check "a writable sandbox can write to its root" sbx --writable -- sh -c 'echo hi > /x && cat /x'
check "seccomp, no_new_privs and no capabilities inside" \
	sbx -- sh -c 'grep -q "^Seccomp:.2" /proc/self/status && grep -q "^NoNewPrivs:.1" /proc/self/status && grep -q "^CapEff:.0000000000000000" /proc/self/status'
check "the network is loopback only" sbx -- sh -c '[ "$(ls /sys/class/net)" = lo ]'
check "a bind mount is read-only when asked" sbx --mount /tmp:/data:ro -- sh -c '! touch /data/x 2>/dev/null'
check "sandbox-run info says sandboxes work" runuser -u "$user" -- "$BUILD/sandbox-run" info
echo "# $failed failed"
[ "$failed" -eq 0 ]
