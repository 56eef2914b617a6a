# Shared by the tests/slurm/*.bats suites (`load common`): a real local
# cluster (local-cluster.sh: three slurmd on this machine) started by root,
# jobs submitted by the unprivileged user $SBX_USER.

# What every suite needs before it starts its cluster: root, the plugin
# built, REPO, BUILD and the test user $SBX_USER (created if missing).
slurm_require() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to start the Slurm daemons"
	export REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export BUILD=${BUILD:-$REPO/build}
	[ -f "$BUILD/spank_sandbox.so" ] && [ -f "$BUILD/spank_sandbox_named.so" ] || skip "plugins not built"
	export SBX_USER=${SBX_TEST_USER:-sbxtest}
	id "$SBX_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SBX_USER"
}

# slurm_start_cluster DIR: a cluster in DIR ($SBX_CLUSTER) with the plugin of
# $BUILD, and $SLURM_CONF naming its slurm.conf. Variables set before the
# call (SBX_JOBCONTAINER=1 slurm_start_cluster ...) reach local-cluster.sh.
slurm_start_cluster() {
	export SBX_CLUSTER=$1
	"$REPO/tests/slurm/local-cluster.sh" start >/dev/null
	export SLURM_CONF=$SBX_CLUSTER/etc/slurm.conf
}

# Where the cluster's named sandboxes live (local-cluster.sh named_base).
slurm_named_dir() {
	echo "${SBX_NAMED_PARENT:-/var/lib}/sbx-named-$(basename "$SBX_CLUSTER")"
}

# The cluster stopped and removed, and the work directory $WORK.
slurm_teardown_cluster() {
	[ -n "${SBX_CLUSTER:-}" ] && "$REPO/tests/slurm/local-cluster.sh" stop && rm -rf "$SBX_CLUSTER"
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	return 0
}

# slurm_work_image TEMPLATE: $WORK, the test user's directory (mktemp -d
# TEMPLATE, readable by all), and in it $IMG, the test image with a /marker
# that reads "in-the-image".
slurm_work_image() {
	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d "$1")
	chmod 755 "$WORK"
	export IMG=$WORK/image
	runuser -u "$SBX_USER" -- env BUILD="$BUILD" "$REPO/tests/lib/mkimage.sh" "$IMG" >/dev/null
	runuser -u "$SBX_USER" -- sh -c "echo in-the-image > '$IMG/marker'"
}

# Run a Slurm command as the test user, from its work directory.
as_user() {
	(cd "$WORK" && runuser -u "$SBX_USER" -- env SLURM_CONF="$SLURM_CONF" "$@")
}

# squashfuse runs as the job's user and needs /dev/fuse read-writable by it.
fuse_open() {
	runuser -u "$SBX_USER" -- test -r /dev/fuse -a -w /dev/fuse
}

# slurm_job_ended JOBID: wait (up to 30 s) until slurmctld has the job
# COMPLETED and no longer COMPLETING: every node has reported its epilog
# done (after any `slurmstepd spank epilog` slurmd ran for it), or that it
# had none to run.
slurm_job_ended() {
	local state
	for _ in $(seq 1 150); do
		state=$(squeue -h -j "$1" -t all -o %T 2>/dev/null) || state=
		[ -z "$state" ] || [ "$state" = COMPLETED ] && return 0
		sleep 0.2
	done
	echo "job $1 did not end: $state" >&2
	return 1
}

# How many `slurmstepd spank epilog` the cluster's slurmd have run (their
# debug lines; SlurmdDebug=debug).
slurm_spank_epilogs() {
	cat "$SBX_CLUSTER"/log/slurmd-*.log | grep -c 'spank epilog' || true
}
