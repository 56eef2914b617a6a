#!/bin/bash
# Inside a VM lane: the Slurm bats suites (tests/slurm/*.bats) against the
# local cluster with Slurm's cgroup/v2 (local-cluster.sh, SBX_CLUSTER_CGROUP=v2),
# the jobs submitted by the unprivileged user sbxtest.
#
#   tests/vm/slurm-suite.sh [SUITE.bats...]   (default: every tests/slurm/*.bats)
#
# Environment: BUILD (default <repo>/build; build-trixie in the trixie lane);
# SBX_SUITE_FILTER, a regex: only the tests whose names match (bats -f).
# Prints bats' TAP, then "slurm-suite: N passed, N failed, N skipped" with the
# Slurm and kernel versions; fails if any test failed.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
export BUILD=${BUILD:-$repo/build}
export SBX_TEST_USER=sbxtest SBX_CLUSTER_CGROUP=v2
user=$SBX_TEST_USER

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("$repo"/tests/slurm/*.bats)
command -v bats >/dev/null || { echo "slurm-suite: bats is missing"; exit 1; }
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
# The test user reads the repository and the build (their paths may be 0700
# somewhere up on the host; this is the guest's overlay, not the host).
chmod -R o+rX "$repo/tests" "$BUILD"
d=$BUILD
while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
# Named sandboxes keep their upper directory below named_dir, and overlayfs
# takes no upper directory on the guest's root, an overlay itself: a tmpfs.
export SBX_NAMED_PARENT=/var/lib/sbx-vm-named
mkdir -p "$SBX_NAMED_PARENT"
mountpoint -q "$SBX_NAMED_PARENT" || mount -t tmpfs -o mode=0755 sbx-named "$SBX_NAMED_PARENT" ||
	{ echo "slurm-suite: mount tmpfs on $SBX_NAMED_PARENT failed"; exit 1; }
# The suites keep their images below /tmp, on the guest's overlay root here:
# a sandbox's root overlay on top is a second overlay, and --sandbox-per-task
# stacks a third, past the kernel's limit of two (the mount fails with
# EINVAL). A tmpfs on /tmp, as on a host, unless it would hide this
# repository or the build (the Debian 12 lane's /tmp is the host's).
case "$repo/ $BUILD/" in
/tmp/* | *" /tmp/"*) echo "slurm-suite: $repo or $BUILD is below /tmp: no tmpfs there (per-task layers fail)" ;;
*) mountpoint -q /tmp || mount -t tmpfs -o mode=1777 sbx-tmp /tmp ||
	{ echo "slurm-suite: mount tmpfs on /tmp failed"; exit 1; } ;;
esac
# squashfuse as the job's user (tests/run-all does the same on the host).
[ ! -c /dev/fuse ] || chmod 0666 /dev/fuse

tap=$(mktemp)
start=$SECONDS
(cd "$repo" && bats --tap ${SBX_SUITE_FILTER:+-f "$SBX_SUITE_FILTER"} "${suites[@]}") | tee "$tap"
rc=${PIPESTATUS[0]}
skip=$(grep -c '^ok [0-9][0-9]* .* # skip' "$tap")
ok=$(($(grep -c '^ok [0-9]' "$tap") - skip))
not_ok=$(grep -c '^not ok [0-9]' "$tap")
rm -f "$tap"
[ "$rc" -eq 0 ] || [ "$not_ok" -gt 0 ] || not_ok=1
echo "slurm-suite: $ok passed, $not_ok failed, $skip skipped ($(slurmd -V), kernel $(uname -r)," \
	"$((SECONDS - start)) s)"
[ "$not_ok" -eq 0 ]
