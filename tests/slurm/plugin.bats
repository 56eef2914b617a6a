#!/usr/bin/env bats
# The SPANK plugin on a real local cluster (tests/slurm/local-cluster.sh):
# three slurmd on 127.0.0.1, jobs submitted by the unprivileged user sbxtest.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-$$}"
	slurm_work_image /tmp/sbx-slurm.XXXXXX
}

teardown_file() {
	slurm_teardown_cluster
}

no_drained_node() {
	run sinfo -h -o %T
	[[ "$output" != *drain* ]] || { echo "node drained: $output" >&2; return 1; }
}

# assert_none_left PATTERN: within 10 s no process of the test user
# matches PATTERN (pgrep -f).
assert_none_left() {
	for _ in $(seq 1 100); do
		pgrep -u "$SBX_USER" -f "$1" >/dev/null || break
		sleep 0.1
	done
	run pgrep -a -u "$SBX_USER" -f "$1"
	[ "$status" -eq 1 ] || { echo "left behind: $output" >&2; return 1; }
}

# Exactly one "sandbox:" line per node reporting, exit status non-zero.
assert_refused() {
	local want=$1
	[ "$status" -ne 0 ] || { echo "expected failure, got 0: $output" >&2; return 1; }
	grep -q "sandbox: .*$want" <<<"$stderr" || { echo "no 'sandbox: ... $want' in: $stderr" >&2; return 1; }
	no_drained_node
}

@test "srun -N3 -n6 runs every task in the sandbox, one sandbox per node" {
	# A barrier: every task waits for all six, so the three sandboxes live
	# at once (the kernel reuses a freed namespace's inode number, and a
	# node whose tasks ended early could hand its number to the next).
	mkdir "$WORK/barrier" && chmod 777 "$WORK/barrier"
	run --separate-stderr as_user srun -N3 -n6 --sandbox-image="$IMG" \
		--sandbox-mounts="$WORK/barrier:/barrier" sh -c \
		'touch /barrier/$SLURM_PROCID; i=0
		while [ "$(ls /barrier | wc -l)" -lt 6 ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
		echo "$SLURMD_NODENAME $(cat /marker) $(id -u) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)"'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$(wc -l <<<"$output")" -eq 6 ]
	uid=$(id -u "$SBX_USER")
	host_pid=$(readlink /proc/self/ns/pid)
	while read -r node marker u mnt pid; do
		[ "$marker" = in-the-image ]
		[ "$u" = "$uid" ]
		[ "$pid" != "$host_pid" ]
	done <<<"$output"
	# Tasks on a node share one mount and pid namespace; nodes differ.
	[ "$(awk '{print $1, $4, $5}' <<<"$output" | sort -u | wc -l)" -eq 3 ]
	[ "$(awk '{print $4}' <<<"$output" | sort -u | wc -l)" -eq 3 ]
}

@test "ps inside a task shows the step's processes, not the host's" {
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$IMG" sh -c 'ps -o comm | tail -n +2 | sort | tr "\n" " "'
	[ "$status" -eq 0 ]
	for line in "${lines[@]}"; do
		[[ "$line" == *sandbox-init* ]]
		[[ "$line" != *slurmd* && "$line" != *sbatch* ]]
	done
}

@test "sbatch runs the batch script and its inner srun inside the sandbox" {
	# srun inside needs Slurm's commands and configuration: a host-like
	# image whose /usr is the host's, and the cluster's prefix.
	host=$WORK/hostlike
	runuser -u "$SBX_USER" -- sh -c "mkdir -p '$host'/usr '$host'/etc && ln -s usr/bin '$host'/bin && ln -s usr/lib '$host'/lib && ln -s usr/lib64 '$host'/lib64 && ln -s usr/sbin '$host'/sbin && echo hostlike > '$host'/marker"
	cat >"$WORK/job.sh" <<-EOF
	#!/bin/sh
	#SBATCH --sandbox-image=$host
	#SBATCH --sandbox-mounts=/usr:/usr:ro,$SBX_CLUSTER:$SBX_CLUSTER:ro,$BUILD:$BUILD:ro
	#SBATCH --sandbox-net=host
	echo "batch \$(cat /marker) \$(readlink /proc/self/ns/mnt)"
	srun -n1 sh -c 'echo "step \$(cat /marker) \$(readlink /proc/self/ns/mnt)"'
	EOF
	chmod 755 "$WORK/job.sh"
	run --separate-stderr as_user sbatch --wait -N1 -o "$WORK/job.out" "$WORK/job.sh"
	cat "$WORK/job.out" >&2
	[ "$status" -eq 0 ]
	grep -q "^batch hostlike mnt:" "$WORK/job.out"
	grep -q "^step hostlike mnt:" "$WORK/job.out"
	[ "$(readlink /proc/self/ns/mnt)" != "$(awk '/^batch/ {print $3}' "$WORK/job.out")" ]
	no_drained_node
}

@test "salloc with --sandbox-image runs its sruns inside" {
	run --separate-stderr as_user salloc -N1 --sandbox-image="$IMG" srun cat /marker
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = in-the-image ]
}

@test "a named sandbox keeps one step's writes for the next step of the job" {
	cat >"$WORK/named.sh" <<-EOF
	#!/bin/sh
	srun -N1 --sandbox-name=n1 --sandbox-image=$IMG sh -c 'echo kept > /persist'
	srun -N1 --sandbox-name=n1 cat /persist
	EOF
	chmod 755 "$WORK/named.sh"
	local epilogs=$(slurm_spank_epilogs)
	# The steps' words go apart from their output: under load srun may say
	# that step creation waits ("temporarily disabled, retrying").
	run --separate-stderr as_user sbatch --parsable --wait -N1 -o "$WORK/named.out" -e "$WORK/named.err" "$WORK/named.sh"
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$WORK/named.out" "$WORK/named.err"; false; } >&2
	[ "$(cat "$WORK/named.out")" = kept ] || { cat "$WORK/named.out" "$WORK/named.err"; false; } >&2
	# The job's epilog (spank_sandbox_named.so, in `slurmstepd spank
	# epilog`) removes it on the node.
	slurm_job_ended "$output"
	[ "$(slurm_spank_epilogs)" -gt "$epilogs" ]
	run find "$(slurm_named_dir)" -mindepth 2
	[ -z "$output" ]
}

@test "yes/no flags reach the nodes: --sandbox-remap-root and --sandbox-writable" {
	run --separate-stderr as_user srun -N2 --sandbox-image="$IMG" --sandbox-remap-root --sandbox-writable \
		sh -c 'echo "$(id -u) $(touch /new-file && echo writable)"'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = "0 writable
0 writable" ] || { echo "got: $output" >&2; false; }
}

@test "SANDBOX_IMAGE presets the image and the command line wins over it" {
	run --separate-stderr as_user env SANDBOX_IMAGE="$IMG" srun -n1 cat /marker
	[ "$status" -eq 0 ]
	[ "$output" = in-the-image ]
	run --separate-stderr as_user env SANDBOX_IMAGE=/nonexistent srun -n1 --sandbox-image="$IMG" cat /marker
	[ "$status" -eq 0 ]
	[ "$output" = in-the-image ]
}

@test "the job's variables reach the task; --sandbox-env NAME=VALUE sets one (environment.bats has the rest)" {
	run --separate-stderr as_user env SBX_FOO=bar srun -n1 --sandbox-image="$IMG" sh -c 'echo "[$SBX_FOO]"'
	[ "$output" = "[bar]" ]
	run --separate-stderr as_user env SBX_FOO=bar srun -n1 --sandbox-image="$IMG" --sandbox-env=SBX_FOO=set sh -c 'echo "[$SBX_FOO]"'
	[ "$output" = "[set]" ]
}

@test "TMPDIR, TaskProlog, ulimit -s and the task ids reach the command inside" {
	run --separate-stderr as_user bash -c "ulimit -s 4096; srun -N1 -n2 --sandbox-image='$IMG' sh -c 'echo \$SLURM_PROCID \$SLURM_LOCALID \$(ulimit -s) \${SBX_TASKPROLOG_RAN:-no} \${TMPDIR:+tmpdir}' | sort"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	# Slurm 22.05 sets TMPDIR for the first local task only; it is checked there.
	[ "${lines[0]}" = "0 0 4096 1 tmpdir" ]
	[[ "${lines[1]}" == "1 1 4096 1"* ]]
}

@test "scancel of a running sandboxed step leaves no process and no mount behind" {
	mounts_before=$(wc -l </proc/self/mountinfo)
	as_user srun -N3 -n3 --sandbox-image="$IMG" sleep 4711 3>&- &
	# The three tasks' own sleep processes (srun's and runuser's command
	# lines hold "sleep 4711" too, so they are matched by name); a 3-node
	# start under TCG (the VM lanes) takes well over 10 s.
	for _ in $(seq 1 600); do
		[ "$(pgrep -u "$SBX_USER" -x sleep -c)" -ge 3 ] && break
		sleep 0.1
	done
	[ "$(pgrep -u "$SBX_USER" -x sleep -c)" -ge 3 ]
	scancel -u "$SBX_USER"
	wait || true
	assert_none_left "sandbox-helper .*$IMG|sandbox-exec (sleep )?4711|sleep 4711"
	[ "$(wc -l </proc/self/mountinfo)" -eq "$mounts_before" ]
	no_drained_node
}

@test "when a step's last task ends its helper ends: root closes the control pipe, signals nothing" {
	# Two tasks, the first done long before the second: the sandbox lives
	# until the last one, then the helper sees its control pipe close.
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$IMG" \
		sh -c '[ "$SLURM_PROCID" = 0 ] || sleep 2; cat /marker'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	assert_none_left "sandbox-helper .*$IMG"
}

@test "the helper's environment is built from the job's, with nothing of slurmstepd's" {
	# slurmd carries SBX_SLURMD_ONLY (local-cluster.sh) into every
	# slurmstepd it execs (whose own /proc/PID/environ its process title
	# overwrites); the job's environment carries SBX_JOB_ONLY.
	tr '\0' '\n' <"/proc/$(cat "$SBX_CLUSTER/run/slurmd-node1.pid")/environ" |
		grep -qxF SBX_SLURMD_ONLY=slurmd-own-environment ||
		{ echo "slurmd lacks the marker: the test would prove nothing" >&2; false; }
	as_user env SBX_JOB_ONLY=job-environment srun -N1 -w node1 --sandbox-image="$IMG" sleep 4714 3>&- &
	srun_pid=$!
	helper=
	for _ in $(seq 1 100); do
		helper=$(pgrep -u "$SBX_USER" -f "sandbox-helper .*$IMG" | head -n 1) && [ -n "$helper" ] && break
		sleep 0.1
	done
	# The helper's pid is the user's to see on the host: a step of the
	# job's user (no sandbox) reads its environment.
	[ -z "$helper" ] || run --separate-stderr as_user srun -N1 -w node2 sh -c "tr '\\0' '\\n' </proc/$helper/environ"
	scancel -u "$SBX_USER"
	wait "$srun_pid" || true
	[ -n "$helper" ] || { echo "no helper seen" >&2; false; }
	[ "$status" -eq 0 ] || { echo "cannot read the helper's environ: $stderr" >&2; false; }
	[[ "$output" == *"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"* ]] ||
		{ echo "helper environment: $output" >&2; false; }
	[[ "$output" == *"HOME="* ]] || { echo "helper environment: $output" >&2; false; }
	[[ "$output" != *SBX_SLURMD_ONLY* && "$output" != *SLURM_CONF* ]] ||
		{ echo "slurmstepd's own environment reached the helper: $output" >&2; false; }
	# Only the names the helper needs come from the job, not the rest of it.
	[[ "$output" != *SBX_JOB_ONLY* ]] || { echo "helper environment: $output" >&2; false; }
}

@test "an empty image is refused by srun" {
	run --separate-stderr as_user srun -n1 --sandbox-image= true
	assert_refused "image ''"
}

@test "a missing image fails the step, not the node" {
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image=/nonexistent true
	assert_refused "image '/nonexistent'"
}

@test "malformed --sandbox-mounts are refused by srun" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-mounts=: true
	assert_refused "mount ':'"
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-mounts=/tmp: true
	assert_refused "mount '/tmp:'"
}

@test "an empty workdir is refused by srun" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-workdir= true
	assert_refused "workdir ''"
}

@test "--sandbox-writable with --sandbox-readonly is refused" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-writable --sandbox-readonly true
	assert_refused "conflicts"
}

@test "an unknown --sandbox-net value is refused" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-net=bogus true
	assert_refused "net 'bogus'"
}

@test "a mount source outside the site policy is refused" {
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-mounts=/etc:/x true
	assert_refused "allowed_sources"
}

# The step's PMIx server directory is bound without mounts.allowed_sources
# (plugin/mpi.c), and the PMIX_* variables naming it are in the job's
# environment. A batch step takes the submitter's environment: here it
# claims to be a pmix step and names a directory of the user's outside the
# allowed sources. Only the directory Slurm made for the step is bound; this
# one fails the job with one line and stays out of the sandbox.
@test "a forged PMIX_SERVER_TMPDIR is refused, not bound past mounts.allowed_sources" {
	forged=$(mktemp -d /var/lib/sbx-pmix-forged.XXXXXX)
	echo forged-secret >"$forged/marker"
	chown -R "$SBX_USER" "$forged"
	run --separate-stderr as_user env SLURM_MPI_TYPE=pmix PMIX_SERVER_TMPDIR="$forged" \
		PMIX_DSTORE_21_BASE_PATH="$forged/ds21" sbatch --wait -N1 -o "$WORK/forged.out" \
		--sandbox-image="$IMG" --wrap "cat $forged/marker"
	rm -rf "$forged"
	cat "$WORK/forged.out" >&2
	[ "$status" -ne 0 ]
	! grep -q forged-secret "$WORK/forged.out" || false
	grep -q "sandbox: mpi PMIX_SERVER_TMPDIR '$forged': not this step's PMIx server directory" "$WORK/forged.out"
	no_drained_node
}

# The right name is not enough: the directory must sit where the user cannot
# create it (SlurmdSpoolDir), as Slurm's mpi/pmix makes it for step 0.
@test "a PMIX_SERVER_TMPDIR with the step's name in the user's own directory is refused" {
	forged=$(mktemp -d /var/lib/sbx-pmix-forged.XXXXXX)
	chown "$SBX_USER" "$forged"
	cat >"$WORK/forge.sh" <<-EOF
	#!/bin/sh
	d=$forged/pmix.\$SLURM_JOB_ID.0
	mkdir "\$d" && echo forged-secret >"\$d/marker"
	PMIX_SERVER_TMPDIR=\$d srun -n1 --sandbox-image=$IMG cat "\$d/marker"
	EOF
	chmod 755 "$WORK/forge.sh"
	run --separate-stderr as_user sbatch --wait -N1 -o "$WORK/forge.out" "$WORK/forge.sh"
	rm -rf "$forged"
	cat "$WORK/forge.out" >&2
	[ "$status" -ne 0 ]
	! grep -q forged-secret "$WORK/forge.out" || false
	grep -q "sandbox: mpi PMIX_SERVER_TMPDIR '$forged/pmix\.[0-9]*\.0': the job's user can write the directory holding 'pmix\.[0-9]*\.0'" \
		"$WORK/forge.out"
	no_drained_node
}

@test "sbatch with a missing image fails the job without draining the node" {
	run --separate-stderr as_user sbatch --wait -N1 -o "$WORK/bad.out" --sandbox-image=/nonexistent --wrap true
	[ "$status" -ne 0 ]
	grep -q "sandbox: image '/nonexistent'" "$WORK/bad.out"
	no_drained_node
}

@test "--multi-prog is refused with a sandbox" {
	printf '0 true\n1 true\n' >"$WORK/mp.conf"
	chmod 644 "$WORK/mp.conf"
	run --separate-stderr as_user srun -n2 --sandbox-image="$IMG" --multi-prog "$WORK/mp.conf"
	assert_refused "multi-prog"
}

@test "steps without --sandbox-image are untouched" {
	run --separate-stderr as_user srun -n1 sh -c 'readlink /proc/self/ns/mnt; test -e /.sandbox && echo sandboxed || echo plain'
	[ "${lines[0]}" = "$(readlink /proc/self/ns/mnt)" ]
	[ "${lines[1]}" = plain ]
}

@test "srun --help lists the --sandbox options" {
	run --separate-stderr as_user srun --help
	[[ "$output" == *"--sandbox-image=IMAGE"* ]]
	[[ "$output" == *"--sandbox-mounts="* ]]
	[[ "$output" == *"--sandbox-name=NAME"* ]]
}

@test "a crashed helper ends the step's tasks and leaves nothing behind" {
	mounts_before=$(wc -l </proc/self/mountinfo)
	as_user srun -N1 -n2 --sandbox-image="$IMG" sleep 4712 3>&- &
	srun_pid=$!
	for _ in $(seq 1 100); do
		pgrep -u "$SBX_USER" -f "sandbox-helper .*$IMG" >/dev/null && break
		sleep 0.1
	done
	pkill -KILL -u "$SBX_USER" -f "sandbox-helper .*$IMG"
	rc=0
	wait "$srun_pid" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]
	assert_none_left "sandbox-helper .*$IMG|sandbox-exec (sleep )?4712|sleep 4712"
	[ "$(wc -l </proc/self/mountinfo)" -eq "$mounts_before" ]
	no_drained_node
}

@test "a task killed by SIGKILL (as by the OOM killer) ends the sandbox with the step" {
	as_user srun -N1 -n2 --kill-on-bad-exit=1 --sandbox-image="$IMG" sh -c 'if [ "$SLURM_PROCID" = 0 ]; then kill -KILL $$; fi; sleep 4713' 3>&- &
	srun_pid=$!
	# Not "run wait": run's subshell has no child to wait for (fails at once),
	# and a slow node (TCG) then still had srun running 10 s later.
	rc=0
	wait "$srun_pid" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]
	assert_none_left "sandbox-helper .*$IMG|sandbox-exec|sleep 4713"
	no_drained_node
}

@test "--sandbox-memory on a node without cgroup v2 runs the step with one warning line" {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && skip "cgroup v2 node: the VM lane covers the limits"
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$IMG" --sandbox-memory=64M cat /marker
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = in-the-image ]
	[ "$(grep -c 'sandbox: warning: cgroup limits: this node has no cgroup v2' <<<"$stderr")" -eq 1 ]
}

@test "--sandbox-memory on a node without cgroup v2 fails the step with when_unavailable = error" {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && skip "cgroup v2 node: the VM lane covers the limits"
	conf=$SBX_CLUSTER/etc/sandbox.conf
	cp "$conf" "$conf.orig"
	printf '[cgroups]\nwhen_unavailable = error\n' >>"$conf"
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$IMG" --sandbox-memory=64M cat /marker
	mv "$conf.orig" "$conf"
	assert_refused "cgroup limits: this node has no cgroup v2"
	[ "$(grep -c 'sandbox: cgroup limits' <<<"$stderr")" -eq 1 ]
}

@test "--sandbox-memory above the site's max_memory is refused by srun" {
	conf=$SBX_CLUSTER/etc/sandbox.conf
	cp "$conf" "$conf.orig"
	printf '[cgroups]\nmax_memory = 1G\n' >>"$conf"
	run --separate-stderr as_user srun -n1 --sandbox-image="$IMG" --sandbox-memory=2G true
	mv "$conf.orig" "$conf"
	assert_refused "cgroups.max_memory"
}

# Slurm 24.11 added spank_prepend_task_argv: the shim goes in front of the
# task's argv (Slurm's own array untouched); before, argv[0] is swapped.
@test "the shim runs with the task's whole argv after it on Slurm 24.11, in place of argv[0] before" {
	local version shim pid want
	version=$(srun --version | awk '{print $2}')
	shim=$BUILD/sandbox-exec
	as_user srun -N1 -n1 --sandbox-image="$IMG" sleep 4715 3>&- &
	srun_pid=$!
	for _ in $(seq 1 100); do
		pid=$(pgrep -u "$SBX_USER" -f "^$shim " | head -n 1)
		[ -n "$pid" ] && break
		sleep 0.1
	done
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	scancel -u "$SBX_USER"
	wait "$srun_pid" || true
	if printf '%s\n' 24.11 "$version" | sort -V -C; then
		want="$shim sleep 4715 "
	else
		want="$shim 4715 "
	fi
	[ "$cmdline" = "$want" ] || { echo "Slurm $version: the shim's argv is '$cmdline', not '$want'" >&2; false; }
	no_drained_node
}
