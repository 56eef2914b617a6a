#!/bin/sh
# Install everything slurm-sandbox needs to build and test on Debian 12.
# Usage (as root): tests/install-deps.sh [--vm]   (--vm: also the VM lane's qemu)
set -eu
build="gcc make pkg-config libc6-dev libseccomp-dev libcap-dev libcap2-bin libinih-dev libslurm-dev \
       libarchive-dev libjson-c-dev nettle-dev"
# What images need at run time: squashfs over FUSE, mksquashfs, registry pulls.
run="squashfuse fuse3 squashfs-tools skopeo"
test="libcmocka-dev bats busybox-static slurmctld slurmd slurm-client munge iproute2 procps \
      util-linux netcat-openbsd python3 umoci docker-registry apache2-utils strace \
      libpmix2 libpmix-dev mmdebstrap curl"
# libpmix2/-dev: Slurm's mpi/pmix loads libpmix.so on the nodes; mmdebstrap builds
# the MPI test image (tests/lib/mpi-image.sh).
bench="bubblewrap hyperfine"
vm=""
[ "${1:-}" = "--vm" ] && vm="qemu-system-x86 cpio"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $build $run $test $bench $vm >/dev/null
echo "install-deps: done"
