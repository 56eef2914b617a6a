#!/bin/bash
# The VM lane's own test; runs inside the guest:
#
#   tests/vm/run.sh tests/vm/selftest.sh
#
# Proves what the lane is for: a cgroup v2-only kernel that OOM-kills at
# memory.max, user namespaces and overlayfs in them for an unprivileged user,
# and Slurm 22.05's cgroup/v2 plugin putting a step under memory.max.
# Prints "ok - <check>" or "not ok - <check>" per check, with "# " lines
# explaining failures; exits 1 if any check failed.
#
# Environment:
#   SBX_TEST_USER          the unprivileged user (default sbxtest; created in
#                          the guest's overlay if missing)
#   SBX_VM_SELFTEST_SLURM  0: skip the Slurm checks
set -u
test_user=${SBX_TEST_USER:-sbxtest}
cg=/sys/fs/cgroup
failures=0

if ! mountpoint -q /run/sbx-vm/job; then
	echo "selftest: run me inside the VM lane: tests/vm/run.sh $0" >&2
	exit 2
fi

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	failures=$((failures + 1))
}
skip() { echo "ok - $1 # skip $2"; }
# check NAME COMMAND...: the check passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
note() { sed 's/^/# /'; }

# ------------------------------------------------------------- cgroup v2

cgroup2_alone() {
	local type v1
	type=$(stat -f -c %T "$cg")
	v1=$(awk '$3 == "cgroup"' /proc/mounts)
	[ "$type" = cgroup2fs ] && [ -z "$v1" ] && return 0
	echo "$cg is $type; cgroup v1 mounts: ${v1:-none}" | note
	return 1
}

controllers_available() {
	local have
	have=" $(cat "$cg/cgroup.controllers") "
	case $have in
	*" memory "*" pids "* | *" pids "*" memory "*) return 0 ;;
	esac
	echo "cgroup.controllers:$have" | note
	return 1
}

# python3 writes every byte of 100 MiB, so the pages really are charged; the
# kernel must OOM-kill it at 32 MiB.
oom_kill_at_memory_max() {
	local dir=$cg/sbx-selftest-oom status kills
	mkdir "$dir" || return 1
	echo 32M >"$dir/memory.max"
	echo 0 >"$dir/memory.swap.max" 2>/dev/null
	sh -c 'echo $$ >"$1/cgroup.procs" && exec /usr/bin/python3 -c "b = b\"x\" * (100 << 20)"' \
		sh "$dir" 2>&1 | note
	status=${PIPESTATUS[0]}
	kills=$(awk '$1 == "oom_kill" { print $2 }' "$dir/memory.events")
	rmdir "$dir"
	[ "$status" -ne 0 ] && [ "${kills:-0}" -ge 1 ] && return 0
	echo "exit status $status, memory.events oom_kill ${kills:-missing}" | note
	return 1
}

echo "# kernel $(uname -r), cgroup controllers: $(cat $cg/cgroup.controllers)"
check "/sys/fs/cgroup is cgroup2, the only hierarchy" cgroup2_alone
check "the memory and pids controllers are available" controllers_available
check "a process past memory.max=32M is OOM-killed" oom_kill_at_memory_max

# ------------------------------------------------------- user namespaces

as_user() { runuser -u "$test_user" -- "$@"; }

if ! id "$test_user" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$test_user"
fi

userns_works() {
	as_user unshare -Ur true 2>&1 | note
	[ "${PIPESTATUS[0]}" -eq 0 ] && return 0
	echo "kernel.unprivileged_userns_clone=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null)" | note
	return 1
}

overlay_in_userns() {
	as_user unshare -Urm sh -ec '
		mount -t tmpfs none /mnt
		mkdir /mnt/l /mnt/u /mnt/w /mnt/m
		echo lower >/mnt/l/f
		mount -t overlay overlay -o lowerdir=/mnt/l,upperdir=/mnt/u,workdir=/mnt/w /mnt/m
		echo upper >/mnt/m/f
		[ "$(cat /mnt/l/f)" = lower ] && [ "$(cat /mnt/u/f)" = upper ]' 2>&1 | note
	return "${PIPESTATUS[0]}"
}

check "$test_user can create a user namespace (unshare -Ur)" userns_works
check "$test_user can mount overlayfs in a user namespace" overlay_in_userns

# -------------------------------------------------- Slurm with cgroup/v2

slurm_dir=/run/sbx-selftest-slurm
node=$(hostname -s)
export SLURM_CONF=$slurm_dir/slurm.conf

write_slurm_config() {
	mkdir -p "$slurm_dir/state" "$slurm_dir/log" "$slurm_dir/spool/$node"
	: >"$slurm_dir/plugstack.conf"
	cat >"$SLURM_CONF" <<-EOF
	ClusterName=sbxvm
	SlurmctldHost=$node
	SlurmUser=root
	AuthType=auth/munge
	StateSaveLocation=$slurm_dir/state
	SlurmdSpoolDir=$slurm_dir/spool/%n
	SlurmctldPidFile=$slurm_dir/slurmctld.pid
	SlurmdPidFile=$slurm_dir/slurmd.pid
	SlurmctldLogFile=$slurm_dir/log/slurmctld.log
	SlurmdLogFile=$slurm_dir/log/slurmd.log
	SlurmdDebug=debug
	PlugStackConfig=$slurm_dir/plugstack.conf
	ProctrackType=proctrack/cgroup
	TaskPlugin=task/cgroup
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core_Memory
	SchedulerType=sched/builtin
	MpiDefault=none
	ReturnToService=2
	NodeName=$node CPUs=2 RealMemory=1500 State=UNKNOWN
	PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
	EOF
	# Found next to slurm.conf.
	cat >"$slurm_dir/cgroup.conf" <<-EOF
	CgroupPlugin=cgroup/v2
	IgnoreSystemd=yes
	CgroupAutomount=yes
	ConstrainRAMSpace=yes
	EOF
}

show_slurm_logs() {
	local log
	for log in "$slurm_dir"/log/*.log; do
		[ -f "$log" ] || continue
		echo "--- $log"
		tail -n 15 "$log"
	done | note
}

start_slurm() {
	local _ state=''
	write_slurm_config
	# Without systemd nobody creates system.slice or delegates controllers to
	# it; slurmd then fails with "Could not create scope directory" or
	# "Controller memory is not enabled!".
	mkdir -p "$cg/system.slice"
	echo "+cpuset +cpu +memory +pids" >"$cg/system.slice/cgroup.subtree_control" || return 1
	install -d -o munge -g munge -m 0755 /run/munge
	runuser -u munge -- /usr/sbin/munged 2>&1 | note
	munge -n | unmunge >/dev/null || { echo "munge does not work" | note; return 1; }
	slurmctld -i || { show_slurm_logs; return 1; }
	slurmd || { show_slurm_logs; return 1; }
	for _ in $(seq 120); do
		state=$(sinfo -h -n "$node" -o %T 2>/dev/null)
		[ "$state" = idle ] && return 0
		sleep 1
	done
	echo "node $node is '$state' after 120 s" | note
	show_slurm_logs
	return 1
}

# The step prints its cgroup and memory.max of it and each ancestor.
step_in_slurm_cgroup() {
	local out path want where
	out=$(timeout 120 srun --mem=50M -t 2 sh -c '
		p=$(sed -n "s/^0:://p" /proc/self/cgroup)
		echo "cgroup $p"
		while [ -n "$p" ]; do
			echo "memory.max $p $(cat /sys/fs/cgroup$p/memory.max)"
			p=${p%/*}
		done' 2>&1)
	echo "$out" | note
	path=$(echo "$out" | sed -n 's/^cgroup //p')
	want="^/system\.slice/${node}_slurmstepd\.scope/job_[0-9]+/step_0(/|$)"
	[[ $path =~ $want ]] || { echo "cgroup does not match $want" | note; return 1; }
	where=$(echo "$out" | awk '$1 == "memory.max" && $3 == 52428800 && $2 ~ /\/job_[0-9]+/ { print $2; exit }')
	[ -n "$where" ] || { echo "no memory.max of 50M between the step and its job" | note; return 1; }
	return 0
}

step_over_mem_is_oom_killed() {
	local out status
	out=$(timeout 120 srun --mem=50M -t 2 /usr/bin/python3 -c 'b = b"x" * (200 << 20)' 2>&1)
	status=$?
	echo "$out" | note
	[ "$status" -ne 0 ] && echo "$out" | grep -qi 'oom' && return 0
	echo "srun exit status $status; no OOM report" | note
	return 1
}

stop_slurm() {
	local pidfile
	for pidfile in "$slurm_dir/slurmd.pid" "$slurm_dir/slurmctld.pid" /run/munge/munged.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	done
	return 0
}

slurm_checks="Slurm with cgroup/v2 starts on one node"
if [ "${SBX_VM_SELFTEST_SLURM:-1}" = 0 ]; then
	skip "$slurm_checks" "SBX_VM_SELFTEST_SLURM=0"
elif ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
	skip "$slurm_checks" "slurmctld, slurmd or munged not installed"
elif ! start_slurm; then
	not_ok "$slurm_checks"
	stop_slurm
else
	ok "$slurm_checks"
	check "srun --mem=50M runs in system.slice/${node}_slurmstepd.scope/job_N/step_0 under memory.max=50M" \
		step_in_slurm_cgroup
	check "a step past --mem=50M is OOM-killed and srun says so" step_over_mem_is_oom_killed
	stop_slurm
fi

echo "# $failures failed"
[ "$failures" -eq 0 ]
