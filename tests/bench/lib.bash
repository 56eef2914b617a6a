# Shared by the benchmark scripts (tests/bench/): measure with hyperfine,
# keep the means, print ratios. Never asserts a timing.
#
# Needs: S (a scratch directory of the caller's), RUNS (runs per measurement).

declare -A MEAN

# measure NAME CMD...: median wall time in ms of CMD (hyperfine -N, no
# shell), stored in MEAN[NAME]; "failed" (with the reason printed) when CMD
# fails. The median, not the mean: on a shared machine a few runs that
# waited for a CPU move the mean far more than the median.
# PREPARE, when set, is hyperfine's --prepare (run before every run).
measure() {
	local name=$1 json=$S/hf.json cmd
	shift
	if ! "$@" >/dev/null 2>"$S/err"; then
		MEAN[$name]=failed
		printf '  %-44s failed: %s\n' "$name" "$(grep -m1 . "$S/err")"
		return
	fi
	cmd=$(printf '%q ' "$@")
	local -a prep=()
	[ -z "${PREPARE:-}" ] || prep=(--prepare "$PREPARE")
	if ! hyperfine -N --style none --warmup "${WARMUP:-3}" --runs "$RUNS" "${prep[@]}" \
		--export-json "$json" "$cmd" >/dev/null 2>"$S/err"; then
		MEAN[$name]=failed
		printf '  %-44s failed: %s\n' "$name" "$(grep -m1 . "$S/err")"
		return
	fi
	local med mean sd min
	read -r med mean sd min < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.1f %.1f %.1f %.1f" % (r["median"] * 1000, r["mean"] * 1000, (r.get("stddev") or 0) * 1000,
                               r["min"] * 1000))' "$json")
	MEAN[$name]=$med
	printf '  %-44s %8s ms  (mean %s ± %s, min %s)\n' "$name" "$med" "$mean" "$sd" "$min"
}

# ratio A B: A/B with two decimals, or "n/a".
ratio() {
	python3 -c 'import sys
try:
    print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))
except (ValueError, ZeroDivisionError):
    print("n/a")' "$1" "$2"
}

# minus A B: A - B in ms, or "n/a".
minus() {
	python3 -c 'import sys
try:
    print("%.1f" % (float(sys.argv[1]) - float(sys.argv[2])))
except ValueError:
    print("n/a")' "$1" "$2"
}

# row LABEL A B: "LABEL  A/B" for the ratio tables.
row() {
	printf '  %-44s %6s\n' "$1" "$(ratio "${MEAN[$2]:-n/a}" "${MEAN[$3]:-n/a}")"
}

# skipped NAME REASON
skipped() {
	MEAN[$1]=n/a
	printf '  %-44s SKIP: %s\n' "$1" "$2"
}
