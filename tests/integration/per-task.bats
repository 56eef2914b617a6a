#!/usr/bin/env bats
# --per-task (srun --sandbox-per-task): each task that joins the sandbox gets
# its own writable layer over the sandbox's root; everything else (/tmp, /dev,
# /proc, binds) stays the sandbox's. Isolation between ranks is shown on a
# cluster (tests/slurm/node-features.bats); here, the single task's view.

load ../lib/common

@test "--per-task makes a read-only root writable for the task, and the image is not written" {
	run_sbx --image "$IMG" --per-task -- sh -c 'echo mine > /rank-file && cat /rank-file; echo x >> /etc/sbx-image-marker && echo edited'
	assert_success
	assert_output "mine
edited"
	[ ! -e "$IMG/rank-file" ]
	assert_equal "sbx-test-image" "$(cat "$IMG/etc/sbx-image-marker")" "the image's file"
}

@test "a per-task root keeps the sandbox's /proc, /dev, /tmp and binds" {
	mkdir "$BATS_TEST_TMPDIR/data" && echo host-data >"$BATS_TEST_TMPDIR/data/f"
	run_sbx --image "$IMG" --per-task --mount "$BATS_TEST_TMPDIR/data:/data:ro" -- \
		sh -c 'cat /data/f; test -c /dev/null && echo dev; test -e /proc/1/stat && echo proc; echo t > /tmp/t && echo tmp; echo x > /data/g 2>/dev/null || echo bind-read-only'
	assert_success
	assert_output "host-data
dev
proc
tmp
bind-read-only"
}

@test "--per-task is refused where the policy forbids writable roots" {
	run_sbx --config "$(policy rootfs.allow_writable=no)" --image "$IMG" --per-task -- true
	assert_refused "--per-task" "refused by site policy" "rootfs.allow_writable = no"
}
