#!/usr/bin/env bats
# MPI ranks in sandboxes on a real local cluster: 3 nodes x 2 ranks, Slurm's
# mpi/pmix with OpenMPI and mpi/pmi2 with MPICH, in a Debian 12 image built at
# test time (tests/lib/mpi-image.sh: mmdebstrap, cached as squashfs outside the
# tree; no Slurm in it). The program checks an allreduce and a ring of
# point-to-point messages (tests/lib/mpitest.c).
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	fuse_open || skip "squashfuse needs /dev/fuse read-writable by $SBX_USER"
	local out rc=0
	out=$("$REPO/tests/lib/mpi-image.sh") || rc=$?
	[ "$rc" -ne 77 ] || skip "MPI image: $out"
	[ "$rc" -eq 0 ] || { echo "mpi-image.sh failed ($rc): $out" >&2; return 1; }
	export MPI_IMG=$out
	[ -f /usr/lib/x86_64-linux-gnu/slurm-wlm/mpi_pmix.so ] || skip "Slurm has no mpi/pmix plugin"
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d /tmp/sbx-mpi.XXXXXX)
	chmod 755 "$WORK"
	# A private /tmp, as at a site: the PMIx server's directories (under the
	# cluster's prefix in /tmp) reach the ranks only through the plugin's binds.
	sed -i 's/^tmp = host$/tmp = private/' "$SBX_CLUSTER/etc/sandbox.conf"
}

teardown_file() {
	slurm_teardown_cluster
}

# run_mpi FLAVOUR PMI: 3 nodes x 2 ranks of the test program, one line on success.
run_mpi() {
	run --separate-stderr as_user srun -N3 -n6 --ntasks-per-node=2 --mpi="$2" \
		--sandbox-image="$MPI_IMG" /opt/mpitest/allreduce-"$1"
	[ "$status" -eq 0 ] || { echo "srun: $status: $output $stderr" >&2; return 1; }
	[ "$output" = "mpitest: ok size 6 allreduce 15 ring ok" ] || { echo "$output $stderr" >&2; return 1; }
}

@test "the MPI image has no Slurm of its own" {
	run unsquashfs -l "$MPI_IMG"
	[ "$status" -eq 0 ]
	! grep -E '/(srun|libslurm[^/]*|libpmi2[^/]*)$' <<<"$output"
}

@test "OpenMPI over srun --mpi=pmix: 3 nodes x 2 sandboxed ranks, allreduce and ring checked" {
	run_mpi openmpi pmix
}

@test "MPICH over srun --mpi=pmi2: 3 nodes x 2 sandboxed ranks, allreduce and ring checked" {
	run_mpi mpich pmi2
}

@test "ranks of a node share one sandbox: the same ipc namespace and /dev/shm" {
	run --separate-stderr as_user srun -N3 -n6 --ntasks-per-node=2 --sandbox-image="$MPI_IMG" \
		sh -c 'echo "$SLURMD_NODENAME $(readlink /proc/self/ns/ipc) $(stat -c %i /dev/shm)"'
	[ "$status" -eq 0 ]
	# Two ranks per node, one line each: both identical on each node.
	[ "$(sort -u <<<"$output" | wc -l)" -eq 3 ]
	[ "$(awk '{print $1}' <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

@test "a sandboxed batch script runs MPICH ranks with srun --mpi=pmi2 from inside" {
	cat >"$WORK/mpi.sh" <<-EOF
	#!/bin/sh
	#SBATCH --sandbox-image=$MPI_IMG
	srun --mpi=pmi2 -n4 --ntasks-per-node=2 /opt/mpitest/allreduce-mpich
	EOF
	run --separate-stderr as_user sbatch --wait -N2 -o "$WORK/mpi.out" "$WORK/mpi.sh"
	cat "$WORK/mpi.out" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$WORK/mpi.out")" = "mpitest: ok size 4 allreduce 6 ring ok" ]
}
