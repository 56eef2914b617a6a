#!/usr/bin/env bats
# The command's environment: clean by default, plus what the policy passes
# through and what the user asks for with --env.

load ../lib/common

@test "the caller's variables do not reach the command" {
	export SECRET_TOKEN=canary-4711
	run_sbx --image "$IMG" -- env
	assert_success
	refute_output_contains "SECRET_TOKEN"
	refute_output_contains "canary-4711"
}

@test "LD_PRELOAD does not reach the command" {
	# Preloading anything ahead of ASan's runtime breaks its interceptors;
	# the plain build runs this test.
	! ldd "$BUILD/sandbox-run" | grep -q libasan ||
		skip "an ASan build cannot run with a library preloaded ahead of its runtime"
	# A library every process already has, so the host side is unaffected.
	preload=$(ldd "$BUILD/sandbox-run" | awk '$1 ~ /^libc\.so/ { print $3 }')
	[ -n "$preload" ] || skip "could not find libc for a harmless LD_PRELOAD"
	LD_PRELOAD=$preload run_sbx --image "$IMG" -- env
	assert_success
	refute_output_contains "LD_PRELOAD"
}

@test "--env NAME passes the caller's value" {
	export SBX_FROM_CALLER="value from the caller"
	run_sbx --image "$IMG" --env SBX_FROM_CALLER -- sh -c 'echo "$SBX_FROM_CALLER"'
	assert_success
	assert_output "value from the caller"
}

@test "--env NAME=VALUE sets the variable" {
	run_sbx --image "$IMG" --env GREETING=hello -- sh -c 'echo "$GREETING"'
	assert_success
	assert_output "hello"
}

@test "--env NAME=VALUE wins over the caller's value" {
	export GREETING=from-caller
	run_sbx --image "$IMG" --env GREETING=from-option -- sh -c 'echo "$GREETING"'
	assert_success
	assert_output "from-option"
}

@test "PATH is set inside" {
	run_sbx --image "$IMG" -- sh -c 'echo "$PATH"'
	assert_success
	[[ ":$output:" == *:/bin:* ]] || { show_run; false; }
}

@test "HOME and USER describe the caller" {
	run_sbx --image "$IMG" -- sh -c 'echo "$USER $HOME"'
	assert_success
	assert_output "$(id -un) $HOME"
}
