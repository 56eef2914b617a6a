#!/usr/bin/env bats
# Node-local unpacked copies of squashfs images (images.unpack_dir): a
# squashfs started once is unpacked by the user in the background, and later
# starts use the copy as a directory image instead of mounting squashfuse.
# Observable from inside: squashfuse shows the image's root-owned files as
# the overflow uid, a copy the user unpacked as the user's own.

load ../lib/common
load ../lib/images

setup_file() {
	is_root && return 0
	prepare_image_suite
}

IMAGES=$BATS_FILE_TMPDIR/images
FILE_CACHE=$BATS_FILE_TMPDIR/cache

setup() {
	if is_root; then
		skip "run as an unprivileged user (tests/run-all does this)"
	fi
	need_fuse
	command -v unsquashfs >/dev/null || skip "unsquashfs is not installed (squashfs-tools)"
	cd "$BATS_TEST_TMPDIR"
	UNPACK=$BATS_TEST_TMPDIR/unpack
	mkdir -m 1777 "$UNPACK"
	MINE=$UNPACK/$(id -u)
}

# A squashfs of the test image with /marker holding $1.
make_marked_squashfs() {
	local src=$BATS_TEST_TMPDIR/src-$1
	cp -a "$IMG" "$src"
	echo "$1" >"$src/marker"
	"$SBX_TESTS_LIB/mkoci.sh" squashfs "$src" "$2"
	rm -rf "$src"
}

# The published copies, one name a line.
copies() {
	find "$MINE" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp.*' -printf '%f\n' 2>/dev/null | sort
}

# No unpack in progress any more: the start that began it took its
# <name>.lock before it returned, and the unpack removes it last.
unpack_done() {
	[ -z "$(find "$MINE" -mindepth 1 -maxdepth 1 -name '*.lock' 2>/dev/null)" ]
}

has_copies() {
	[ -n "$(copies)" ]
}

# Owner of / inside, and /marker: "<uid> <marker>".
owner_and_marker() {
	run_sbx --config "$1" --image "$2" -- sh -c 'echo "$(stat -c %u /bin/busybox) $(cat /marker)"'
}

@test "the second start of a squashfs image runs from its unpacked copy, not squashfuse" {
	make_marked_squashfs one "$BATS_TEST_TMPDIR/one.sqfs"
	conf=$(policy images.unpack_dir="$UNPACK")
	owner_and_marker "$conf" "$BATS_TEST_TMPDIR/one.sqfs"
	assert_success
	assert_not_equal "$(id -u) one" "$output" "the first start (squashfuse)"
	wait_for has_copies
	wait_for unpack_done
	assert_equal 1 "$(copies | wc -l)" "copies"
	owner_and_marker "$conf" "$BATS_TEST_TMPDIR/one.sqfs"
	assert_success
	assert_output "$(id -u) one"
}

@test "the unpacked copy is read-only inside, as a directory image" {
	make_marked_squashfs ro "$BATS_TEST_TMPDIR/ro.sqfs"
	conf=$(policy images.unpack_dir="$UNPACK")
	run_sbx --config "$conf" --image "$BATS_TEST_TMPDIR/ro.sqfs" -- true
	assert_success
	wait_for has_copies
	run_sbx --config "$conf" --image "$BATS_TEST_TMPDIR/ro.sqfs" -- sh -c 'echo x >/marker'
	assert_status 1
	assert_stderr_contains "Read-only file system"
	[ "$(cat "$MINE"/*/marker)" = ro ]
}

@test "a replaced or rewritten squashfs file is never served from a stale copy" {
	img=$BATS_TEST_TMPDIR/img.sqfs
	make_marked_squashfs old "$img"
	conf=$(policy images.unpack_dir="$UNPACK")
	run_sbx --config "$conf" --image "$img" -- true
	wait_for has_copies
	wait_for unpack_done
	# Replaced: a new file renamed over the name (another inode).
	make_marked_squashfs new "$BATS_TEST_TMPDIR/new.sqfs"
	mv "$BATS_TEST_TMPDIR/new.sqfs" "$img"
	owner_and_marker "$conf" "$img"
	assert_success
	[[ "$output" == *" new" ]]
	wait_for unpack_done
	# Rewritten in place, the same inode, its mtime put back.
	make_marked_squashfs newer "$BATS_TEST_TMPDIR/newer.sqfs"
	touch -r "$img" "$BATS_TEST_TMPDIR/newer.sqfs"
	cat "$BATS_TEST_TMPDIR/newer.sqfs" >"$img"
	touch -r "$BATS_TEST_TMPDIR/newer.sqfs" "$img"
	run_sbx --config "$conf" --image "$img" -- cat /marker
	assert_success
	assert_output "newer"
}

@test "a disk that fills under unpack_dir leaves no partial copy and starts still succeed" {
	command -v unshare >/dev/null && unshare --help | grep -q -- --keep-caps ||
		skip "unshare(1) lacks --keep-caps (util-linux >= 2.38)"
	make_marked_squashfs full "$BATS_TEST_TMPDIR/full.sqfs"
	conf=$(policy images.unpack_dir="$UNPACK")
	# A 64 KiB tmpfs over unpack_dir, in a user and mount namespace of the
	# test's own (the same uid, mount capability kept for the tmpfs).
	run unshare -U --map-user="$(id -u)" --map-group="$(id -g)" -m --keep-caps sh -c '
		mount -t tmpfs -o size=64k,mode=1777 none "$1" || exit 90
		"$2" --config "$3" --image "$4" -- cat /marker || exit 91
		# The first start took the lock file of the unpack before it returned;
		# the unpack removes it last, after its .failed mark.
		for i in $(seq 600); do
			[ -z "$(ls -A "$1/$5" | grep "\.lock$")" ] && break
			sleep 0.1
		done
		ls -A "$1/$5"
		"$2" --config "$3" --image "$4" -- cat /marker || exit 92
	' sh "$UNPACK" "$BUILD/sandbox-run" "$conf" "$BATS_TEST_TMPDIR/full.sqfs" "$(id -u)"
	[ "$status" -ne 90 ] || skip "tmpfs cannot be mounted in a user namespace here"
	assert_success
	[ "${lines[0]}" = full ]
	[[ "${lines[1]}" == f*.failed ]]
	[ "${lines[2]}" = full ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "with unpack_dir unset every start mounts squashfuse and nothing is unpacked" {
	make_marked_squashfs off "$BATS_TEST_TMPDIR/off.sqfs"
	for i in 1 2; do
		owner_and_marker "$SBX_CONFIG" "$BATS_TEST_TMPDIR/off.sqfs"
		assert_success
		assert_not_equal "$(id -u) off" "$output" "start $i"
	done
	assert_equal "" "$(ls -A "$UNPACK")" "unpack_dir"
}

@test "a cached registry-style image (an OCI layout) runs from its copy on the second start" {
	cache=$BATS_TEST_TMPDIR/cache
	mkdir -m 1777 "$cache"
	conf=$(policy images.unpack_dir="$UNPACK" images.cache_dir="$cache")
	run_sbx --config "$conf" --image "$IMAGES/oci-layered" -- stat -c %u /bin/busybox
	assert_success
	assert_not_equal "$(id -u)" "${lines[-1]}" "the first start (squashfuse)"
	wait_for has_copies
	wait_for unpack_done
	[[ "$(copies)" == c* ]]
	run_sbx --config "$conf" --image "$IMAGES/oci-layered" -- stat -c %u /bin/busybox
	assert_success
	assert_equal "$(id -u)" "${lines[-1]}" "the second start"
}

@test "sandbox-run cache ls shows the copies and cache gc removes them" {
	make_marked_squashfs gc "$BATS_TEST_TMPDIR/gc.sqfs"
	conf=$(policy images.unpack_dir="$UNPACK")
	run_sbx --config "$conf" --image "$BATS_TEST_TMPDIR/gc.sqfs" -- true
	wait_for has_copies
	wait_for unpack_done
	run_sbx --config "$conf" cache ls
	assert_success
	assert_output_contains "unpacked"
	run_sbx --config "$conf" cache gc --max-size 1
	assert_success
	assert_equal "" "$(copies)" "copies after gc"
}
