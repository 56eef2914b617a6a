#!/usr/bin/env bats
# Mistakes on the command line: each is refused before anything is set up,
# with exit 125 and one "sandbox: " line naming the input, and leaves the
# host as it was (mounts, the caller's /tmp entries, sandbox processes).

load ../lib/common

setup() {
	if is_root; then
		skip "run as an unprivileged user (tests/run-all does this)"
	fi
	cd "$BATS_TEST_TMPDIR"
	remember_host_state
}

@test "a missing image is refused" {
	run_sbx --image /no/such/image -- true
	assert_refused /no/such/image
	assert_host_unchanged
}

@test "an image that is a file is refused" {
	echo "not an image" >"$BATS_TEST_TMPDIR/image-file"
	run_sbx --image "$BATS_TEST_TMPDIR/image-file" -- true
	assert_refused "$BATS_TEST_TMPDIR/image-file"
	assert_host_unchanged
}

@test "a run without --image is refused" {
	run_sbx -- true
	assert_refused image
	assert_host_unchanged
}

@test "the mount spec ':' is refused" {
	run_sbx --image "$IMG" --mount : -- true
	assert_refused mount
	assert_host_unchanged
}

@test "a mount spec with an empty destination is refused" {
	run_sbx --image "$IMG" --mount /tmp: -- true
	assert_refused /tmp:
	assert_host_unchanged
}

@test "an empty mount spec is refused" {
	run_sbx --image "$IMG" --mount "" -- true
	assert_refused mount
	assert_host_unchanged
}

@test "a mount spec with four fields is refused" {
	run_sbx --image "$IMG" --mount a:b:c:d -- true
	assert_refused a:b:c:d
	assert_host_unchanged
}

@test "a relative mount destination is refused" {
	run_sbx --image "$IMG" --mount /tmp:relative/dst -- true
	assert_refused relative/dst
	assert_host_unchanged
}

@test "a mount destination with .. is refused" {
	run_sbx --image "$IMG" --mount /tmp:/mnt/../../etc -- true
	assert_refused /mnt/../../etc
	assert_host_unchanged
}

@test "an unknown mount flag is refused" {
	run_sbx --image "$IMG" --mount /tmp:/x:rx -- true
	assert_refused rx
	assert_host_unchanged
}

@test "a mount source that does not exist is refused" {
	run_sbx --image "$IMG" --mount /no/such/source:/mnt -- true
	assert_refused /no/such/source
	assert_host_unchanged
}

@test "--writable together with --readonly is refused" {
	run_sbx --image "$IMG" --writable --readonly -- true
	assert_refused writable readonly
	assert_host_unchanged
}

@test "--net with an unknown mode is refused" {
	run_sbx --image "$IMG" --net bogus -- true
	assert_refused bogus
	assert_host_unchanged
}

@test "a relative --workdir is refused" {
	run_sbx --image "$IMG" --workdir relative/dir -- true
	assert_refused relative/dir
	assert_host_unchanged
}

@test "an --env name that is not a variable name is refused" {
	run_sbx --image "$IMG" --env "1BAD-NAME=x" -- true
	assert_refused 1BAD-NAME
	assert_host_unchanged
}

@test "an empty --env is refused" {
	run_sbx --image "$IMG" --env "" -- true
	assert_refused "env ''"
	assert_host_unchanged
}

# sandbox-run has no comma lists: --mount and --env are given once per
# element, so a comma is part of the path or value, never an empty element.
@test "a comma in a --mount path is part of the path, not a list separator" {
	mkdir "$BATS_TEST_TMPDIR/a,b"
	echo comma >"$BATS_TEST_TMPDIR/a,b/file"
	run_sbx --image "$IMG" --mount "$BATS_TEST_TMPDIR/a,b:/mnt/data,x:ro" -- cat /mnt/data,x/file
	assert_success
	assert_output "comma"
}

@test "a --config file that does not exist is refused" {
	run_sbx --config /no/such/sandbox.conf --image "$IMG" -- true
	assert_refused /no/such/sandbox.conf
	assert_host_unchanged
}
