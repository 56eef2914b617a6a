#!/usr/bin/env bats
# Issue 10, finding 4: nothing a job user says over the helper's pipes can
# make root signal a process, on a real local cluster
# (tests/slurm/local-cluster.sh), jobs submitted by the unprivileged sbxtest.
#
# The canary is a root process (sleep) started here. Before the fix,
# slurmstepd SIGTERMed, as root, the pid the helper's "ready" line named when
# the step's last task exited: a forged line made that the canary. Now root
# holds no pid of the helper at all (it closes the step's control pipe), and
# progress has a pipe of its own. Both ways of forging are tried: an image
# file name that carries the line, and a racer process of the user writing
# forged lines into /proc/<helper>/fd/3 and fd/5 while images import.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	[ -x "$BUILD/tests/race/racer" ] || skip "race harness not built (make race)"
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-status-$$}"
	# A shared cache, as a site's (images.bats): tarballs are imported there.
	export IMAGE_CACHE=$SBX_CLUSTER/image-cache
	mkdir -m 1777 "$IMAGE_CACHE"
	printf '[images]\ncache_dir = %s\n' "$IMAGE_CACHE" >>"$SBX_CLUSTER/etc/sandbox.conf"
	slurm_work_image /tmp/sbx-slurm-status.XXXXXX
}

teardown_file() {
	slurm_teardown_cluster
}

setup() {
	fuse_open || skip "/dev/fuse is not read-writable by $SBX_USER (tests/run-all opens it)"
	# The root canary, its fds closed so bats does not wait for it.
	sleep 300 </dev/null >/dev/null 2>&1 3>&- &
	CANARY_PID=$!
	RACER_PID=
}

teardown() {
	[ -z "${RACER_PID:-}" ] || { kill "$RACER_PID" 2>/dev/null; wait "$RACER_PID" 2>/dev/null; } || true
	[ -z "${CANARY_PID:-}" ] || { kill "$CANARY_PID" 2>/dev/null; wait "$CANARY_PID" 2>/dev/null; } || true
}

# A tarball of the image no cache has seen yet (a marker of its own makes
# its digest new), so the step imports it and the helper reports progress.
fresh_tarball() {
	local name=$1 tag=$2
	runuser -u "$SBX_USER" -- sh -c "cp -a '$IMG' '$WORK/rootfs-$tag' && echo '$tag' >'$WORK/rootfs-$tag/tag' &&
		'$REPO/tests/lib/mkoci.sh' tarball '$WORK/rootfs-$tag' '$WORK/fresh-$tag.tar' &&
		mv '$WORK/fresh-$tag.tar' \"\$1\" && rm -rf '$WORK/rootfs-$tag'" sh "$name"
}

canary_alive() {
	kill -0 "$CANARY_PID" 2>/dev/null && [ "$(cat "/proc/$CANARY_PID/comm")" = sleep ] ||
		{ echo "root's canary (pid $CANARY_PID) was killed${1:+ by $1}" >&2; return 1; }
}

@test "an image file name carrying a forged 'ready' line runs, shown escaped, and root signals no root process" {
	forged="$WORK/image
ready $CANARY_PID $CANARY_PID -
.tar"
	fresh_tarball "$forged" named
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="$forged" cat /marker
	[ "$status" -eq 0 ] || { echo "srun status $status: $stderr" >&2; false; }
	[ "$output" = "in-the-image
in-the-image" ] || { echo "output: $output" >&2; false; }
	# The progress line reaches srun as one line, the name escaped.
	grep -qF "sandbox: importing $WORK/image\\x0aready $CANARY_PID $CANARY_PID -\\x0a.tar (" <<<"$stderr" ||
		{ echo "no escaped 'importing' line in: $stderr" >&2; false; }
	! grep -q "^ready" <<<"$stderr" || { echo "a line of its own: $stderr" >&2; false; }
	# The step is over (its last task_exit stopped the sandbox): the canary lives.
	canary_alive
}

@test "a job user writing forged 'ready' lines into the helpers' status and progress pipes cannot make root signal a root process" {
	# Any process of the user can open /proc/<helper>/fd/N of the user's
	# own sandbox-helper: the racer writes "ready CANARY CANARY -" and
	# "ready CANARY -" into fds 3 and 5 every 2 ms while steps import fresh
	# images, three sandboxes at a time.
	setpriv --reuid="$(id -u "$SBX_USER")" --regid="$(id -g "$SBX_USER")" --clear-groups \
		"$BUILD/tests/race/racer" forge-status "$CANARY_PID" --seconds 180 \
		>"$WORK/racer.log" 2>&1 3>&- &
	RACER_PID=$!
	for i in 1 2 3 4 5 6; do
		fresh_tarball "$WORK/step-$i.tar" "step-$i"
	done
	for round in 1 2; do
		pids=()
		for j in 1 2 3; do
			i=$(((round - 1) * 3 + j))
			as_user srun -N1 -n1 --sandbox-image="$WORK/step-$i.tar" true \
				>"$WORK/step-$i.out" 2>&1 </dev/null &
			pids+=($!)
		done
		for p in "${pids[@]}"; do
			# The step may run or fail (forged words confuse only the
			# user's own step); root's process lives on either way.
			wait "$p" || true
		done
		canary_alive "round $round"
	done
	kill "$RACER_PID"
	wait "$RACER_PID" || true
	RACER_PID=
	cat "$WORK/racer.log" "$WORK"/step-*.out >&2
	# The race was real: the racer saw the user's helpers and wrote into
	# their pipes while they imported.
	grep -q "forge-status $CANARY_PID: [1-9][0-9]* forged lines written, [1-9][0-9]* sightings of a helper" "$WORK/racer.log"
	canary_alive
}
