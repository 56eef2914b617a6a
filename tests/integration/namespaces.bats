#!/usr/bin/env bats
# Who the command is and what it can see: user mapping, namespaces, processes,
# network, hostname.

load ../lib/common

@test "the command runs as the caller's uid" {
	run_sbx --image "$IMG" -- id -u
	assert_success
	assert_output "$(id -u)"
}

@test "the command keeps the caller's gid" {
	run_sbx --image "$IMG" -- id -g
	assert_success
	assert_output "$(id -g)"
}

@test "--remap-root makes the command uid 0" {
	run_sbx --image "$IMG" --remap-root -- id -u
	assert_success
	assert_output "0"
}

@test "the uid map holds one line: the caller's uid only" {
	run_sbx --image "$IMG" -- cat /proc/self/uid_map
	assert_success
	assert_equal 1 "${#lines[@]}" "number of uid_map lines"
	read -r inside outside count <<<"${lines[0]}"
	assert_equal "$(id -u) $(id -u) 1" "$inside $outside $count" "uid_map"
}

@test "with --remap-root the uid map sends 0 to the caller's uid" {
	run_sbx --image "$IMG" --remap-root -- cat /proc/self/uid_map
	assert_success
	assert_equal 1 "${#lines[@]}" "number of uid_map lines"
	read -r inside outside count <<<"${lines[0]}"
	assert_equal "0 $(id -u) 1" "$inside $outside $count" "uid_map"
}

@test "ps shows only sandbox-init as pid 1 and the command" {
	run_sbx --image "$IMG" -- ps -o pid,comm
	assert_success
	# header, pid 1, the command: nothing from the host
	assert_equal 3 "${#lines[@]}" "number of ps lines"
	read -r pid comm <<<"${lines[1]}"
	assert_equal "1 sandbox-init" "$pid $comm" "pid 1"
	read -r pid comm <<<"${lines[2]}"
	assert_equal "ps" "$comm" "the other process"
}

@test "the command's /proc lists only the sandbox's processes" {
	run_sbx --image "$IMG" -- sh -c 'ls /proc | grep -c "^[0-9][0-9]*$"'
	assert_success
	# sandbox-init, sh, and the ls and grep of the pipeline
	[ "$output" -le 4 ] || { show_run; false; }
}

@test "the command is in new user, mount, pid, ipc, uts, net and cgroup namespaces" {
	run_sbx --image "$IMG" -- sbx-probe ns
	assert_success
	assert_equal 7 "${#lines[@]}" "number of namespaces reported"
	local line name inode host
	for line in "${lines[@]}"; do
		name=${line%%:*}
		inode=${line#*:}
		host=$(readlink "/proc/self/ns/$name")
		assert_not_equal "$name:[$inode]" "$host" "the $name namespace"
	done
}

@test "without --net the sandbox has only a loopback interface" {
	run_sbx --image "$IMG" -- cat /proc/net/dev
	assert_success
	interfaces=$(printf '%s\n' "${lines[@]:2}" | cut -d: -f1 | tr -d ' ')
	assert_equal "lo" "$interfaces" "interfaces"
}

@test "--net host shows the host's interfaces" {
	host=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort)
	run_sbx --image "$IMG" --net host -- cat /proc/net/dev
	assert_success
	inside=$(printf '%s\n' "${lines[@]:2}" | cut -d: -f1 | tr -d ' ' | sort)
	assert_equal "$host" "$inside" "interfaces"
}

@test "without --net a port listening on the host's 127.0.0.1 is unreachable" {
	start_tcp_listener
	run probe connect 127.0.0.1 "$LISTEN_PORT"
	assert_output "connect: ok"

	run_sbx --image "$IMG" -- sbx-probe connect 127.0.0.1 "$LISTEN_PORT"
	assert_success
	[[ "$output" == "connect: ECONNREFUSED" || "$output" == "connect: ENETUNREACH" ]] ||
		{ show_run; false; }
}

@test "--net host reaches a port listening on the host's 127.0.0.1" {
	start_tcp_listener
	run_sbx --image "$IMG" --net host -- sbx-probe connect 127.0.0.1 "$LISTEN_PORT"
	assert_success
	assert_output "connect: ok"
}

@test "--hostname sets the hostname inside and leaves the host's alone" {
	before=$(hostname)
	run_sbx --image "$IMG" --hostname sbx-test-node -- hostname
	assert_success
	assert_output "sbx-test-node"
	assert_equal "$before" "$(hostname)" "the host's hostname"
}
