#!/bin/sh
# Install everything slurm-sandbox needs to build and test on Debian 12.
# Usage (as root): tests/install-deps.sh [--vm] [--bench]
#   --vm: also the VM lanes' qemu and mmdebstrap (the Debian 13 lane's root)
#   --bench: also the peers make bench measures (crun, charliecloud's ch-run)
set -eu
build="gcc make pkg-config libc6-dev libseccomp-dev libcap-dev libcap2-bin libinih-dev libslurm-dev \
       libarchive-dev libjson-c-dev nettle-dev libzstd-dev liblz4-dev libacl1-dev liblzma-dev libbz2-dev zlib1g-dev"
# What images need at run time: squashfs over FUSE, mksquashfs, registry pulls.
run="squashfuse fuse3 squashfs-tools skopeo"
test="libcmocka-dev bats busybox-static slurmctld slurmd slurm-client munge iproute2 procps \
      util-linux netcat-openbsd python3 umoci docker-registry apache2-utils strace \
      libpmix2 libpmix-dev mmdebstrap curl"
# libpmix2/-dev: Slurm's mpi/pmix loads libpmix.so on the nodes; mmdebstrap builds
# the MPI test images (tests/lib/mpi-image.sh: Debian 12 and 13).
bench="bubblewrap hyperfine"
# make fuzz (libFuzzer: clang and its runtime), make lint, make check-valgrind.
check="clang libclang-rt-dev clang-tidy cppcheck valgrind"
# The Debian package (make deb, make check-deb) and the man pages' check.
deb="dpkg-dev debhelper fakeroot lintian man-db"
extra=""
for arg in "$@"; do
	case $arg in
	--vm) extra="$extra qemu-system-x86 cpio mmdebstrap" ;;
	--bench) extra="$extra crun charliecloud-runtime" ;;
	*) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
	esac
done
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $build $run $test $bench $check $deb $extra >/dev/null
# make check-valgrind's newer valgrind (Debian 12's does not know the mount
# API the helper uses), unpacked into a cache, never installed; without it
# the check runs Debian 12's and says what that leaves uncovered.
"$(dirname "$0")/valgrind/fetch.sh" >/dev/null ||
	echo "install-deps: no newer valgrind (tests/valgrind/fetch.sh failed): make check-valgrind falls back to Debian 12's" >&2
echo "install-deps: done"
