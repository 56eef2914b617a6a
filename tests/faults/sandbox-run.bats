#!/usr/bin/env bats
# Faults injected into sandbox-run's setup, against the test build with
# failure points (make FAILPOINTS=1, build-fault; lib/util/failpoint.h):
# a failing step at each point, the helper, the sandbox's init, squashfuse
# and the importer killed at named points, a full disk under the cache and
# the OOM killer during an import. After each: one clear line, nothing left
# behind (tests/lib/leftovers.bash), and the next run works without cleanup.
#
# Run by tests/run-faults (make check: the short form; make check-long:
# every point, every action, every mount), as the unprivileged test user.

load ../lib/common
load ../lib/images
load ../lib/leftovers

IMAGES=$BATS_FILE_TMPDIR/images
FILE_CACHE=$BATS_FILE_TMPDIR/cache

setup_file() {
	is_root && return 0
	strings -a "$SANDBOX_HELPER" | grep -q SBX_FAILPOINT || {
		echo "$SANDBOX_HELPER has no failure points: build with make FAILPOINTS=1 (tests/run-faults does)" >&2
		return 1
	}
	prepare_image_suite
}

setup() {
	is_root && skip "run as an unprivileged user (tests/run-faults does this)"
	cd "$BATS_TEST_TMPDIR"
	CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -m 0700 "$CACHE"
	CONF=$(policy images.cache_dir="$CACHE")
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir "$TMPDIR"
	unset SBX_FAILPOINT
}

teardown() {
	# A process a test stopped and did not get to kill.
	kill_run
	stop_background
}

# The image the setup points run in: a squashfs (squashfuse) when /dev/fuse
# is usable, so squashfs.mounted is reached; the directory image otherwise.
setup_image() {
	if [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
		echo "$IMAGES/image.sqfs"
	else
		echo "$IMG"
	fi
}

# fail_at POINT IMAGE: the run fails at POINT with one line naming it, and
# leaves nothing; the next run works.
fail_at() {
	local point=$1 image=$2
	leftovers_remember "$CACHE"
	fault_injected "$point:fail"
	SBX_FAILPOINT=$point run_sbx --config "$CONF" --image "$image" -- cat /etc/sbx-image-marker
	assert_status 125
	if [ "${#stderr_lines[@]}" -ne 1 ] || [[ "${stderr_lines[0]}" != "sandbox: failure point ${point%@*}:"* ]]; then
		echo "expected one line \"sandbox: failure point ${point%@*}: ...\"" >&2
		show_run
		return 1
	fi
	assert_no_leftovers "$CACHE"
	assert_image_runs "$image" --config "$CONF"
	fault_survived "$point:fail"
}

# die_at POINT ACTION IMAGE: the helper (or init) dies at POINT; the run
# fails with one "sandbox: " line, and leaves nothing.
die_at() {
	local point=$1 action=$2 image=$3
	leftovers_remember "$CACHE"
	fault_injected "$point:$action"
	SBX_FAILPOINT=$point:$action run_sbx --config "$CONF" --image "$image" -- cat /etc/sbx-image-marker
	if [ "$status" -eq 0 ] || [ "${#stderr_lines[@]}" -ne 1 ] || [[ "${stderr_lines[0]}" != "sandbox: "* ]]; then
		echo "expected a failure with one line \"sandbox: ...\"" >&2
		show_run
		return 1
	fi
	assert_no_leftovers "$CACHE"
	assert_image_runs "$image" --config "$CONF"
	fault_survived "$point:$action"
}

# Points every run passes once (with a squashfs image).
SETUP_POINTS="ns.user ns.user-map ns.mount squashfs.mounted ns.pid init.start mount.scratch
mount.overlay pivot_root.before pivot_root.after init.ready"

# mount_points KIND: KIND@1 .. KIND@N, one per mount of that kind a run makes.
mount_points() {
	local n=1 image
	image=$(setup_image)
	while :; do
		SBX_FAILPOINT=$1@$n sbx --config "$CONF" --image "$image" -- true 2>/dev/null || {
			echo "$1@$n"
			n=$((n + 1))
			[ "$n" -lt 100 ] || return 1
			continue
		}
		break
	done
}

@test "each setup failure point fails the run with one line naming it and leaves nothing" {
	local image point points=$SETUP_POINTS
	image=$(setup_image)
	[ "$image" != "$IMG" ] || points=${points/squashfs.mounted/}
	long_faults && points="$points $(mount_points mount.fs) $(mount_points mount.bind)"
	for point in $points; do
		fail_at "$point" "$image"
	done
}

@test "every mount of a run is a failure point" {
	local fs bind
	if ! long_faults; then
		# The third of each kind (proc, sys, ...; /proc's and /dev's binds).
		fail_at mount.fs@3 "$(setup_image)"
		fail_at mount.bind@3 "$(setup_image)"
		return
	fi
	fs=$(mount_points mount.fs | wc -l)
	bind=$(mount_points mount.bind | wc -l)
	[ "$fs" -ge 3 ] && [ "$bind" -ge 3 ] || {
		echo "found only $fs filesystem and $bind bind mounts as failure points" >&2
		false
	}
}

@test "the helper or the sandbox's init killed or exiting at each setup point leaves nothing" {
	local image point action actions="kill" points="ns.user ns.mount init.start pivot_root.after"
	image=$(setup_image)
	long_faults && actions="kill exit" points=$SETUP_POINTS
	[ "$image" != "$IMG" ] || points=${points/squashfs.mounted/}
	for point in $points; do
		for action in $actions; do
			die_at "$point" "$action" "$image"
		done
	done
}

@test "each import stage failing leaves a consistent cache and the next use imports" {
	local stage ref
	for stage in import.start import.unpack import.mksquashfs import.publish import.pull; do
		ref=$IMAGES/rootfs.tar.zst
		[ "$stage" != import.pull ] || ref=$IMAGES/docker.tar
		rm -rf "$CACHE" && mkdir -m 0700 "$CACHE"
		leftovers_remember "$CACHE"
		fault_injected "$stage:fail"
		SBX_FAILPOINT=$stage run_sbx --config "$CONF" --image "$ref" -- true
		assert_import_refused "failure point $stage"
		assert_no_leftovers "$CACHE"
		assert_equal "" "$(cache_entries "$CACHE")" "published entries after a failed import"
		run_sbx --config "$CONF" --image "$ref" -- cat /etc/sbx-image-marker
		assert_success
		assert_imports 1
		assert_equal "" "$(cache_strays "$CACHE")" "strays in the cache"
		fault_survived "$stage:fail"
	done
}

# kill_importer_at STAGE REF: the importer (the helper) stopped at STAGE and
# killed there with SIGKILL; the next use imports anew and leaves a clean cache.
kill_importer_at() {
	local stage=$1 ref=$2 pid
	rm -rf "$CACHE" && mkdir -m 0700 "$CACHE"
	leftovers_remember
	fault_injected "$stage:kill -9 importer"
	SBX_FAILPOINT=$stage:stop start_sbx --config "$CONF" --image "$ref" -- true
	pid=$(wait_stopped sandbox-helper)
	kill -KILL "$pid"
	wait_exit "$SBX_JOB"
	assert_not_equal 0 "$status" "sandbox-run's exit status"
	assert_no_leftovers
	run_sbx --config "$CONF" --image "$ref" -- cat /etc/sbx-image-marker
	assert_success
	assert_output sbx-test-image
	assert_imports 1
	assert_equal "" "$(cache_strays "$CACHE")" "what the killed import left in the cache"
	assert_equal "" "$(cache_locks_held "$CACHE")" "cache locks"
	fault_survived "$stage:kill -9 importer"
}

# Was racy as images.bats' "an import killed midway": it waited for an import
# in progress that could be over already. Now the importer stops mid-unpack.
@test "an import killed midway leaves nothing that stops the next use" {
	need_fuse
	kill_importer_at import.unpack "$IMAGES/rootfs.tar.zst"
}

@test "the importer killed at each import stage leaves nothing that stops the next use" {
	need_fuse
	local stage
	for stage in import.start import.mksquashfs import.publish; do
		kill_importer_at "$stage" "$IMAGES/rootfs.tar.zst"
	done
	kill_importer_at import.pull "$IMAGES/docker.tar"
}

# Any process of the user may write into the helper's status pipe
# (/proc/PID/fd/3, design.md): a forged record fails sandbox-run at once
# with the helper already in its monitor. It used to wait for that helper,
# which waited for sandbox-run to close the control pipe: both hung.
@test "a record forged into the helper's status pipe fails sandbox-run, which does not hang" {
	local helper
	leftovers_remember "$CACHE"
	fault_injected "forged status record"
	SBX_FAILPOINT=ns.pid:stop start_sbx --config "$CONF" --image "$IMG" -- true
	helper=$(wait_stopped sandbox-helper)
	printf 'ready 1 1 -\n' >"/proc/$helper/fd/3"
	kill -CONT "$helper"
	wait_exit "$SBX_JOB"
	assert_equal 125 "$status" "sandbox-run's exit status after a forged record"
	assert_no_leftovers "$CACHE"
	assert_image_runs "$IMG" --config "$CONF"
	fault_survived "forged status record"
}

# stop_running IMAGE CMD...: a sandbox whose monitor stopped just after it was
# ready, running CMD; sets HELPER (stopped), SBX_JOB, SBX_PID.
stop_running() {
	local image=$1
	shift
	SBX_FAILPOINT=helper.running:stop \
		start_sbx --config "$CONF" --mount "$BATS_TEST_TMPDIR/gate:/gate" --image "$image" -- "$@"
	HELPER=$(wait_stopped sandbox-helper)
}

# The sandbox's command waits for the test to open the gate.
GATED='while [ ! -e /gate/go ]; do sleep 0.05; done; cat /etc/sbx-image-marker'

# victim_pid COMM: this test's process named COMM.
victim_pid() {
	fault_processes | awk -v c="$1" 'index($2, c) == 1 { print $1; exit }'
}

@test "kill -9 of the helper, the sandbox's init or squashfuse while a sandbox runs leaves nothing" {
	need_fuse
	local victim pid
	mkdir "$BATS_TEST_TMPDIR/gate"
	for victim in sandbox-helper sandbox-init squashfuse; do
		rm -f "$BATS_TEST_TMPDIR/gate/go"
		leftovers_remember
		fault_injected "kill -9 $victim"
		stop_running "$IMAGES/image.sqfs" sh -c "$GATED"
		pid=$(victim_pid "$victim")
		[ -n "$pid" ] || { echo "no $victim among: $(sandbox_processes)" >&2; false; }
		kill -KILL "$pid"
		[ "$victim" = sandbox-helper ] || kill -CONT "$HELPER"
		touch "$BATS_TEST_TMPDIR/gate/go"
		wait_exit "$SBX_JOB"
		assert_not_equal 0 "$status" "sandbox-run's exit status after kill -9 $victim"
		assert_no_leftovers
		assert_image_runs "$IMAGES/image.sqfs" --config "$CONF"
		fault_survived "kill -9 $victim"
	done
}

@test "a full disk under the cache fails the import with one line and leaves the cache usable" {
	need_fuse
	[ -n "${SBX_FAULT_SMALLFS:-}" ] && [ -w "$SBX_FAULT_SMALLFS" ] ||
		skip "no small filesystem for the cache (tests/run-faults mounts one as root)"
	local big=$BATS_TEST_TMPDIR/big conf cache
	cache=$(mktemp -d "$SBX_FAULT_SMALLFS/cache.XXXXXX")
	conf=$(policy images.cache_dir="$cache")
	cp -a "$IMG" "$big"
	head -c $(($(df -B1 --output=size "$SBX_FAULT_SMALLFS" | tail -n 1) + (1 << 20))) /dev/urandom >"$big/blob"
	"$SBX_TESTS_LIB/mkoci.sh" tarball "$big" "$BATS_TEST_TMPDIR/big.tar.zst"
	rm -rf "$big"
	leftovers_remember "$cache"
	fault_injected "ENOSPC in the cache"
	run_sbx --config "$conf" --image "$BATS_TEST_TMPDIR/big.tar.zst" -- true
	assert_import_refused "No space left on device"
	assert_no_leftovers "$cache"
	assert_equal "" "$(cache_entries "$cache")" "published entries after a full disk"
	assert_image_runs "$IMAGES/rootfs.tar.zst" --config "$conf"
	assert_equal "" "$(cache_strays "$cache")" "strays in the cache"
	rm -rf "$cache"
	fault_survived "ENOSPC in the cache"
}

@test "the OOM killer during an import gives one line and leaves the cache usable" {
	need_fuse
	[ -n "${SBX_FAULT_MEMCG:-}" ] && [ -w "$SBX_FAULT_MEMCG/cgroup.procs" ] ||
		skip "no memory cgroup for the test user (tests/run-faults makes one as root on a cgroup v1 host)"
	local big=$BATS_TEST_TMPDIR/big kills
	cp -a "$IMG" "$big"
	head -c 64M /dev/urandom >"$big/blob"
	"$SBX_TESTS_LIB/mkoci.sh" tarball "$big" "$BATS_TEST_TMPDIR/big.tar.zst"
	rm -rf "$big"
	# A killed importer cannot clear its directory: the next import does.
	leftovers_remember
	kills=$(awk '$1 == "oom_kill" { print $2 }' "$SBX_FAULT_MEMCG/memory.oom_control")
	fault_injected "OOM kill during import"
	run --separate-stderr sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$SBX_FAULT_MEMCG" \
		env SBX_TEST_TAG="$SBX_TEST_TAG" "$BUILD/sandbox-run" --config "$CONF" \
		--image "$BATS_TEST_TMPDIR/big.tar.zst" -- true
	# The helper (unpacking) or mksquashfs, whichever the killer chose.
	assert_import_refused "killed by signal 9" "out of memory?"
	assert_not_equal "$kills" "$(awk '$1 == "oom_kill" { print $2 }' "$SBX_FAULT_MEMCG/memory.oom_control")" \
		"the memory cgroup's OOM kill count"
	assert_no_leftovers
	assert_image_runs "$BATS_TEST_TMPDIR/big.tar.zst" --config "$CONF"
	assert_equal "" "$(cache_strays "$CACHE")" "strays in the cache"
	assert_equal "" "$(cache_locks_held "$CACHE")" "cache locks"
	fault_survived "OOM kill during import"
}
