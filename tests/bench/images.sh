#!/bin/bash
# Image benchmark: prints, never asserts. Builds its images in a temp dir,
# starts a registry on 127.0.0.1, and cleans up; a few minutes at most.
#
#   tests/bench/images.sh
#
# 1. First use of a registry image: sandbox-run (pull + import + start) vs the
#    raw pipeline skopeo copy + umoci unpack --rootless + mksquashfs.
# 2. Start latency on a cache hit: sandbox-run on the cached registry image
#    vs sandbox-run on a directory image vs bwrap on that directory.
# 3. Reading 5000 files of 1 KiB with cat: on the host from a directory, a
#    squashfuse mount and (as root) the kernel's squashfs (mount -o loop), so
#    the FUSE cost is known; and inside sandbox-run from a squashfs image vs a
#    directory image (the run's time minus that of `true`). Warm page cache.
#
# Environment: BUILD (default: the repository's build/), SANDBOX_HELPER,
# BENCH_RUNS (default 10: runs per hyperfine measurement; a plain loop when
# hyperfine is missing).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build}
export BUILD
export SANDBOX_HELPER=${SANDBOX_HELPER:-$BUILD/sandbox-helper}
RUNS=${BENCH_RUNS:-10}
SBX=$BUILD/sandbox-run

die() {
	echo "images.sh: $*" >&2
	exit 1
}

for tool in skopeo umoci mksquashfs docker-registry python3; do
	command -v "$tool" >/dev/null || die "$tool is missing (tests/install-deps.sh)"
done
[ -x "$SBX" ] || die "$SBX is missing (make all)"
[ -x "$BUILD/tests/sbx-probe" ] || die "$BUILD/tests/sbx-probe is missing (make $BUILD/tests/sbx-probe)"

T=$(mktemp -d /tmp/sbx-bench-images.XXXXXX) || die "mktemp failed"
KMNT=
FUSEMNT=

cleanup() {
	registry_stop
	[ -z "$FUSEMNT" ] || fusermount -u "$FUSEMNT" 2>/dev/null || fusermount3 -u "$FUSEMNT" 2>/dev/null || umount "$FUSEMNT" 2>/dev/null
	[ -z "$KMNT" ] || umount "$KMNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# registry.bash is written for bats; these two are all it needs from there.
# shellcheck disable=SC2034 # read by registry.bash
BATS_FILE_TMPDIR=$T
skip() {
	die "$*"
}
# shellcheck source=../lib/registry.bash
. "$repo/tests/lib/registry.bash"

now_ns() {
	date +%s%N
}

ms_since() {
	echo $((($(now_ns) - $1) / 1000000))
}

# ratio A B: A/B with two decimals, or "n/a".
ratio() {
	python3 -c 'import sys
a, b = sys.argv[1], sys.argv[2]
try:
    print("%.2f" % (float(a) / float(b)))
except (ValueError, ZeroDivisionError):
    print("n/a")' "$1" "$2"
}

# measure NAME CMD...: mean wall time in ms of CMD (hyperfine, or a loop),
# printed and stored in MEAN[NAME]; "failed" when CMD fails.
declare -A MEAN
measure() {
	local name=$1 json=$T/hf.json t0 total=0
	shift
	if ! "$@" >/dev/null 2>"$T/err"; then
		MEAN[$name]=failed
		printf '  %-34s failed: %s\n' "$name" "$(head -n 1 "$T/err")"
		return
	fi
	if command -v hyperfine >/dev/null; then
		local cmd
		cmd=$(printf '%q ' "$@")
		hyperfine -N --style none --warmup 2 --runs "$RUNS" --export-json "$json" "$cmd" >/dev/null 2>&1 ||
			hyperfine --style none --warmup 2 --runs "$RUNS" --export-json "$json" "$cmd" >/dev/null 2>&1
		MEAN[$name]=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.1f" % (r["mean"] * 1000))' "$json" 2>/dev/null || echo failed)
		local sd
		sd=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.1f" % ((r.get("stddev") or 0) * 1000))' "$json" 2>/dev/null || echo "?")
		printf '  %-34s %8s ms  (± %s ms, %d runs, hyperfine)\n' "$name" "${MEAN[$name]}" "$sd" "$RUNS"
	else
		"$@" >/dev/null 2>&1
		for _ in $(seq "$RUNS"); do
			t0=$(now_ns)
			"$@" >/dev/null 2>&1
			total=$((total + $(now_ns) - t0))
		done
		MEAN[$name]=$(python3 -c "print('%.1f' % ($total / $RUNS / 1e6))")
		printf '  %-34s %8s ms  (%d runs, loop)\n' "$name" "${MEAN[$name]}" "$RUNS"
	fi
}

# minus A B: A - B in ms, or "n/a".
minus() {
	python3 -c 'import sys
try:
    print("%.1f" % (float(sys.argv[1]) - float(sys.argv[2])))
except ValueError:
    print("n/a")' "$1" "$2"
}

# ------------------------------------------------------------ the images

echo "# building the benchmark image in $T"
ROOTFS=$T/rootfs
"$repo/tests/lib/mkimage.sh" "$ROOTFS" || die "mkimage.sh failed"
mkdir -p "$ROOTFS/data/small"
python3 - "$ROOTFS/data" <<-'EOF'
import os, sys
d = sys.argv[1]
for i in range(5000):
    with open(os.path.join(d, "small", "f%04d" % i), "wb") as f:
        f.write(os.urandom(512).hex().encode())
# Some bulk too, half of it compressible, so the pull and import move data.
with open(os.path.join(d, "blob"), "wb") as f:
    for _ in range(32):
        f.write(os.urandom(1 << 19))
        f.write(b"x" * (1 << 19))
EOF
LAYOUT=$T/oci
umoci init --layout "$LAYOUT" >/dev/null
umoci new --image "$LAYOUT:bench" >/dev/null
rootless=--rootless
[ "$(id -u)" -ne 0 ] || rootless=
umoci unpack $rootless --image "$LAYOUT:bench" "$T/bundle" >/dev/null || die "umoci unpack failed"
cp -a "$ROOTFS/." "$T/bundle/rootfs/"
umoci repack --image "$LAYOUT:bench" "$T/bundle" >/dev/null || die "umoci repack failed"
rm -rf "$T/bundle"
SQFS=$T/bench.sqfs
mksquashfs "$ROOTFS" "$SQFS" -comp zstd -all-root -noappend -no-progress >/dev/null || die "mksquashfs failed"
echo "# image: $(du -sh "$ROOTFS" | cut -f1) unpacked, $(find "$ROOTFS" | wc -l) entries; squashfs $(du -h "$SQFS" | cut -f1)"

registry_start || die "the registry did not start"
registry_push "oci:$LAYOUT:bench" bench/img:v1 || die "the push failed"
REF=docker://$REGISTRY/bench/img:v1

CACHE=$T/cache
mkdir -m 1777 "$CACHE"
CONF=$T/sandbox.conf
cat >"$CONF" <<EOF
[images]
allowed = /
cache_dir = $CACHE
insecure_registries = 127.0.0.1:*
[mounts]
allowed_sources = /
EOF

# ------------------------------------------------------------ 1. first use

echo
echo "## 1. first use of a registry image ($REF)"
t0=$(now_ns)
if "$SBX" --config "$CONF" --image "$REF" -- true >/dev/null 2>"$T/first.err"; then
	first_sbx=$(ms_since "$t0")
	printf '  %-34s %8s ms\n' "sandbox-run (pull+import+start)" "$first_sbx"
	sed -n 's/^/    /; /imported/p' "$T/first.err"
else
	first_sbx=failed
	printf '  %-34s failed: %s\n' "sandbox-run (pull+import+start)" "$(grep -m1 . "$T/first.err")"
fi

t0=$(now_ns)
skopeo copy --quiet --src-tls-verify=false "$REF" "oci:$T/raw-oci:v1" >/dev/null 2>&1
copy_ms=$(ms_since "$t0")
t0=$(now_ns)
umoci unpack $rootless --image "$T/raw-oci:v1" "$T/raw-bundle" >/dev/null 2>&1
unpack_ms=$(ms_since "$t0")
t0=$(now_ns)
mksquashfs "$T/raw-bundle/rootfs" "$T/raw.sqfs" -comp zstd -noappend -no-progress >/dev/null 2>&1
squash_ms=$(ms_since "$t0")
raw_ms=$((copy_ms + unpack_ms + squash_ms))
printf '  %-34s %8s ms  (skopeo copy %s + umoci unpack %s + mksquashfs %s)\n' \
	"raw pipeline" "$raw_ms" "$copy_ms" "$unpack_ms" "$squash_ms"
echo "  ratio sandbox-run / raw pipeline: $(ratio "$first_sbx" "$raw_ms")"
rm -rf "$T/raw-oci" "$T/raw-bundle" "$T/raw.sqfs"

# ------------------------------------------------------------ 2. start latency

echo
echo "## 2. start latency, cache hit (command: true)"
measure "sandbox-run, cached registry image" "$SBX" --config "$CONF" --image "$REF" -- true
measure "sandbox-run, directory image" "$SBX" --config "$CONF" --image "$ROOTFS" -- true
if command -v bwrap >/dev/null; then
	measure "bwrap, directory image" bwrap --ro-bind "$ROOTFS" / --proc /proc --dev /dev \
		--unshare-all --die-with-parent /bin/true
else
	MEAN["bwrap, directory image"]=n/a
	echo "  bwrap is not installed"
fi
echo "  ratio cached image / directory image: $(ratio "${MEAN["sandbox-run, cached registry image"]}" "${MEAN["sandbox-run, directory image"]}")"
echo "  ratio directory image / bwrap:        $(ratio "${MEAN["sandbox-run, directory image"]}" "${MEAN["bwrap, directory image"]}")"

# ------------------------------------------------------------ 3. small files

echo
echo "## 3. reading 5000 files of 1 KiB (cat), warm page cache"
echo "  on the host:"
measure "host directory" sh -c "cat '$ROOTFS'/data/small/* >/dev/null"
FUSEMNT=$T/fusemnt
mkdir "$FUSEMNT"
fuse_bin=squashfuse
command -v squashfuse_ll >/dev/null && fuse_bin=squashfuse_ll
if "$fuse_bin" "$SQFS" "$FUSEMNT" 2>"$T/err"; then
	measure "$fuse_bin mount" sh -c "cat '$FUSEMNT'/data/small/* >/dev/null"
	fusermount -u "$FUSEMNT" 2>/dev/null || fusermount3 -u "$FUSEMNT" 2>/dev/null || umount "$FUSEMNT"
else
	MEAN["$fuse_bin mount"]=n/a
	echo "  $fuse_bin could not mount: $(head -n 1 "$T/err") (is /dev/fuse read-writable?)"
fi
FUSEMNT=
if [ "$(id -u)" -eq 0 ]; then
	KMNT=$T/kmnt
	mkdir "$KMNT"
	if mount -t squashfs -o loop,ro "$SQFS" "$KMNT" 2>"$T/err"; then
		measure "kernel squashfs (loop)" sh -c "cat '$KMNT'/data/small/* >/dev/null"
	else
		MEAN["kernel squashfs (loop)"]=n/a
		echo "  mount -t squashfs failed: $(head -n 1 "$T/err")"
	fi
else
	MEAN["kernel squashfs (loop)"]=n/a
	echo "  (kernel squashfs: run as root to compare)"
fi
echo "  ratio squashfuse / directory:       $(ratio "${MEAN["$fuse_bin mount"]}" "${MEAN["host directory"]}")"
echo "  ratio squashfuse / kernel squashfs: $(ratio "${MEAN["$fuse_bin mount"]}" "${MEAN["kernel squashfs (loop)"]}")"

echo "  inside sandbox-run (the run minus a run of true):"
measure "squashfs image: true" "$SBX" --config "$CONF" --image "$SQFS" -- true
measure "squashfs image: cat" "$SBX" --config "$CONF" --image "$SQFS" -- sh -c 'cat /data/small/* >/dev/null'
measure "directory image: true" "$SBX" --config "$CONF" --image "$ROOTFS" -- true
measure "directory image: cat" "$SBX" --config "$CONF" --image "$ROOTFS" -- sh -c 'cat /data/small/* >/dev/null'
sq=$(minus "${MEAN["squashfs image: cat"]}" "${MEAN["squashfs image: true"]}")
dir=$(minus "${MEAN["directory image: cat"]}" "${MEAN["directory image: true"]}")
echo "  reading in the squashfs image:   $sq ms"
echo "  reading in the directory image:  $dir ms"
if [ -n "$KMNT" ] && mountpoint -q "$KMNT"; then
	measure "kernel squashfs dir image: true" "$SBX" --config "$CONF" --image "$KMNT" -- true
	measure "kernel squashfs dir image: cat" "$SBX" --config "$CONF" --image "$KMNT" -- sh -c 'cat /data/small/* >/dev/null'
	ks=$(minus "${MEAN["kernel squashfs dir image: cat"]}" "${MEAN["kernel squashfs dir image: true"]}")
	echo "  reading in a kernel squashfs:    $ks ms"
	echo "  ratio squashfs image / kernel squashfs: $(ratio "$sq" "$ks")"
fi
echo "  ratio squashfs image / directory image: $(ratio "$sq" "$dir")"
