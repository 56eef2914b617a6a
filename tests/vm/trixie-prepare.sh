#!/bin/bash
# Prepare the trixie VM lane: the Debian 13 root (trixie-root.sh), Debian 13's
# kernel (6.12) and an initramfs with its modules, cached in <cache>/trixie.
# prepare.sh does the kernel and initramfs work, given trixie's archive through
# an apt configuration of our own that reads the root's apt sources and lists:
# the host's apt sources are never changed. Idempotent; as root.
#
#   tests/vm/trixie-prepare.sh
#
# Environment: SBX_VM_CACHE (default /var/cache/slurm-sandbox-vm).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/debian-mirror.sh
. "$here/../lib/debian-mirror.sh"
base=${SBX_VM_CACHE:-/var/cache/slurm-sandbox-vm}
cache=$base/trixie

die() {
	echo "trixie-prepare: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "not root (the root, the kernel download and the cache need root)"
root=$(SBX_VM_CACHE=$base "$here/trixie-root.sh") || die "trixie-root.sh failed"

# The root's sources (trixie, from the host's mirror) and package lists; the
# host's apt.conf.d still applies (proxies). Its own cache directory, so that
# apt-cache writes nothing into the root.
mkdir -p "$cache/apt-cache/archives/partial"
private_apt_conf "$root/etc/apt" "$root/var/lib/apt/lists" "$root/var/lib/dpkg/status" \
	"$cache/apt-cache" >"$cache/apt.conf.tmp"
mv "$cache/apt.conf.tmp" "$cache/apt.conf"

SBX_VM_CACHE=$cache SBX_VM_APT_CONFIG=$cache/apt.conf SBX_VM_ROOT=$root "$here/prepare.sh" |
	sed 's/^prepare:/trixie-prepare:/'
[ "${PIPESTATUS[0]}" -eq 0 ] || die "prepare.sh failed for trixie (output above)"
