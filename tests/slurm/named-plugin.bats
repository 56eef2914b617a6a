#!/usr/bin/env bats
# A cluster whose plugstack.conf lists spank_sandbox.so without
# spank_sandbox_named.so (the named sandboxes' job epilog): jobs pay no
# `slurmstepd spank epilog`, and --sandbox-name is refused with one line,
# since nothing would remove the sandbox's directory. plugin.bats runs the
# cluster with both plugins.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	SBX_NAMED_PLUGIN=0 slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	slurm_work_image /tmp/sbx-slurm.XXXXXX
}

teardown_file() {
	slurm_teardown_cluster
}

@test "without spank_sandbox_named.so a plain job runs no slurmstepd spank epilog" {
	run ! grep -q spank_sandbox_named "$SBX_CLUSTER/etc/plugstack.conf"
	run --separate-stderr as_user sbatch --parsable --wait -N1 -o /dev/null --wrap true
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	slurm_job_ended "$output"
	[ "$(slurm_spank_epilogs)" -eq 0 ]
}

@test "without spank_sandbox_named.so --sandbox-name is refused in srun and sbatch" {
	local want="sandbox: name 'nm': named sandboxes are not enabled here (ask the admin to list spank_sandbox_named.so in plugstack.conf)"
	run --separate-stderr as_user srun -N1 --sandbox-name=nm --sandbox-image="$IMG" true
	[ "$status" -ne 0 ]
	[ "$(grep -c 'sandbox:' <<<"$stderr")" -eq 1 ] || { echo "$stderr" >&2; false; }
	grep -qF "$want" <<<"$stderr" || { echo "$stderr" >&2; false; }
	run --separate-stderr as_user env SANDBOX_NAME=nm sbatch -N1 --sandbox-image="$IMG" --wrap true
	[ "$status" -ne 0 ]
	grep -qF "$want" <<<"$stderr" || { echo "$stderr" >&2; false; }
	# Nothing was made that no epilog would remove.
	[ ! -e "$(slurm_named_dir)" ] || [ -z "$(find "$(slurm_named_dir)" -mindepth 1)" ]
}
