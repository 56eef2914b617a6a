#!/bin/bash
# A throw-away Slurm cluster on this machine: slurmctld and three slurmd
# (Debian's Slurm is built with multiple-slurmd support) on 127.0.0.1, under
# a prefix of its own, never touching /etc/slurm. Run as root.
#
#   local-cluster.sh start|stop|status
#
# Environment:
#   SBX_CLUSTER       prefix (default /tmp/sbx-cluster)
#   SBX_JOBCONTAINER  1: job_container/tmpfs + PrologFlags=Contain
#   SBX_MUNGE         1: auth/munge + cred/munge, with a munged of the cluster's own
#                     (a test key and socket under the prefix; a system munged is
#                     never touched)
#   BUILD             the build with spank_sandbox.so, spank_sandbox_named.so,
#                     sandbox-helper, sandbox-exec
#   SBX_NAMED_PLUGIN  0: plugstack.conf lists spank_sandbox.so only, without the
#                     named sandboxes' epilog plugin (default 1: both)
#   SBX_CLUSTER_CGROUP  v2: Slurm's cgroup/v2 (proctrack/cgroup, task/cgroup,
#                     jobacct_gather/cgroup, IgnoreSystemd=yes); needs a
#                     cgroup v2-only host such as the VM lanes' guests.
#   SBX_NAMED_PARENT  where the named sandboxes' directory is made (default
#                     /var/lib; it must take an overlayfs upper directory, which
#                     the VM lanes' overlay root does not: slurm-suite.sh sets it)
#                     Default: proctrack/linuxproc and task/none
# Auth is auth/none + cred/none by default: no munged to manage. Prints
# "export SLURM_CONF=..." on start.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
P=${SBX_CLUSTER:-/tmp/sbx-cluster}
BUILD=${BUILD:-$repo/build}
export SLURM_CONF=$P/etc/slurm.conf
nodes="node1 node2 node3"

die() { echo "local-cluster: $*" >&2; exit 1; }

free_ports() {
	python3 - "$1" <<-'EOF'
	import random, socket, sys
	n = int(sys.argv[1])
	low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
	for _ in range(200):
	    base = random.randrange(10000, low - n)
	    socks = []
	    try:
	        for p in range(base, base + n):
	            s = socket.socket()
	            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	            s.bind(("127.0.0.1", p))
	            socks.append(s)
	    except OSError:
	        continue
	    finally:
	        for s in socks:
	            s.close()
	    print(*range(base, base + n))
	    sys.exit(0)
	sys.exit(1)
	EOF
}

jc_base() { echo "/var/tmp/sbx-jc-$(basename "$P")"; }
# Named sandboxes live in a root-owned directory (the plugin refuses one a
# user could write to, as $P below /tmp would be).
named_base() { echo "${SBX_NAMED_PARENT:-/var/lib}/sbx-named-$(basename "$P")"; }

munge_dir() { echo "$P/munge"; }

# A munged of the cluster's own: its key, socket, pid and log under the prefix.
start_munge() {
	local m
	m=$(munge_dir)
	command -v munged >/dev/null || die "munged is missing (apt-get install munge)"
	mkdir -p "$m"
	chmod 755 "$m"
	dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
	chmod 400 "$m/munge.key"
	munged --socket="$m/munge.socket.2" --key-file="$m/munge.key" --pid-file="$m/munged.pid" \
		--log-file="$m/munged.log" --seed-file="$m/munged.seed" ||
		die "munged did not start ($m/munged.log)"
	munge -S "$m/munge.socket.2" -n | unmunge -S "$m/munge.socket.2" >/dev/null ||
		die "munged does not answer on $m/munge.socket.2"
}

running() { [ -f "$P/run/slurmctld.pid" ] && kill -0 "$(cat "$P/run/slurmctld.pid")" 2>/dev/null; }

# Process tracking, task containment and accounting: Slurm's cgroup/v2 or
# none of its cgroups.
track_config() {
	if [ "${SBX_CLUSTER_CGROUP:-}" = v2 ]; then
		printf '%s\n' ProctrackType=proctrack/cgroup TaskPlugin=task/cgroup \
			JobAcctGatherType=jobacct_gather/cgroup
	else
		printf '%s\n' ProctrackType=proctrack/linuxproc TaskPlugin=task/none \
			JobAcctGatherType=jobacct_gather/linux
	fi
}

# cgroup/v2 without systemd: slurmd makes its scopes below system.slice,
# which must exist with the controllers enabled for its children.
cgroup_v2_setup() {
	local c=/sys/fs/cgroup
	[ "$(stat -f -c %T $c)" = cgroup2fs ] || die "SBX_CLUSTER_CGROUP=v2: $c is not cgroup v2 (run it in the VM lane)"
	printf 'CgroupPlugin=cgroup/v2\nIgnoreSystemd=yes\nConstrainRAMSpace=yes\n' >"$P/etc/cgroup.conf"
	# 22.05 wants CgroupAutomount; 24.11 calls it defunct (an error line).
	case $(slurmd -V | awk '{print $2}') in
	2[0-2].*) echo CgroupAutomount=yes >>"$P/etc/cgroup.conf" ;;
	esac
	mkdir -p $c/system.slice
	echo "+cpuset +cpu +memory +pids" >$c/cgroup.subtree_control
	echo "+cpuset +cpu +memory +pids" >$c/system.slice/cgroup.subtree_control
}

write_config() {
	local host ctl p1 p2 p3 realmem n
	host=$(hostname -s)
	# Four consecutive free ports (slurmctld, node[1-3]) below the kernel's
	# ephemeral range: a port picked there (bind to 0) may be taken by any
	# outgoing connection before the daemon binds it, and picking the
	# controller's apart let the nodes' range overlap it.
	read -r ctl p1 p2 p3 < <(free_ports 4) || die "no four consecutive free ports below the ephemeral range"
	mkdir -p "$P"/{etc,state,spool,run,log,jc}
	# TmpFS per node: mpi/pmix puts each step's client directory there, and
	# with one /tmp for three nodes a shared name would collide.
	for n in $nodes; do mkdir -p "$P/tmpfs/$n"; done
	chmod 755 "$P/tmpfs"
	# Each slurmd's spool (24.11 puts its domain socket there before making it).
	for n in $nodes; do mkdir -p "$P/spool/$n"; done
	# 2000 MB per node, or less on a smaller machine (the VM lanes' 2 GiB
	# guests): a node reporting less than its RealMemory is set INVAL.
	realmem=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 100; print (m < 2000 ? m : 2000) }' /proc/meminfo)
	cat >"$P/etc/slurm.conf" <<CONF
ClusterName=sbxtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$P/state
SlurmdSpoolDir=$P/spool/%n
SlurmctldPidFile=$P/run/slurmctld.pid
SlurmdPidFile=$P/run/slurmd-%n.pid
SlurmctldLogFile=$P/log/slurmctld.log
SlurmdLogFile=$P/log/slurmd-%n.log
SlurmdDebug=debug
$(track_config)
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
TaskProlog=$P/etc/taskprolog.sh
PlugStackConfig=$P/etc/plugstack.conf
InactiveLimit=0
KillWait=5
NodeName=node[1-3] NodeHostname=$host NodeAddr=127.0.0.1 Port=[$p1-$p3] CPUs=2 RealMemory=$realmem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
TmpFS=$P/tmpfs/%n
CONF
	if [ "${SBX_MUNGE:-0}" = 1 ]; then
		sed -i -e 's|^AuthType=.*|AuthType=auth/munge|' -e 's|^CredType=.*|CredType=cred/munge|' \
			"$P/etc/slurm.conf"
		echo "AuthInfo=socket=$(munge_dir)/munge.socket.2" >>"$P/etc/slurm.conf"
	fi
	if [ "${SBX_JOBCONTAINER:-0}" = 1 ]; then
		cat >>"$P/etc/slurm.conf" <<CONF
JobContainerType=job_container/tmpfs
PrologFlags=Contain
CONF
		# Slurm refuses a BasePath below /tmp or /dev/shm.
		printf 'AutoBasePath=true\nBasePath=%s\n' "$(jc_base)" >"$P/etc/job_container.conf"
	fi
	[ "${SBX_CLUSTER_CGROUP:-}" != v2 ] || cgroup_v2_setup
	printf '#!/bin/sh\necho export SBX_TASKPROLOG_RAN=1\n' >"$P/etc/taskprolog.sh"
	chmod 755 "$P/etc/taskprolog.sh"
	# The site policy of this cluster: host networking (sruns inside a batch
	# sandbox talk to slurmctld), and the job's own /tmp and /dev/shm. The
	# environment is the shipped default (the job's, as with plain srun):
	# environment.bats checks that this file has no [environment].
	cat >"$P/etc/sandbox.conf" <<CONF
[mounts]
allowed_sources = /tmp /home /var/tmp /usr $P $BUILD
[rootfs]
tmp = host
shm = host
[namespaces]
net = host
CONF
	# The cluster's munge socket, for srun inside a sandbox (slurm-client.bats).
	if [ "${SBX_MUNGE:-0}" = 1 ]; then
		printf '[slurm]\nclient_paths = %s\n' "$(munge_dir)" >>"$P/etc/sandbox.conf"
	fi
	echo "required $BUILD/spank_sandbox.so config=$P/etc/sandbox.conf helper=$BUILD/sandbox-helper named_dir=$(named_base)" \
		>"$P/etc/plugstack.conf"
	if [ "${SBX_NAMED_PLUGIN:-1}" = 1 ]; then
		[ -f "$BUILD/spank_sandbox_named.so" ] || die "$BUILD/spank_sandbox_named.so is missing (make)"
		echo "required $BUILD/spank_sandbox_named.so named_dir=$(named_base)" >>"$P/etc/plugstack.conf"
	fi
	chmod -R a+rX "$P/etc"
	chmod 755 "$P"
}

start() {
	[ "$(id -u)" -eq 0 ] || die "run as root (the daemons start as root)"
	command -v slurmctld >/dev/null || die "slurmctld is missing (tests/install-deps.sh)"
	if running; then
		echo "export SLURM_CONF=$SLURM_CONF"
		return 0
	fi
	rm -rf "$P"
	write_config
	[ "${SBX_MUNGE:-0}" = 1 ] && start_munge
	slurmctld
	# A variable of slurmd's (and so slurmstepd's) own environment, which
	# no job may see: plugin.bats looks for it in the sandbox helper's.
	for n in $nodes; do SBX_SLURMD_ONLY=slurmd-own-environment slurmd -N "$n"; done
	for _ in $(seq 1 120); do
		for f in "$P"/run/*.pid; do
			kill -0 "$(cat "$f")" 2>/dev/null || { sleep 0.2; break 2; }
		done
		if [ "$(sinfo -h -o %T 2>/dev/null | sort -u)" = "idle" ] &&
			[ "$(sinfo -h -o %D 2>/dev/null)" = 3 ]; then
			echo "export SLURM_CONF=$SLURM_CONF"
			return 0
		fi
		sleep 0.5
	done
	grep -h -E "fatal|error" "$P"/log/*.log >&2 || tail -n 20 "$P"/log/*.log >&2
	stop
	die "the cluster did not come up (log lines above)"
}

stop() {
	local f pid
	# Jobs first, so their steps end with their sandboxes while slurmd
	# is still there to see to it.
	if running; then
		scancel --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
		for _ in $(seq 1 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
	fi
	for f in "$P"/run/slurmd-*.pid "$P"/run/slurmctld.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		rm -f "$f"
	done
	# Steps of this cluster that outlived their slurmd: their command line is
	# just "slurmstepd: [J.S]", so find them by the SLURM_CONF they carry.
	for pid in $(pgrep -x slurmstepd; pgrep -f '^slurmstepd: '); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_CONF" &&
			kill -9 "$pid" 2>/dev/null
	done
	if [ -f "$(munge_dir)/munged.pid" ]; then
		pid=$(cat "$(munge_dir)/munged.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		rm -f "$(munge_dir)/munged.pid"
	fi
	rm -rf "$(jc_base)" "$(named_base)"
	return 0
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) if running; then sinfo; else echo "stopped"; exit 1; fi ;;
*) die "usage: local-cluster.sh start|stop|status" ;;
esac
