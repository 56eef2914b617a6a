#!/bin/bash
# Inside the VM lane: sandbox-run on Debian 12's own kernel (6.1), the
# kernel users run, as an unprivileged user. Prints ok/not ok per check.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=sbxtest
failed=0
check() {
	local name=$1
	shift
	if out=$("$@" 2>&1); then
		echo "ok - $name"
	else
		echo "not ok - $name"
		sed 's/^/# /' <<<"$out"
		failed=$((failed + 1))
	fi
}
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
img=$(runuser -u "$user" -- mktemp -d /tmp/sbx-vm-img.XXXXXX)/image
runuser -u "$user" -- env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$img" >/dev/null
sbx() { runuser -u "$user" -- env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" --image "$img" "$@"; }

echo "# kernel $(uname -r)"
uid=$(id -u "$user")
check "a sandbox runs as the user, with its own pid 1" \
	sbx -- sh -c "[ \$(id -u) = $uid ] && [ \"\$(cat /proc/1/comm)\" = sandbox-init ]"
check "the sandbox's namespaces differ from the host's" \
	sbx -- sh -c "[ \$(readlink /proc/self/ns/mnt) != $(readlink /proc/self/ns/mnt) ] && [ \$(readlink /proc/self/ns/user) != $(readlink /proc/self/ns/user) ]"
check "the root is read-only" sbx -- sh -c '! touch /x 2>/dev/null'
check "a writable sandbox can write to its root" sbx --writable -- sh -c 'echo hi > /x && cat /x'
check "seccomp, no_new_privs and no capabilities inside" \
	sbx -- sh -c 'grep -q "^Seccomp:.2" /proc/self/status && grep -q "^NoNewPrivs:.1" /proc/self/status && grep -q "^CapEff:.0000000000000000" /proc/self/status'
check "the network is loopback only" sbx -- sh -c '[ "$(ls /sys/class/net)" = lo ]'
check "a bind mount is read-only when asked" sbx --mount /tmp:/data:ro -- sh -c '! touch /data/x 2>/dev/null'
check "sandbox-run info says sandboxes work" runuser -u "$user" -- "$BUILD/sandbox-run" info

# Images on Debian's kernel: squashfuse in the user namespace, and a tarball
# imported into the cache. /dev/fuse opened as the distributions ship it.
if [ -c /dev/fuse ] && command -v squashfuse >/dev/null && command -v mksquashfs >/dev/null; then
	chmod 0666 /dev/fuse
	dir=$(dirname "$img")
	runuser -u "$user" -- mksquashfs "$img" "$dir/image.sqfs" -quiet -no-progress -noappend >/dev/null
	runuser -u "$user" -- tar -C "$img" -czf "$dir/image.tar.gz" .
	runuser -u "$user" -- mkdir "$dir/cache"
	printf '[images]\ncache_dir = %s/cache\n' "$dir" | runuser -u "$user" -- tee "$dir/images.conf" >/dev/null
	img_run() { runuser -u "$user" -- env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" --config "$dir/images.conf" "$@"; }
	check "a squashfs image is mounted with squashfuse in the user namespace" \
		img_run --image "$dir/image.sqfs" -- sh -c '[ -x /bin/sbx-probe ]'
	import_twice() {
		img_run --image "$dir/image.tar.gz" -- true 2>"$dir/first" &&
			grep -q "sandbox: imported" "$dir/first" &&
			img_run --image "$dir/image.tar.gz" -- true 2>"$dir/second" &&
			! grep -q "sandbox: importing" "$dir/second" || { cat "$dir/first" "$dir/second"; false; }
	}
	check "a tarball is imported once, then a cache hit" import_twice
else
	echo "# images: skipped (no /dev/fuse, squashfuse or mksquashfs in the guest)"
fi
echo "# $failed failed"
[ "$failed" -eq 0 ]
