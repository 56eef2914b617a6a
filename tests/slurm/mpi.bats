#!/usr/bin/env bats
# MPI ranks in sandboxes on a real local cluster: 3 nodes x 2 ranks, Slurm's
# mpi/pmix with OpenMPI and mpi/pmi2 with MPICH, in Debian images built at
# test time (tests/lib/mpi-image.sh: mmdebstrap, cached as squashfs outside the
# tree; no Slurm in them): Debian 12 with OpenMPI 4.1 and MPICH 4.0, Debian 13
# with MPICH 4.2 for MPICH across nodes. The program checks an allreduce and a
# ring of point-to-point messages (tests/lib/mpitest.c).
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
	rc=0
	out=$("$REPO/tests/lib/mpi-image.sh" trixie) || rc=$?
	[ "$rc" -ne 77 ] || skip "MPICH 4.2 image: $out"
	[ "$rc" -eq 0 ] || { echo "mpi-image.sh trixie failed ($rc): $out" >&2; return 1; }
	export MPICH_IMG=$out
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

# A test that failed or timed out leaves no job behind for the next one: its
# ranks would keep the test user's CPU and the cluster's nodes.
teardown() {
	[ -z "${WORK:-}" ] || as_user scancel --user="$SBX_USER" >/dev/null 2>&1 || true
}

# run_mpi IMAGE FLAVOUR PMI NODES [ENV...]: 2 ranks per node of the test
# program, one line on success.
run_mpi() {
	local image=$1 flavour=$2 pmi=$3 nodes=$4 n=$(($4 * 2))
	shift 4
	# --time, timeout: a step that never starts or never ends fails the test
	# within two minutes instead of wedging the suite.
	run --separate-stderr as_user env "$@" timeout 120 srun --time=2 -N"$nodes" -n"$n" --ntasks-per-node=2 --mpi="$pmi" \
		--sandbox-image="$image" /opt/mpitest/allreduce-"$flavour"
	[ "$status" -eq 0 ] || { echo "srun: $status: $output $stderr" >&2; return 1; }
	[ "$output" = "mpitest: ok size $n allreduce $((n * (n - 1) / 2)) ring ok" ] ||
		{ echo "$output $stderr" >&2; return 1; }
}

# OpenMPI's Debian package pulls in libslurm38 (the runtime library); no command,
# no libslurmfull, no libpmi2: the client is the node's.
@test "the MPI images have no Slurm of their own" {
	for img in "$MPI_IMG" "$MPICH_IMG"; do
		run unsquashfs -l "$img"
		[ "$status" -eq 0 ]
		! grep -E '/(srun|sbatch|scontrol|slurmstepd|libslurmfull[^/]*|libpmi2[^/]*)$' <<<"$output" || false
	done
}

# The three "nodes" of the test cluster are one host with one hostname, and
# OpenMPI takes every rank on the same hostname for a shared-memory peer: its
# vader transport would look for the other nodes' segments in this node's
# sandbox. Across nodes it is told to use TCP, as between real hosts; shared
# memory between the ranks of one node is the next test.
@test "OpenMPI over srun --mpi=pmix: 3 nodes x 2 sandboxed ranks, allreduce and ring checked" {
	run_mpi "$MPI_IMG" openmpi pmix 3 OMPI_MCA_btl=self,tcp
}

@test "OpenMPI over srun --mpi=pmix: 2 ranks of a node talk through shared memory in their sandbox" {
	run_mpi "$MPI_IMG" openmpi pmix 1 OMPI_MCA_btl=self,vader
}

# MPICH is built for UCX only in Debian (ch4:ucx). Between the sandboxes of
# different nodes UCX has only TCP (its shared-memory transports check the
# ipc and pid namespaces). Debian 12's MPICH 4.0.2 hangs now and then in
# MPI_Finalize there, with or without Slurm and this project: it closes its
# UCX endpoints and then waits in a PMI barrier, where it no longer drives
# UCX, while a peer's close still needs it. MPICH 4.2.0 moved the barrier
# before the close (commit 08d8105b7b); Debian 13's MPICH 4.2.1 runs here
# (docs/slurm.md, "MPI").
@test "MPICH over srun --mpi=pmi2: 3 nodes x 2 sandboxed ranks, allreduce and ring checked" {
	run_mpi "$MPICH_IMG" mpich pmi2 3
}

@test "MPICH over srun --mpi=pmi2: 2 ranks of a node talk through shared memory in their sandbox" {
	run_mpi "$MPI_IMG" mpich pmi2 1 UCX_TLS=self,sm
}

@test "ranks of a node share one sandbox: the same ipc namespace and /dev/shm" {
	run --separate-stderr as_user timeout 120 srun --time=2 -N3 -n6 --ntasks-per-node=2 --sandbox-image="$MPI_IMG" \
		sh -c 'echo "$SLURMD_NODENAME $(readlink /proc/self/ns/ipc) $(stat -c %i /dev/shm)"'
	[ "$status" -eq 0 ]
	# Two ranks per node, one line each: both identical on each node.
	[ "$(sort -u <<<"$output" | wc -l)" -eq 3 ]
	[ "$(awk '{print $1}' <<<"$output" | sort -u | wc -l)" -eq 3 ]
	# ... and each node its own ipc namespace: shared memory stays in a node.
	[ "$(awk '{print $2}' <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

# srun from inside the batch script, with MPI: OpenMPI over pmix across two
# nodes in the script's image, MPICH 4.2 over pmi2 across two nodes in
# another image (a step's own --sandbox-image wins over the job's), and
# Debian 12's MPICH 4.0 over pmi2 within one node (UCX shared memory).
@test "a sandboxed batch script runs MPI ranks with srun --mpi=pmix and --mpi=pmi2 from inside" {
	cat >"$WORK/mpi.sh" <<-EOF
	#!/bin/sh
	#SBATCH --sandbox-image=$MPI_IMG
	OMPI_MCA_btl=self,tcp srun --mpi=pmix -N2 -n4 --ntasks-per-node=2 /opt/mpitest/allreduce-openmpi
	srun --mpi=pmi2 -N2 -n4 --ntasks-per-node=2 --sandbox-image=$MPICH_IMG /opt/mpitest/allreduce-mpich
	UCX_TLS=self,sm srun --mpi=pmi2 -N1 -n2 /opt/mpitest/allreduce-mpich
	EOF
	run --separate-stderr as_user timeout 180 sbatch --wait --time=3 -N2 --ntasks-per-node=2 -o "$WORK/mpi.out" "$WORK/mpi.sh"
	cat "$WORK/mpi.out" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$WORK/mpi.out")" = "mpitest: ok size 4 allreduce 6 ring ok
mpitest: ok size 4 allreduce 6 ring ok
mpitest: ok size 2 allreduce 1 ring ok" ]
}
