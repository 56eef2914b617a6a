#!/usr/bin/env bats
# srun, sbatch and scontrol from inside a sandboxed batch script: the host's
# Slurm client (plugin/slurm-client.c), on a real local cluster, with an
# image that has no Slurm at all. slurm-client-munge.bats (a link to this
# file) runs the same tests against a cluster with munge authentication and a
# munged of its own (local-cluster.sh SBX_MUNGE=1), as real sites have.
bats_require_minimum_version 1.5.0

load common

case $BATS_TEST_FILENAME in
*-munge.bats) export SBX_MUNGE=1 ;;
esac

setup_file() {
	slurm_require
	if [ "${SBX_MUNGE:-0}" = 1 ]; then
		command -v munged >/dev/null || skip "munged is not installed (apt-get install munge)"
	fi
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	slurm_work_image /tmp/sbx-client.XXXXXX
	# A private /tmp, as at a site: the cluster's prefix (its slurm.conf,
	# the munge socket) is then inside only through the client's binds.
	sed -i 's/^tmp = host$/tmp = private/' "$SBX_CLUSTER/etc/sandbox.conf"
}

teardown_file() {
	slurm_teardown_cluster
}

no_drained_node() {
	run sinfo -h -o %T
	[[ "$output" != *drain* ]] || { echo "node drained: $output" >&2; return 1; }
}

@test "the cluster's authentication is the one this run asked for" {
	run scontrol show config
	if [ "${SBX_MUNGE:-0}" = 1 ]; then
		grep -q "^AuthType *= auth/munge" <<<"$output"
	else
		grep -q "^AuthType *= auth/none" <<<"$output"
	fi
}

@test "a sandboxed batch script's srun runs in the same image on 2 nodes (the image has no Slurm)" {
	! find "$IMG" -name 'srun*' -o -name 'libslurm*' | grep -q .
	cat >"$WORK/job.sh" <<-EOF
	#!/bin/sh
	#SBATCH --sandbox-image=$IMG
	echo "batch \$(cat /marker) srun=\$(command -v srun)"
	srun -N2 -n2 sh -c 'echo "step \$SLURM_PROCID \$SLURMD_NODENAME \$(cat /marker) \$(cat /proc/1/comm)"' | sort
	EOF
	run --separate-stderr as_user sbatch --wait -N2 -o "$WORK/job.out" "$WORK/job.sh"
	cat "$WORK/job.out" >&2
	[ "$status" -eq 0 ]
	grep -qx "batch in-the-image srun=/.sandbox-slurm/bin/srun" "$WORK/job.out"
	# Each rank ran on its own node, in the image (only the image has
	# /marker), inside a sandbox (pid 1 is sandbox-init, not the host's).
	grep -qx "step 0 node[1-3] in-the-image sandbox-init" "$WORK/job.out"
	grep -qx "step 1 node[1-3] in-the-image sandbox-init" "$WORK/job.out"
	[ "$(grep -c '^step ' "$WORK/job.out")" -eq 2 ]
	[ "$(awk '/^step/ {print $3}' "$WORK/job.out" | sort -u | wc -l)" -eq 2 ]
	no_drained_node
}

@test "scontrol and sbatch from inside the sandbox reach slurmctld as the job's user" {
	cat >"$WORK/ctl.sh" <<-EOF
	#!/bin/sh
	#SBATCH --sandbox-image=$IMG
	id -u
	scontrol show job "\$SLURM_JOB_ID" | grep -o "UserId=[^ ]*"
	sbatch --parsable --wait -N1 -o "$WORK/inner.out" --wrap 'cat /marker' >/dev/null && echo "inner sbatch ok"
	EOF
	run --separate-stderr as_user sbatch --wait -N1 -o "$WORK/ctl.out" "$WORK/ctl.sh"
	cat "$WORK/ctl.out" >&2
	[ "$status" -eq 0 ]
	uid=$(id -u "$SBX_USER")
	# Mapped to itself (remap-root off): Slurm's client sees the real uid.
	[ "$(sed -n 1p "$WORK/ctl.out")" = "$uid" ]
	grep -q "^UserId=$SBX_USER($uid)" "$WORK/ctl.out"
	grep -qx "inner sbatch ok" "$WORK/ctl.out"
	# The inner sbatch inherited the job's --sandbox-image: its script ran in the image.
	[ "$(cat "$WORK/inner.out")" = in-the-image ]
}

@test "with [slurm] client = no the batch script has no srun" {
	conf=$SBX_CLUSTER/etc/sandbox.conf
	cp "$conf" "$WORK/sandbox.conf.saved"
	printf '[slurm]\nclient = no\n' >>"$conf"
	cat >"$WORK/off.sh" <<-EOF
	#!/bin/sh
	#SBATCH --sandbox-image=$IMG
	command -v srun || echo "no srun"
	EOF
	run --separate-stderr as_user sbatch --wait -N1 -o "$WORK/off.out" "$WORK/off.sh"
	cp "$WORK/sandbox.conf.saved" "$conf"
	cat "$WORK/off.out" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$WORK/off.out")" = "no srun" ]
}
