#!/bin/bash
# Run a script inside the VM lane: Debian 12's kernel under qemu (TCG), the
# host's / as a read-only root with a tmpfs overlay, cgroup v2 only.
#
#   tests/vm/run.sh [--timeout SEC] [--share DIR]... [--env NAME=VALUE]... SCRIPT [ARGS...]
#
# SCRIPT runs as root in the guest, at its host path, in the current directory
# (or / if that is below /run, a fresh tmpfs in the guest).
# SCRIPT's environment is the guest's own plus each --env NAME=VALUE.
# The guest's root is the host's /, or the root prepare.sh's vm.env names
# (SBX_VM_ROOT, the trixie lane's); with another root, this repository, SCRIPT's
# directory and each --share DIR are shown at their host paths (read-only
# below a tmpfs overlay, like the root).
# The guest's console (SCRIPT's stdout and stderr, kernel messages) streams to
# stdout; a summary line goes to stderr.
#
# Exit status: SCRIPT's; 124 if the run took longer than SEC (default 600,
# or $SBX_VM_TIMEOUT); 125 if the lane failed (bad usage, not prepared, the
# VM did not boot), with a one-line reason on stderr.
#
# Environment: SBX_VM_CACHE (see prepare.sh), SBX_VM_TIMEOUT.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cache=${SBX_VM_CACHE:-/var/cache/slurm-sandbox-vm}
timeout_s=${SBX_VM_TIMEOUT:-600}
shares=()

lane_failed() {
	echo "vm: $*" >&2
	exit 125
}

job_env=()
add_env() {
	[[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || lane_failed "--env $1: not NAME=VALUE"
	job_env+=("$1")
}

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) [ $# -ge 2 ] || lane_failed "--timeout needs SEC"; timeout_s=$2; shift 2 ;;
	--timeout=*) timeout_s=${1#--timeout=}; shift ;;
	--share) [ $# -ge 2 ] || lane_failed "--share needs DIR"; shares+=("$2"); shift 2 ;;
	--share=*) shares+=("${1#--share=}"); shift ;;
	--env) [ $# -ge 2 ] || lane_failed "--env needs NAME=VALUE"; add_env "$2"; shift 2 ;;
	--env=*) add_env "${1#--env=}"; shift ;;
	-h | --help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) lane_failed "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || lane_failed "usage: run.sh [--timeout SEC] SCRIPT [ARGS...]"
case $timeout_s in
'' | *[!0-9]*) lane_failed "--timeout $timeout_s: not a number of seconds" ;;
esac

# The guest sees the host's files at the same paths, except below the mounts
# it makes fresh.
script=$(realpath -e "$1" 2>/dev/null) || lane_failed "$1: no such file"
shift
[ -f "$script" ] && [ -x "$script" ] || lane_failed "$script: not an executable file"
case $script in
/run/* | /proc/* | /sys/* | /dev/*)
	lane_failed "$script: hidden in the guest (fresh /run, /proc, /sys, /dev); put it elsewhere" ;;
esac
case $here in
*[[:space:]]*) lane_failed "$here: the kernel command line cannot carry a path with spaces" ;;
esac

# vm.env is written by prepare.sh: KEY=VALUE lines.
kernel='' initrd='' release='' root=/
[ -r "$cache/vm.env" ] || lane_failed "$cache/vm.env missing: run tests/vm/prepare.sh first"
while IFS='=' read -r key value; do
	case $key in
	SBX_VM_KERNEL) kernel=$value ;;
	SBX_VM_INITRD) initrd=$value ;;
	SBX_VM_KERNEL_RELEASE) release=$value ;;
	SBX_VM_ROOT) root=$value ;;
	esac
done <"$cache/vm.env"
[ -r "$kernel" ] && [ -r "$initrd" ] || lane_failed "kernel or initramfs missing in $cache: run tests/vm/prepare.sh"
[ -d "$root" ] || lane_failed "the guest's root $root is missing: run the lane's prepare script"

# Another root than the host's lacks this repository (guest-init.sh) and
# SCRIPT: shared in, at their host paths.
virtfs_shares=() cmdline_shares=''
if [ "$root" != / ]; then
	shares+=("$(cd "$here/../.." && pwd)")
	case $script in
	"${shares[-1]}"/*) ;;
	*) shares+=("$(dirname "$script")") ;;
	esac
	n=0
	for dir in "${shares[@]}"; do
		dir=$(realpath -e "$dir" 2>/dev/null) && [ -d "$dir" ] || lane_failed "--share $dir: no such directory"
		case $dir in
		/ | /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /run/*)
			lane_failed "--share $dir: hidden in the guest or the whole host; share a directory below it" ;;
		*[[:space:]]*) lane_failed "--share $dir: the kernel command line cannot carry a path with spaces" ;;
		esac
		virtfs_shares+=(-virtfs "local,path=$dir,mount_tag=sbxshare$n,security_model=none,readonly=on,multidevs=remap")
		cmdline_shares+=" sbx.share=$dir"
		n=$((n + 1))
	done
elif [ ${#shares[@]} -gt 0 ]; then
	lane_failed "--share: the guest's root is the host's /, which shows every directory already"
fi
command -v qemu-system-x86_64 >/dev/null || lane_failed "qemu-system-x86_64 not found: run tests/vm/prepare.sh"

# The job reaches the guest through its own read-only 9p share, so arguments
# need no quoting on the kernel command line.
job_dir=$(mktemp -d "${TMPDIR:-/tmp}/sbx-vm-job.XXXXXX") || lane_failed "mktemp failed"
vm_pid=
cleanup() {
	if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then
		kill -TERM "$vm_pid" 2>/dev/null # timeout(1) passes it on to qemu
		wait "$vm_pid" 2>/dev/null
	fi
	rm -rf "$job_dir"
}
trap cleanup EXIT
trap 'echo "vm: interrupted" >&2; exit 130' INT TERM HUP
job_argv=("$script" "$@")
job_cwd=$PWD
declare -p job_argv job_cwd job_env >"$job_dir/job.sh"
chmod -R a+rX "$job_dir"

# A fresh nonce per run: the script's own output cannot fake the exit marker.
nonce=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
cmdline="console=ttyS0 quiet panic=-1 sbx.entry=$here/guest-init.sh sbx.nonce=$nonce$cmdline_shares"

# boot: one run of qemu, its console streamed; sets status (the script's),
# reason (why the lane failed), vm_status and the times. KVM hangs at
# "Booting from ROM" on these hosts: TCG only. sercon-port=0 keeps SeaBIOS
# off the serial console (it starts with ESC c, a terminal reset); qemu warns
# about the name, and that one warning is dropped below.
boot() {
	exec {vm_out}< <(exec timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg -m 2G -smp 2 -nographic -no-reboot -nic none \
		-fw_cfg name=etc/sercon-port,string=0 \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		-virtfs "local,path=$root,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$job_dir,mount_tag=sbxjob,security_model=none,readonly=on" \
		"${virtfs_shares[@]}" \
		</dev/null 2>&1)
	vm_pid=$!

	t_start=$EPOCHREALTIME
	t_script='' t_exit='' status='' reason='' held_blank=0
	while IFS= read -r -u "$vm_out" line || [ -n "$line" ]; do
		line=${line%$'\r'}
		# After the exit marker comes only the power-off.
		[ -n "$status" ] && continue
		# An empty line may be the guest's newline before its exit marker.
		if [ -z "$line" ]; then
			[ "$held_blank" -eq 1 ] && echo
			held_blank=1
			continue
		fi
		case $line in
		*"SBX-VM-SCRIPT-START $nonce"*)
			t_script=$EPOCHREALTIME
			continue
			;;
		*"SBX-VM-EXIT="*" $nonce"*)
			if [[ $line =~ SBX-VM-EXIT=([0-9]+)\ $nonce ]]; then
				status=${BASH_REMATCH[1]}
				t_exit=$EPOCHREALTIME
				held_blank=0
				continue
			fi
			;;
		*"SBX-VM-BOOT-FAILED: "*) reason=${line#*SBX-VM-BOOT-FAILED: } ;;
		*"Kernel panic - not syncing: "*) [ -n "$reason" ] || reason="kernel panic: ${line#*not syncing: }" ;;
		*"warning: externally provided fw_cfg item names should be prefixed"*) continue ;;
		esac
		[ "$held_blank" -eq 1 ] && echo
		held_blank=0
		printf '%s\n' "$line"
	done
	exec {vm_out}<&-
	wait "$vm_pid"
	vm_status=$?
	vm_pid=
	t_end=$EPOCHREALTIME
}

# A kernel that panics before the script starts has run nothing of it: that
# is the lane's, not the script's (under TCG, 6.12 now and then oopses on an
# int3 of its own text patching early in the boot). Boot once more then.
for attempt in 1 2; do
	boot
	if [ -z "$status" ] && [ -z "$t_script" ] && [[ $reason == "kernel panic: "* ]] && [ "$attempt" -eq 1 ]; then
		echo "vm: $reason, before $script started: booting again" >&2
		continue
	fi
	break
done

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
if [ -n "$status" ]; then
	echo "vm: $release: booted in $(seconds "$t_start" "${t_script:-$t_start}") s," \
		"script exited $status after $(seconds "${t_script:-$t_start}" "$t_exit") s" >&2
	exit "$status"
fi
case $vm_status in
124 | 137)
	if [ -n "$t_script" ]; then
		echo "vm: timed out after $timeout_s s, $(seconds "$t_script" "$t_end") s into $script" >&2
	else
		echo "vm: timed out after $timeout_s s before the guest started $script" >&2
	fi
	exit 124
	;;
esac
if [ -z "$reason" ]; then
	if [ -n "$t_script" ]; then
		reason="the VM stopped while $script ran, without reporting its status (qemu: $vm_status)"
	else
		reason="qemu exited with status $vm_status before the guest started $script"
	fi
fi
lane_failed "$reason"
