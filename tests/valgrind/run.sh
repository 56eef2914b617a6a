#!/bin/bash
# Valgrind memcheck (make check-valgrind), as the unprivileged test user:
#   1. the unit tests (build/tests/unit/test_*), the library code the
#      helper, the shim and sandbox-run are made of;
#   2. sandbox-run for a directory image, a squashfs image (squashfuse) and
#      an imported one (a gzip tarball, imported into a cache of this run's
#      own), following the children (--trace-children=yes): sandbox-run,
#      the helper it starts, the sandbox's init, and the shim it execs for
#      the command; then with the helper untraced (see the passes below). The shim is static: valgrind runs it but cannot replace
#      its malloc, so there it sees invalid accesses, not leaks. The command
#      inside the image, squashfuse, mksquashfs and skopeo run untraced
#      (--trace-children-skip): not ours, and valgrind is not in the image.
# An error is any memcheck report (invalid access, uninitialised value,
# bad syscall argument, a definite or indirect leak); tests/valgrind/sbx.supp
# holds valgrind's own mistakes. Exit status 1 on any error, a failed unit
# test or a failed run. A run that stops because valgrind does not know a
# syscall the sandbox needs (valgrind 3.19, Debian 12's, has no openat2 and
# no FUSE fsopen, no seccomp) is reported, with the errors of the part that
# ran, and does not fail: the passes below run each part to its end.
#   tests/valgrind/run.sh    as root (then as SBX_TEST_USER, default sbxtest)
#                            or as any unprivileged user
# Environment: BUILD (default build/), VALGRIND_KEEP=1 keeps the logs.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
user=${SBX_TEST_USER:-sbxtest}

skip() { echo "valgrind: SKIP: $*"; exit 0; }
command -v valgrind >/dev/null || skip "valgrind is not installed (tests/install-deps.sh)"
for b in sandbox-run sandbox-helper sandbox-exec tests/sbx-probe; do
	[ -x "$BUILD/$b" ] || skip "$BUILD/$b is missing (make all $BUILD/tests/sbx-probe)"
done
if [ "$(id -u)" -eq 0 ]; then
	id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user" || exit 1
	runuser -u "$user" -- test -r "$0" -a -x "$BUILD/sandbox-run" ||
		skip "$user cannot read $0 or $BUILD (make check makes them readable)"
	exec runuser -u "$user" -- env BUILD="$BUILD" VALGRIND_KEEP="${VALGRIND_KEEP:-}" "$0" "$@"
fi

work=$(mktemp -d /tmp/sbx-valgrind.XXXXXX) || exit 1
[ -n "${VALGRIND_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
vg=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --suppressions="$repo/tests/valgrind/sbx.supp")
echo "valgrind: $(valgrind --version)"

# errors LOG: memcheck's reports in LOG (with or without its summary: a
# process killed by its sandbox's end writes none).
errors() {
	grep -cE '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination|Argument .* of function|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|indirectly) lost)' "$1"
}
# unknown LOG: the syscalls valgrind did not know, "437 ..." (none: empty).
unknown() {
	sed -n 's/.*WARNING: unhandled amd64-linux syscall: \([0-9]*\).*/\1/p' "$1" | sort -u | tr '\n' ' '
}

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
	if [ -n "$miss" ]; then
		echo " (tests stopped by syscalls valgrind lacks: $miss- not counted)"
	elif [ "$rc" -ne 0 ]; then
		echo " FAILED (exit $rc)"
		status=1
	else
		echo
	fi
	if [ "$n" -ne 0 ]; then
		status=1
		sed 's/^/    /' "$work/$name.vg" | head -n 60
	fi
done

# ---- 2. sandbox-run, the helper and the shim
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
seccomp = yes
CONF
# run_kind KIND REF PASS CONFIG SKIP [VALGRIND OPTION...]: sandbox-run on
# REF under valgrind, the programs matching SKIP untraced; one line per
# traced process.
run_kind() {
	local kind=$1 ref=$2 pass=$3 conf=$4 skip=$5 logs=$work/logs.$1.$3 out rc miss='' log prog n pid
	shift 5
	mkdir "$logs"
	# One log per process, by pid (the sandbox's init is pid 1 of its own
	# namespace; an exec keeps the pid). The helper closes every fd it
	# was not given, so it writes to a file by name; the shim, which
	# could not open that name again from inside the sandbox, writes to an
	# inherited fd, split by pid afterwards.
	if [ "$pass" = all ]; then
		set -- "$@" --log-file="$logs/%p.log"
	else
		set -- "$@" --log-fd=9
	fi
	out=$(SANDBOX_HELPER="$BUILD/sandbox-helper" "${vg[@]}" "$@" --trace-children=yes \
		--trace-children-skip="$skip" \
		"$BUILD/sandbox-run" --config "$conf" --image "$ref" -- cat /marker \
		2>"$work/err.$kind.$pass" 9>"$logs/all")
	rc=$?
	for pid in $(sed -n 's/^==\([0-9]*\)==.*/\1/p' "$logs/all" | sort -un); do
		grep "^==$pid==" "$logs/all" >"$logs/$pid.log"
	done
	for log in "$logs"/*.log; do
		miss="$miss$(unknown "$log")"
	done
	if [ -n "$miss" ]; then
		echo "$kind ($pass): stopped: valgrind lacks syscall(s) $miss($(tail -n 1 "$work/err.$kind.$pass"))"
	elif [ "$rc" -ne 0 ] || [ "$out" != in-the-image ]; then
		echo "$kind ($pass): sandbox-run exited $rc, printed '$out':"
		sed 's/^/    /' "$work/err.$kind.$pass"
		status=1
	fi
	for log in "$logs"/*.log; do
		prog=$(sed -n 's/^==[0-9]*== Command: \([^ ]*\).*/\1/p' "$log" | head -n 1)
		n=$(errors "$log")
		prog=$(basename "${prog:-?}")
		[ "$(basename "$log")" = 1.log ] && prog="$prog (init)"
		printf '%-9s %-10s %-24s errors %s\n' "$kind" "$pass" "$prog" "$n"
		if [ "$n" -ne 0 ]; then
			status=1
			sed 's/^/    /' "$log" | head -n 60
		fi
	done
}

# Three passes per image:
#   all     everything traced; valgrind 3.19 stops at the helper's first
#           openat2 (syscall 437) or fsopen (430)
#   run     the helper and the shim untraced: sandbox-run to the end
#   shim    the helper untraced, the shim traced, without seccomp (valgrind
#           3.19 has no seccomp(2), 317) and without undefined-value errors:
#           valgrind cannot see the static glibc's malloc and string
#           functions, which makes those reports noise; invalid accesses
#           still count
others='/bin/*,/usr/*,/sbin/*,*/squashfuse,*/mksquashfs,*/skopeo'
sed 's/^seccomp = yes$/seccomp = no/' "$work/sandbox.conf" >"$work/noseccomp.conf"
for kind in $kinds; do
	case $kind in
	dir) ref=$work/image ;;
	squashfs) ref=$work/image.sqfs ;;
	imported) ref=$work/image.tar.gz ;;
	esac
	run_kind "$kind" "$ref" all "$work/sandbox.conf" "$others"
	run_kind "$kind" "$ref" run "$work/sandbox.conf" "$others,*/sandbox-helper,*/sandbox-exec"
	run_kind "$kind" "$ref" shim "$work/noseccomp.conf" "$others,*/sandbox-helper" --undef-value-errors=no
done
[ -n "${VALGRIND_KEEP:-}" ] && echo "valgrind: logs in $work"
exit $status
