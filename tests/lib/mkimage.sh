#!/bin/sh
# Build a small directory image for the integration tests.
#
#   mkimage.sh DIR
#       a busybox image: DIR/bin/busybox and its applets, /bin/sbx-probe,
#       /etc/passwd and /etc/group (root, nobody), and the usual empty dirs.
#   mkimage.sh --malicious-symlink DIR VICTIM
#       the same image, plus mount destinations that are symlinks leading out
#       of the image to the host directory VICTIM (absolute path):
#         /mnt/escape      -> VICTIM                     (absolute)
#         /mnt/climb       -> ../../../../..VICTIM       (relative, climbs past /)
#         /data            -> VICTIM                     (absolute, top level)
#         /etc/hosts       -> VICTIM/hosts               (a file the sandbox provides)
#         /etc/resolv.conf -> ../../../../..VICTIM/resolv.conf
#       Resolved on the host, each points into VICTIM; resolved inside the new
#       root, none of them can leave it.
#
# Environment: BUILD (default: the repository's build/) locates the probe,
# BUSYBOX (default: /bin/busybox) the Debian busybox-static binary.
set -eu

die() {
	echo "mkimage.sh: $*" >&2
	exit 1
}

malicious=0
if [ "${1:-}" = "--malicious-symlink" ]; then
	malicious=1
	shift
	[ $# -eq 2 ] || die "usage: mkimage.sh --malicious-symlink DIR VICTIM"
	victim=$2
	case $victim in
	/*) ;;
	*) die "VICTIM must be an absolute path: $victim" ;;
	esac
else
	[ $# -eq 1 ] || die "usage: mkimage.sh DIR | mkimage.sh --malicious-symlink DIR VICTIM"
fi
dir=$1

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../build}
BUSYBOX=${BUSYBOX:-/bin/busybox}
probe=$BUILD/tests/sbx-probe

if [ ! -x "$BUSYBOX" ]; then
	if [ -n "${CI:-}" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get install -y busybox-static >/dev/null
	else
		die "$BUSYBOX is missing (apt-get install busybox-static)"
	fi
fi
[ -x "$probe" ] || die "$probe is missing (make $probe)"
[ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty"

mkdir -p "$dir"
for d in bin sbin usr/bin usr/sbin etc proc dev sys tmp home root var var/tmp mnt opt; do
	mkdir -p "$dir/$d"
done
chmod 1777 "$dir/tmp" "$dir/var/tmp"
chmod 0700 "$dir/root"

cp "$BUSYBOX" "$dir/bin/busybox"
chmod 0755 "$dir/bin/busybox"
cp "$probe" "$dir/bin/sbx-probe"
chmod 0755 "$dir/bin/sbx-probe"

applets="sh ash ls cat id ps mount umount touch rm mkdir rmdir echo sleep
	hostname ip ifconfig env sha256sum find grep wc readlink realpath stat
	kill true false pwd head tail test [ printf uname nc cp mv ln chmod
	sort uniq tr cut sed awk df du dd date seq tee xargs which whoami
	basename dirname nproc mktemp sync timeout"
for a in $applets; do
	ln -s busybox "$dir/bin/$a"
done
ln -s ../../bin/env "$dir/usr/bin/env"

cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$dir/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "sbx-test-image" >"$dir/etc/hostname"
printf '127.0.0.1\tlocalhost\n' >"$dir/etc/hosts"
: >"$dir/etc/resolv.conf"
echo "sbx-test-image" >"$dir/etc/sbx-image-marker"

if [ "$malicious" -eq 1 ]; then
	# Enough "../" to climb past / from any depth the image may sit at.
	up=../../../../../../../../../../../../../../../../../../../..
	ln -s "$victim" "$dir/mnt/escape"
	ln -s "$up$victim" "$dir/mnt/climb"
	ln -s "$victim" "$dir/data"
	rm -f "$dir/etc/hosts" "$dir/etc/resolv.conf"
	ln -s "$victim/hosts" "$dir/etc/hosts"
	ln -s "$up$victim/resolv.conf" "$dir/etc/resolv.conf"
fi
