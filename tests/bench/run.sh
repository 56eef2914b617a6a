#!/bin/bash
# The performance benchmark (make bench): prints tables of times and ratios
# against peers measured in the same run; never asserts a timing. Run as root
# for every section (the unprivileged ones run as SBX_TEST_USER); as another
# user the cold-cache and Slurm sections say SKIP.
#
#   tests/bench/run.sh [--doc FILE] [SECTION...]
#     --doc FILE  also write the output into FILE (docs/performance.md)
#                 between its <!-- bench:begin --> and <!-- bench:end --> lines
#     start   start of `true`: plain exec, the unshare floor, bwrap, crun,
#             ch-run, sandbox-run on a directory, a squashfs, a cached
#             registry image (by tag and by digest)
#     files   reading 5000 and 50000 files of 1 KiB with one cat in a fresh
#             sandbox, directory vs squashfs image, warm page cache
#     cold    the same with the page cache dropped before every run, and a
#             Python import workload (root)
#     rss     resident memory of every process we add
#     slurm   step overhead under a local Slurm cluster (root; takes
#             /tmp/sbx-check.lock): 1, 2, 8 tasks on 1 and 3 nodes, one
#             task again without slurm.conf's TaskProlog, and a plain step
#             with a SPANK plugin that does nothing, the plugin as
#             installed, and with the named sandboxes' companion beside
#             it, vs no plugin (interleaved run by run)
#   (default: all of them)
#
# Environment: BUILD (default <repo>/build), BENCH_RUNS (default 30),
# BENCH_PLAIN_ROUNDS (the plain-step rounds of the Slurm section, default 40),
# SBX_TEST_USER (default sbxtest), SBX_CLUSTER (default /tmp/sbx-cluster-bench),
# BENCH_KEEP (a directory for the images, kept and reused across runs).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build}
export BUILD
export SANDBOX_HELPER=${SANDBOX_HELPER:-$BUILD/sandbox-helper}
RUNS=${BENCH_RUNS:-30}
SBX=$BUILD/sandbox-run
USER_NAME=${SBX_TEST_USER:-sbxtest}
# shellcheck source=lib.bash
. "$here/lib.bash"

die() {
	echo "bench: $*" >&2
	exit 1
}

user_part=0
if [ "${1:-}" = --doc ]; then
	doc=${2:?--doc FILE}
	shift 2
	[ -f "$doc" ] && grep -q '^<!-- bench:begin -->$' "$doc" && grep -q '^<!-- bench:end -->$' "$doc" ||
		die "$doc has no <!-- bench:begin --> and <!-- bench:end --> lines"
	out=$(mktemp /tmp/sbx-bench-out.XXXXXX) || die "mktemp failed"
	"$0" "$@" | tee "$out"
	rc=${PIPESTATUS[0]}
	python3 - "$doc" "$out" <<-'EOF'
	import sys
	doc, out = sys.argv[1], sys.argv[2]
	text = open(doc).read()
	head, rest = text.split("<!-- bench:begin -->\n", 1)
	_, tail = rest.split("<!-- bench:end -->\n", 1)
	run = open(out).read()
	open(doc, "w").write(head + "<!-- bench:begin -->\n```\n" + run + "```\n<!-- bench:end -->\n" + tail)
	EOF
	rm -f "$out"
	exit "$rc"
fi
if [ "${1:-}" = --user-part ]; then
	user_part=1
	T=$2
	shift 2
	S=$(mktemp -d /tmp/sbx-bench-user.XXXXXX) || die "mktemp failed"
	trap 'rm -rf "$S"' EXIT
fi
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(start files cold rss slurm)
want() {
	local s
	for s in "${sections[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

for tool in hyperfine python3 mksquashfs; do
	command -v "$tool" >/dev/null || die "$tool is missing (tests/install-deps.sh --bench)"
done
[ -x "$SBX" ] || die "$SBX is missing (make all)"

# ------------------------------------------------------------ the images
# Built once by the outer run (as root or the user), read by both.

make_images() {
	local py=$T/py lib
	"$repo/tests/lib/mkimage.sh" "$T/img" >/dev/null || die "mkimage.sh failed"
	mksquashfs "$T/img" "$T/img.sqfs" -comp zstd -all-root -noappend -no-progress >/dev/null ||
		die "mksquashfs failed"
	for n in 5000 50000; do
		cp -a "$T/img" "$T/files$n"
		python3 - "$T/files$n/data" "$n" <<-'EOF'
		import os, sys
		d, n = sys.argv[1], int(sys.argv[2])
		for i in range(n):
		    sub = os.path.join(d, "d%03d" % (i // 1000))
		    os.makedirs(sub, exist_ok=True)
		    with open(os.path.join(sub, "f%05d" % i), "wb") as f:
		        f.write(os.urandom(512).hex().encode())
		EOF
		mksquashfs "$T/files$n" "$T/files$n.sqfs" -comp zstd -all-root -noappend -no-progress >/dev/null
	done
	# A Debian userland with Python: the host's interpreter, its standard
	# library (with its bytecode) and the libraries they link.
	cp -a "$T/img" "$py"
	mkdir -p "$py/usr/bin" "$py/usr/lib" "$py/lib64"
	cp -a /usr/bin/python3.11 "$py/usr/bin/python3"
	cp -a /usr/lib/python3.11 "$py/usr/lib/"
	for lib in $( (ldd /usr/bin/python3.11; find /usr/lib/python3.11/lib-dynload -name '*.so' -exec ldd {} \;) |
		awk '$3 ~ /^\// { print $3 } $1 ~ /^\/lib64/ { print $1 }' | sort -u); do
		mkdir -p "$py$(dirname "$lib")"
		cp -L "$lib" "$py$lib"
	done
	mksquashfs "$py" "$T/py.sqfs" -comp zstd -all-root -noappend -no-progress >/dev/null
	chmod -R a+rX "$T"
	echo "# images in $T: busybox $(du -sh "$T/img" | cut -f1), python $(du -sh "$py" | cut -f1)" \
		"($(find "$py" | wc -l) entries)"
}

policy() {
	cat >"$T/sandbox.conf" <<-EOF
	[images]
	allowed = /
	cache_dir = $T/cache
	insecure_registries = 127.0.0.1:*
	[mounts]
	allowed_sources = /
	EOF
	mkdir -p "$T/cache"
	chmod 1777 "$T/cache"
	chmod 644 "$T/sandbox.conf"
	# The same with node-local unpacked copies of squashfs images on
	# (images.unpack_dir): the rows marked "unpacked copy" use it.
	sed "/^\[images\]/a unpack_dir = $T/unpack" "$T/sandbox.conf" >"$T/unpacked.conf"
	mkdir -p "$T/unpack"
	chmod 1777 "$T/unpack"
	chmod 644 "$T/unpacked.conf"
}

# unpacked_copy [PREFIX...] -- IMAGE: start IMAGE once with unpacked copies on
# and wait (at most a minute) until a start runs from its copy: the copy's
# files are the user's, squashfuse shows the image's root as the overflow uid.
unpacked_copy() {
	local -a pfx=()
	local i img
	while [ "$1" != -- ]; do pfx+=("$1"); shift; done
	img=$2
	for i in $(seq 600); do
		[ "$("${pfx[@]}" "$SBX" --config "$T/unpacked.conf" --image "$img" -- stat -c %u /bin/busybox 2>/dev/null)" = \
			"$("${pfx[@]}" id -u)" ] && return 0
		sleep 0.1
	done
	echo "  (no unpacked copy of $img after a minute: its rows measure squashfuse)"
}

machine() {
	echo "# machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
		"$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)," \
		"$(. /etc/os-release && echo "$PRETTY_NAME"), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $(hyperfine --version), $(bwrap --version 2>/dev/null || echo 'no bwrap'), $(crun --version 2>/dev/null | head -n1 || echo 'no crun')," \
		"$(USER=${USER:-root} ch-run --version 2>&1 | head -n1 | sed 's/^/ch-run /'), squashfuse $(dpkg-query -W -f '${Version}' squashfuse 2>/dev/null)"
	echo "# $RUNS runs per row (BENCH_RUNS)"
}

# ------------------------------------------------------------ start

start_section() {
	local img=$T/img conf=$T/sandbox.conf b=$S/bundle
	echo
	echo "## start: \`true\` in a fresh container (ms; medians, ratios of medians)"
	measure "plain exec" /bin/true
	measure "unshare -Urmpf --mount-proc -niuC" unshare -Urmpf --mount-proc -niuC /bin/true
	if command -v bwrap >/dev/null; then
		measure "bwrap --unshare-all" bwrap --ro-bind "$img" / --proc /proc --dev /dev \
			--unshare-all --die-with-parent /bin/true
	else
		skipped "bwrap --unshare-all" "bwrap is not installed"
	fi
	if command -v crun >/dev/null; then
		mkdir -p "$b" && (cd "$b" && rm -f config.json && crun spec --rootless) &&
			python3 - "$b/config.json" "$img" <<-'EOF'
			import json, sys
			c = json.load(open(sys.argv[1]))
			c["root"] = {"path": sys.argv[2], "readonly": True}
			c["process"]["args"], c["process"]["terminal"] = ["/bin/true"], False
			json.dump(c, open(sys.argv[1], "w"))
			EOF
		# A fixed container id: `run` removes it when the command exits.
		measure "crun run (OCI bundle of the image)" crun --root "$S/crun" run --bundle "$b" sbxbench
	else
		skipped "crun run (OCI bundle of the image)" "crun is not installed"
	fi
	if command -v ch-run >/dev/null; then
		measure "ch-run, directory" ch-run "$img" -- /bin/true
		measure "ch-run, squashfs" ch-run "$img.sqfs" -- /bin/true
	else
		skipped "ch-run, directory" "charliecloud is not installed"
	fi
	measure "sandbox-run, directory" "$SBX" --config "$conf" --image "$img" -- /bin/true
	measure "sandbox-run, squashfs" "$SBX" --config "$conf" --image "$img.sqfs" -- /bin/true
	unpacked_copy -- "$img.sqfs"
	measure "sandbox-run, squashfs, unpacked copy" "$SBX" --config "$T/unpacked.conf" --image "$img.sqfs" -- /bin/true
	cache_hit
	echo "  ratios:"
	row "sandbox-run dir / bwrap (goal <= 1.0)" "sandbox-run, directory" "bwrap --unshare-all"
	row "sandbox-run dir / unshare floor (goal <= 1.5)" "sandbox-run, directory" "unshare -Urmpf --mount-proc -niuC"
	row "sandbox-run dir / crun" "sandbox-run, directory" "crun run (OCI bundle of the image)"
	row "sandbox-run dir / ch-run dir" "sandbox-run, directory" "ch-run, directory"
	row "sandbox-run squashfs / ch-run squashfs" "sandbox-run, squashfs" "ch-run, squashfs"
	echo "  differences over sandbox-run dir (ms):"
	local k
	for k in "sandbox-run, squashfs" "sandbox-run, squashfs, unpacked copy" "cache hit, by tag" \
		"cache hit, by digest" "cache hit, by tag, unpacked copy" "cache hit, by digest, unpacked copy"; do
		printf '  %-44s %6s   (goal: squashfs <= +20, cache hit <= +5)\n' "$k" \
			"$(minus "${MEAN[$k]:-n/a}" "${MEAN["sandbox-run, directory"]}")"
	done
}

cache_hit() {
	local layout=$S/oci ref digest
	if ! command -v umoci >/dev/null || ! command -v skopeo >/dev/null ||
		! command -v docker-registry >/dev/null; then
		skipped "cache hit, by tag" "umoci, skopeo or docker-registry is missing"
		return
	fi
	# registry.bash is written for bats; these are all it needs from there.
	# shellcheck disable=SC2034 # read by registry.bash
	BATS_FILE_TMPDIR=$S/reg
	mkdir -p "$BATS_FILE_TMPDIR"
	skip() { echo "  $*"; }
	# shellcheck source=../lib/registry.bash
	. "$repo/tests/lib/registry.bash"
	"$repo/tests/lib/mkoci.sh" layout "$T/img" "$layout" >/dev/null 2>&1 ||
		{ skipped "cache hit, by tag" "mkoci.sh failed"; return; }
	registry_start >/dev/null || { skipped "cache hit, by tag" "the registry did not start"; return; }
	registry_push "oci:$layout:base" bench/img:v1 >/dev/null 2>&1 ||
		{ skipped "cache hit, by tag" "the push failed"; return; }
	ref=docker://$REGISTRY/bench/img:v1
	digest=$(registry_digest bench/img:v1 2>/dev/null)
	"$SBX" --config "$T/sandbox.conf" --image "$ref" -- /bin/true >/dev/null 2>&1
	measure "cache hit, by tag" "$SBX" --config "$T/sandbox.conf" --image "$ref" -- /bin/true
	measure "cache hit, by digest" "$SBX" --config "$T/sandbox.conf" \
		--image "docker://$REGISTRY/bench/img@$digest" -- /bin/true
	unpacked_copy -- "$ref"
	measure "cache hit, by tag, unpacked copy" "$SBX" --config "$T/unpacked.conf" --image "$ref" -- /bin/true
	measure "cache hit, by digest, unpacked copy" "$SBX" --config "$T/unpacked.conf" \
		--image "docker://$REGISTRY/bench/img@$digest" -- /bin/true
	registry_stop
}

# ------------------------------------------------------------ small files

# files_rows LABEL: dir and squashfs images, and the squashfs from its
# unpacked copy (images.unpack_dir; rows "files<N>.sqfs unpacked"), N files,
# time of the cat run minus that of a run of true in the same image.
files_rows() {
	local n k img conf
	for n in 5000 50000; do
		unpacked_copy "${PFX[@]}" -- "$T/files$n.sqfs"
		for k in "" .sqfs ".sqfs unpacked"; do
			img=$T/files$n${k%% *} conf=$T/sandbox.conf
			[ "$k" != ".sqfs unpacked" ] || conf=$T/unpacked.conf
			measure "files$n$k: true" "${PFX[@]}" "$SBX" --config "$conf" --image "$img" -- /bin/true
			measure "files$n$k: cat" "${PFX[@]}" "$SBX" --config "$conf" --image "$img" -- \
				sh -c 'cat /data/*/* >/dev/null'
		done
	done
	echo "  reading only (cat minus true, ms) and ratio squashfs / directory (goal <= 1.3):"
	for n in 5000 50000; do
		local d s label
		for k in .sqfs ".sqfs unpacked"; do
			label="$n files $1"
			[ "$k" = .sqfs ] || label="$n files $1, unpacked copy"
			d=$(minus "${MEAN["files$n: cat"]}" "${MEAN["files$n: true"]}")
			s=$(minus "${MEAN["files$n$k: cat"]}" "${MEAN["files$n$k: true"]}")
			printf '  %-44s dir %8s  squashfs %8s  ratio %s\n' "$label" "$d" "$s" "$(ratio "$s" "$d")"
			printf '  %-44s dir %8s  squashfs %8s  ratio %s\n' "$label, whole run" \
				"${MEAN["files$n: cat"]}" "${MEAN["files$n$k: cat"]}" \
				"$(ratio "${MEAN["files$n$k: cat"]}" "${MEAN["files$n: cat"]}")"
		done
	done
}

files_section() {
	echo
	echo "## small files, warm page cache: one cat of every file in a fresh sandbox (ms)"
	PFX=()
	files_rows warm
}

cold_section() {
	local conf=$T/sandbox.conf py="import email, json, http.client, xml.dom.minidom, asyncio"
	echo
	echo "## cold page cache (dropped before every run; commands run as $USER_NAME through setpriv) (ms)"
	if [ "$(id -u)" -ne 0 ]; then
		echo "  SKIP: dropping the page cache needs root"
		return
	fi
	PFX=(setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups)
	# shellcheck disable=SC2034 # read by measure (lib.bash)
	PREPARE='sh -c "sync; echo 3 > /proc/sys/vm/drop_caches"'
	local saved=$RUNS
	RUNS=$(((RUNS + 2) / 3))
	WARMUP=1 files_rows cold
	WARMUP=1 measure "python imports, directory" "${PFX[@]}" "$SBX" --config "$conf" --image "$T/py" -- \
		python3 -c "$py"
	WARMUP=1 measure "python imports, squashfs" "${PFX[@]}" "$SBX" --config "$conf" --image "$T/py.sqfs" -- \
		python3 -c "$py"
	row "python imports squashfs / directory (goal <= 1.3)" "python imports, squashfs" "python imports, directory"
	RUNS=$saved
	# shellcheck disable=SC2034 # read by measure (lib.bash)
	PREPARE=
}

# ------------------------------------------------------------ memory

rss_section() {
	local img kind pid
	local -a as=()
	[ "$(id -u)" -ne 0 ] || as=(setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups)
	echo
	echo "## memory of the processes we add, KiB (goal: helper + sandbox init <= 2048)"
	echo "  (RSS counts shared library pages; private = Private_Clean + Private_Dirty of smaps_rollup,"
	echo "  readable for the non-dumpable sandbox init only when this runs as root)"
	for kind in directory squashfs; do
		img=$T/img
		[ $kind = directory ] || img=$T/img.sqfs
		"${as[@]}" "$SBX" --config "$T/sandbox.conf" --image "$img" -- sleep 3 >/dev/null 2>&1 &
		pid=$!
		sleep 2
		echo "  $kind image:"
		# Every process below sandbox-run, the command (sleep) left out.
		ps -e -o pid=,ppid=,rss=,args= | python3 -c '
import sys
rows = [l.rstrip("\n").split(None, 3) for l in sys.stdin]
kids = {}
for p, pp, rss, args in rows:
    kids.setdefault(pp, []).append((p, rss, args))
def private(p):
    try:
        f = dict(l.split(":", 1) for l in open("/proc/%s/smaps_rollup" % p) if ":" in l and not l[0].isdigit())
        return str(int(f["Private_Clean"].split()[0]) + int(f["Private_Dirty"].split()[0]))
    except (OSError, KeyError, ValueError):
        return "-"
tot = {"rss": 0, "private": 0}
print("    %-16s %7s %8s" % ("process", "RSS", "private"))
def walk(p):
    for c, rss, args in kids.get(p, []):
        name = args.split()[0].rsplit("/", 1)[-1]
        if name in ("sleep", "setpriv"):
            walk(c)
            continue
        if name == "sandbox-helper":
            name = "sandbox-helper" if kids.get(c) else "sandbox-init"
        priv = private(c)
        print("    %-16s %7s %8s" % (name, rss, priv))
        if name in ("sandbox-helper", "sandbox-init"):
            tot["rss"] += int(rss)
            tot["private"] += int(priv) if priv != "-" else 0
        walk(c)
for p, pp, rss, args in rows:
    if p == sys.argv[1]:
        print("    %-16s %7s %8s" % ("sandbox-run", rss, private(p)))
walk(sys.argv[1])
print("    helper + sandbox-init: RSS %d KiB, private %d KiB" % (tot["rss"], tot["private"]))' "$pid"
		wait "$pid"
	done
}

# ------------------------------------------------------------ Slurm

# plain_step_abc CMD-PREFIX...: srun -N1 -n1 true with plugstack.conf empty,
# with a SPANK plugin that does nothing (tests/bench/empty-spank.c: what
# Slurm charges for any plugin), with spank_sandbox.so and with it and
# spank_sandbox_named.so, in turn for BENCH_PLAIN_ROUNDS rounds (default 40;
# the order rotates each round); medians, and the median of the per-round
# differences. Sets PLAIN_SUMMARY for the overhead table.
plain_step_abc() {
	local stack=$SBX_CLUSTER/etc/plugstack.conf i k t0 t1 order
	local -a v=(none empty main named) cmd=("$@" srun -N1 -n1 true)
	grep -v spank_sandbox_named "$T/plugstack.with" >"$T/plugstack.main"
	: >"$T/plugstack.none"
	cp "$T/plugstack.with" "$T/plugstack.named"
	: >"$T/plugstack.empty"
	if ${CC:-cc} -O2 -fPIC -shared -o "$T/empty-spank.so" "$here/empty-spank.c" 2>"$S/err"; then
		echo "required $T/empty-spank.so" >"$T/plugstack.empty"
	else
		echo "  (the empty SPANK plugin did not build: $(grep -m1 . "$S/err"))"
		v=(none main named)
	fi
	: >"$S/plain.times"
	for ((i = 0; i < ${BENCH_PLAIN_ROUNDS:-40} + 2; i++)); do
		order=("${v[@]:i%${#v[@]}}" "${v[@]:0:i%${#v[@]}}")
		for k in "${order[@]}"; do
			cp "$T/plugstack.$k" "$stack"
			t0=$EPOCHREALTIME
			"${cmd[@]}" >/dev/null 2>&1 || { echo "$i $k failed" >>"$S/plain.times"; continue; }
			t1=$EPOCHREALTIME
			# The first two rounds warm the caches.
			[ "$i" -lt 2 ] || echo "$i $k $t0 $t1" >>"$S/plain.times"
		done
	done
	cp "$T/plugstack.with" "$stack"
	PLAIN_SUMMARY=$(python3 - "$S/plain.times" <<-'EOF'
	import statistics, sys
	runs, failed = {}, []
	for line in open(sys.argv[1]):
	    f = line.split()
	    if f[2] == "failed":
	        failed.append(f[1])
	        continue
	    runs.setdefault(int(f[0]), {})[f[1]] = (float(f[3]) - float(f[2])) * 1000
	names = {"none": "no plugin", "empty": "an empty SPANK plugin",
	         "main": "plugin as installed", "named": "plugin + named companion"}
	for k in ("none", "empty", "main", "named"):
	    if k == "empty" and not any(k in r for r in runs.values()):
	        continue
	    t = [r[k] for r in runs.values() if k in r]
	    if not t:
	        print("  %-44s failed in every round" % ("plain srun -N1 n1, " + names[k]))
	        continue
	    print("  %-44s %8.1f ms  (mean %.1f, min %.1f, %d runs)"
	          % ("plain srun -N1 n1, " + names[k], statistics.median(t), statistics.mean(t), min(t), len(t)))
	for k, base, label in (("empty", "none", "plain step, an empty SPANK plugin (Slurm's part)"),
	                       ("main", "none", "plain step, plugin as installed"),
	                       ("named", "none", "plain step, plugin + named companion"),
	                       ("main", "empty", "plain step, plugin as installed over empty")):
	    d = [r[k] - r[base] for r in runs.values() if k in r and base in r]
	    if not d:
	        if k != "empty" and base != "empty":
	            print("  %-44s n/a" % label)
	        continue
	    print("  %-52s %+7.1f   (median of %d paired rounds%s)"
	          % (label, statistics.median(d), len(d), "" if k == "empty" else "; goal <= +1"))
	if failed:
	    print("  failed runs: %s" % " ".join(failed))
	EOF
	)
	echo "$PLAIN_SUMMARY" | grep -v '^  plain step'
	PLAIN_SUMMARY=$(echo "$PLAIN_SUMMARY" | grep '^  plain step')
}

# no_taskprolog_rows CMD-PREFIX...: the one-node, one-task rows again with
# slurm.conf's TaskProlog taken out. The sandbox is built while slurmstepd
# runs the task's prolog and execs it (a deferred start, launch.h): a site
# without a TaskProlog gives it less to overlap with.
no_taskprolog_rows() {
	local conf=$SBX_CLUSTER/etc/slurm.conf i
	cp "$conf" "$T/slurm.conf.with"
	sed -i '/^TaskProlog=/d' "$conf"
	scontrol reconfigure >/dev/null 2>&1
	# The nodes read it when they are told: until a step shows no prolog.
	for i in $(seq 50); do
		[ -z "$("$@" srun -N1 -n1 printenv SBX_TASKPROLOG_RAN 2>/dev/null)" ] && break
		sleep 0.2
	done
	if [ -n "$("$@" srun -N1 -n1 printenv SBX_TASKPROLOG_RAN 2>/dev/null)" ]; then
		echo "  (the TaskProlog could not be taken out: no rows without it)"
	else
		measure "plain srun -N1 n1, no TaskProlog" "$@" srun -O -N1 -n1 true
		measure "srun -N1 n1 --sandbox-image=DIR, no TaskProlog" "$@" srun -O -N1 -n1 --sandbox-image="$T/img" true
		measure "srun -N1 n1 --sandbox-image=SQFS, no TaskProlog" "$@" srun -O -N1 -n1 \
			--sandbox-image="$T/img.sqfs" true
	fi
	cp "$T/slurm.conf.with" "$conf"
	scontrol reconfigure >/dev/null 2>&1
	for i in $(seq 50); do
		[ -n "$("$@" srun -N1 -n1 printenv SBX_TASKPROLOG_RAN 2>/dev/null)" ] && break
		sleep 0.2
	done
	# The plain-step rounds that follow compare with the TaskProlog in.
	[ -n "$("$@" srun -N1 -n1 printenv SBX_TASKPROLOG_RAN 2>/dev/null)" ] ||
		echo "  (the TaskProlog did not come back: the rows below ran without it)"
}

slurm_section() {
	echo
	echo "## Slurm step overhead (ms): srun ... true, as $USER_NAME"
	if [ "$(id -u)" -ne 0 ]; then
		echo "  SKIP: the local cluster needs root"
		return
	fi
	command -v slurmctld >/dev/null || { echo "  SKIP: slurmctld is not installed"; return; }
	export SBX_CLUSTER=${SBX_CLUSTER:-/tmp/sbx-cluster-bench}
	exec 9>/tmp/sbx-check.lock
	flock 9
	local out
	out=$("$repo/tests/slurm/local-cluster.sh" start) || { echo "  SKIP: the cluster did not start"; return; }
	eval "$out"
	local stack=$SBX_CLUSTER/etc/plugstack.conf as=(setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups)
	cp "$stack" "$T/plugstack.with"
	# The steps below with the plugin as installed: without the named
	# sandboxes' companion (its job epilog runs after every job).
	grep -v spank_sandbox_named "$T/plugstack.with" >"$stack"
	local nodes tasks k
	for nodes in 1 3; do
		for tasks in 1 2 8; do
			k="N$nodes n$((nodes * tasks))"
			measure "plain srun -$k" "${as[@]}" srun -O -N "$nodes" -n "$((nodes * tasks))" true
			measure "srun -$k --sandbox-image=DIR" "${as[@]}" srun -O -N "$nodes" -n "$((nodes * tasks))" \
				--sandbox-image="$T/img" true
			measure "srun -$k --sandbox-image=SQFS" "${as[@]}" srun -O -N "$nodes" -n "$((nodes * tasks))" \
				--sandbox-image="$T/img.sqfs" true
		done
	done
	no_taskprolog_rows "${as[@]}"
	# A plain step: the same cluster with an empty plugstack.conf, with the
	# plugin as installed (spank_sandbox.so alone) and with the named
	# sandboxes' companion beside it. srun and every slurmstepd read
	# plugstack.conf afresh, so the three alternate run by run: a
	# millisecond is the goal, and drift between blocks of runs must not
	# stand in for it.
	plain_step_abc "${as[@]}"
	"$repo/tests/slurm/local-cluster.sh" stop >/dev/null
	exec 9>&-
	echo "  overhead over plain srun with the same tasks (goal: dir <= +10, squashfs <= +20):"
	for nodes in 1 3; do
		for tasks in 1 2 8; do
			k="N$nodes n$((nodes * tasks))"
			printf '  %-44s dir %+7s  squashfs %+7s\n' "-$k ($tasks per node)" \
				"$(minus "${MEAN["srun -$k --sandbox-image=DIR"]}" "${MEAN["plain srun -$k"]}")" \
				"$(minus "${MEAN["srun -$k --sandbox-image=SQFS"]}" "${MEAN["plain srun -$k"]}")"
		done
	done
	printf '  %-44s dir %+7s  squashfs %+7s\n' "-N1 n1, no TaskProlog" \
		"$(minus "${MEAN["srun -N1 n1 --sandbox-image=DIR, no TaskProlog"]:-n/a}" "${MEAN["plain srun -N1 n1, no TaskProlog"]:-n/a}")" \
		"$(minus "${MEAN["srun -N1 n1 --sandbox-image=SQFS, no TaskProlog"]:-n/a}" "${MEAN["plain srun -N1 n1, no TaskProlog"]:-n/a}")"
	echo "$PLAIN_SUMMARY"
}

# ------------------------------------------------------------ main

if [ $user_part = 1 ]; then
	want start && start_section
	want files && files_section
	exit 0
fi

if [ -n "${BENCH_KEEP:-}" ]; then
	T=$BENCH_KEEP
	mkdir -p "$T"
else
	T=$(mktemp -d /tmp/sbx-bench.XXXXXX) || die "mktemp failed"
	trap 'rm -rf "$T"' EXIT
fi
chmod 755 "$T"
S=$T/scratch
mkdir -p "$S"
trap 'exit 130' INT TERM
machine
[ -f "$T/py.sqfs" ] || make_images
policy
if [ "$(id -u)" -eq 0 ]; then
	id "$USER_NAME" >/dev/null 2>&1 || useradd -m -s /bin/bash "$USER_NAME" || die "cannot create $USER_NAME"
	[ ! -c /dev/fuse ] || [ "$(stat -c %a /dev/fuse)" = 666 ] || chmod 0666 /dev/fuse
	echo "# unprivileged sections run as $USER_NAME"
	user_sections=()
	for s in start files; do want $s && user_sections+=("$s"); done
	if [ ${#user_sections[@]} -gt 0 ]; then
		setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
			env HOME="$(getent passwd "$USER_NAME" | cut -d: -f6)" USER="$USER_NAME" LOGNAME="$USER_NAME" BENCH_RUNS="$RUNS" BUILD="$BUILD" \
			SANDBOX_HELPER="$SANDBOX_HELPER" "$0" --user-part "$T" "${user_sections[@]}"
	fi
else
	want start && start_section
	want files && files_section
fi
want rss && rss_section
want cold && cold_section
want slurm && slurm_section
exit 0
