#!/bin/bash
# Valgrind memcheck (make check-valgrind), as the unprivileged test user:
#   1. the unit tests (build/tests/unit/test_*), the library code the
#      helper, the shim and sandbox-run are made of;
#   2. sandbox-run for a directory image, a squashfs image (squashfuse) and
#      an imported one (a gzip tarball, imported into a cache of this run's
#      own), following the children (--trace-children=yes): sandbox-run,
#      the helper it starts and the helper's own forks, the sandbox's init,
#      the shim it execs for the command (a dynamically linked build of it,
#      see the passes below) and the shim's child up to the command's exec.
#      The command inside the image, squashfuse, mksquashfs and skopeo run
#      untraced (--trace-children-skip): not ours.
# The valgrind: tests/valgrind/fetch.sh's (the newest of Debian testing's
# and Debian 13's: testing's 3.27 knows openat2 and the whole mount API,
# 13's 3.24 openat2 only), else the host's (Debian 12's 3.19, which knows
# neither). A process stops at the first syscall its valgrind lacks; the
# output names it and what that leaves uncovered. VALGRIND=PATH picks one.
# No valgrind knows seccomp(2), so every sandbox runs with seccomp = no:
# under valgrind libseccomp's probe of the kernel fails and the helper
# refuses to export a filter. The unit test test_seccomp exports the
# helper's filter (helper/seccomp.c) with the API level set by hand; the
# shim's load of the filter (load_seccomp) is the one part no pass runs.
# An error is any memcheck report (invalid access, uninitialised value,
# bad syscall argument, a definite or indirect leak); tests/valgrind/sbx.supp
# holds valgrind's own mistakes. Exit status 1 on any error, a failed unit
# test or a failed run. A run that stops because valgrind does not know a
# syscall is reported with the errors of the part that ran, and does not
# fail.
#   tests/valgrind/run.sh    as root (then as SBX_TEST_USER, default sbxtest)
#                            or as any unprivileged user
# Environment: BUILD (default build/), VALGRIND_KEEP=1 keeps the logs,
# SBX_VALGRIND_CACHE (fetch.sh's cache), VALGRIND (a valgrind launcher).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=${SBX_TEST_USER:-sbxtest}
cache=${SBX_VALGRIND_CACHE:-/var/cache/slurm-sandbox-tests/valgrind}
aids=$BUILD/tests/valgrind

skip() { echo "valgrind: SKIP: $*"; exit 0; }
# The valgrind to run and where it came from.
if [ -n "${VALGRIND:-}" ]; then
	origin="VALGRIND=$VALGRIND"
elif [ -x "$cache/bin/valgrind" ] && "$cache/bin/valgrind" --version >/dev/null 2>&1; then
	VALGRIND=$cache/bin/valgrind
	origin="from $cache (tests/valgrind/fetch.sh)"
elif command -v valgrind >/dev/null; then
	VALGRIND=valgrind
	origin="the host's, FALLBACK: no newer valgrind in $cache (as root: tests/valgrind/fetch.sh, or tests/install-deps.sh)"
else
	skip "valgrind is not installed (tests/install-deps.sh)"
fi
for b in sandbox-run sandbox-helper sandbox-exec tests/sbx-probe tests/valgrind/sandbox-exec \
	tests/valgrind/sandbox-helper tests/valgrind/vg-syscalls; do
	[ -x "$BUILD/$b" ] || skip "$BUILD/$b is missing (make check-valgrind builds it)"
done
if [ "$(id -u)" -eq 0 ]; then
	id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user" || exit 1
	runuser -u "$user" -- test -r "$0" -a -x "$BUILD/sandbox-run" ||
		skip "$user cannot read $0 or $BUILD (make check makes them readable)"
	exec runuser -u "$user" -- env BUILD="$BUILD" VALGRIND_KEEP="${VALGRIND_KEEP:-}" \
		VALGRIND="$VALGRIND" VALGRIND_ORIGIN="$origin" "$0" "$@"
fi
origin=${VALGRIND_ORIGIN:-$origin}
start=$SECONDS

# What runs killed before their end left: work directories whose run is
# gone (but those VALGRIND_KEEP kept); and, from runs before --vgdb=no, an
# hour old, those directories (they had no .pid) and valgrind's gdbserver
# FIFOs.
for d in /tmp/sbx-valgrind.*; do
	if [ ! -O "$d" ] || [ -e "$d/.keep" ]; then continue; fi
	if [ -r "$d/.pid" ]; then
		kill -0 "$(cat "$d/.pid")" 2>/dev/null || rm -rf "$d"
	elif [ -n "$(find "$d" -maxdepth 0 -mmin +60)" ]; then
		rm -rf "$d"
	fi
done
find /tmp -maxdepth 1 -name "vgdb-pipe-*-by-$(id -un)-*" -user "$(id -u)" -mmin +60 -delete 2>/dev/null
work=$(mktemp -d /tmp/sbx-valgrind.XXXXXX) || exit 1
echo $$ >"$work/.pid"
if [ -n "${VALGRIND_KEEP:-}" ]; then
	touch "$work/.keep"
else
	trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$work"
# --vgdb=no: no gdbserver, so no /tmp/vgdb-pipe-* files left behind.
vg=("$VALGRIND" --tool=memcheck --vgdb=no --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --suppressions="$repo/tests/valgrind/sbx.supp")
echo "valgrind: $("$VALGRIND" --version), $origin"

# errors LOG: memcheck's reports in LOG (with or without its summary: a
# process killed by its sandbox's end writes none).
errors() {
	grep -cE '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination|Argument .* of function|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|indirectly) lost)' "$1"
}
# unknown LOG...: the syscalls valgrind did not know, "437 430" (none: empty).
unknown() {
	sed -n 's/.*WARNING: unhandled amd64-linux syscall: \([0-9]*\).*/\1/p' "$@" | sort -un | tr '\n' ' ' |
		sed 's/ $//'
}
# Syscall names by number, from the probe.
"$aids/vg-syscalls" >"$work/syscalls" || exit 1
named() {
	local nr out=''
	for nr in $1; do
		out="$out${out:+ }$(awk -v n="$nr" '$2 == n { print $1 }' "$work/syscalls")($nr)"
	done
	echo "${out:-none}"
}
# uncovered NR...: what stays untraced while valgrind lacks these syscalls.
uncovered() {
	local nr binds='' fuse='' other=''
	for nr in $1; do
		case $nr in
		437) echo "    $(named "$nr"): the helper from its first fd-relative lookup on (image, policy paths, import)" ;;
		317) echo "    $(named "$nr"): the shim's filter load (the sandboxes run with seccomp = no; test_seccomp exports the helper's filter)" ;;
		428 | 429 | 442) binds="$binds $nr" ;;
		430 | 431 | 432) fuse="$fuse $nr" ;;
		*) other="$other $nr" ;;
		esac
	done
	[ -z "$binds" ] || echo "    $(named "$binds"): the helper and init from their first bind mount on (the root, /proc, /dev, /etc, --mount)"
	[ -z "$fuse" ] || echo "    $(named "$fuse"): the helper from the FUSE mount of a squashfs on; the per-task overlay"
	[ -z "$other" ] || echo "    $(named "$other"): the process that made it, from there on"
}

# ---- 0. which of our syscalls this valgrind knows
"${vg[@]}" --log-file="$work/syscalls.vg" "$aids/vg-syscalls" >/dev/null
miss=$(unknown "$work/syscalls.vg")
echo "syscalls  valgrind does not know: $(named "$miss")"
uncovered "$miss"
# The log directory is mounted into each sandbox (run_pass), except where
# a traced helper would make that bind mount with a valgrind that lacks
# open_tree: there it would be where the helper stops.
log_mount=1
case " $miss " in *" 428 "*) log_mount=0 ;; esac

status=0
# ---- 1. the unit tests
for t in "$BUILD"/tests/unit/test_*; do
	case $t in *.d) continue ;; esac
	[ -x "$t" ] || continue
	name=$(basename "$t")
	(cd "$repo" && "${vg[@]}" --log-file="$work/$name.vg" "$t" >"$work/$name.out" 2>&1)
	rc=$?
	n=$(errors "$work/$name.vg")
	miss=$(unknown "$work/$name.vg")
	printf 'unit      %-17s errors %-3s' "$name" "$n"
	if [ "$rc" -ne 0 ] && [ -n "$miss" ]; then
		echo " (tests stopped by syscalls valgrind lacks: $(named "$miss") - not counted)"
	elif [ "$rc" -ne 0 ]; then
		echo " FAILED (exit $rc)"
		status=1
	elif [ -n "$miss" ]; then
		echo " (what needs $(named "$miss") skipped)"
	else
		echo
	fi
	if [ "$n" -ne 0 ]; then
		status=1
		sed 's/^/    /' "$work/$name.vg" | head -n 60
	fi
done

# ---- 2. sandbox-run, the helper, init and the shim
BUILD="$BUILD" "$repo/tests/lib/mkimage.sh" "$work/image" >/dev/null || exit 1
echo in-the-image >"$work/image/marker"
kinds="dir"
if command -v mksquashfs >/dev/null && command -v squashfuse >/dev/null && [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
	"$repo/tests/lib/mkoci.sh" squashfs "$work/image" "$work/image.sqfs" >/dev/null || exit 1
	"$repo/tests/lib/mkoci.sh" tarball "$work/image" "$work/image.tar.gz" >/dev/null || exit 1
	kinds="dir squashfs imported"
else
	echo "valgrind: SKIP squashfs and imported: squashfuse, mksquashfs or a read-writable /dev/fuse missing"
fi
mkdir "$work/cache"
cat >"$work/sandbox.conf" <<CONF
[images]
allowed = /
cache_dir = $work/cache
[mounts]
allowed_sources = /
[namespaces]
net = none
[security]
seccomp = no
CONF
# Undefined-value reports in the static shim are noise: valgrind cannot
# replace a static program's malloc or string functions, so it never sees
# their memory initialised. Invalid accesses still count.
{
	for kind in Cond Value1 Value2 Value4 Value8 Value16 Value32; do
		printf '{\n   static-shim-%s\n   Memcheck:%s\n   obj:%s\n}\n' "$kind" "$kind" "$BUILD/sandbox-exec"
	done
	printf '{\n   static-shim-tls\n   Memcheck:Param\n   set_robust_list(head)\n   obj:%s\n}\n' "$BUILD/sandbox-exec"
} >"$work/static-shim.supp"

# command_of LOG: the program a process's log names ("" when no log).
command_of() {
	local c
	c=$(sed -n 's/^==[0-9]*== Command: \([^ ]*\).*/\1/p' "$1" 2>/dev/null | head -n 1)
	[ -z "$c" ] || basename "$c"
}

# run_pass KIND REF PASS HELPER SKIP [VALGRIND OPTION...]: sandbox-run on
# REF (with the options in the array run_opts) under valgrind with
# SANDBOX_HELPER=HELPER (the shim is the sandbox-exec beside it), the
# programs matching SKIP untraced; the command writes a file in the image
# and reads it back. Prints the pass's line (processes traced, errors,
# unknown syscalls), then one line per process with errors and its report.
run_opts=()
run_pass() {
	local kind=$1 ref=$2 pass=$3 helper=$4 skip=$5 logs=$work/logs.$1.$3 out rc miss log prog ppid n
	local total=0 procs=() bad=() mount=()
	shift 5
	mkdir "$logs"
	# One log per process by name and pid: the sandbox's init is pid 1 of its
	# namespace. The log directory is mounted into the sandbox at the same
	# path: the shim's child, forked after the shim joined the sandbox's
	# mount namespace, opens its own log there.
	case $skip in
	*'*/sandbox-helper'*) mount=(--mount "$logs") ;;
	*) [ "$log_mount" -eq 0 ] || mount=(--mount "$logs") ;;
	esac
	out=$(SANDBOX_HELPER="$helper" "${vg[@]}" "$@" --trace-children=yes \
		--trace-children-skip="$skip" --log-file="$logs/%p.log" \
		"$BUILD/sandbox-run" --config "$work/sandbox.conf" "${mount[@]}" "${run_opts[@]}" \
		--image "$ref" -- sh -c 'cat /marker >/tmp/copy && cat /tmp/copy' 2>"$work/err.$kind.$pass")
	rc=$?
	miss=$(unknown "$logs"/*.log 2>/dev/null)
	for log in "$logs"/*.log; do
		prog=$(command_of "$log")
		ppid=$(sed -n 's/^==[0-9]*== Parent PID: //p' "$log" | head -n 1)
		# A fork's log names its parent's command: the helper's children
		# (which exec squashfuse, untraced, or nothing), sandbox-run's
		# child for the untraced helper, and the shim's child in the
		# sandbox's pid namespace (its parent, outside, is pid 0 there),
		# which execs the command.
		if [ "$(basename "$log")" = 1.log ]; then
			prog=init
		elif [ "$ppid" = 0 ] || [ "$prog" = "$(command_of "$logs/$ppid.log")" ]; then
			prog="$prog (fork)"
		fi
		procs+=("$prog")
		n=$(errors "$log")
		total=$((total + n))
		[ "$n" -eq 0 ] || bad+=("$log")
	done
	printf '%-9s %-8s %d processes traced, errors %d, unknown syscalls: %s\n' "$kind" "$pass" \
		"${#procs[@]}" "$total" "$(named "$miss")"
	printf '                   traced: %s\n' "$(printf '%s\n' "${procs[@]}" | sort | uniq -c |
		awk '{ c = $1; $1 = ""; printf "%s%s%s", sep, substr($0, 2), (c > 1 ? " x" c : ""); sep = ", " }')"
	if [ -n "$miss" ]; then
		echo "                   stopped: $(tail -n 1 "$work/err.$kind.$pass")"
		uncovered "$miss"
		stopped=1
	elif [ "$rc" -ne 0 ] || [ "$out" != in-the-image ]; then
		echo "                   FAILED: sandbox-run exited $rc, printed '$out':"
		sed 's/^/    /' "$work/err.$kind.$pass"
		status=1
	fi
	for log in "${bad[@]}"; do
		status=1
		echo "    $(basename "$log"): errors $(errors "$log")"
		sed 's/^/    /' "$log" | head -n 60
	done
}

# Per image:
#   all     everything traced, with the shim linked dynamically
#           ($BUILD/tests/valgrind/sandbox-exec, the same objects), so that
#           memcheck sees its heap too
#   run     only when valgrind stopped the helper in "all": the helper
#           (and init) untraced, sandbox-run and the shim to the end
# and once, for the directory image:
#   per-task  --per-task: the shim's own overlay for its task (fsopen,
#           fsconfig, move_mount in lib/launch/pertask.c), everything traced
#   static  the shipped static shim traced, the helper untraced
others='/bin/*,/usr/*,/sbin/*,*/squashfuse,*/mksquashfs,*/skopeo'
for kind in $kinds; do
	case $kind in
	dir) ref=$work/image ;;
	squashfs) ref=$work/image.sqfs ;;
	imported) ref=$work/image.tar.gz ;;
	esac
	stopped=0
	run_pass "$kind" "$ref" all "$aids/sandbox-helper" "$others"
	[ "$stopped" -eq 0 ] ||
		run_pass "$kind" "$ref" run "$aids/sandbox-helper" "$others,*/sandbox-helper"
done
run_opts=(--per-task)
run_pass dir "$work/image" per-task "$aids/sandbox-helper" "$others"
run_opts=()
run_pass dir "$work/image" static "$BUILD/sandbox-helper" "$others,*/sandbox-helper" \
	--suppressions="$work/static-shim.supp"
[ -n "${VALGRIND_KEEP:-}" ] && echo "valgrind: logs in $work"
echo "valgrind: $((SECONDS - start)) s"
exit $status
