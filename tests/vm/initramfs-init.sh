#!/bin/busybox sh
# /init of the VM lane's initramfs (built by tests/vm/prepare.sh).
# Loads the modules listed in /etc/sbx-modules, makes the 9p share "hostroot"
# (the host's /, or another root: run.sh --root; read-only) plus a tmpfs
# overlay the new root, adds the sbx.share= directories the same way, and
# switch_roots into the entry script named by sbx.entry= on the kernel
# command line.
# A failure prints "SBX-VM-BOOT-FAILED: <reason>" for tests/vm/run.sh.
/bin/busybox --install -s /bin
export PATH=/bin

mount -t devtmpfs devtmpfs /dev
# Without /dev/console in the archive the kernel gave init no stdio.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

boot_failed() {
	echo
	echo "SBX-VM-BOOT-FAILED: $*"
	echo 1 >/proc/sys/kernel/sysrq
	echo o >/proc/sysrq-trigger
	sleep 30
	exit 1
}

for module in $(cat /etc/sbx-modules); do
	params=
	# The guest makes its own dummy interface; none named dummy0 besides.
	[ "$module" = dummy ] && params=numdummies=0
	insmod "/lib/modules/$module.ko" $params || boot_failed "insmod $module"
done

entry=
shares=
for arg in $(cat /proc/cmdline); do
	case $arg in
	sbx.entry=*) entry=${arg#sbx.entry=} ;;
	sbx.share=*) shares="$shares ${arg#sbx.share=}" ;;
	esac
done
[ -n "$entry" ] || boot_failed "no sbx.entry= on the kernel command line"

# 9p needs msize well above its 8 KiB default to read binaries at a useful
# rate, and cache=loose (the guest's page cache keeps what it read) halves the
# boot and speeds up every program start. The price: a host file changed while
# the VM runs may look stale in the guest.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	boot_failed "mount 9p hostroot (is qemu's -virtfs mount_tag=hostroot missing?)"
mount -t tmpfs -o mode=0755 tmpfs /rw || boot_failed "mount tmpfs /rw"
mkdir /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	boot_failed "mount overlay on /newroot"
# Host directories shown at their own paths (run.sh --share), each with an
# overlay of its own: 9p tag sbxshareN for the Nth sbx.share=.
n=0
for share in $shares; do
	mkdir -p "/share$n" "/rw/share$n/upper" "/rw/share$n/work" "/newroot$share" ||
		boot_failed "mkdir for the share $share"
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose "sbxshare$n" "/share$n" ||
		boot_failed "mount 9p sbxshare$n ($share)"
	mount -t overlay overlay \
		-o "lowerdir=/share$n,upperdir=/rw/share$n/upper,workdir=/rw/share$n/work" "/newroot$share" ||
		boot_failed "mount overlay on $share"
	n=$((n + 1))
done
[ -x "/newroot$entry" ] || boot_failed "sbx.entry $entry: not an executable file on the host"

for fs in proc sys dev; do
	mount --move "/$fs" "/newroot/$fs" || boot_failed "mount --move /$fs"
done
exec switch_root /newroot "$entry"
