#!/bin/sh
# Install everything slurm-sandbox needs to build and test on Debian 12.
# Usage (as root): tests/install-deps.sh [--vm]   (--vm: also the VM lanes' qemu and mmdebstrap)
set -eu
build="gcc make pkg-config libc6-dev libseccomp-dev libcap-dev libcap2-bin libinih-dev libslurm-dev \
       libarchive-dev libjson-c-dev nettle-dev"
# What images need at run time: squashfs over FUSE, mksquashfs, registry pulls.
run="squashfuse fuse3 squashfs-tools skopeo"
test="libcmocka-dev bats busybox-static slurmctld slurmd slurm-client munge iproute2 procps \
      util-linux netcat-openbsd python3 umoci docker-registry apache2-utils strace"
bench="bubblewrap hyperfine"
vm=""
# mmdebstrap: the Debian 13 lane's root (tests/vm/trixie-root.sh).
[ "${1:-}" = "--vm" ] && vm="qemu-system-x86 cpio mmdebstrap"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $build $run $test $bench $vm >/dev/null
echo "install-deps: done"
