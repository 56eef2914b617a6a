#!/usr/bin/env bats
# The pieces of srun-inside-a-sandbox that need no cluster (the cluster's
# side is tests/slurm/slurm-client.bats): the launchers run the host's Slurm
# client with the host's loader and libraries in an image that has neither
# Slurm nor a libc (busybox-static), the shim puts them first on PATH, and
# the shim keeps Slurm's PMI_FD open for the command.

load ../lib/common

# The binds the plugin makes for a batch step (plugin/slurm-client.c), with a
# minimal slurm.conf of our own at /etc/slurm.
client_binds() {
	local lib=/usr/lib/x86_64-linux-gnu
	echo "--mount $BUILD/slurm-client:/.sandbox-slurm/bin:ro" \
		"--mount $(readlink -f /lib64/ld-linux-x86-64.so.2):/.sandbox-slurm/ld.so:ro" \
		"--mount $lib:/.sandbox-slurm/lib:ro --mount $lib/slurm-wlm:/.sandbox-slurm/slurm-lib:ro" \
		"--mount /usr/bin:/.sandbox-slurm/host-bin:ro --mount $lib/slurm-wlm:$lib/slurm-wlm:ro" \
		"--mount $BATS_FILE_TMPDIR/etc:/etc/slurm:ro"
}

setup_file() {
	prepare_suite
	[ -x /usr/bin/srun ] && [ -d /usr/lib/x86_64-linux-gnu/slurm-wlm ] || skip "Slurm's client is not installed"
	[ -x "$BUILD/slurm-client/srun" ] || skip "launchers not built (make)"
	mkdir -p "$BATS_FILE_TMPDIR/etc"
	printf 'ClusterName=x\nSlurmctldHost=localhost\nNodeName=n1 CPUs=1\nPartitionName=p Nodes=n1\n' \
		>"$BATS_FILE_TMPDIR/etc/slurm.conf"
}

@test "the host's srun runs inside an image with no Slurm and no libc" {
	[ ! -e "$IMG/lib/x86_64-linux-gnu/libc.so.6" ] && [ ! -e "$IMG/usr/bin/srun" ]
	# shellcheck disable=SC2046
	run_sbx --image "$IMG" $(client_binds) -- sh -c 'srun --version && scontrol --version'
	assert_success
	want=$(SLURM_CONF=$BATS_FILE_TMPDIR/etc/slurm.conf srun --version)
	[[ "$want" == slurm* ]]
	assert_output "$want
$want"
}

@test "the launchers come first on PATH, before the image's own directories" {
	# shellcheck disable=SC2046
	run_sbx --image "$IMG" $(client_binds) -- sh -c 'echo "$PATH"; command -v srun'
	assert_success
	[ "${lines[0]%%:*}" = /.sandbox-slurm/bin ]
	[ "${lines[1]}" = /.sandbox-slurm/bin/srun ]
}

@test "without the client's binds PATH is the image's own" {
	run_sbx --image "$IMG" -- sh -c 'echo "$PATH"; command -v srun || echo none'
	assert_success
	[[ "${lines[0]}" != */.sandbox-slurm/* ]]
	[ "${lines[1]}" = none ]
}

@test "the fd named by PMI_FD stays open for the command; other inherited fds are closed" {
	PMI_FD=5 run_sbx --image "$IMG" -- sh -c 'for fd in 5 7; do [ -e /proc/self/fd/$fd ] && echo "$fd open" || echo "$fd closed"; done' 5</dev/null 7</dev/null
	assert_success
	assert_output "5 open
7 closed"
}
