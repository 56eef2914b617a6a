#!/bin/bash
# Build this repository inside the trixie root (tests/vm/trixie-root.sh):
# Debian 13's gcc 14 and Slurm 24.11's spank.h, -Werror as always, into a
# build directory of its own (default build-trixie), next to the host's build/.
# As root.
#
#   tests/vm/trixie-build.sh [MAKE TARGETS...]   (default: all, the probe, race, unit)
#
# Environment: BUILD_TRIXIE (default build-trixie, relative to the repository),
# SBX_VM_CACHE (see trixie-root.sh), JOBS (make -j, default 2).
#
# The repository is bind-mounted at its own path in a private mount
# namespace, so the cached root is not changed (but for the empty directory
# the mount needs) and nothing stays mounted.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD_TRIXIE:-build-trixie}

die() {
	echo "trixie-build: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "not root (chroot needs root)"
case $build in
/* | *..*) die "BUILD_TRIXIE=$build: give a directory inside the repository, relative to it" ;;
esac
root=$("$here/trixie-root.sh") || die "no trixie root (trixie-root.sh failed)"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(all "$build/tests/sbx-probe" race unit)

mkdir -p "$root$repo"
start=$SECONDS
# shellcheck disable=SC2016
unshare --mount --propagation private -- sh -c '
	set -e
	root=$1 repo=$2
	shift 2
	mount --bind "$repo" "$root$repo"
	mount -t proc proc "$root/proc"
	exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		make -C "$repo" "$@"
' sh "$root" "$repo" -j"${JOBS:-2}" BUILD="$build" "${targets[@]}" ||
	die "make in the trixie root failed (output above)"
echo "trixie-build: $repo/$build built in the trixie root (gcc $(chroot "$root" gcc -dumpfullversion)," \
	"libslurm-dev $(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Version}' libslurm-dev)," \
	"$((SECONDS - start)) s)" >&2
