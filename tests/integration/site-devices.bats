#!/usr/bin/env bats
# What the site adds to every sandbox (docs/policy.md, [devices], [binds],
# [hooks]): host device nodes by glob, host files, either always or only when
# a variable of the job is set (CUDA_VISIBLE_DEVICES, a GRES); hooks only
# from a directory root owns.

load ../lib/common

@test "a device exposed by policy is in the sandbox's /dev, and absent without it" {
	[ -c /dev/fuse ] || skip "no /dev/fuse on this host"
	run_sbx --image "$IMG" -- sh -c 'test -e /dev/fuse && echo present || echo absent'
	assert_success
	assert_output "absent"
	run_sbx --config "$(policy devices.expose=/dev/fuse)" --image "$IMG" -- stat -c '%F %t,%T' /dev/fuse
	assert_success
	assert_output "$(stat -c '%F %t,%T' /dev/fuse)"
}

@test "an exposed device can be opened inside when the user may open it on the host" {
	[ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not open to $(id -un)"
	run_sbx --config "$(policy devices.expose=/dev/fuse)" --image "$IMG" -- sh -c ': <>/dev/fuse && echo opened'
	assert_success
	assert_output "opened"
}

@test "a glob exposes every matching node, and the kernel still checks each node's own mode" {
	ls /dev/loop[0-9]* >/dev/null 2>&1 || skip "no loop devices on this host"
	[ -r /dev/loop-control ] && skip "$(id -un) may open /dev/loop-control here"
	run_sbx --config "$(policy 'devices.expose=/dev/loop-control /dev/loop[0-9]*')" --image "$IMG" -- \
		sh -c 'ls /dev | grep -c "^loop[0-9]"; test -c /dev/loop-control && echo control; (: <>/dev/loop-control) 2>/dev/null || echo refused'
	assert_success
	assert_output "$(ls /dev | grep -c '^loop[0-9]')
control
refused"
}

@test "expose_if_set exposes a device only when the job's variable is set" {
	[ -c /dev/fuse ] || skip "no /dev/fuse on this host"
	conf=$(policy devices.expose_if_set=SBX_TEST_GPUS:/dev/fuse)
	run_sbx --config "$conf" --image "$IMG" -- sh -c 'test -e /dev/fuse && echo present || echo absent'
	assert_output "absent"
	SBX_TEST_GPUS= run_sbx --config "$conf" --image "$IMG" -- sh -c 'test -e /dev/fuse && echo present || echo absent'
	assert_output "absent"
	SBX_TEST_GPUS=0 run_sbx --config "$conf" --image "$IMG" -- sh -c 'test -e /dev/fuse && echo present || echo absent'
	assert_output "present"
}

@test "a host file bound by policy is read-only inside, and a missing one is skipped" {
	echo "driver-lib" >"$BATS_TEST_TMPDIR/libfake.so"
	conf=$(policy "binds.host=$BATS_TEST_TMPDIR/libfake.so:/usr/lib/libfake.so /nonexistent/libcuda.so")
	run_sbx --config "$conf" --image "$IMG" -- sh -c 'cat /usr/lib/libfake.so; echo x >/usr/lib/libfake.so || echo read-only'
	assert_success
	assert_output_contains "driver-lib"
	assert_output_contains "read-only"
}

@test "host_if_set binds a file only when the job's variable is set" {
	echo "tool" >"$BATS_TEST_TMPDIR/nvtool"
	conf=$(policy "binds.host_if_set=SBX_TEST_GPUS:$BATS_TEST_TMPDIR/nvtool:/opt/nvtool")
	run_sbx --config "$conf" --image "$IMG" -- sh -c 'cat /opt/nvtool 2>/dev/null || echo none'
	assert_output "none"
	SBX_TEST_GPUS=1 run_sbx --config "$conf" --image "$IMG" -- cat /opt/nvtool
	assert_success
	assert_output "tool"
}

@test "a device glob outside /dev is refused in the policy, with its line" {
	conf=$(policy 'devices.expose=/etc/*')
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_status 125
	assert_stderr_contains "bad item '/etc/*' in devices.expose"
	assert_stderr_contains "below /dev"
}

@test "a hooks directory the user can write is refused: hooks come from root only" {
	mkdir "$BATS_TEST_TMPDIR/hooks"
	printf '#!/bin/sh\ntouch "$SANDBOX_ROOTFS/hooked"\n' >"$BATS_TEST_TMPDIR/hooks/10-touch"
	chmod 755 "$BATS_TEST_TMPDIR/hooks/10-touch"
	run_sbx --config "$(policy "hooks.dir=$BATS_TEST_TMPDIR/hooks")" --image "$IMG" -- true
	assert_status 125
	assert_stderr_contains "hooks.dir"
	assert_stderr_contains "owned by root"
}
