#!/bin/bash
# PID 1 of the VM lane's guest, started by the initramfs on the overlay root
# (the host's / read-only, writes to a tmpfs). Makes the guest a plain cgroup v2
# machine, runs the job tests/vm/run.sh passed in through the "sbxjob" 9p
# share, prints "SBX-VM-EXIT=<status> <nonce>" and powers off.
#
# The job sees: cgroup2 alone on /sys/fs/cgroup with cpuset cpu io memory pids
# enabled in the root's subtree_control; lo and a dummy interface d0 with
# 192.0.2.1/24; hostname sbx-vm (in /etc/hosts); fresh tmpfs on /run; /tmp is the host's, writable through the overlay.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root LANG=C.UTF-8 TERM=dumb
exec </dev/null
hostname=sbx-vm
job_dir=/run/sbx-vm/job
nonce=

power_off() {
	# The UART sends what was written to the console in the background: power
	# off only once it has sent everything (tcdrain), or the last line is cut
	# short by the kernel's "sysrq: Power Off" or lost.
	perl -MPOSIX -e 'POSIX::tcdrain(1)' 2>/dev/null || sleep 1
	echo 1 >/proc/sys/kernel/sysrq
	echo o >/proc/sysrq-trigger
	# PID 1 must not exit: that is a kernel panic, not a power-off.
	while :; do sleep 60; done
}

boot_failed() {
	printf '\nSBX-VM-BOOT-FAILED: %s\n' "$*"
	power_off
}

for arg in $(cat /proc/cmdline); do
	case $arg in
	sbx.nonce=*) nonce=${arg#sbx.nonce=} ;;
	esac
done

# systemd's mount options, so the guest's hierarchy behaves like a real
# cgroup v2 host (cgroup namespaces are delegation boundaries).
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
	boot_failed "mount cgroup2 on /sys/fs/cgroup"
echo "+cpuset +cpu +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control ||
	boot_failed "enable controllers in /sys/fs/cgroup/cgroup.subtree_control"

# /tmp stays the host's (read through 9p, written to the overlay): CI and
# developers may keep the repository there.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || boot_failed "mount tmpfs /run"
mkdir -p /dev/pts /dev/shm /run/lock
# What udev would add to devtmpfs: bash's process substitution (bats) opens
# /dev/fd/N.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for n in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${n#*:}" ] || ln -s "/proc/self/fd/${n%%:*}" "/dev/${n#*:}"
done
mount -t devpts -o ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm

# Slurm resolves addresses with getaddrinfo(AI_ADDRCONFIG), which finds
# nothing unless some interface other than lo has an IPv4 address.
if ! { ip link set lo up && ip link add d0 type dummy &&
	ip addr add 192.0.2.1/24 dev d0 && ip link set d0 up; }; then
	boot_failed "network setup (lo, dummy d0)"
fi
hostname "$hostname"
echo "$hostname" >/etc/hostname
echo "192.0.2.1 $hostname" >>/etc/hosts

mkdir -p "$job_dir"
mount -t 9p -o trans=virtio,version=9p2000.L,ro sbxjob "$job_dir" ||
	boot_failed "mount the sbxjob 9p share"
# job.sh (written by run.sh) sets job_argv, job_cwd and job_env.
job_argv=()
job_cwd=/
job_env=()
# shellcheck source=/dev/null
. "$job_dir/job.sh" || boot_failed "read $job_dir/job.sh"
[ ${#job_argv[@]} -gt 0 ] || boot_failed "empty job in $job_dir/job.sh"

printf 'SBX-VM-SCRIPT-START %s\n' "$nonce"
(
	# A cwd below /run is a fresh tmpfs here; start in / then.
	cd "$job_cwd" 2>/dev/null || cd /
	[ ${#job_env[@]} -eq 0 ] || export "${job_env[@]}"
	exec "${job_argv[@]}"
)
status=$?
# The leading newline: the script's last line may lack one.
printf '\nSBX-VM-EXIT=%s %s\n' "$status" "$nonce"
power_off
