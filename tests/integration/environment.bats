#!/usr/bin/env bats
# The command's environment (docs/images.md, "Environment"): the caller's,
# over the image's defaults, except PATH, LD_LIBRARY_PATH and LD_PRELOAD;
# then the sandbox user's identity, then --env. The site may drop variables
# (deny) or pass only a list (mode = clean). The image's own Env is tested
# with an imported image in images.bats.

load ../lib/common

@test "the caller's variables reach the command" {
	export OMP_NUM_THREADS=4 SBX_FROM_CALLER="a value with spaces = and more"
	run_sbx --image "$IMG" -- sh -c 'echo "$OMP_NUM_THREADS|$SBX_FROM_CALLER"'
	assert_success
	assert_output "4|a value with spaces = and more"
}

@test "the caller's PATH does not reach the command: the built-in PATH does" {
	PATH=/sbx-host-only/bin:$PATH run_sbx --image "$IMG" -- sh -c 'echo "$PATH"'
	assert_success
	assert_output "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

@test "--env PATH passes the caller's PATH" {
	PATH=/sbx-host-only/bin:$PATH run_sbx --image "$IMG" --env PATH -- /bin/sh -c 'echo "$PATH"'
	assert_success
	assert_output "/sbx-host-only/bin:$PATH"
}

@test "the caller's LD_LIBRARY_PATH does not reach the command" {
	LD_LIBRARY_PATH=/sbx-host-only/lib run_sbx --image "$IMG" -- env
	assert_success
	refute_output_contains "LD_LIBRARY_PATH"
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
	conf=$(policy environment.mode=clean)
	run_sbx --config "$conf" --image "$IMG" --env SBX_FROM_CALLER -- sh -c 'echo "$SBX_FROM_CALLER"'
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

@test "--env PATH=... sets the command's PATH" {
	run_sbx --image "$IMG" --env PATH=/bin -- sh -c 'echo "$PATH"'
	assert_success
	assert_output "/bin"
}

@test "HOME and USER describe the caller" {
	run_sbx --image "$IMG" -- sh -c 'echo "$USER $HOME"'
	assert_success
	assert_output "$(id -un) $HOME"
}

@test "the sandbox user's identity beats the caller's USER and LOGNAME" {
	USER=someone-else LOGNAME=someone-else run_sbx --image "$IMG" -- sh -c 'echo "$USER $LOGNAME"'
	assert_success
	assert_output "$(id -un) $(id -un)"
}

@test "the launcher's own SANDBOX_EXEC_ variables do not reach the command" {
	run_sbx --image "$IMG" -- env
	assert_success
	assert_output_contains "SBX_TEST_TAG="
	refute_output_contains "SANDBOX_EXEC_"
}

@test "deny drops the caller's variables by glob" {
	conf=$(policy "environment.deny=SBX_SECRET_* *_TOKEN")
	SBX_SECRET_KEY=k1 MY_TOKEN=t1 SBX_KEPT=kept run_sbx --config "$conf" --image "$IMG" -- env
	assert_success
	refute_output_contains "SBX_SECRET_KEY"
	refute_output_contains "MY_TOKEN"
	assert_output_contains "SBX_KEPT=kept"
}

@test "--env NAME passes a variable the site's deny list drops" {
	conf=$(policy "environment.deny=MY_TOKEN")
	MY_TOKEN=t1 run_sbx --config "$conf" --image "$IMG" --env MY_TOKEN -- sh -c 'echo "$MY_TOKEN"'
	assert_success
	assert_output "t1"
}

@test "mode = clean keeps the caller's variables out" {
	conf=$(policy environment.mode=clean)
	export SECRET_TOKEN=canary-4711
	run_sbx --config "$conf" --image "$IMG" -- env
	assert_success
	refute_output_contains "SECRET_TOKEN"
	refute_output_contains "canary-4711"
}

@test "mode = clean passes the passthrough list, deny wins over it" {
	conf=$(policy environment.mode=clean "environment.passthrough=SITE_*" environment.deny=SITE_HIDDEN)
	SITE_VAR=from-site SITE_HIDDEN=x OTHER_VAR=hidden run_sbx --config "$conf" --image "$IMG" -- env
	assert_success
	assert_output_contains "SITE_VAR=from-site"
	refute_output_contains "SITE_HIDDEN"
	refute_output_contains "OTHER_VAR"
}

@test "a bad environment mode is refused with one line naming the key" {
	conf=$(policy environment.mode=bare)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:" "bad value 'bare' for environment.mode (use inherit or clean)"
}

@test "PATH is set inside" {
	run_sbx --image "$IMG" -- sh -c 'echo "$PATH"'
	assert_success
	[[ ":$output:" == *:/bin:* ]] || { show_run; false; }
}
