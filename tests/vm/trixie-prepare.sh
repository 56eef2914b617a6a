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
cat >"$cache/apt.conf.tmp" <<EOF
Dir::Etc::SourceList "$root/etc/apt/sources.list";
Dir::Etc::SourceParts "$root/etc/apt/sources.list.d";
Dir::Etc::Preferences "$root/etc/apt/preferences";
Dir::Etc::PreferencesParts "$root/etc/apt/preferences.d";
Dir::State::Lists "$root/var/lib/apt/lists";
Dir::State::status "$root/var/lib/dpkg/status";
Dir::Cache "$cache/apt-cache";
EOF
mv "$cache/apt.conf.tmp" "$cache/apt.conf"

SBX_VM_CACHE=$cache SBX_VM_APT_CONFIG=$cache/apt.conf SBX_VM_ROOT=$root "$here/prepare.sh" |
	sed 's/^prepare:/trixie-prepare:/'
[ "${PIPESTATUS[0]}" -eq 0 ] || die "prepare.sh failed for trixie (output above)"
