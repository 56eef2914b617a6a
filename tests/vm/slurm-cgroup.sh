#!/bin/bash
# Inside the VM lane: a real Slurm 22.05 with cgroup/v2 (IgnoreSystemd=yes),
# proctrack/cgroup, task/cgroup, jobacct_gather/cgroup, two slurmd and our
# plugin; jobs of the unprivileged user sbxtest. Prints ok/not ok per check.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=sbxtest
failed=0
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; shift; [ $# -eq 0 ] || printf '# %s\n' "$@"; failed=$((failed + 1)); }

id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
S=/var/tmp/sbx-vm-slurm
host=$(hostname -s)
export SLURM_CONF=$S/slurm.conf
mkdir -p "$S"/{state,log,spool} && chmod 755 "$S"
cat >"$SLURM_CONF" <<CONF
ClusterName=sbxvm
SlurmctldHost=$host
AuthType=auth/none
CredType=cred/none
SlurmUser=root
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool/%n
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd-%n.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd-%n.log
SlurmdDebug=debug
PlugStackConfig=$S/plugstack.conf
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/cgroup
JobAcctGatherFrequency=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
NodeName=vm[1-2] NodeHostname=$host NodeAddr=127.0.0.1 Port=[17101-17102] CPUs=2 RealMemory=700 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
printf 'CgroupPlugin=cgroup/v2\nIgnoreSystemd=yes\nCgroupAutomount=yes\nConstrainRAMSpace=yes\n' >"$S/cgroup.conf"
# Admin images for the kernel's squashfs driver: root's, 0755 all the way up.
A=/var/lib/sbx-vm-images
mkdir -p -m 0755 "$A"
printf '[namespaces]\nnet = host\n[rootfs]\ntmp = host\n[images]\nkernel_squashfs = %s\n' "$A" >"$S/sandbox.conf"
echo "required $BUILD/spank_sandbox.so config=$S/sandbox.conf helper=$BUILD/sandbox-helper" >"$S/plugstack.conf"
chmod 644 "$S"/*.conf

mkdir -p /sys/fs/cgroup/system.slice
echo "+cpuset +cpu +memory +pids" >/sys/fs/cgroup/system.slice/cgroup.subtree_control
slurmctld -i
slurmd -N vm1
slurmd -N vm2
for _ in $(seq 1 120); do [ "$(sinfo -h -o %T | sort -u)" = idle ] && [ "$(sinfo -h -o %D)" = 2 ] && break; sleep 1; done
if [ "$(sinfo -h -o %T | sort -u)" != idle ]; then
	fail "Slurm with cgroup/v2 and the plugin starts" "$(tail -n 5 "$S"/log/*.log)"
	exit 1
fi
pass "Slurm with cgroup/v2 and the plugin starts (two slurmd)"

work=$(runuser -u "$user" -- mktemp -d /var/tmp/sbx-vm-job.XXXXXX)
img=$work/image
runuser -u "$user" -- env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$img" >/dev/null
as_user() { (cd "$work" && runuser -u "$user" -- env SLURM_CONF="$SLURM_CONF" "$@"); }

out=$(as_user timeout 120 srun -N2 -n2 --mem=100M --sandbox-image="$img" cat /sys/fs/cgroup/memory.max 2>&1)
if [ "$(sort -u <<<"$out")" = 104857600 ]; then pass "srun --mem=100M: memory.max inside the sandbox shows the job's limit on both nodes"
else fail "srun --mem=100M: memory.max inside the sandbox shows the job's limit" "$out"; fi

out=$(as_user timeout 120 srun -n1 --mem=100M --sandbox-memory=40M --sandbox-pids=50 --sandbox-image="$img" \
	sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' 2>&1)
if [ "$out" = "$(printf '41943040\n50')" ]; then pass "--sandbox-memory and --sandbox-pids lower the limits inside"
else fail "--sandbox-memory and --sandbox-pids lower the limits inside" "$out"; fi

out=$(as_user timeout 120 srun -n1 --mem=50M --sandbox-image="$img" dd if=/dev/zero of=/dev/null bs=120M count=1 2>&1); rc=$?
if [ "$rc" -ne 0 ] && grep -qi "out of memory\|oom" <<<"$out"; then pass "a task past the limit is OOM-killed inside the sandbox and srun says so"
else fail "a task past the limit is OOM-killed and srun says so" "exit $rc" "$out"; fi
if grep -q "sandbox: report: task 0: memory peak .* oom kills 1" <<<"$out"; then pass "the sandbox's report reaches the job's stderr after an OOM kill"
else fail "the sandbox's report reaches the job's stderr after an OOM kill" "$out"; fi

out=$(as_user env SANDBOX_REPORT=json timeout 120 srun -n1 --mem=100M --sandbox-pids=64 --sandbox-image="$img" true 2>&1)
if grep -q '"sandbox_report":{"task":0,"memory_peak":[0-9]*,"memory_max":104857600,' <<<"$out"; then pass "SANDBOX_REPORT=json gives the report as JSON"
else fail "SANDBOX_REPORT=json gives the report as JSON" "$out"; fi

as_user srun -n1 --mem=60M --sandbox-image="$img" sleep 300 >/dev/null 2>&1 &
for _ in $(seq 1 60); do [ -n "$(squeue -h -t R)" ] && break; sleep 0.5; done
sleep 3
job=$(squeue -h -o %i | head -1)
out=$(sstat -n -P -j "$job.0" -o JobID,MaxRSS,NTasks 2>&1)
if grep -q "^$job.0|" <<<"$out"; then pass "sstat sees the sandboxed task ($out)"
else fail "sstat sees the sandboxed task" "$out"; fi
scancel "$job"
wait
for _ in $(seq 1 40); do [ -z "$(find /sys/fs/cgroup/system.slice -maxdepth 2 -name "job_$job")" ] && break; sleep 0.5; done
left=$(find /sys/fs/cgroup/system.slice -maxdepth 2 -name "job_$job")
procs=$(pgrep -u "$user" -a)
if [ -z "$left" ] && [ -z "$procs" ]; then pass "scancel leaves no cgroup and no process behind"
else fail "scancel leaves no cgroup and no process behind" "$left" "$procs"; fi

# The kernel-squashfs path on Debian 12's kernel: root mounts from an fd (a
# loop device by LOOP_CONFIGURE, fsopen/fsmount) below a root-only
# directory, the helper takes the mount's copy through its working directory
# when it unshares (docs/design.md): the image is read inside, and the mount
# is unreachable on the host.
if command -v mksquashfs >/dev/null && [ -e /dev/loop-control ]; then
	runuser -u "$user" -- sh -c "echo kernel-image > '$img/marker'"
	mksquashfs "$img" "$A/app.sqfs" -quiet -no-progress -noappend >/dev/null && chmod 0644 "$A/app.sqfs"
	out=$(as_user timeout 120 srun -n1 --sandbox-image="$A/app.sqfs" cat /marker 2>&1)
	if grep -qx kernel-image <<<"$out" && grep -q "sandbox: $A/app.sqfs mounted with the kernel's squashfs" "$S"/log/slurmd-*.log; then
		pass "an admin squashfs is mounted by the kernel's driver and read inside the sandbox"
	else fail "an admin squashfs is mounted by the kernel's driver and read inside the sandbox" "$out" "$(grep 'sandbox: ' "$S"/log/slurmd-*.log | tail -n 3)"; fi
	as_user srun -n1 --sandbox-image="$A/app.sqfs" sleep 5 >/dev/null 2>&1 &
	for _ in $(seq 1 50); do grep -q " /run/slurm-sandbox/" /proc/self/mountinfo && break; sleep 0.2; done
	dir=$(awk '$5 ~ "^/run/slurm-sandbox/" {print $5}' /proc/self/mountinfo | head -n 1)
	reach=$(runuser -u "$user" -- cat "$dir/marker" 2>&1)
	wait
	if [ -n "$dir" ] && [ "$reach" != kernel-image ] && [ "$(stat -c %a /run/slurm-sandbox)" = 700 ]; then
		pass "the kernel mount is unreachable on the host, even to the job's user"
	else fail "the kernel mount is unreachable on the host" "dir=$dir" "$reach"; fi
	rm -f "$A/app.sqfs"
else
	echo "# kernel squashfs: skipped (no mksquashfs or loop device in the guest)"
fi

for f in "$S"/slurmd-*.pid "$S"/slurmctld.pid; do kill "$(cat "$f")" 2>/dev/null; done
echo "# $failed failed"
[ "$failed" -eq 0 ]
