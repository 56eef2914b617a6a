#!/bin/bash
# The load suite (make check-load): on the local cluster
# (tests/slurm/local-cluster.sh, three slurmd on this machine), SBX_LOAD_SEQ
# sandboxed steps one after the other, then SBX_LOAD_CONC at once, mixed:
# a directory, a squashfs (squashfuse) and a docker:// image from a local
# registry (imported once, then a cache hit), named and unnamed, 1 task and
# 4 tasks (unnamed: on 2 nodes). Every step must print the image's marker
# once per task.
#
# While they run, a long-lived sandboxed step (its srun and slurmstepd) stays
# up, and every SBX_LOAD_EVERY steps, once the node is quiet again (this
# run's processes of the test user and slurmstepds back to what they were
# before the first step; at most 60 s, else that counts as a failure), the
# script samples the open fds, RSS and threads of each slurmd, of that
# slurmstepd and of that srun, and the mounts (this machine's mount
# namespace) and cgroups (every directory under /sys/fs/cgroup, so another
# suite making cgroups meanwhile shows too) of the node. It prints the first
# and last samples, the time per step of the first and last 50, and a
# verdict. Exit status 1 when a step failed or, from the first sample to the
# last, when
#   - fds of any sampled process grew by more than LOAD_FD_SLACK (2),
#   - threads grew by more than LOAD_THREAD_SLACK (2),
#   - the node's mounts, cgroups or processes grew at all,
#   - an RSS grew by more than LOAD_RSS_SLACK_KB (32 MiB, generous: glibc's
#     arenas and Slurm's caches settle over the first steps).
# The time per step is printed, never asserted (a shared machine).
#
#   tests/load/run.sh        as root; BUILD (default build/) holds the plugin
# Environment: SBX_LOAD_SEQ (500), SBX_LOAD_CONC (50), SBX_LOAD_EVERY (25),
# SBX_CLUSTER (default /tmp/sbx-cluster-load-PID), SBX_TEST_USER (sbxtest).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
export REPO=$repo
export BUILD=${BUILD:-$repo/build}
SEQ=${SBX_LOAD_SEQ:-500}
CONC=${SBX_LOAD_CONC:-50}
EVERY=${SBX_LOAD_EVERY:-25}
LOAD_FD_SLACK=2
LOAD_THREAD_SLACK=2
LOAD_RSS_SLACK_KB=32768
export SBX_USER=${SBX_TEST_USER:-sbxtest}

skip() { echo "load: SKIP: $*"; exit 0; }
die() { echo "load: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root to start the Slurm daemons"
[ -f "$BUILD/spank_sandbox.so" ] || skip "the plugin is not built ($BUILD/spank_sandbox.so)"
command -v slurmctld >/dev/null || skip "slurmctld is missing (tests/install-deps.sh)"
for tool in docker-registry skopeo umoci mksquashfs squashfuse; do
	command -v $tool >/dev/null || skip "$tool is missing (tests/install-deps.sh)"
done
id "$SBX_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SBX_USER" || die "cannot create $SBX_USER"
runuser -u "$SBX_USER" -- test -r /dev/fuse -a -w /dev/fuse ||
	skip "/dev/fuse is not read-writable by $SBX_USER (squashfuse needs it; tests/run-all makes it 0666)"

export SBX_CLUSTER=${SBX_CLUSTER:-/tmp/sbx-cluster-load-$$}
export SLURM_CONF=$SBX_CLUSTER/etc/slurm.conf
WORK=$(runuser -u "$SBX_USER" -- mktemp -d /tmp/sbx-load.XXXXXX) || die "mktemp"
chmod 755 "$WORK"
# tests/lib/registry.bash keeps its state in the bats file's directory.
export BATS_FILE_TMPDIR=$WORK/registry-state
mkdir "$BATS_FILE_TMPDIR"
# shellcheck source=../lib/registry.bash
. "$repo/tests/lib/registry.bash"

long_pid=''
cleanup() {
	[ -n "$long_pid" ] && kill "$long_pid" 2>/dev/null
	registry_stop
	"$repo/tests/slurm/local-cluster.sh" stop >/dev/null 2>&1
	rm -rf "$SBX_CLUSTER" "$WORK"
}
trap cleanup EXIT

as_user() {
	(cd "$WORK" && runuser -u "$SBX_USER" -- env SLURM_CONF="$SLURM_CONF" "$@")
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- The cluster and the images ---------------------------------------------
start_ms=$(now_ms)
"$repo/tests/slurm/local-cluster.sh" start >/dev/null || die "the cluster did not start"
mkdir -m 1777 "$SBX_CLUSTER/image-cache"
cat >>"$SBX_CLUSTER/etc/sandbox.conf" <<CONF
[images]
cache_dir = $SBX_CLUSTER/image-cache
insecure_registries = 127.0.0.1:*
CONF
IMG=$WORK/image
as_user env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$IMG" >/dev/null || die "mkimage.sh"
as_user sh -c "echo in-the-image > '$IMG/marker'"
as_user "$repo/tests/lib/mkoci.sh" squashfs "$IMG" "$WORK/image.sqfs" >/dev/null || die "mkoci.sh squashfs"
as_user "$repo/tests/lib/mkoci.sh" layout "$IMG" "$WORK/oci" >/dev/null || die "mkoci.sh layout"
registry_start --as "$SBX_USER" --dir "$WORK" || die "the registry did not start"
registry_push "oci:$WORK/oci:layered" sbx/load:v1 || die "skopeo copy"
declare -A image=([dir]=$IMG [sqfs]=$WORK/image.sqfs [registry]=docker://$REGISTRY/sbx/load:v1)
kinds=(dir sqfs registry)

# One allocation of all three nodes; every step overlaps the others.
job=$(as_user salloc -N3 --exclusive --mem=0 --no-shell 2>&1 | sed -n 's/.*Granted job allocation \([0-9]*\).*/\1/p')
[ -n "$job" ] || die "salloc --no-shell gave no job"

# step_args N: in $args the srun of step N of the mix, cycling through all
# 12 combinations of kind, named or not, 1 or 4 tasks; $tasks, $desc.
# A named sandbox lives on the nodes it was made on: its steps keep to them
# (node1; node2), the first one making it with the image, the next ones
# joining it by name alone. The concurrent steps make one each.
declare -A named_seen=()
step_args() {
	local i=$1 kind=${kinds[$(($1 % 3))]} named=$(($1 / 3 % 2)) four=$(($1 / 6 % 2)) name
	args=(srun --jobid="$job" --overlap --mem=10M)
	if [ "$four" = 1 ] && [ "$named" = 1 ]; then
		# One node: this cluster's nodes share one disk, so a named
		# sandbox on two of them would share its writable layer
		# (named_dir is node-local on a real cluster).
		args+=(-N1 -n4 --overcommit -w node2)
		tasks=4
	elif [ "$four" = 1 ]; then
		args+=(-N2 -n4 -w node2,node3)
		tasks=4
	elif [ "$named" = 1 ]; then
		args+=(-N1 -n1 -w node1)
		tasks=1
	else
		args+=(-N1 -n1 -w "node$((i % 3 + 1))")
		tasks=1
	fi
	if [ "$named" = 1 ] && [ "${concurrent:-0}" = 1 ]; then
		# At once: a name of its own (two steps mounting one named
		# sandbox's writable layer at the same time is not a use case).
		args+=(--sandbox-name="load-c$i" --sandbox-image="${image[$kind]}")
		desc="$kind named $tasks-task"
	elif [ "$named" = 1 ]; then
		name=load-$kind-$tasks
		args+=(--sandbox-name="$name")
		[ -n "${named_seen[$name]:-}" ] || args+=(--sandbox-image="${image[$kind]}")
		named_seen[$name]=1
		desc="$kind named $tasks-task"
	else
		args+=(--sandbox-image="${image[$kind]}")
		desc="$kind unnamed $tasks-task"
	fi
}

# run_step N OUT: step N, its stdout and stderr in OUT.out, OUT.err; 0 when
# it exited 0 and every task printed the marker, and nothing else.
run_step() {
	local args desc tasks rc
	step_args "$1"
	echo "$desc" >"$2.desc"
	as_user "${args[@]}" cat /marker </dev/null >"$2.out" 2>"$2.err" 3>&-
	rc=$?
	echo "$rc" >"$2.rc"
	[ "$rc" -eq 0 ] && [ "$(grep -cx in-the-image "$2.out")" -eq "$tasks" ] &&
		[ "$(wc -l <"$2.out")" -eq "$tasks" ]
}

# --- The long-lived step ---------------------------------------------------
as_user srun --jobid="$job" --overlap --mem=10M -N1 -n1 -w node1 --sandbox-image="$IMG" \
	sleep 86400 </dev/null >"$WORK/long.out" 2>&1 3>&- &
long_pid=$!
long_srun='' long_stepd=''
for _ in $(seq 1 300); do
	long_srun=$(pgrep -u "$SBX_USER" -x srun | head -n 1)
	long_stepd=$(pgrep -f "^slurmstepd: \[$job\.0\]" | head -n 1)
	[ -n "$long_srun" ] && [ -n "$long_stepd" ] && pgrep -u "$SBX_USER" -x sleep >/dev/null && break
	sleep 0.1
done
[ -n "$long_srun" ] && [ -n "$long_stepd" ] || die "the long-lived step did not start: $(cat "$WORK/long.out")"
slurmd_pids=$(cat "$SBX_CLUSTER"/run/slurmd-node*.pid)

# --- Samples ----------------------------------------------------------------
# The node is quiet when it has as many slurmstepd and test-user processes
# as before the first step: every step's slurmstepd, helper, sandbox init
# and squashfuse gone. Wait for it (a step's end is reported to srun before
# its slurmstepd is gone), at most 60 s, then sample anyway.
# This cluster's slurmstepds: those that carry its SLURM_CONF.
stepds() {
	local p
	for p in $(pgrep -f '^slurmstepd: '); do
		tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF" && echo "$p"
	done
}
# The test user's processes of this run: those that carry this cluster's
# SLURM_CONF (srun, the tasks) or name its directories (the helpers and
# their init, squashfuse, the registry); another suite running as the same
# user at the same time does not count. Nor do zombies: a detached helper
# (and srun's own child) is reparented to this machine's pid 1, which reaps
# it when it gets to it.
user_procs() {
	local p n=0
	for p in $(ps -u "$SBX_USER" -o pid=,stat= | awk '$2 !~ /^Z/ { print $1 }'); do
		if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF" ||
			tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -e "$SBX_CLUSTER" -e "$WORK"; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}
procs_now() { echo "$(user_procs) $(stepds | wc -l)"; }
wait_quiet() {
	for _ in $(seq 1 600); do
		[ "$(procs_now)" = "$quiet" ] && return 0
		sleep 0.1
	done
	echo "load: the node did not get quiet: user/slurmstepd processes $(procs_now), were $quiet:" >&2
	ps -u "$SBX_USER" -o pid,ppid,etimes,stat,args | sed 's/^/    /' >&2
	return 1
}

proc_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

# One sample line: "label value..." for every sampled quantity.
SAMPLES=$WORK/samples
sample() {
	local at=$1 p n=0 f
	{
		for p in $slurmd_pids; do
			n=$((n + 1))
			echo "$at slurmd$n.fds $(proc_fds "$p")"
			echo "$at slurmd$n.rss_kb $(proc_field "$p" VmRSS)"
			echo "$at slurmd$n.threads $(proc_field "$p" Threads)"
		done
		for f in slurmstepd:$long_stepd srun:$long_srun; do
			p=${f#*:}
			echo "$at ${f%%:*}.fds $(proc_fds "$p")"
			echo "$at ${f%%:*}.rss_kb $(proc_field "$p" VmRSS)"
			echo "$at ${f%%:*}.threads $(proc_field "$p" Threads)"
		done
		echo "$at node.mounts $(wc -l </proc/1/mountinfo)"
		echo "$at node.cgroups $(find /sys/fs/cgroup -type d 2>/dev/null | wc -l)"
		echo "$at node.user_procs $(user_procs)"
		echo "$at node.slurmstepds $(stepds | wc -l)"
	} >>"$SAMPLES"
}

# --- The run ----------------------------------------------------------------
failures=0
fail_step() {
	failures=$((failures + 1))
	echo "load: step $1 ($(cat "$2.desc")) failed, exit $(cat "$2.rc"):" >&2
	sed 's/^/    out: /' "$2.out" | head -n 5 >&2
	sed 's/^/    err: /' "$2.err" | head -n 10 >&2
}

quiet=$(procs_now)
# Warm-up, not counted: the registry image imported into the cache, each
# named sandbox made. The first sample follows it.
for i in $(seq 0 11); do
	run_step "$i" "$WORK/warm.$i" || fail_step "warm-up $i" "$WORK/warm.$i"
done
wait_quiet || failures=$((failures + 1))
sample 0
setup_ms=$(( $(now_ms) - start_ms ))

TIMES=$WORK/times
seq_start=$(now_ms)
for i in $(seq 1 "$SEQ"); do
	t0=$(now_ms)
	run_step "$i" "$WORK/step" || fail_step "$i" "$WORK/step"
	echo $(( $(now_ms) - t0 )) >>"$TIMES"
	if [ $((i % EVERY)) -eq 0 ] || [ "$i" -eq "$SEQ" ]; then
		wait_quiet || failures=$((failures + 1))
		sample "$i"
	fi
done
seq_ms=$(( $(now_ms) - seq_start ))

conc_start=$(now_ms)
concurrent=1
pids=()
for i in $(seq 1 "$CONC"); do
	run_step "$((SEQ + i))" "$WORK/conc.$i" &
	pids+=($!)
done
for i in $(seq 1 "$CONC"); do
	wait "${pids[$((i - 1))]}" || fail_step "concurrent $i" "$WORK/conc.$i"
done
conc_ms=$(( $(now_ms) - conc_start ))
wait_quiet || failures=$((failures + 1))
sample end

# --- Report -----------------------------------------------------------------
echo "load: $SEQ sequential + $CONC concurrent steps (+12 warm-up), $failures failure(s)"
echo "load: setup $((setup_ms / 1000)) s, sequential $((seq_ms / 1000)) s, concurrent $((conc_ms / 1000)) s"
awk -v n=50 '{ t[NR] = $1 } END {
	if (NR < 2 * n) n = int(NR / 2); if (n == 0) exit
	for (i = 1; i <= n; i++) { a += t[i]; b += t[NR - n + i] }
	printf "load: time per step: first %d %.0f ms, last %d %.0f ms (ratio %.2f; printed, not asserted)\n", n, a / n, n, b / n, b / a
}' "$TIMES"
echo "load: samples every $EVERY steps (after each, once the node is quiet): first -> last, max"
verdict=0
while read -r key; do
	v0=$(awk -v k="$key" '$1 == "0" && $2 == k { print $3 }' "$SAMPLES")
	v1=$(awk -v k="$key" '$1 == "end" && $2 == k { print $3 }' "$SAMPLES")
	vmax=$(awk -v k="$key" '$2 == k && $3 > m { m = $3 } END { print m + 0 }' "$SAMPLES")
	case $key in
	*.fds) slack=$LOAD_FD_SLACK ;;
	*.threads) slack=$LOAD_THREAD_SLACK ;;
	*.rss_kb) slack=$LOAD_RSS_SLACK_KB ;;
	*) slack=0 ;;
	esac
	mark=ok
	if [ -z "$v0" ] || [ -z "$v1" ]; then
		mark="MISSING"
		verdict=1
	elif [ $((v1 - v0)) -gt "$slack" ]; then
		mark="GREW (more than $slack)"
		verdict=1
	fi
	printf '  %-22s %10s -> %-10s max %-10s %s\n' "$key" "$v0" "$v1" "$vmax" "$mark"
done < <(awk '$1 == "0" { print $2 }' "$SAMPLES")
if [ -n "${SBX_LOAD_SAMPLES:-}" ]; then
	cp "$SAMPLES" "$SBX_LOAD_SAMPLES"
	cp "$TIMES" "$SBX_LOAD_SAMPLES.times"
fi
if [ "$failures" -ne 0 ] || [ "$verdict" -ne 0 ]; then
	echo "load: FAIL ($failures failed step(s); samples: $([ "$verdict" = 0 ] && echo flat || echo grew))"
	exit 1
fi
echo "load: PASS (every step ran; fds, threads, mounts, cgroups flat; RSS within $((LOAD_RSS_SLACK_KB / 1024)) MiB)"
