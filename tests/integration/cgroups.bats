#!/usr/bin/env bats
# cgroup v2 limits on this lane's host. Where the host is a v1/v2 hybrid (as
# the build machines are) the limits cannot apply: the policy decides
# between one warning line and a refusal. The limits themselves are tested
# on a cgroup v2 kernel in the VM lane (tests/vm/cgroup-standalone.sh).

load ../lib/common

cgroup_v2_host() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]
}

@test "limits on a host without cgroup v2 run the command with one warning line" {
	cgroup_v2_host && skip "this host has cgroup v2: the VM lane covers the limits"
	run_sbx --image "$IMG" --memory 64M -- echo ran
	assert_success
	assert_output ran
	[ "$(grep -c '^sandbox: warning: cgroup limits not applied' <<<"$stderr")" -eq 1 ]
}

@test "limits on a host without cgroup v2 are refused with when_unavailable = error" {
	cgroup_v2_host && skip "this host has cgroup v2: the VM lane covers the limits"
	conf=$(policy cgroups.when_unavailable=error)
	remember_host_state
	run_sbx --config "$conf" --image "$IMG" --pids 100 -- echo ran
	assert_refused "cgroup limits" when_unavailable
	assert_host_unchanged
}

@test "no limits asked, no cgroup, no warning" {
	run_sbx --image "$IMG" -- echo ran
	assert_success
	[ -z "$stderr" ]
}

@test "--memory above cgroups.max_memory is refused, naming the key" {
	conf=$(policy cgroups.max_memory=1G)
	run_sbx --config "$conf" --image "$IMG" --memory 2G -- true
	assert_refused "--memory" cgroups.max_memory
}

@test "--cpus above cgroups.max_cpus is refused, naming the key" {
	conf=$(policy cgroups.max_cpus=2)
	run_sbx --config "$conf" --image "$IMG" --cpus 2.5 -- true
	assert_refused "--cpus 2.500" cgroups.max_cpus
}

@test "a malformed --cpus, --memory or --pids is refused, naming the value" {
	run_sbx --image "$IMG" --cpus lots -- true
	assert_refused "cpus 'lots'"
	run_sbx --image "$IMG" --memory 0 -- true
	assert_refused "memory '0'"
	run_sbx --image "$IMG" --pids -1 -- true
	assert_refused "pids '-1'"
}
