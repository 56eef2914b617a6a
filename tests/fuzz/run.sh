#!/bin/sh
# Run each libFuzzer target (tests/fuzz/fuzz_*.c) for FUZZ_SECONDS, starting
# from its seed corpus (tests/fuzz/corpus/<target>/, never written to: the
# corpus grows in a scratch copy), and print one line per target.
#   FUZZ_BUILD=build-fuzz FUZZ_SECONDS=10 tests/fuzz/run.sh [target...]
# Crashing inputs are kept in $FUZZ_OUT/<target>/ (default build-fuzz/out).
# Exit status 1 when any target crashed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
FUZZ_BUILD=${FUZZ_BUILD:-$top/build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
FUZZ_OUT=${FUZZ_OUT:-$FUZZ_BUILD/out}

if [ $# -eq 0 ]; then
	for src in "$here"/fuzz_*.c; do
		set -- "$@" "$(basename "$src" .c)"
	done
fi
if [ ! -x "$FUZZ_BUILD/$1" ]; then
	make -C "$top" fuzz-build FUZZ_BUILD="$FUZZ_BUILD" >/dev/null || exit 1
fi

status=0
for t in "$@"; do
	bin=$FUZZ_BUILD/$t
	out=$FUZZ_OUT/$t
	rm -rf "$out"
	mkdir -p "$out/corpus" "$out/artifacts" "$out/tmp"
	[ -d "$here/corpus/$t" ] && cp "$here/corpus/$t"/* "$out/corpus/" 2>/dev/null
	TMPDIR=$out/tmp "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/artifacts/" "$out/corpus" >"$out/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
	corpus=$(find "$out/corpus" -type f | wc -l)
	crashes=$(find "$out/artifacts" -type f | wc -l)
	printf '%-16s executions %-10s corpus %-6s crashes %s\n' "$t" "${execs:-?}" "$corpus" "$crashes"
	if [ "$crashes" -gt 0 ]; then
		status=1
		find "$out/artifacts" -type f | sed 's/^/    /'
		echo "    log: $out/log"
	elif [ "$rc" -ne 0 ]; then
		# No crashing input but a failed run: the target's own setup failed.
		status=1
		echo "    $t exited $rc without a crashing input; log: $out/log"
		tail -n 3 "$out/log" | sed 's/^/    /'
	fi
done
exit $status
