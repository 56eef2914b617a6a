#!/usr/bin/env bats
# What the command sees of the file system: the image, binds, /proc, /dev,
# /sys, /tmp, and nothing else of the host.

load ../lib/common

@test "/ is the image" {
	run_sbx --image "$IMG" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
}

@test "a file in the caller's home is not visible inside" {
	marker=$(mktemp "$HOME/sbx-home-marker.XXXXXX")
	run_sbx --image "$IMG" -- test -e "$marker"
	rm -f "$marker"
	assert_status 1
}

@test "host files that are not in the image are not visible" {
	[ -e /etc/debian_version ] || skip "the host has no /etc/debian_version to look for"
	run_sbx --image "$IMG" -- test -e /etc/debian_version
	assert_status 1
}

@test "the build directory and /root of the host are not visible" {
	run_sbx --image "$IMG" -- sh -c "test -e '$BUILD' || test -e /root/.bashrc || test -e /root/.profile"
	assert_status 1
}

@test "the image is read-only by default: writing to / gives EROFS" {
	run_sbx --image "$IMG" -- sbx-probe write /new-file
	assert_success
	assert_output "write: EROFS"
}

@test "--readonly: writing into the image gives EROFS" {
	run_sbx --image "$IMG" --readonly -- sbx-probe write /etc/new-file
	assert_success
	assert_output "write: EROFS"
}

@test "--writable lets the command write anywhere in the image" {
	run_sbx --image "$IMG" --writable -- sh -c 'sbx-probe write /new-file && sbx-probe write /etc/passwd'
	assert_success
	assert_output "write: ok
write: ok"
}

@test "--writable: writes are gone after the run and the image is unchanged" {
	before=$(tree_snapshot "$IMG")
	run_sbx --image "$IMG" --writable -- sh -c 'echo changed > /etc/sbx-image-marker && touch /new-file && rm /bin/ls && mkdir /new-dir'
	assert_success

	run_sbx --image "$IMG" -- sh -c 'cat /etc/sbx-image-marker; test -e /new-file || echo no-new-file; test -e /bin/ls && echo ls-back'
	assert_success
	assert_output "sbx-test-image
no-new-file
ls-back"
	assert_equal "$before" "$(tree_snapshot "$IMG")" "the image tree"
}

@test "a read-only bind gives EROFS" {
	mkdir "$BATS_TEST_TMPDIR/data"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/data:/mnt:ro" -- sbx-probe write /mnt/file
	assert_success
	assert_output "write: EROFS"
	[ ! -e "$BATS_TEST_TMPDIR/data/file" ]
}

@test "a read-write bind writes through to the host" {
	mkdir "$BATS_TEST_TMPDIR/data"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/data:/mnt:rw" -- sh -c 'echo hello > /mnt/file'
	assert_success
	assert_equal "hello" "$(cat "$BATS_TEST_TMPDIR/data/file")" "the file on the host"
	assert_equal "$(id -u)" "$(stat -c %u "$BATS_TEST_TMPDIR/data/file")" "the file's owner"
}

@test "a bind without flags is read-write" {
	mkdir "$BATS_TEST_TMPDIR/data"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/data:/mnt" -- sbx-probe write /mnt/file
	assert_success
	assert_output "write: ok"
	[ -e "$BATS_TEST_TMPDIR/data/file" ]
}

@test "a bind without a destination appears at the same path inside" {
	mkdir "$BATS_TEST_TMPDIR/data"
	echo same-path >"$BATS_TEST_TMPDIR/data/file"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/data" -- cat "$BATS_TEST_TMPDIR/data/file"
	assert_success
	assert_output "same-path"
}

@test "a bind of a single file shows that file" {
	echo one-file >"$BATS_TEST_TMPDIR/file"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/file:/etc/one-file:ro" -- cat /etc/one-file
	assert_success
	assert_output "one-file"
}

@test "a bind to a destination missing from the image works and leaves the image unchanged" {
	mkdir "$BATS_TEST_TMPDIR/data"
	echo deep >"$BATS_TEST_TMPDIR/data/file"
	before=$(tree_snapshot "$IMG")
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/data:/not/in/the/image:ro" -- cat /not/in/the/image/file
	assert_success
	assert_output "deep"
	assert_equal "$before" "$(tree_snapshot "$IMG")" "the image tree"
	[ ! -e "$IMG/not" ]
}

@test "/proc is the sandbox's own" {
	run_sbx --image "$IMG" -- cat /proc/1/comm
	assert_success
	assert_output "sandbox-init"
}

@test "/dev holds only the basic devices" {
	run_sbx --image "$IMG" -- ls -A /dev
	assert_success
	local want
	for want in null zero full random urandom tty pts ptmx shm fd stdin stdout stderr; do
		assert_output_contains "$want"
	done
	for host_dev in /dev/vda /dev/sda /dev/nvme0n1 /dev/kmsg /dev/mem; do
		[ -e "$host_dev" ] || continue
		refute_output_contains "${host_dev#/dev/}"
	done
}

@test "/dev/null and /dev/zero work inside" {
	run_sbx --image "$IMG" -- sh -c 'echo gone > /dev/null && head -c 4 /dev/zero | wc -c'
	assert_success
	assert_output "4"
}

@test "/sys is mounted read-only" {
	run_sbx --image "$IMG" -- sh -c 'awk "\$2 == \"/sys\" { print \$4 }" /proc/mounts'
	assert_success
	[[ "$output" == ro,* || "$output" == ro ]] || { show_run; false; }
}

@test "/tmp is a private writable tmpfs, even with a read-only image" {
	touch "/tmp/sbx-host-tmp-marker.$$"
	run_sbx --image "$IMG" -- sh -c "awk '\$2 == \"/tmp\" { print \$3 }' /proc/mounts; sbx-probe write /tmp/file; test -e /tmp/sbx-host-tmp-marker.$$ || echo private"
	rm -f "/tmp/sbx-host-tmp-marker.$$"
	assert_success
	assert_output "tmpfs
write: ok
private"
}

@test "/.sandbox is read-only" {
	run_sbx --image "$IMG" -- sbx-probe write /.sandbox/file
	assert_success
	assert_output "write: EROFS"
}

@test "/etc/passwd inside names the caller" {
	run_sbx --image "$IMG" -- id -un
	assert_success
	assert_output "$(id -un)"
}

@test "/etc/hosts and /etc/resolv.conf are present inside" {
	run_sbx --image "$IMG" -- sh -c 'test -f /etc/hosts && test -f /etc/resolv.conf && grep -c localhost /etc/hosts'
	assert_success
}

@test "--workdir sets the current directory" {
	run_sbx --image "$IMG" --workdir /tmp -- pwd
	assert_success
	assert_output "/tmp"
}

@test "a caller's directory that is not in the sandbox starts the command in /" {
	cd "$BATS_TEST_TMPDIR"
	run_sbx --image "$IMG" -- pwd
	assert_success
	assert_output "/"
}

@test "the caller's directory is kept when it exists inside" {
	mkdir "$BATS_TEST_TMPDIR/data"
	cd "$BATS_TEST_TMPDIR/data"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/data" -- pwd
	assert_success
	assert_output "$BATS_TEST_TMPDIR/data"
}
