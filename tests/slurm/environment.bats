#!/usr/bin/env bats
# The job's environment reaches the task (docs/images.md, "Environment"), on
# a real local cluster under the shipped default ([environment] mode =
# inherit): what Slurm's --export gives the job, over the image's Env, except
# PATH, LD_LIBRARY_PATH and LD_PRELOAD; the user's identity; --sandbox-env
# over all. Site policies swapped in per test: the plugin reads its policy
# file in srun and in every slurmstepd.
bats_require_minimum_version 1.5.0

load common

BUILTIN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

setup_file() {
	slurm_require
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	slurm_work_image /tmp/sbx-slurm-env.XXXXXX
	# An imported image with an Env (tests/lib/mkoci.sh: IMAGE_VAR, PATH
	# with /opt/sbx-imgbin), when squashfuse can run.
	export OCI=
	if fuse_open && command -v umoci >/dev/null && command -v skopeo >/dev/null; then
		mkdir -m 1777 "$WORK/cache"
		printf '[images]\ncache_dir = %s\n' "$WORK/cache" >>"$SBX_CLUSTER/etc/sandbox.conf"
		runuser -u "$SBX_USER" -- "$REPO/tests/lib/mkoci.sh" layout "$IMG" "$WORK/oci" >/dev/null &&
			runuser -u "$SBX_USER" -- "$REPO/tests/lib/mkoci.sh" oci-copy "$WORK/oci:layered" "$WORK/oci-layered" >/dev/null &&
			OCI=$WORK/oci-layered
	fi
	cp "$SBX_CLUSTER/etc/sandbox.conf" "$WORK/sandbox.conf.orig"
}

teardown_file() {
	slurm_teardown_cluster
}

# Each test starts from the cluster's own policy.
teardown() {
	[ -z "${WORK:-}" ] || cp "$WORK/sandbox.conf.orig" "$SBX_CLUSTER/etc/sandbox.conf"
}

# with_policy TEXT: these lines added to the cluster's policy for this test.
with_policy() {
	printf '%s\n' "$1" >>"$SBX_CLUSTER/etc/sandbox.conf"
}

task() {
	run --separate-stderr as_user "$@"
	[ "$status" -eq 0 ] || { echo "status $status: $stderr" >&2; return 1; }
}

@test "the cluster tests the shipped default: no [environment] section" {
	! grep -q '^\[environment\]' "$WORK/sandbox.conf.orig"
}

@test "export OMP_NUM_THREADS=4; srun ./app sees 4 inside, as plain srun does" {
	task env OMP_NUM_THREADS=4 srun -n1 sh -c 'echo "[$OMP_NUM_THREADS]"'
	[ "$output" = "[4]" ]
	task env OMP_NUM_THREADS=4 srun -n1 --sandbox-image="$IMG" sh -c 'echo "[$OMP_NUM_THREADS]"'
	[ "$output" = "[4]" ]
	task env OMP_NUM_THREADS=4 srun -n1 --export=ALL --sandbox-image="$IMG" sh -c 'echo "[$OMP_NUM_THREADS]"'
	[ "$output" = "[4]" ]
}

@test "--export=NONE: the caller's variables stay out, Slurm's and the built-in PATH are there" {
	task env SBX_JOB_VAR=from-caller srun -n1 --export=NONE --sandbox-image="$IMG" \
		sh -c 'echo "[$SBX_JOB_VAR] [$SLURM_PROCID] [$PATH] [$HOME]"'
	[ "$output" = "[] [0] [$BUILTIN_PATH] [$(getent passwd "$SBX_USER" | cut -d: -f6)]" ]
}

@test "--export=OMP_NUM_THREADS=4 gives that value and nothing else of the caller's" {
	task env SBX_JOB_VAR=from-caller OMP_NUM_THREADS=2 srun -n1 --export=OMP_NUM_THREADS=4 \
		--sandbox-image="$IMG" sh -c 'echo "[$OMP_NUM_THREADS] [$SBX_JOB_VAR] [$SLURM_NTASKS]"'
	[ "$output" = "[4] [] [1]" ]
}

@test "--export=NAME passes that variable of the caller's" {
	task env SBX_FOO=bar SBX_JOB_VAR=from-caller srun -n1 --export=SBX_FOO --sandbox-image="$IMG" \
		sh -c 'echo "[$SBX_FOO] [$SBX_JOB_VAR]"'
	[ "$output" = "[bar] []" ]
}

@test "sbatch: the submit environment and the script's exports reach its sandboxed srun" {
	cat >"$WORK/env.sh" <<-EOF
	#!/bin/sh
	export SBX_IN_SCRIPT=from-script
	srun -n1 --sandbox-image=$IMG sh -c 'echo "step [\$SBX_FOO] [\$SBX_IN_SCRIPT] [\$PATH]"'
	EOF
	chmod 755 "$WORK/env.sh"
	rm -f "$WORK/env.out"
	task env SBX_FOO=from-submit PATH=/sbx-host-only:/usr/bin:/bin sbatch --wait -N1 -o "$WORK/env.out" "$WORK/env.sh"
	cat "$WORK/env.out" >&2
	[ "$(cat "$WORK/env.out")" = "step [from-submit] [from-script] [$BUILTIN_PATH]" ]
}

@test "sbatch --sandbox-image: the batch script inside sees the submit environment" {
	rm -f "$WORK/batch.out"
	task env SBX_FOO=from-submit sbatch --wait -N1 -o "$WORK/batch.out" --sandbox-image="$IMG" \
		--wrap 'echo "batch [$SBX_FOO] [$(cat /marker)]"'
	cat "$WORK/batch.out" >&2
	[ "$(cat "$WORK/batch.out")" = "batch [from-submit] [in-the-image]" ]
}

@test "PATH and LD_LIBRARY_PATH inside are not the job's unless --sandbox-env names them" {
	task env PATH=/sbx-host-only:/usr/bin:/bin LD_LIBRARY_PATH=/sbx-host-lib srun -n1 --sandbox-image="$IMG" \
		sh -c 'echo "[$PATH] [$LD_LIBRARY_PATH]"'
	[ "$output" = "[$BUILTIN_PATH] []" ]
	task env PATH=/sbx-host-only:/usr/bin:/bin LD_LIBRARY_PATH=/sbx-host-lib srun -n1 --sandbox-image="$IMG" \
		--sandbox-env=PATH,LD_LIBRARY_PATH /bin/sh -c 'echo "[$PATH] [$LD_LIBRARY_PATH]"'
	[ "$output" = "[/sbx-host-only:/usr/bin:/bin] [/sbx-host-lib]" ]
}

@test "the image's Env gives defaults, the job overrides them, the image's PATH wins" {
	[ -n "$OCI" ] || skip "needs squashfuse with /dev/fuse, umoci and skopeo"
	task srun -n1 --sandbox-image="$OCI" sh -c 'echo "[$IMAGE_VAR] [$PATH]"'
	[ "$output" = "[from-image] [/opt/sbx-imgbin:$BUILTIN_PATH]" ]
	task env IMAGE_VAR=from-job PATH=/sbx-host-only:/usr/bin:/bin srun -n1 --sandbox-image="$OCI" \
		sh -c 'echo "[$IMAGE_VAR] [$PATH]"; sbx-only-in-image'
	[ "$output" = "[from-job] [/opt/sbx-imgbin:$BUILTIN_PATH]
only in the image" ]
}

@test "--sandbox-env NAME=VALUE overrides the job and the image, NAME passes the job's value" {
	task env OMP_NUM_THREADS=4 SBX_FOO=bar srun -n1 --sandbox-image="$IMG" \
		--sandbox-env=OMP_NUM_THREADS=8,SBX_FOO,HOME=/tmp sh -c 'echo "[$OMP_NUM_THREADS] [$SBX_FOO] [$HOME]"'
	[ "$output" = "[8] [bar] [/tmp]" ]
	task env SANDBOX_ENV=SBX_SET=preset srun -n1 --sandbox-image="$IMG" sh -c 'echo "[$SBX_SET]"'
	[ "$output" = "[preset]" ]
}

@test "the user's identity beats the job's USER and LOGNAME" {
	task env USER=someone-else LOGNAME=someone-else srun -n1 --sandbox-image="$IMG" sh -c 'echo "$USER $LOGNAME"'
	[ "$output" = "$SBX_USER $SBX_USER" ]
}

@test "each task keeps its own SLURM_PROCID, SLURM_LOCALID and PMI_RANK in one sandbox" {
	task srun -N1 -n2 --mpi=pmi2 --sandbox-image="$IMG" \
		sh -c 'echo "$SLURM_PROCID $SLURM_LOCALID $PMI_RANK $(readlink /proc/self/ns/mnt)"'
	[ "$(sort <<<"$output" | cut -d' ' -f1-3 | tr '\n' ,)" = "0 0 0,1 1 1," ]
	# One sandbox, one run configuration, for both tasks.
	[ "$(cut -d' ' -f4 <<<"$output" | sort -u | wc -l)" -eq 1 ]
	# Named by the user: still each task's own value.
	task srun -N1 -n2 --sandbox-image="$IMG" --sandbox-env=SLURM_PROCID sh -c 'echo "$SLURM_PROCID"'
	[ "$(sort <<<"$output" | tr '\n' ,)" = "0,1," ]
}

@test "the plugin's SANDBOX_EXEC_ variables never reach the task" {
	task srun -n1 --sandbox-image="$IMG" env
	grep -q '^SLURM_JOB_ID=' <<<"$output"
	# Names only: newer bats (trixie's 1.11) exports BATS_TEST_DESCRIPTION,
	# this very test's name, to the job.
	! grep '^SANDBOX_EXEC_' <<<"$output" >&2
}

@test "a site's deny list drops the job's variables; --sandbox-env still names one" {
	with_policy $'[environment]\ndeny = SBX_SECRET_* OMP_*'
	task env SBX_SECRET_KEY=k1 OMP_NUM_THREADS=4 SBX_FOO=bar srun -n1 --sandbox-image="$IMG" \
		sh -c 'echo "[$SBX_SECRET_KEY] [$OMP_NUM_THREADS] [$SBX_FOO]"'
	[ "$output" = "[] [] [bar]" ]
	task env SBX_SECRET_KEY=k1 srun -n1 --sandbox-image="$IMG" --sandbox-env=SBX_SECRET_KEY \
		sh -c 'echo "[$SBX_SECRET_KEY]"'
	[ "$output" = "[k1]" ]
}

@test "a site's clean mode passes only its list, and the tasks' own ids" {
	with_policy $'[environment]\nmode = clean\npassthrough = SLURM_* SBX_PASSED'
	task env SBX_PASSED=yes OMP_NUM_THREADS=4 srun -N1 -n2 --sandbox-image="$IMG" \
		sh -c 'echo "[$SBX_PASSED] [$OMP_NUM_THREADS] [$SLURM_PROCID]"'
	[ "$(sort <<<"$output" | tr '\n' ,)" = "[yes] [] [0],[yes] [] [1]," ]
}

@test "a bad environment mode is refused in srun with one line naming the key" {
	with_policy $'[environment]\nmode = bare'
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" true
	[ "$status" -ne 0 ]
	grep -q "sandbox: .*bad value 'bare' for environment.mode (use inherit or clean)" <<<"$stderr" ||
		{ echo "$stderr" >&2; false; }
}
