#!/bin/bash
# The README's Slurm demo: a throw-away three-node cluster on this machine,
# one srun of a small busybox image on two of its nodes, then everything is
# stopped again. Run as root; the job runs as the unprivileged test user.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
export BUILD=${BUILD:-$repo/build}
user=${SBX_TEST_USER:-sbxtest}
export SBX_CLUSTER=${SBX_CLUSTER:-/tmp/sbx-demo-cluster}
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"

work=$(runuser -u "$user" -- mktemp -d /tmp/sbx-demo-slurm.XXXXXX)
cleanup() {
	"$repo/tests/slurm/local-cluster.sh" stop
	rm -rf "$work" "$SBX_CLUSTER"
}
trap cleanup EXIT
"$repo/tests/slurm/local-cluster.sh" start >/dev/null
export SLURM_CONF=$SBX_CLUSTER/etc/slurm.conf
runuser -u "$user" -- env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$work/image" >/dev/null

echo "== srun -N2 -n4 --sandbox-image=$work/image ...   (as $user, on a local 3-node cluster)"
cd "$work"
runuser -u "$user" -- env SLURM_CONF="$SLURM_CONF" srun -N2 -n4 --sandbox-image="$work/image" sh -c \
	'echo "task $SLURM_PROCID on $SLURMD_NODENAME: uid $(id -u), $(readlink /proc/self/ns/pid), $(ps -o pid= | wc -l) processes visible, root $(touch /x 2>/dev/null && echo writable || echo read-only)"' |
	sort
