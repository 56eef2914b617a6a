#!/bin/bash
# The Debian 13 (trixie) root of the trixie VM lane: Slurm 24.11, the
# project's build and test dependencies and Debian's package build tools, made
# by mmdebstrap from the host's Debian mirror, cached outside the git tree.
# Idempotent: prints the root's path on stdout (and nothing else); builds it
# first if the package list or the mirror changed. As root.
#
#   tests/vm/trixie-root.sh [--rebuild]
#
# Environment:
#   SBX_VM_CACHE   cache directory (default /var/cache/slurm-sandbox-vm);
#                  the root is <cache>/trixie/root-<hash of the package list>
#   SBX_VM_MIRROR  Debian mirror (default: the host's, from /etc/apt/sources*)
#
# The host's apt sources are never changed: mmdebstrap is given the mirror
# and suite on its command line. Other work reuses the root (chroot into it,
# e.g. to run dpkg-buildpackage): treat it as read-only, or copy it.
set -eu
cache=${SBX_VM_CACHE:-/var/cache/slurm-sandbox-vm}/trixie
suite=trixie

# tests/install-deps.sh's lists (trixie's names: libpmix2t64; zstd and
# xz-utils, which Debian 12's standard install has, for mkoci.sh; curl for
# registry.bash), plus what the guest's init needs (kmod,
# iproute2, hostname) and what builds a .deb (dpkg-dev, debhelper, fakeroot).
packages="gcc make pkg-config libc6-dev libseccomp-dev libcap-dev libcap2-bin libinih-dev libslurm-dev
	libarchive-dev libjson-c-dev nettle-dev libzstd-dev liblz4-dev libacl1-dev liblzma-dev libbz2-dev zlib1g-dev
	squashfuse fuse3 squashfs-tools skopeo
	libcmocka-dev bats busybox-static slurmctld slurmd slurm-client munge iproute2 procps util-linux
	netcat-openbsd python3 umoci docker-registry apache2-utils strace
	libpmix2t64 libpmix-dev zstd xz-utils curl
	kmod hostname ca-certificates
	dpkg-dev debhelper fakeroot"

die() {
	echo "trixie-root: $*" >&2
	exit 1
}

# shellcheck source=tests/lib/debian-mirror.sh
. "$(dirname "$0")/../lib/debian-mirror.sh"

rebuild=0
case ${1:-} in
--rebuild) rebuild=1 ;;
'') ;;
-h | --help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) die "unknown argument $1 (usage: trixie-root.sh [--rebuild])" ;;
esac

[ "$(id -u)" -eq 0 ] || die "not root (mmdebstrap and chroot need root)"
mirror=${SBX_VM_MIRROR:-$(host_mirror)}
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: set SBX_VM_MIRROR"
if ! command -v mmdebstrap >/dev/null; then
	echo "trixie-root: installing mmdebstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends mmdebstrap >/dev/null ||
		die "apt-get install mmdebstrap failed (as root: apt-get update first?)"
fi

key=$(printf '%s\n' "$suite" "$mirror" $packages | sha256sum | cut -c1-16)
root=$cache/root-$key
mkdir -p "$cache"
exec {lock_fd}>"$cache/.lock"
flock "$lock_fd"
if [ "$rebuild" -eq 0 ] && [ -e "$root/.sbx-complete" ]; then
	echo "$root"
	exit 0
fi

start=$SECONDS
echo "trixie-root: mmdebstrap $suite from $mirror into $root" >&2
rm -rf "$root" "$root.tmp"
# minbase: Priority required (passwd, mount, login) plus apt. Apt's lists are
# kept, so apt-get works in the root (e.g. apt-get build-dep). No daemon may
# start in the chroot (policy-rc.d: mmdebstrap's own default).
# shellcheck disable=SC2086
mmdebstrap --quiet --variant=minbase --mode=root \
	--include="$(echo $packages | tr ' ' ',')" \
	--skip=cleanup/apt/lists \
	"$suite" "$root.tmp" "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
	>&2 || { rm -rf "$root.tmp"; die "mmdebstrap $suite failed (output above)"; }
printf '%s\n' $packages >"$root.tmp/.sbx-packages"
touch "$root.tmp/.sbx-complete"
mv "$root.tmp" "$root"
# Only the current root is kept (~1 GB each).
find "$cache" -mindepth 1 -maxdepth 1 -name 'root-*' ! -path "$root" -exec rm -rf {} +
echo "trixie-root: $root ready ($((SECONDS - start)) s)" >&2
echo "$root"
