#!/bin/sh
# Print the path of a Debian 12 (bookworm) root filesystem tarball with apt and
# dpkg (mmdebstrap --variant=apt), built once and cached outside the tree, for
# the remap-root package-manager tests. Needs root (or a cached tarball) and
# the Debian archive; exits 77 with the reason on stderr when either is missing.
# Environment: SBX_TEST_CACHE (default /var/cache/slurm-sandbox-tests),
# SBX_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu
cache=${SBX_TEST_CACHE:-/var/cache/slurm-sandbox-tests}
out=$cache/debian-bookworm-apt.tar
mirror=${SBX_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "no cached Debian image at $out (build it once as root: $0)" >&2
	exit 77
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 77; }
mkdir -p "$cache"
tmp=$(mktemp "$cache/debian.XXXXXX.tar")
trap 'rm -f "$tmp"' EXIT
if ! mmdebstrap --quiet --variant=apt bookworm "$tmp" "$mirror" >&2; then
	echo "mmdebstrap could not build the image (is $mirror reachable?)" >&2
	exit 77
fi
chmod 0644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
