#!/usr/bin/env bats
# What a site adds on its nodes, and joining a running named sandbox, on a
# real local cluster: devices exposed by policy (a fake GRES device node made
# here, exposed only when CUDA_VISIBLE_DEVICES is set), a site hook whose
# effect is visible inside, srun --overlap into a running named sandbox, and
# sattach to a sandboxed step.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	slurm_work_image /tmp/sbx-slurm-node.XXXXXX
	cp "$SBX_CLUSTER/etc/sandbox.conf" "$WORK/sandbox.conf.orig"
	# A fake GPU: a character device (1,3 is what /dev/null is) that only
	# this test made, mode 0666 so the job user may open it.
	export FAKE_GPU=/dev/sbx-fakegpu$$
	mknod -m 0666 "$FAKE_GPU" c 1 3
	# Root's hooks directory (every directory above it root's too).
	export HOOKS=/var/lib/sbx-hooks-$$
	mkdir -m 0755 "$HOOKS"
	cat >"$HOOKS/10-mark" <<-'EOF2'
	#!/bin/sh
	echo "job=$SLURM_JOB_ID uid=$(id -u) rootfs=$SANDBOX_ROOTFS" >"$SANDBOX_ROOTFS/tmp/hooked"
	EOF2
	chmod 0755 "$HOOKS/10-mark"
}

teardown_file() {
	rm -f "${FAKE_GPU:-/nonexistent}"
	[ -z "${HOOKS:-}" ] || rm -rf "$HOOKS"
	slurm_teardown_cluster
}

teardown() {
	[ -z "${WORK:-}" ] || cp "$WORK/sandbox.conf.orig" "$SBX_CLUSTER/etc/sandbox.conf"
}

with_policy() {
	printf '%s\n' "$1" >>"$SBX_CLUSTER/etc/sandbox.conf"
}

@test "a device exposed by policy when CUDA_VISIBLE_DEVICES is set is there, and absent without it" {
	with_policy "[devices]
expose_if_set = CUDA_VISIBLE_DEVICES:/dev/sbx-fakegpu*"
	run --separate-stderr as_user env -u CUDA_VISIBLE_DEVICES srun -N1 --sandbox-image="$IMG" \
		sh -c "test -e $FAKE_GPU && echo present || echo absent"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = absent ]
	run --separate-stderr as_user env CUDA_VISIBLE_DEVICES=0 srun -N1 --sandbox-image="$IMG" \
		sh -c "stat -c '%F %t,%T' $FAKE_GPU && echo x > $FAKE_GPU && echo written"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = "character special file 1,3
written" ]
}

@test "a device exposed by policy for every sandbox is there in every step" {
	with_policy "[devices]
expose = $FAKE_GPU"
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="$IMG" sh -c "test -c $FAKE_GPU && echo present"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = "present
present" ]
}

@test "a site hook runs as the job's user before the task and its effect is visible inside" {
	with_policy "[hooks]
dir = $HOOKS"
	run --separate-stderr as_user srun -N1 --sandbox-image="$IMG" cat /tmp/hooked
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[[ "$output" == "job="[0-9]*" uid=$(id -u "$SBX_USER") rootfs=/"* ]] || { echo "$output" >&2; false; }
}

@test "a hook the job user could have written is refused, and the step fails in one line" {
	cp "$HOOKS/10-mark" "$HOOKS/20-users"
	chown "$SBX_USER" "$HOOKS/20-users"
	with_policy "[hooks]
dir = $HOOKS"
	run --separate-stderr as_user srun -N1 --sandbox-image="$IMG" true
	rm -f "$HOOKS/20-users"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"sandbox: hooks.dir $HOOKS/20-users: not root's, or writable by others"* ]] || { echo "$stderr" >&2; false; }
}

@test "srun --overlap --sandbox-name joins the running named sandbox: same pid and mount namespaces" {
	cat >"$WORK/attach.sh" <<-EOF
	#!/bin/sh
	rm -f $WORK/ready $WORK/done
	# Memory for both steps: a step takes the job's whole memory by default.
	srun -N1 -n1 --mem=100M --sandbox-name=box --sandbox-image=$IMG --sandbox-writable --sandbox-mounts=$WORK:/work sh -c '
		echo first > /tmp/first-step; readlink /proc/self/ns/mnt > /work/first-mnt
		touch /work/ready; while [ ! -e /work/done ]; do sleep 0.1; done; echo "first step saw: \$(cat /tmp/second-step)"' &
	while [ ! -e $WORK/ready ]; do sleep 0.1; done
	srun -N1 -n1 --mem=100M --overlap --sandbox-name=box sh -c '
		echo "second step sees: \$(cat /tmp/first-step)"; echo second > /tmp/second-step
		[ "\$(readlink /proc/self/ns/mnt)" = "\$(cat /work/first-mnt)" ] && echo same-mount-namespace
		ps -o comm | grep -q "^sandbox-init" && echo same-pid-namespace'
	touch $WORK/done
	wait
	EOF
	chmod 755 "$WORK/attach.sh"
	run --separate-stderr as_user timeout 120 sbatch --wait -N1 --mem=400M -o "$WORK/attach.out" "$WORK/attach.sh"
	cat "$WORK/attach.out" >&2
	[ "$status" -eq 0 ]
	[ "$(sort "$WORK/attach.out")" = "first step saw: second
same-mount-namespace
same-pid-namespace
second step sees: first" ]
}

@test "sattach to a sandboxed step shows its output" {
	cat >"$WORK/sattach.sh" <<-EOF
	#!/bin/sh
	rm -f $WORK/done $WORK/started $WORK/sattach.out
	srun -N1 -n1 --sandbox-image=$IMG --sandbox-mounts=$WORK:/work sh -c '
		touch /work/started; while [ ! -e /work/done ]; do echo tick; sleep 0.2; done; echo last-words' >/dev/null &
	# Attach once the step's task runs; done only after sattach showed a tick.
	until [ -e $WORK/started ]; do sleep 0.1; done
	sattach \$SLURM_JOB_ID.0 >$WORK/sattach.out 2>$WORK/sattach.err &
	until grep -q tick $WORK/sattach.out; do sleep 0.1; done
	touch $WORK/done
	wait
	EOF
	chmod 755 "$WORK/sattach.sh"
	run --separate-stderr as_user timeout 120 sbatch --wait -N1 -o "$WORK/sattach.job" "$WORK/sattach.sh"
	[ "$status" -eq 0 ] || { cat "$WORK/sattach.job" >&2; false; }
	grep -q "^tick" "$WORK/sattach.out"
	grep -q "^last-words" "$WORK/sattach.out"
}

@test "--sandbox-save writes a named sandbox's root as a squashfs the user owns; it runs under srun and sandbox-run" {
	fuse_open || skip "squashfuse needs /dev/fuse open to $SBX_USER"
	command -v mksquashfs >/dev/null || skip "no mksquashfs"
	cat >"$WORK/save.sh" <<-EOF
	#!/bin/sh
	set -e
	srun -N1 --sandbox-name=s1 --sandbox-image=$IMG --sandbox-writable sh -c 'echo written-in-step-1 > /saved-file; rm /marker'
	srun -N1 --sandbox-name=s1 --sandbox-save=$WORK/saved.sqfs true
	srun -N1 --sandbox-image=$WORK/saved.sqfs sh -c 'cat /saved-file; test -e /marker && echo marker-back || echo marker-deleted'
	EOF
	chmod 755 "$WORK/save.sh"
	run --separate-stderr as_user sbatch --wait -N1 -o "$WORK/save.out" "$WORK/save.sh"
	cat "$WORK/save.out" >&2
	[ "$status" -eq 0 ]
	[ "$(cat "$WORK/save.out")" = "written-in-step-1
marker-deleted" ]
	[ "$(stat -c %U "$WORK/saved.sqfs")" = "$SBX_USER" ]
	run --separate-stderr as_user env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" \
		--config "$SBX_CLUSTER/etc/sandbox.conf" --image "$WORK/saved.sqfs" -- cat /saved-file
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = written-in-step-1 ]
	# The image it was made from is untouched.
	[ "$(cat "$IMG/marker")" = in-the-image ]
}

@test "--sandbox-save without --sandbox-name is refused in one line" {
	run --separate-stderr as_user srun -N1 --sandbox-image="$IMG" --sandbox-save="$WORK/x.sqfs" true
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"sandbox: save '$WORK/x.sqfs': only a named sandbox can be saved"* ]] || { echo "$stderr" >&2; false; }
	[ ! -e "$WORK/x.sqfs" ]
}

@test "--sandbox-per-task: ranks that write the same path each see their own file; the default shares one root" {
	# Both ranks write /result, then wait for each other through the
	# sandbox's shared /tmp before reading it back. The marks are the job's
	# own: with the cluster's tmp = host, /tmp is the node's, and the first
	# job's marks would let the second job's ranks read before both wrote.
	script='echo "rank $SLURM_PROCID" > /result; touch /tmp/wrote.$SLURM_JOB_ID.$SLURM_PROCID
		until [ -e /tmp/wrote.$SLURM_JOB_ID.0 ] && [ -e /tmp/wrote.$SLURM_JOB_ID.1 ]; do sleep 0.05; done
		cat /result'
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$IMG" --sandbox-per-task sh -c "$script"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$(sort <<<"$output")" = "rank 0
rank 1" ] || { echo "per-task: $output" >&2; false; }
	# One writable root per node and step (the default): the last write wins for both.
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$IMG" --sandbox-writable sh -c "$script"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$(sort -u <<<"$output" | wc -l)" -eq 1 ] || { echo "shared: $output" >&2; false; }
	[ ! -e "$IMG/result" ]
	rm -f /tmp/wrote.*
}
