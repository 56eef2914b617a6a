#!/usr/bin/env bats
# Binding a host device node: /dev/null over a file of the image (the usual way
# to hide it), /dev/zero as a source; only nodes the caller can open on the host.

load ../lib/common

# A character device on this host that the caller can neither read nor write
# (/dev/mem, or any 0600 root node); prints nothing when there is none.
unopenable_device() {
	local d
	for d in /dev/mem /dev/kvm /dev/loop-control /dev/cpu_dma_latency /dev/tty0 /dev/console; do
		if [ -c "$d" ] && [ ! -r "$d" ] && [ ! -w "$d" ]; then
			echo "$d"
			return
		fi
	done
}

@test "writing to /dev/null through a bind works and leaves nothing behind" {
	run_sbx --image "$IMG" --mount /dev/null:/mnt/null -- sh -c 'echo gone > /mnt/null && echo written; wc -c < /mnt/null'
	assert_success
	assert_output "written
0"
}

@test "/dev/zero bound at /mnt/zero reads zeros" {
	run_sbx --image "$IMG" --mount /dev/zero:/mnt/zero -- sh -c 'head -c 16 /mnt/zero | od -An -tx1'
	assert_success
	assert_output " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
}

@test "/dev/null over a file of the image hides it, read-only root or writable" {
	run_sbx --image "$IMG" --mount /dev/null:/etc/sbx-image-marker -- sh -c 'wc -c < /etc/sbx-image-marker; echo x > /etc/sbx-image-marker && echo written'
	assert_success
	assert_output "0
written"
	run_sbx --image "$IMG" --writable --mount /dev/null:/etc/sbx-image-marker -- wc -c /etc/sbx-image-marker
	assert_success
	assert_output "0 /etc/sbx-image-marker"
	assert_equal "sbx-test-image" "$(cat "$IMG/etc/sbx-image-marker")" "the image's file"
}

@test "a bound device node keeps the host's owner and mode" {
	run_sbx --image "$IMG" --mount /dev/null:/mnt/null -- stat -c '%a %t,%T' /mnt/null
	assert_success
	assert_output "$(stat -c '%a %t,%T' /dev/null)"
}

@test "binding a device node the caller cannot open on the host is refused in one line" {
	dev=$(unopenable_device)
	[ -n "$dev" ] || skip "no character device here that $(id -un) cannot open"
	run_sbx --image "$IMG" --mount "$dev:/mnt/dev" -- true
	assert_refused "mount '$dev:/mnt/dev'" "a device node you may not open" "bind only device nodes you can open on the host"
}

@test "a directory bind still gives nodev: device nodes inside it cannot be opened" {
	run_sbx --image "$IMG" --mount /dev:/mnt/hostdev:ro -- sh -c 'head -c 1 /mnt/hostdev/zero >/dev/null 2>&1 && echo opened || echo refused'
	assert_success
	assert_output "refused"
}
