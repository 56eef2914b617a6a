#!/bin/bash
# The README's "run it": a busybox image in a sandbox, first through sandbox-run, then (as root) through srun on a
# throw-away local Slurm cluster (tests/slurm/demo.sh).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$repo/build}
user=${SBX_TEST_USER:-sbxtest}
run_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }

if [ "$(id -u)" -eq 0 ] && ! id "$user" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$user"
fi
work=$(run_as mktemp -d /tmp/sbx-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
run_as env BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$work/image" >/dev/null

echo "== sandbox-run --image $work/image -- sh -c '...'   (as $(run_as id -un))"
run_as env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" --image "$work/image" -- sh -c '
	echo "uid: $(id -u)   uid_map: $(cat /proc/self/uid_map | tr -s " ")"
	echo "processes: $(ps -o pid,comm | tail -n +2 | tr -s " " | tr "\n" ";")"
	echo "network: $(ls /sys/class/net | tr "\n" " ")"
	echo "root is read-only: $(touch /x 2>&1 || true)"
	grep -E "CapEff|NoNewPrivs|Seccomp:" /proc/self/status | tr "\n\t" "  "; echo'

# The same image as a tarball: imported once into a throw-away cache as a
# squashfs (mounted with squashfuse, which needs /dev/fuse open to users).
if run_as test -r /dev/fuse -a -w /dev/fuse && command -v squashfuse >/dev/null; then
	run_as tar -C "$work/image" -czf "$work/image.tar.gz" .
	run_as mkdir -m 0755 "$work/cache"
	printf '[images]\ncache_dir = %s/cache\n' "$work" | run_as tee "$work/demo.conf" >/dev/null
	echo
	echo "== sandbox-run --image $work/image.tar.gz   (twice: an import, then a cache hit)"
	for _ in 1 2; do
		run_as env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" --config "$work/demo.conf" \
			--image "$work/image.tar.gz" -- sh -c 'echo "inside: $(busybox | head -n 1)"'
	done
	run_as env SANDBOX_HELPER="$BUILD/sandbox-helper" "$BUILD/sandbox-run" cache --config "$work/demo.conf" ls
else
	echo
	echo "(skipping the tarball demo: /dev/fuse is not open to $user or squashfuse is missing; see sandbox-run info)"
fi

if [ "$(id -u)" -eq 0 ] && [ -x "$repo/tests/slurm/demo.sh" ]; then
	echo
	BUILD="$BUILD" "$repo/tests/slurm/demo.sh"
fi
