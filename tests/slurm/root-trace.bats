#!/usr/bin/env bats
# What root does for a sandboxed job, read from an strace of node1's slurmd
# (and of everything it forks: slurmstepd, the job's prolog and epilog, the
# plugin's workers): no root chown, chmod, unlink, create or mount on a path
# below a directory a user can write (docs/design.md, "Security model";
# tests/lib/root-trace.py checks the trace). The job uses the root paths of
# the plugin: a named sandbox (made, read back, removed by the epilog), an
# image imported into a root-owned cache, an admin squashfs mounted with the
# kernel's driver, and a plain directory image.
bats_require_minimum_version 1.5.0

load common

# strace follows every call of slurmd's: root-trace.py needs these.
TRACE_CALLS=%process,%creds,chdir,fchdir,unshare,setns,chown,lchown,fchownat,chmod,fchmodat,unlink,unlinkat,rmdir,open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,symlink,symlinkat,link,linkat,mount,umount2,move_mount,mknod,mknodat

setup_file() {
	slurm_require
	command -v strace >/dev/null || skip "strace is missing (apt-get install strace)"
	command -v mksquashfs >/dev/null || skip "mksquashfs is missing (apt-get install squashfs-tools)"
	# Slurm's own spool and logs are root's work too and in the trace: the
	# cluster lives in a root-owned directory, not below /tmp (1777).
	slurm_start_cluster "/var/lib/sbx-cluster-trace-$$"
	export CACHE=/var/lib/sbx-trace-cache-$$ ADMIN=/var/lib/sbx-trace-images-$$
	mkdir -m 0755 "$CACHE" "$ADMIN"
	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d /tmp/sbx-trace.XXXXXX)
	chmod 755 "$WORK"
	export IMG=$WORK/image
	runuser -u "$SBX_USER" -- env BUILD="$BUILD" "$REPO/tests/lib/mkimage.sh" "$IMG" >/dev/null
	runuser -u "$SBX_USER" -- tar -C "$IMG" -cf "$WORK/image.tar" .
	mksquashfs "$IMG" "$ADMIN/app.sqfs" -comp zstd -noappend -quiet -no-progress >/dev/null
	chmod 0644 "$ADMIN/app.sqfs"
	cat >>"$SBX_CLUSTER/etc/sandbox.conf" <<-CONF
	[images]
	cache_dir = $CACHE
	kernel_squashfs = $ADMIN
	CONF
	export TRACE=$BATS_FILE_TMPDIR/slurmd-node1.trace
}

teardown_file() {
	local pid
	if [ -f "$BATS_FILE_TMPDIR/strace.pid" ]; then
		pid=$(cat "$BATS_FILE_TMPDIR/strace.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	slurm_teardown_cluster
	rm -rf "${CACHE:-}" "${ADMIN:-}"
	return 0
}

# The plugins' named_dir, from the cluster's plugstack.conf (both lines give it).
named_dir() {
	sed -n 's/.* named_dir=\([^ ]*\).*/\1/p' "$SBX_CLUSTER/etc/plugstack.conf" | head -n1
}

@test "root acts on no path below a directory a user can write, for a job with named, cached, kernel-squashfs and directory sandboxes" {
	local slurmd strace_pid attached jobid named uid
	slurmd=$(cat "$SBX_CLUSTER/run/slurmd-node1.pid")
	strace -f -y -qq -s 4096 -o "$TRACE" -e trace="$TRACE_CALLS" -p "$slurmd" \
		</dev/null >/dev/null 2>"$BATS_FILE_TMPDIR/strace.err" 3>&- &
	strace_pid=$!
	echo "$strace_pid" >"$BATS_FILE_TMPDIR/strace.pid"
	# Attached once every thread of slurmd names strace as its tracer.
	for _ in $(seq 100); do
		attached=1
		for s in /proc/"$slurmd"/task/*/status; do
			grep -qx "TracerPid:[[:space:]]*$strace_pid" "$s" || attached=0
		done
		[ "$attached" = 1 ] && break
		sleep 0.1
	done
	[ "$attached" = 1 ] || { cat "$BATS_FILE_TMPDIR/strace.err" >&2; false; }

	# Each srun goes on if one fails (an admin squashfs may fail in the
	# helper): root's side of every step is in the trace either way.
	cat >"$WORK/job.sh" <<-EOF
	#!/bin/sh
	srun -N1 --sandbox-name=n1 --sandbox-image=$WORK/image.tar true || echo "named, tarball: \$?"
	srun -N1 --sandbox-name=n1 true || echo "named, recorded image: \$?"
	srun -N1 --sandbox-image=$ADMIN/app.sqfs true || echo "admin squashfs: \$?"
	srun -N1 --sandbox-image=$IMG true || echo "directory: \$?"
	true
	EOF
	chmod 755 "$WORK/job.sh"
	run --separate-stderr timeout 60 runuser -u "$SBX_USER" -- env SLURM_CONF="$SLURM_CONF" \
		sbatch --parsable --wait -w node1 -N1 -o "$WORK/job.out" "$WORK/job.sh"
	[ "$status" -eq 0 ] || { echo "sbatch: $status $stderr" >&2; cat "$WORK/job.out" >&2; false; }
	jobid=${output%%;*}
	# The job epilog removes the named sandbox; then the trace is complete.
	named=$(named_dir)
	uid=$(id -u "$SBX_USER")
	for _ in $(seq 100); do
		[ -e "$named/$uid/$jobid" ] || break
		sleep 0.1
	done
	[ ! -e "$named/$uid/$jobid" ] || { echo "the epilog left $named/$uid/$jobid" >&2; false; }
	kill "$strace_pid"
	wait "$strace_pid" || true
	rm -f "$BATS_FILE_TMPDIR/strace.pid"

	run python3 "$REPO/tests/lib/root-trace.py" --list "$TRACE"
	[ "$status" -eq 0 ] || {
		grep -v '^inspected: ' <<<"$output" >&2
		echo "job output:" >&2
		cat "$WORK/job.out" >&2
		false
	}
	[[ "${lines[0]}" =~ ^root-trace:\ inspected\ ([0-9]+)\ root\ path\ calls ]]
	[ "${BASH_REMATCH[1]}" -ge 10 ] || { echo "${lines[0]}" >&2; false; }
	# The trace covered the plugin's root work: named_dir/<uid> made by
	# root, and the admin image's mount attached.
	grep -Eq "^inspected: pid [0-9]+ mkdirat $named/$uid( \(failed\))?\$" <<<"$output" ||
		{ grep "$named" <<<"$output" >&2; echo "no mkdirat of $named/$uid" >&2; false; }
	grep -Eq '^inspected: pid [0-9]+ move_mount /run/slurm-sandbox/[0-9]+\.[0-9]+$' <<<"$output" ||
		{ grep /run/slurm-sandbox <<<"$output" >&2; echo "no kernel-squashfs move_mount" >&2; false; }
}
