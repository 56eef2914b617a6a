#!/bin/bash
# Inside the VM lane (cgroup v2 only): sandbox-run's own cgroup and its
# limits, as an unprivileged user in a delegated cgroup tree. Prints
# ok/not ok per check and exits non-zero if any failed.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=sbxtest
failed=0
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; shift; [ $# -eq 0 ] || printf '# %s\n' "$@"; failed=$((failed + 1)); }

id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
uid=$(id -u "$user")
# A delegated tree, as systemd's Delegate=yes makes one: the user owns the
# directory and its cgroup.procs/subtree_control; this shell moves into a
# leaf of it, so the sandbox's cgroup can go next to it.
D=/sys/fs/cgroup/sbx-deleg
mkdir -p "$D/shell"
chown "$user" "$D" "$D/cgroup.procs" "$D/cgroup.subtree_control" "$D/cgroup.threads" \
	"$D/shell" "$D/shell/cgroup.procs"
echo $$ >"$D/shell/cgroup.procs"

img=$(runuser -u "$user" -- mktemp -d /var/tmp/sbx-vm-cg.XXXXXX)/image
runuser -u "$user" -- env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$img" >/dev/null
sbx() { runuser -u "$user" -- env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" --image "$img" "$@"; }
leftovers() { find "$D" -mindepth 1 -maxdepth 1 -type d -name 'sandbox-*'; }

out=$(sbx --memory 32M -- cat /sys/fs/cgroup/memory.max 2>&1)
if [ "$(head -1 <<<"$out")" = 33554432 ]; then pass "memory.max inside shows the sandbox's limit"
else fail "memory.max inside shows the sandbox's limit" "$out"; fi

out=$(sbx --memory 32M -- dd if=/dev/zero of=/dev/null bs=100M count=1 2>&1); rc=$?
if [ "$rc" -eq 137 ] && grep -q "oom kills 1" <<<"$out"; then pass "a command past memory.max is OOM-killed and the report says so"
else fail "a command past memory.max is OOM-killed and the report says so" "exit $rc" "$out"; fi

out=$(SANDBOX_REPORT=json sbx --pids 16 -- sh -c 'for i in $(seq 40); do sleep 3 & done 2>/dev/null; wait' 2>&1)
peak=$(sed -n 's/.*"pids_peak":\([0-9]*\).*/\1/p' <<<"$out")
if [ -n "$peak" ] && [ "$peak" -le 16 ] && [ "$peak" -ge 10 ]; then pass "a fork bomb is capped by pids.max (peak $peak of 16)"
else fail "a fork bomb is capped by pids.max" "$out"; fi
if timeout 5 true; then pass "the host stays responsive"; else fail "the host stays responsive"; fi

out=$(SANDBOX_REPORT=json sbx --cpus 0.2 -- sh -c 'end=$(($(date +%s) + 2)); while [ $(date +%s) -lt $end ]; do :; done' 2>&1)
thr=$(sed -n 's/.*"cpu_throttled_usec":\([0-9]*\).*/\1/p' <<<"$out")
if [ -n "$thr" ] && [ "$thr" -gt 0 ]; then pass "cpu.max throttling shows in cpu.stat (throttled ${thr} us)"
else fail "cpu.max throttling shows in cpu.stat" "$out"; fi

if [ -z "$(leftovers)" ]; then pass "no sandbox cgroup is left after the runs"
else fail "no sandbox cgroup is left after the runs" "$(leftovers)"; fi

sbx --memory 64M -- sleep 30 >/dev/null 2>&1 &
for _ in $(seq 1 100); do pgrep -u "$user" -f "sandbox-helper" >/dev/null && [ -n "$(leftovers)" ] && break; sleep 0.1; done
pkill -KILL -u "$user" -f sandbox-helper
wait
sleep 0.5
if [ -z "$(leftovers)" ]; then pass "the cgroup is gone after kill -9 of the helper"
else fail "the cgroup is gone after kill -9 of the helper" "$(leftovers)"; fi

echo "# $failed failed"
[ "$failed" -eq 0 ]
