#!/bin/bash
# The MPI test images, stored as squashfs files in the test cache, outside the
# git tree; no Slurm in them. Each holds a small MPI program (mpitest.c) built
# against each MPI it has, as /opt/mpitest/allreduce-<flavour>.
#
#   mpi-image.sh            Debian 12 (mmdebstrap) with OpenMPI 4.1 and MPICH 4.0
#   mpi-image.sh trixie     Debian 13 with MPICH 4.2 only
#
# prints the image's path, building it first if needed. Debian 12's MPICH
# 4.0.2 can hang in MPI_Finalize across nodes over TCP (fixed in MPICH 4.2.0,
# docs/slurm.md "MPI"): the multi-node MPICH tests use the Debian 13 image.
#
# Environment: SBX_TEST_CACHE (default /var/cache/slurm-sandbox-tests).
# The file's name carries a hash of the suite, the package list and the
# program, so a change to any builds a new one. Exit 77: the Debian archive or
# mmdebstrap is not there (the caller SKIPs with the message printed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${SBX_TEST_CACHE:-/var/cache/slurm-sandbox-tests}
mirror=${SBX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${1:-bookworm}
case $suite in
bookworm) packages="openmpi-bin,libopenmpi-dev,mpich,libmpich-dev,gcc,libc6-dev" flavours="openmpi mpich" ;;
trixie) packages="mpich,libmpich-dev,gcc,libc6-dev" flavours="mpich" ;;
*) echo "mpi-image.sh: unknown suite '$suite' (bookworm or trixie)" >&2; exit 2 ;;
esac
key=$( (echo "$packages $suite"; cat "$here/mpitest.c") | sha256sum | cut -c1-16)
out=$cache/mpi-image-$key.sqfs

if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed (apt-get install mmdebstrap)"; exit 77; }
command -v mksquashfs >/dev/null || { echo "mksquashfs is not installed (apt-get install squashfs-tools)"; exit 77; }
curl -fsS -m 15 -o /dev/null "$mirror/dists/$suite/Release" ||
	{ echo "the Debian archive $mirror is unreachable"; exit 77; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$here/mpitest.c" "$tmp/mpitest.c"
# Every compiler in the chroot; the binaries name their MPI in their file names.
hooks=(--customize-hook="mkdir -p \"\$1/opt/mpitest\" && cp $tmp/mpitest.c \"\$1/opt/mpitest/\"")
for f in $flavours; do
	hooks+=(--customize-hook="chroot \"\$1\" mpicc.$f -O2 -o /opt/mpitest/allreduce-$f /opt/mpitest/mpitest.c")
done
mmdebstrap --quiet --variant=apt --include="$packages" "${hooks[@]}" \
	--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
	"$suite" "$tmp/root" "$mirror" >&2
# The image must not bring its own Slurm: the test is that the host's is used.
if ls "$tmp/root/usr/bin/srun" >/dev/null 2>&1; then echo "the MPI image has srun: $tmp/root/usr/bin/srun" >&2; exit 1; fi
mksquashfs "$tmp/root" "$tmp/image.sqfs" -comp zstd -noappend -quiet >&2
chmod 644 "$tmp/image.sqfs"
mv "$tmp/image.sqfs" "$out"
echo "$out"
