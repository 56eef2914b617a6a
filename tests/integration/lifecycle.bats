#!/usr/bin/env bats
# How a run ends: exit statuses, signals, and what is left afterwards.

load ../lib/common

# Unique durations, so pgrep finds only the sleepers these tests start.
SLEEP_FORK=31337
SLEEP_SH=31338
SLEEP_KILLED=31339

teardown() {
	stop_background
	# End (by pid) any sleeper a failing test left behind.
	local pids
	pids=$(pgrep -u "$(id -u)" -f "(^|/)(sbx-probe sleep-fork $SLEEP_FORK|sleep $SLEEP_SH|sleep $SLEEP_KILLED)\$" || true)
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

# wait_gone PATTERN: wait up to 10 s until no process of ours has the exact
# command line PATTERN (an anchored pgrep -f regex).
wait_gone() {
	local i
	for i in $(seq 100); do
		pgrep -u "$(id -u)" -f "$1" >/dev/null || return 0
		sleep 0.1
	done
	echo "still running after 10 s:" >&2
	pgrep -a -u "$(id -u)" -f "$1" >&2
	return 1
}

@test "sandbox-run exits with the command's status" {
	run_sbx --image "$IMG" -- sh -c 'exit 3'
	assert_status 3
}

@test "a successful command exits 0" {
	run_sbx --image "$IMG" -- true
	assert_success
}

@test "a command that is not found exits 127" {
	# run -127: bats otherwise warns that 127 means "command not found"
	run -127 --separate-stderr sbx --image "$IMG" -- no-such-command
	assert_status 127
}

@test "a command given by a path that does not exist exits 127" {
	run -127 --separate-stderr sbx --image "$IMG" -- /no/such/command
	assert_status 127
}

@test "a file that is not executable exits 126" {
	run_sbx --image "$IMG" -- /etc/passwd
	assert_status 126
}

@test "a command killed by SIGKILL exits 137" {
	run_sbx --image "$IMG" -- sh -c 'kill -KILL $$'
	assert_status 137
}

@test "a command killed by SIGTERM exits 143" {
	run_sbx --image "$IMG" -- sh -c 'kill -TERM $$'
	assert_status 143
}

@test "SIGTERM sent to sandbox-run reaches the command" {
	mkdir "$BATS_TEST_TMPDIR/out"
	start_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/out:/out:rw" -- \
		sh -c 'trap "echo got TERM > /out/marker; exit 42" TERM; touch /out/ready; while :; do sleep 1; done'
	wait_for test -e "$BATS_TEST_TMPDIR/out/ready"

	kill -TERM "$SBX_PID"
	wait_exit "$SBX_JOB"

	assert_status 42
	assert_equal "got TERM" "$(cat "$BATS_TEST_TMPDIR/out/marker")" "the marker"
}

@test "a background process that left the session ends with the command" {
	run_sbx --image "$IMG" -- sbx-probe sleep-fork "$SLEEP_FORK"
	assert_success
	run pgrep -u "$(id -u)" -f "(^|/)sbx-probe sleep-fork $SLEEP_FORK\$"
	assert_status 1
}

@test "a shell's background job ends with the command" {
	run_sbx --image "$IMG" -- sh -c "sleep $SLEEP_SH >/dev/null 2>&1 & exit 0"
	assert_success
	run pgrep -u "$(id -u)" -f "(^|/)sleep $SLEEP_SH\$"
	assert_status 1
}

@test "killing sandbox-run with SIGKILL ends everything in the sandbox" {
	start_sbx --image "$IMG" -- sleep "$SLEEP_KILLED"
	wait_for pgrep -u "$(id -u)" -f "(^|/)sleep $SLEEP_KILLED\$"

	kill -KILL "$SBX_PID"
	wait "$SBX_JOB" || true

	wait_gone "(^|/)sleep $SLEEP_KILLED\$"
	run sandbox_processes
	assert_output ""
}

@test "a run leaves the host's mounts, /tmp and processes as it found them" {
	remember_host_state
	mkdir "$BATS_TEST_TMPDIR/data"
	run_sbx --image "$IMG" --writable --mount "$BATS_TEST_TMPDIR/data:/mnt:rw" \
		--mount "$BATS_TEST_TMPDIR/data:/not/in/image:ro" -- sh -c 'touch /mnt/x /tmp/x /new'
	assert_success
	assert_host_unchanged
}

@test "a failing command leaves the host as it found it" {
	remember_host_state
	run_sbx --image "$IMG" -- sh -c 'kill -KILL $$'
	assert_status 137
	assert_host_unchanged
}

@test "sandbox-run info reports that this host can run sandboxes" {
	run_sbx info
	assert_success
	[ -n "$output" ]
}

@test "sandbox-run info --json prints valid JSON" {
	command -v python3 >/dev/null || skip "python3 is needed to parse JSON"
	run_sbx info --json
	assert_success
	python3 -c 'import json, sys; json.loads(sys.stdin.read())' <<<"$output"
}

@test "sandbox-run info leaves the host as it found it" {
	remember_host_state
	run_sbx info
	assert_success
	assert_host_unchanged
}
