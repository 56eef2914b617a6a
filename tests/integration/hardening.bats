#!/usr/bin/env bats
# What the command may not do: capabilities, no_new_privs, the seccomp filter,
# inherited file descriptors. Where the kernel alone would refuse a call too,
# the probe passes arguments that make an unfiltered kernel give another
# error, and the test checks that on the host first.

load ../lib/common

# The probe on the host shows what an unfiltered kernel answers; a test is
# only meaningful when that is not already EPERM.
require_host_answer_not_eperm() {
	local host
	host=$(probe "$@" </dev/null)
	if [[ "$host" == *EPERM* ]]; then
		skip "the host kernel already refuses '$*' with EPERM ($host)"
	fi
}

@test "the command has no capabilities" {
	run_sbx --image "$IMG" -- sbx-probe status
	assert_success
	assert_output_contains "CapEff: 0000000000000000"
	assert_output_contains "CapPrm: 0000000000000000"
	assert_output_contains "CapBnd: 0000000000000000"
}

@test "the command runs with no_new_privs" {
	run_sbx --image "$IMG" -- sbx-probe status
	assert_success
	assert_output_contains "NoNewPrivs: 1"
}

@test "the command runs under a seccomp filter" {
	run_sbx --image "$IMG" -- sbx-probe status
	assert_success
	assert_output_contains "Seccomp: 2"
}

@test "keyctl fails with EPERM" {
	require_host_answer_not_eperm keyctl
	run_sbx --image "$IMG" -- sbx-probe keyctl
	assert_success
	assert_output "keyctl: EPERM"
}

@test "add_key fails with EPERM" {
	require_host_answer_not_eperm add-key
	run_sbx --image "$IMG" -- sbx-probe add-key
	assert_success
	assert_output "add-key: EPERM"
}

@test "a nested user namespace cannot be created" {
	require_host_answer_not_eperm unshare-user
	run_sbx --image "$IMG" -- sbx-probe unshare-user
	assert_success
	assert_output "unshare-user: EPERM"
}

@test "mount fails with EPERM" {
	run_sbx --image "$IMG" -- sbx-probe mount
	assert_success
	assert_output "mount: EPERM"
}

@test "mount fails with EPERM even with --remap-root" {
	run_sbx --image "$IMG" --remap-root -- sbx-probe mount
	assert_success
	assert_output "mount: EPERM"
}

# TIOCSTI pushes characters into the terminal's input: a sandboxed command
# could type commands into the caller's shell. stdin is /dev/null here, not
# a terminal, so an unfiltered kernel answers ENOTTY and only the seccomp
# filter answers EPERM (on a tty the kernel itself gives EPERM or EIO to a
# process that does not own it, which would hide a missing filter).
@test "TIOCSTI fails with EPERM, also with junk in the upper 32 bits" {
	require_host_answer_not_eperm tiocsti
	run_sbx --image "$IMG" -- sbx-probe tiocsti </dev/null
	assert_success
	assert_output "tiocsti: EPERM high-bits: EPERM"
}

# The attack itself: the command's stdin is the caller's controlling terminal
# (script(1) gives sandbox-run one), where an unfiltered TIOCSTI succeeds.
@test "TIOCSTI on the caller's terminal fails with EPERM" {
	command -v script >/dev/null || skip "script(1) is needed to give sandbox-run a terminal"
	host=$(script -qec "$SBX_PROBE tiocsti" /dev/null </dev/null | tr -d '\r')
	[[ "$host" == *"tiocsti: ok high-bits: ok"* ]] ||
		skip "TIOCSTI does not work on this host's terminals ($host)"

	run script -qec "$(printf '%q ' "$BUILD/sandbox-run" --config "$SBX_CONFIG" \
		--image "$IMG" -- sbx-probe tiocsti)" /dev/null </dev/null
	output=$(tr -d '\r' <<<"$output")
	assert_output_contains "tiocsti: EPERM high-bits: EPERM"
}

@test "bpf fails with EPERM" {
	require_host_answer_not_eperm bpf
	run_sbx --image "$IMG" -- sbx-probe bpf
	assert_success
	assert_output "bpf: EPERM"
}

@test "perf_event_open fails with EPERM" {
	require_host_answer_not_eperm perf
	run_sbx --image "$IMG" -- sbx-probe perf
	assert_success
	assert_output "perf: EPERM"
}

@test "userfaultfd fails with EPERM" {
	require_host_answer_not_eperm userfaultfd
	run_sbx --image "$IMG" -- sbx-probe userfaultfd
	assert_success
	assert_output "userfaultfd: EPERM"
}

@test "only stdin, stdout and stderr are open in the command" {
	exec 7</etc/passwd 8>"$BATS_TEST_TMPDIR/extra-fd"
	run_sbx --image "$IMG" -- sbx-probe fds
	exec 7<&- 8>&-
	assert_success
	assert_output "fds: 0 1 2"
}

@test "stdin, stdout and stderr are the caller's" {
	run_sbx --image "$IMG" -- sh -c 'cat; echo to-stderr >&2' <<<"from stdin"
	assert_success
	assert_output "from stdin"
	assert_equal "to-stderr" "$stderr" "stderr"
}
