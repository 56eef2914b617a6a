#!/bin/bash
# The MPI test image: Debian 12 (mmdebstrap) with OpenMPI and MPICH and a small
# MPI program built twice (/opt/mpitest/allreduce-openmpi, -mpich), stored as a
# squashfs file in the test cache, outside the git tree. No Slurm in it.
#
#   mpi-image.sh            prints the image's path, building it first if needed
#
# Environment: SBX_TEST_CACHE (default /var/cache/slurm-sandbox-tests).
# The file's name carries a hash of the package list and the program, so a
# change to either builds a new one. Exit 77: the Debian archive or mmdebstrap
# is not there (the caller SKIPs with the message printed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${SBX_TEST_CACHE:-/var/cache/slurm-sandbox-tests}
mirror=${SBX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages="openmpi-bin,libopenmpi-dev,mpich,libmpich-dev,gcc,libc6-dev"
key=$( (echo "$packages bookworm"; cat "$here/mpitest.c") | sha256sum | cut -c1-16)
out=$cache/mpi-image-$key.sqfs

if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed (apt-get install mmdebstrap)"; exit 77; }
command -v mksquashfs >/dev/null || { echo "mksquashfs is not installed (apt-get install squashfs-tools)"; exit 77; }
curl -fsS -m 15 -o /dev/null "$mirror/dists/bookworm/Release" ||
	{ echo "the Debian archive $mirror is unreachable"; exit 77; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$here/mpitest.c" "$tmp/mpitest.c"
# Both compilers in the chroot; the binaries name their MPI in their file names.
mmdebstrap --quiet --variant=apt --include="$packages" \
	--customize-hook="mkdir -p \"\$1/opt/mpitest\" && cp $tmp/mpitest.c \"\$1/opt/mpitest/\"" \
	--customize-hook='chroot "$1" mpicc.openmpi -O2 -o /opt/mpitest/allreduce-openmpi /opt/mpitest/mpitest.c' \
	--customize-hook='chroot "$1" mpicc.mpich -O2 -o /opt/mpitest/allreduce-mpich /opt/mpitest/mpitest.c' \
	--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
	bookworm "$tmp/root" "$mirror" >&2
# The image must not bring its own Slurm: the test is that the host's is used.
if ls "$tmp/root/usr/bin/srun" >/dev/null 2>&1; then echo "the MPI image has srun: $tmp/root/usr/bin/srun" >&2; exit 1; fi
mksquashfs "$tmp/root" "$tmp/image.sqfs" -comp zstd -noappend -quiet >&2
chmod 644 "$tmp/image.sqfs"
mv "$tmp/image.sqfs" "$out"
echo "$out"
