#!/usr/bin/env bats
# What a Slurm user expects of a first job, under the SHIPPED site policy
# (conf/sandbox.conf, not the cluster's own): the node's network, device
# binds, strict lists. A real local cluster (tests/slurm/local-cluster.sh).
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	slurm_work_image /tmp/sbx-habits.XXXXXX
	runuser -u "$SBX_USER" -- sh -c "echo secret > '$IMG/etc/hidden'"
	# slurmd, and so every step, runs in this machine's network namespace.
	export HOST_NET=$(readlink /proc/self/ns/net)
}

teardown_file() {
	slurm_teardown_cluster
}

setup() {
	shipped_policy
}

# shipped_policy [LINE...]: the cluster's policy becomes conf/sandbox.conf
# as shipped, plus LINEs (appended, so a key given there wins). The cluster
# needs nothing more: the shipped policy allows every image and mount source.
# srun and every slurmstepd read the file afresh for each step.
shipped_policy() {
	{
		cat "$REPO/conf/sandbox.conf"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$SBX_CLUSTER/etc/sandbox.conf"
	chmod 644 "$SBX_CLUSTER/etc/sandbox.conf"
}

no_drained_node() {
	run sinfo -h -o %T
	[[ "$output" != *drain* ]] || { echo "node drained: $output" >&2; return 1; }
}

# A refusal: non-zero status and exactly one "sandbox: " line holding WANT.
assert_one_line_refusal() {
	local want=$1 n
	[ "$status" -ne 0 ] || { echo "expected failure, got 0: $output" >&2; return 1; }
	n=$(grep -c "sandbox: " <<<"$stderr" || true)
	[ "$n" -eq 1 ] || { echo "expected one 'sandbox:' line, got $n: $stderr" >&2; return 1; }
	grep -qF "sandbox: $want" <<<"$stderr" || { echo "no 'sandbox: $want' in: $stderr" >&2; return 1; }
	no_drained_node
}

@test "under the shipped policy a step shares the node's network" {
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="$IMG" readlink /proc/self/ns/net
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "${#lines[@]}" -eq 2 ]
	for line in "${lines[@]}"; do
		[ "$line" = "$HOST_NET" ] || { echo "not the node's network: $line (host $HOST_NET)" >&2; false; }
	done
}

@test "--sandbox-net=none gives a step a private network with loopback only" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-net=none sh -c \
		'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "${lines[0]}" != "$HOST_NET" ]
	[ "${#lines[@]}" -eq 2 ] && [ "${lines[1]}" = lo ] || { echo "interfaces: ${lines[*]:1}" >&2; false; }
}

@test "SANDBOX_NET=none in the job's environment isolates its steps too" {
	run --separate-stderr as_user env SANDBOX_NET=none srun -n1 --sandbox-image="$IMG" readlink /proc/self/ns/net
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" != "$HOST_NET" ]
}

@test "a site forcing none: a step that asks nothing gets none, asking for host is refused" {
	shipped_policy "[namespaces]" "allow_net_host = no"
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" readlink /proc/self/ns/net
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" != "$HOST_NET" ]
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-net=host true
	assert_one_line_refusal "--net host: refused by site policy (namespaces.allow_net_host = no in $SBX_CLUSTER/etc/sandbox.conf)"
}

@test "slurm_net = none makes a private network the default; --sandbox-net=host still gets the node's" {
	shipped_policy "[namespaces]" "slurm_net = none"
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" readlink /proc/self/ns/net
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" != "$HOST_NET" ]
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-net=host readlink /proc/self/ns/net
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = "$HOST_NET" ]
}

@test "--sandbox-mounts=/dev/null:/etc/hidden hides the image's file and takes writes" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-mounts=/dev/null:/etc/hidden sh -c \
		'wc -c < /etc/hidden; echo x > /etc/hidden && echo written'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = "0
written" ] || { echo "got: $output" >&2; false; }
	[ "$(cat "$IMG/etc/hidden")" = secret ]
}

@test "an empty element of --sandbox-env is refused by srun in one line naming it" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-env=FOO, true
	assert_one_line_refusal "--sandbox-env 'FOO,': element 2 of 2 is empty"
}

@test "an empty element of --sandbox-mounts is refused by srun in one line naming it" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-mounts=/tmp:/a,,/tmp:/b true
	assert_one_line_refusal "--sandbox-mounts '/tmp:/a,,/tmp:/b': element 2 of 3 is empty"
}

@test "an empty element of SANDBOX_MOUNTS or SANDBOX_ENV is refused naming the variable" {
	run --separate-stderr as_user env SANDBOX_MOUNTS=/tmp:/a,,/tmp:/b srun -n1 --sandbox-image="$IMG" true
	assert_one_line_refusal "SANDBOX_MOUNTS '/tmp:/a,,/tmp:/b': element 2 of 3 is empty"
	run --separate-stderr as_user env SANDBOX_ENV=,FOO srun -n1 --sandbox-image="$IMG" true
	assert_one_line_refusal "SANDBOX_ENV ',FOO': element 1 of 2 is empty"
}
