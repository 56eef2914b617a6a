#!/usr/bin/env bats
# With job_container/tmpfs the job has a private /tmp and /dev/shm; a
# sandboxed step must see those, not the node's.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	# The job gets a private /tmp: everything the job reads lives elsewhere,
	# the build included (a clone may well sit below /tmp).
	export JC_BUILD=/var/tmp/sbx-build-jc-$$
	mkdir -p "$JC_BUILD/tests"
	cp "$BUILD/spank_sandbox.so" "$BUILD/spank_sandbox_named.so" "$BUILD/sandbox-helper" "$BUILD/sandbox-exec" "$JC_BUILD/"
	cp "$BUILD/tests/sbx-probe" "$JC_BUILD/tests/"
	chmod -R a+rX "$JC_BUILD"
	export BUILD=$JC_BUILD
	SBX_JOBCONTAINER=1 slurm_start_cluster "/var/tmp/sbx-cluster-jc-$$"
	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d /var/tmp/sbx-slurm-jc.XXXXXX)
	export IMG=$WORK/image
	runuser -u "$SBX_USER" -- env BUILD="$BUILD" "$REPO/tests/lib/mkimage.sh" "$IMG" >/dev/null
}

teardown_file() {
	slurm_teardown_cluster
	[ -n "${JC_BUILD:-}" ] && rm -rf "$JC_BUILD"
	return 0
}

@test "a file the job writes in its private /tmp is visible inside the sandbox" {
	cat >"$WORK/jc.sh" <<-EOF
	#!/bin/sh
	echo "from-the-job-\$SLURM_JOB_ID" > /tmp/jobfile
	srun -n1 --sandbox-image=$IMG cat /tmp/jobfile
	EOF
	chmod 755 "$WORK/jc.sh"
	run --separate-stderr bash -c "cd '$WORK' && runuser -u '$SBX_USER' -- env SLURM_CONF='$SLURM_CONF' sbatch --wait -N1 -o '$WORK/jc.out' '$WORK/jc.sh'"
	cat "$WORK/jc.out" >&2
	[ "$status" -eq 0 ]
	grep -q "^from-the-job-[0-9]" "$WORK/jc.out"
	# ... and it was the job's private /tmp, not the node's.
	[ ! -e /tmp/jobfile ]
}
