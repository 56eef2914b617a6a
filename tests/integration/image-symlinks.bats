#!/usr/bin/env bats
# A hostile image: mount destinations that are symlinks leading out of the
# image to a host directory (the "victim"). Whatever the sandbox does with
# them, nothing may be created, mounted or written outside the new root:
# either the bind lands inside the sandbox or the run is refused.

load ../lib/common

setup() {
	if is_root; then
		skip "run as an unprivileged user (tests/run-all does this)"
	fi
	cd "$BATS_TEST_TMPDIR"
	# The victim is writable by the caller, so an escape would succeed and
	# show; it lives in $HOME, which the sandbox does not mount.
	VICTIM=$(mktemp -d "$HOME/sbx-victim.XXXXXX")
	echo "victim" >"$VICTIM/existing"
	EVIL_IMG=$BATS_TEST_TMPDIR/evil-image
	make_image --malicious-symlink "$EVIL_IMG" "$VICTIM"
	DATA=$BATS_TEST_TMPDIR/data
	mkdir "$DATA"
	echo "bind content" >"$DATA/marker"
	VICTIM_BEFORE=$(tree_snapshot "$VICTIM")
	remember_host_state
}

teardown() {
	stop_background
	[ -z "${VICTIM:-}" ] || rm -rf "$VICTIM"
}

# The run either refused the bind (125, one "sandbox:" line) or mounted it
# inside the root, where the command read the bind's content.
assert_bind_inside_or_refused() {
	if [ "$status" -eq 125 ]; then
		assert_refused "$1"
	else
		assert_success
		assert_output "bind content"
	fi
}

assert_victim_untouched() {
	assert_equal "$VICTIM_BEFORE" "$(tree_snapshot "$VICTIM")" "the victim directory"
}

@test "a bind onto an absolute symlink to a host dir stays inside the root" {
	run_sbx --image "$EVIL_IMG" --mount "$DATA:/mnt/escape:rw" -- cat /mnt/escape/marker
	assert_bind_inside_or_refused /mnt/escape
	assert_victim_untouched
	assert_host_unchanged
}

@test "a bind onto a relative ../ symlink to a host dir stays inside the root" {
	run_sbx --image "$EVIL_IMG" --mount "$DATA:/mnt/climb:rw" -- cat /mnt/climb/marker
	assert_bind_inside_or_refused /mnt/climb
	assert_victim_untouched
	assert_host_unchanged
}

@test "a bind below a symlinked directory creates nothing in the host dir" {
	run_sbx --image "$EVIL_IMG" --mount "$DATA:/mnt/escape/new/dir:rw" -- cat /mnt/escape/new/dir/marker
	assert_bind_inside_or_refused /mnt/escape/new/dir
	assert_victim_untouched
	assert_host_unchanged
}

@test "a bind below a relative symlink creates nothing in the host dir" {
	run_sbx --image "$EVIL_IMG" --mount "$DATA:/mnt/climb/new:rw" -- cat /mnt/climb/new/marker
	assert_bind_inside_or_refused /mnt/climb/new
	assert_victim_untouched
	assert_host_unchanged
}

@test "a top-level symlinked destination stays inside the root" {
	run_sbx --image "$EVIL_IMG" --mount "$DATA:/data:ro" -- cat /data/marker
	assert_bind_inside_or_refused /data
	assert_victim_untouched
	assert_host_unchanged
}

@test "a file bind onto a symlink to a missing host file creates nothing" {
	run_sbx --image "$EVIL_IMG" --mount "$DATA/marker:/mnt/escape/planted:ro" -- cat /mnt/escape/planted
	assert_bind_inside_or_refused /mnt/escape/planted
	assert_victim_untouched
	assert_host_unchanged
}

@test "writing through a symlinked destination does not reach the host dir" {
	run_sbx --image "$EVIL_IMG" --writable --mount "$DATA:/mnt/escape:rw" -- \
		sh -c 'echo planted > /mnt/escape/planted; cat /mnt/escape/marker'
	assert_bind_inside_or_refused /mnt/escape
	assert_victim_untouched
}

@test "an image whose /etc/hosts and /etc/resolv.conf point at the host creates nothing there" {
	run_sbx --image "$EVIL_IMG" -- cat /etc/hosts
	[ "$status" -eq 0 ] || assert_refused
	assert_victim_untouched
	assert_host_unchanged
}
