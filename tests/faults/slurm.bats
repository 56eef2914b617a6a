#!/usr/bin/env bats
# Faults on a real local cluster (tests/slurm/local-cluster.sh) with the test
# build (make FAILPOINTS=1): the plugin's root callbacks and the helper
# failing at their points, the helper and the sandbox's init killed while a
# step runs, scancel during an import, slurmd restarted under a running
# step. (plugin.task_exit and plugin.exit are points too, for stop and kill
# by hand; killing slurmstepd is left out: srun may then wait for ever.) After each: one "sandbox:" line, no drained node, nothing left
# (tests/lib/leftovers.bash) and the next step works. Run by tests/run-faults.
bats_require_minimum_version 1.5.0

load ../slurm/common
load ../lib/common
load ../lib/images
load ../lib/leftovers

setup_file() {
	slurm_require
	strings -a "$BUILD/spank_sandbox.so" | grep -q SBX_FAILPOINT ||
		{ echo "$BUILD/spank_sandbox.so has no failure points: make FAILPOINTS=1" >&2; return 1; }
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-faults-$$}"
	export CACHE=$SBX_CLUSTER/image-cache
	mkdir -m 1777 "$CACHE"
	printf '[images]\ncache_dir = %s\n' "$CACHE" >>"$SBX_CLUSTER/etc/sandbox.conf"
	slurm_work_image /tmp/sbx-slurm-faults.XXXXXX
}

teardown_file() {
	slurm_teardown_cluster
}

setup() {
	fuse_open || skip "/dev/fuse is not read-writable by $SBX_USER"
	rm -f "$WORK/go"
}

teardown() {
	local pid
	# A process a test stopped and did not get to kill.
	for pid in $(slurm_fault_processes | awk '{ print $1 }'); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# The test user's processes that carry SBX_FAILPOINT: the job's (srun passes
# its environment on) and the helper's (the plugin passes it on in a test
# build). Every step of this file sets it, to a point or to "none". The
# sandbox-run fault suite sets it too: run-all runs the two one after the other.
slurm_fault_processes() {
	local p uid
	uid=$(id -u "$SBX_USER")
	for p in /proc/[0-9]*; do
		[ "$(stat -c %u "$p" 2>/dev/null)" = "$uid" ] || continue
		[ "$(cat "$p/comm" 2>/dev/null)" != srun ] || continue
		[[ "$(cut -d' ' -f3 "$p/stat" 2>/dev/null)" != Z ]] || continue
		tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -q '^SBX_FAILPOINT=' || continue
		echo "${p#/proc/} $(cat "$p/comm" 2>/dev/null)"
	done
}
LEFTOVER_PROCESSES=slurm_fault_processes
LEFTOVER_UID=$(id -u "${SBX_TEST_USER:-sbxtest}")

no_drained_node() {
	[[ "$(sinfo -h -o %T)" != *drain* ]] || { echo "node drained: $(sinfo -h -o '%N %T %E')" >&2; return 1; }
}

# step POINT ARGS...: srun -N1 as the test user with SBX_FAILPOINT=POINT.
step() {
	local point=$1
	shift
	as_user env SBX_FAILPOINT="$point" srun -N1 -n1 -w node1 "$@"
}

assert_step_works() {
	run --separate-stderr step none --sandbox-image="$1" cat /marker
	[ "$status" -eq 0 ] && [ "$output" = in-the-image ] ||
		{ echo "the next step failed: $status $output $stderr" >&2; return 1; }
}

# fail_step POINT: the step fails at POINT with one line naming it.
fail_step() {
	local point=$1
	leftovers_remember "$CACHE"
	fault_injected "slurm $point:fail"
	run --separate-stderr step "$point" --sandbox-image="$WORK/image" cat /marker
	[ "$status" -ne 0 ] || { echo "$point: the step succeeded" >&2; return 1; }
	[ "$(grep -c "sandbox: .*failure point ${point%@*}" <<<"$stderr")" -eq 1 ] ||
		{ echo "$point: expected one 'sandbox: ... failure point ${point%@*}' line in: $stderr" >&2; return 1; }
	no_drained_node
	assert_no_leftovers "$CACHE"
	assert_step_works "$WORK/image"
	fault_survived "slurm $point:fail"
}

@test "each plugin root callback and helper failure point fails the step with one line and leaves nothing" {
	local point points="plugin.prepare plugin.cgroup ns.user pivot_root.after"
	long_faults && points="plugin.prepare plugin.cgroup helper.cgroup ns.user ns.user-map ns.mount
		ns.pid init.start mount.scratch mount.fs@1 mount.bind@1 mount.overlay
		pivot_root.before pivot_root.after init.ready"
	for point in $points; do
		fail_step "$point"
	done
}

@test "a deferred start that fails fails every task of the node with one line and leaves nothing" {
	# Three tasks: the first to start the helper reads its record in its
	# shim; the other two wait at the gate and see it close unopened.
	leftovers_remember "$CACHE"
	fault_injected "slurm ns.user:fail, 3 tasks"
	run --separate-stderr step ns.user -n3 -O --sandbox-image="$WORK/image" cat /marker
	[ "$status" -ne 0 ] || { echo "the step succeeded" >&2; false; }
	[ -z "$output" ] || { echo "a task ran: $output" >&2; false; }
	[ "$(grep -c "sandbox: .*failure point ns.user" <<<"$stderr")" -eq 1 ] ||
		{ echo "expected one 'sandbox: ... failure point ns.user' line in: $stderr" >&2; false; }
	[ "$(grep -c "sandbox:" <<<"$stderr")" -eq 1 ] || { echo "more than one line: $stderr" >&2; false; }
	no_drained_node
	assert_no_leftovers "$CACHE"
	assert_step_works "$WORK/image"
	fault_survived "slurm ns.user:fail, 3 tasks"
}

# wait_stopped_helper: the pid of the test user's helper stopped at its
# failure point (state T), within 30 s.
wait_stopped_helper() {
	local i pid
	for i in $(seq 300); do
		for pid in $(slurm_fault_processes | awk '$2 == "sandbox-helper" { print $1 }'); do
			[[ "$(cat "/proc/$pid/stat" 2>/dev/null)" == *") T "* ]] && echo "$pid" && return 0
		done
		sleep 0.1
	done
	echo "no stopped sandbox-helper within 30 s: $(slurm_fault_processes)" >&2
	return 1
}

# The step's command waits for the test to open the gate ($WORK/go; the
# cluster's policy has tmp = host).
GATED='while [ ! -e "$0/go" ]; do sleep 0.05; done; cat /marker'

@test "kill -9 of the helper or the sandbox's init while a step runs ends the step and leaves nothing" {
	local victim helper pid job
	for victim in sandbox-helper sandbox-init; do
		rm -f "$WORK/go"
		leftovers_remember "$CACHE"
		fault_injected "slurm kill -9 $victim"
		step helper.running:stop --sandbox-image="$WORK/image" sh -c "$GATED" "$WORK" \
			>"$WORK/out" 2>"$WORK/err" 3>&- &
		job=$!
		helper=$(wait_stopped_helper)
		pid=$helper
		[ "$victim" = sandbox-helper ] ||
			pid=$(slurm_fault_processes | awk '$2 == "sandbox-init" { print $1; exit }')
		[ -n "$pid" ] || { echo "no $victim: $(slurm_fault_processes)" >&2; false; }
		kill -KILL "$pid"
		kill -CONT "$helper" 2>/dev/null || true
		touch "$WORK/go"
		wait "$job" && { echo "the step succeeded after kill -9 $victim: $(cat "$WORK/out")" >&2; false; }
		no_drained_node
		assert_no_leftovers "$CACHE"
		assert_step_works "$WORK/image"
		fault_survived "slurm kill -9 $victim"
	done
}

@test "the tasks go on to their prolog and exec while the helper builds the sandbox, and wait for it there" {
	local helper i job
	leftovers_remember "$CACHE"
	fault_injected "slurm ns.user:stop, 2 tasks"
	step ns.user:stop -n2 -O --sandbox-image="$WORK/image" cat /marker >"$WORK/out" 2>"$WORK/err" 3>&- &
	job=$!
	helper=$(wait_stopped_helper)
	# Before ready: both tasks are past task_init, Slurm's TaskProlog and
	# their exec; their shims wait (the starter on the helper's record,
	# the other at the gate). A start made inside task_init holds them in
	# slurmstepd, and no sandbox-exec appears while the helper is stopped.
	for i in $(seq 300); do
		[ "$(pgrep -c -u "$SBX_USER" -x sandbox-exec)" -eq 2 ] && break
		sleep 0.1
	done
	[ "$(pgrep -c -u "$SBX_USER" -x sandbox-exec)" -eq 2 ] ||
		{ kill -CONT "$helper"; wait "$job"; echo "no two shims while the helper is stopped: $(slurm_fault_processes)" >&2; false; }
	kill -CONT "$helper"
	wait "$job" || { echo "the step failed: $(cat "$WORK/err")" >&2; false; }
	[ "$(cat "$WORK/out")" = "$(printf 'in-the-image\nin-the-image')" ] || { echo "output: $(cat "$WORK/out")" >&2; false; }
	no_drained_node
	assert_no_leftovers "$CACHE"
	fault_survived "slurm ns.user:stop, 2 tasks"
}

@test "scancel during an import leaves nothing that stops the next use" {
	local job helper
	# An image of its own: the import is this test's.
	as_user sh -c "cp -a '$WORK/image' '$WORK/own' && head -c 1M /dev/urandom > '$WORK/own/blob'"
	as_user "$REPO/tests/lib/mkoci.sh" tarball "$WORK/own" "$WORK/own.tar.zst" >/dev/null
	leftovers_remember
	fault_injected "slurm scancel during import"
	job=$(as_user env SBX_FAILPOINT=import.unpack:stop sbatch --parsable -N1 -w node1 \
		--sandbox-image="$WORK/own.tar.zst" --wrap 'cat /marker')
	helper=$(wait_stopped_helper)
	scancel "$job"
	for _ in $(seq 300); do
		[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
		sleep 0.1
	done
	# The detached helper is not the step's to kill: stopped, it would wait
	# for ever. Once it goes on it must end by itself (assert_no_leftovers
	# waits for that) and leave the cache to the next step.
	kill -CONT "$helper" 2>/dev/null || true
	no_drained_node
	assert_no_leftovers
	run --separate-stderr step none --sandbox-image="$WORK/own.tar.zst" cat /marker
	[ "$status" -eq 0 ] && [ "$output" = in-the-image ] || { echo "$status $output $stderr" >&2; false; }
	# The resumed importer may have finished and published the image
	# (it does not watch the cancelled step while importing): 0 or 1 import.
	[ "$(grep -c 'sandbox: importing' <<<"$stderr")" -le 1 ] || { echo "expected at most one import: $stderr" >&2; false; }
	assert_equal "" "$(cache_strays "$CACHE")" "what the cancelled import left in the cache"
	assert_equal "" "$(cache_locks_held "$CACHE")" "cache locks"
	fault_survived "slurm scancel during import"
}

@test "a slurmd restart while a sandboxed step runs: the step goes on, then ends cleanly" {
	local job pidfile=$SBX_CLUSTER/run/slurmd-node1.pid
	leftovers_remember "$CACHE"
	fault_injected "slurm slurmd restart"
	step none --sandbox-image="$WORK/image" sh -c "$GATED" "$WORK" >"$WORK/out" 2>"$WORK/err" 3>&- &
	job=$!
	for _ in $(seq 300); do
		[ -n "$(slurm_fault_processes | awk '$2 == "sandbox-init"')" ] && break
		sleep 0.1
	done
	kill -TERM "$(cat "$pidfile")"
	for _ in $(seq 100); do kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
	SBX_SLURMD_ONLY=slurmd-own-environment slurmd -N node1 </dev/null >/dev/null 2>&1 3>&-
	for _ in $(seq 100); do [ "$(sinfo -h -n node1 -o %T)" = idle ] || [ "$(sinfo -h -n node1 -o %T)" = mixed ] || [ "$(sinfo -h -n node1 -o %T)" = allocated ] && break; sleep 0.2; done
	touch "$WORK/go"
	wait "$job" || { echo "the step failed across the restart: $(cat "$WORK/err")" >&2; false; }
	[ "$(cat "$WORK/out")" = in-the-image ] || { echo "output: $(cat "$WORK/out")" >&2; false; }
	no_drained_node
	assert_no_leftovers "$CACHE"
	assert_step_works "$WORK/image"
	fault_survived "slurm slurmd restart"
}

@test "a named step whose helper is still stopping: the job's next named step starts its own sandbox" {
	local helper first second
	leftovers_remember "$CACHE"
	fault_injected "slurm named helper.stopping:stop"
	# The first step's helper stops at helper.stopping, its sandbox still
	# alive: the second step must not join it (it is ending) but start a
	# sandbox of its own on the same writable layer.
	cat >"$WORK/named.sh" <<-EOF
	#!/bin/sh
	SBX_FAILPOINT=helper.stopping:stop srun -N1 -n1 -w node1 --sandbox-name=n1 --sandbox-image=$WORK/image \
		sh -c 'readlink /proc/self/ns/pid > /first-ns'
	SBX_FAILPOINT=none srun -N1 -n1 -w node1 --sandbox-name=n1 sh -c 'cat /first-ns; readlink /proc/self/ns/pid'
	EOF
	chmod 755 "$WORK/named.sh"
	rm -f "$WORK/named.out"
	run --separate-stderr as_user env SBX_FAILPOINT=none sbatch --wait -N1 -w node1 -o "$WORK/named.out" "$WORK/named.sh"
	helper=$(wait_stopped_helper)
	kill -CONT "$helper"
	cat "$WORK/named.out" >&2
	[ "$status" -eq 0 ] || { echo "the job failed: $stderr" >&2; false; }
	first=$(sed -n 1p "$WORK/named.out")
	second=$(sed -n 2p "$WORK/named.out")
	[[ "$first" == pid:* ]] && [[ "$second" == pid:* ]] || { echo "expected two pid namespaces" >&2; false; }
	[ "$first" != "$second" ] || { echo "the second step joined the first step's ending sandbox" >&2; false; }
	no_drained_node
	assert_no_leftovers "$CACHE"
	fault_survived "slurm named helper.stopping:stop"
}
