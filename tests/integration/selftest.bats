#!/usr/bin/env bats
# `sandbox-run selftest`: what an admin runs after an install, a kernel or a
# policy change. It passes here, fails by name when the policy switches a
# protection off, and leaves nothing behind.

load ../lib/common

# selftest_in DIR ARGS...: selftest with its scratch directory under DIR.
selftest_in() {
	local dir=$1
	shift
	mkdir -p "$dir"
	run --separate-stderr env TMPDIR="$dir" "$BUILD/sandbox-run" "$@"
}

@test "selftest passes on this host under the suite's policy" {
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$SBX_CONFIG" selftest
	assert_success
	for check in uid-map gid-map capabilities no_new_privs seccomp seccomp-keyctl seccomp-tiocsti \
		fds proc-masking mount-propagation namespaces pid-namespace net-none net-host hostname \
		cgroup-memory cgroup-pids image-squashfs image-archive stress-processes stress-spawn-kill leftovers; do
		[[ "$output" =~ (^|$'\n')(PASS|SKIP)\ $check:\ [^$'\n']+ ]] || {
			echo "no PASS or SKIP line with a reason for $check" >&2
			show_run
			return 1
		}
	done
	refute_output_contains "FAIL "
	[[ "${lines[-1]}" =~ ^selftest:\ [0-9]+\ passed,\ 0\ failed,\ [0-9]+\ skipped$ ]]
}

@test "selftest passes under the example site policy an install ships" {
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$SBX_REPO/conf/sandbox.conf" selftest
	assert_success
	assert_output_contains "PASS seccomp: a filter is in force"
	assert_output_contains "PASS leftovers:"
}

@test "where cgroup v2 is not delegated, the cgroup checks skip and say why" {
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$SBX_CONFIG" selftest
	if [[ "$output" == *"PASS cgroup-memory"* ]]; then
		skip "cgroup v2 is delegated here: the limits were checked"
	fi
	assert_output_contains "SKIP cgroup-memory: sandbox: warning: cgroup limits not applied"
}

@test "selftest --json is one JSON object for monitoring" {
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$SBX_CONFIG" selftest --json
	assert_success
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] is True and r["failed"] == 0, r
assert all(c["result"] in ("PASS", "SKIP") and c["reason"] for c in r["checks"]), r
assert r["passed"] + r["skipped"] == len(r["checks"]) > 20, r
' "$output"
}

@test "switching seccomp off in the policy fails the seccomp check, naming the line" {
	conf=$(policy security.seccomp=no)
	line=$(grep -n -m1 '^seccomp = no' "$conf" | cut -d: -f1)
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$conf" selftest
	assert_status 1
	assert_output_contains "FAIL seccomp: no filter: turned off by security.seccomp = no ($conf:$line)"
	assert_output_contains "SKIP seccomp-keyctl: the filter is off"
	assert_output_contains "selftest: "
}

@test "a system call the policy lets through fails its denial check" {
	conf=$(policy security.seccomp_allow=keyctl)
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$conf" selftest
	assert_status 1
	assert_output_contains "FAIL seccomp-keyctl: keyctl answered ok: let through by security.seccomp_allow"
	assert_output_contains "PASS seccomp-add-key: add_key refused with EPERM"
}

@test "a capability the policy keeps fails the capabilities check" {
	conf=$(policy security.capabilities=CAP_NET_BIND_SERVICE)
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$conf" selftest
	assert_status 1
	assert_output_contains "FAIL capabilities: kept inside: CapEff 0000000000000400, by security.capabilities"
}

@test "what the policy refuses is skipped with its key, not failed" {
	conf=$(policy namespaces.allow_net_host=no namespaces.allow_hostname=no)
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$conf" selftest
	assert_success
	assert_output_contains "SKIP net-host: --net host is refused by namespaces.allow_net_host = no ($conf:"
	assert_output_contains "SKIP hostname: --hostname is refused by namespaces.allow_hostname = no ($conf:"
}

@test "selftest leaves no file, mount or process behind" {
	dir=$BATS_TEST_TMPDIR/t
	selftest_in "$dir" --config "$SBX_CONFIG" selftest
	assert_success
	assert_output_contains "PASS leftovers: no mount, no process and no file left behind ($dir/sbx-selftest."
	# Seen from here too, not only by selftest's own last check.
	assert_equal "" "$(ls -A "$dir")" "files left in $dir"
	assert_equal 0 "$(grep -c "$dir" /proc/self/mountinfo)" "mounts under $dir"
	assert_equal "" "$(grep -l '^sbxst-' /proc/[0-9]*/comm 2>/dev/null)" "processes named sbxst-*"
}

@test "selftest without its probe says how to get one" {
	SANDBOX_PROBE=$BATS_TEST_TMPDIR/no-probe selftest_in "$BATS_TEST_TMPDIR/t" --config "$SBX_CONFIG" selftest
	assert_refused "no-probe" "SANDBOX_PROBE"
	assert_equal "" "$(ls -A "$BATS_TEST_TMPDIR/t")" "files left behind"
}

@test "selftest with a broken policy says so and runs nothing" {
	conf=$(config_file <<<$'[rootfs]\nwritable = maybe')
	selftest_in "$BATS_TEST_TMPDIR/t" --config "$conf" selftest
	assert_refused "$conf:2" "policy check"
}
