# Shared by the suites of images other than a plain directory (images.bats,
# registry.bats), loaded after ../lib/common. A file sets $IMAGES (the OCI
# forms of $IMG) and $FILE_CACHE (the cache its tests share) before its
# setup_file.

# prepare_suite, then $IMG in every form mkoci.sh makes in $IMAGES, and
# $FILE_CACHE made as a site's shared cache is (1777).
prepare_image_suite() {
	prepare_suite
	"$SBX_TESTS_LIB/mkoci.sh" all "$IMG" "$IMAGES"
	mkdir -m 1777 "$FILE_CACHE"
}

need_fuse() {
	[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
		skip "/dev/fuse is not read-writable by $(id -un) (squashfuse needs it; tests/run-all as root makes it 0666, as distributions ship it)"
}

# assert_image_runs REF [SANDBOX-RUN OPTIONS...]: the test image's marker is
# read inside the image REF.
assert_image_runs() {
	local ref=$1
	shift
	run_sbx "$@" --image "$ref" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
}

# assert_second_use_is_a_cache_hit REF: with this test's own cache (the
# file's cache_policy), the first use of REF imports it, the second does not.
assert_second_use_is_a_cache_hit() {
	local conf
	conf=$(cache_policy)
	run_sbx --config "$conf" --image "$1" -- true
	assert_success
	assert_imports 1
	assert_image_runs "$1" --config "$conf"
	assert_imports 0
}

import_count() {
	grep -c '^sandbox: importing ' <<<"$1" || true
}

assert_imports() {
	local n
	n=$(import_count "$stderr")
	if [ "$n" -ne "$1" ]; then
		echo "expected $1 \"sandbox: importing\" line(s), saw $n" >&2
		show_run
		return 1
	fi
}

# An import (or pull) refused midway: exit 125, and after the progress lines
# of the import ("sandbox: importing ..." and the like) one last
# "sandbox: ..." line naming every word.
assert_import_refused() {
	local word ok=1 n=${#stderr_lines[@]} i last
	[ "$status" -eq 125 ] || ok=0
	[ "$n" -ge 1 ] || ok=0
	last=${stderr_lines[$((n - 1))]:-}
	[[ "$last" == "sandbox: "* ]] || ok=0
	for word in "$@"; do
		[[ "$last" == *"$word"* ]] || ok=0
	done
	for ((i = 0; i < n - 1; i++)); do
		[[ "${stderr_lines[$i]}" == "sandbox: "* ]] && [ "${stderr_lines[$i]}" != "$last" ] || ok=0
	done
	if [ "$ok" -ne 1 ]; then
		echo "expected exit 125, progress lines, then one \"sandbox: ...\" line naming: $*" >&2
		show_run
		return 1
	fi
}

# assert_16_first_uses_import_once CONF IMAGE: 16 sandboxes started at once
# on IMAGE (not yet in the cache of policy CONF) all print the image's
# marker, and only one of them imports it.
assert_16_first_uses_import_once() {
	local conf=$1 image=$2 i n rc failed=0
	local -a pids=()
	for i in $(seq 16); do
		sbx --config "$conf" --image "$image" -- cat /etc/sbx-image-marker \
			>"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" 3>&- &
		pids+=($!)
	done
	for i in $(seq 16); do
		rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		if [ "$rc" -ne 0 ] || [ "$(cat "$BATS_TEST_TMPDIR/out.$i")" != sbx-test-image ]; then
			echo "run $i: exit $rc, stdout: $(cat "$BATS_TEST_TMPDIR/out.$i")" >&2
			sed 's/^/  /' "$BATS_TEST_TMPDIR/err.$i" >&2
			failed=1
		fi
	done
	n=$(cat "$BATS_TEST_TMPDIR"/err.* | grep -c '^sandbox: importing ' || true)
	if [ "$n" -ne 1 ]; then
		echo "expected one \"sandbox: importing\" line in all 16 runs, saw $n:" >&2
		cat "$BATS_TEST_TMPDIR"/err.* >&2
		failed=1
	fi
	[ "$failed" -eq 0 ]
}

# The published entries of a cache: <cache>/<uid>/images/<hex>/ with an
# image.sqfs, one path a line.
cache_entries() {
	local d
	for d in "$1/$(id -u)"/images/*/; do
		[ -f "$d/image.sqfs" ] || continue
		[[ "$(basename "$d")" =~ ^[0-9a-f]+$ ]] || continue
		echo "${d%/}"
	done
}

# What a cache holds besides its layout (images/ tmp/ locks/ refs/, see
# lib/image/cache.h), its published entries, locks and refs: an import in progress
# (tmp/<hex>.<host>.<pid>), or what a dead one left. The cache of uid
# $LEFTOVER_UID when set (root looking at a user's cache).
cache_strays() {
	local u=$1/${LEFTOVER_UID:-$(id -u)} p rel entry
	[ -d "$u" ] || return 0
	find "$u" -mindepth 1 | while IFS= read -r p; do
		rel=${p#"$u"/}
		case $rel in
		images | tmp | locks | locks/* | refs | refs/*) continue ;;
		images/*)
			entry=${rel#images/}
			entry=${entry%%/*}
			[[ "$entry" =~ ^[0-9a-f]+$ ]] && [ -f "$u/images/$entry/image.sqfs" ] && continue
			;;
		esac
		echo "$rel"
	done
}

# SIGKILL this test's tagged processes and all their descendants at once
# (a daemonised child may carry no tag, but is found by its parent first).
kill_run() {
	local -A victims=()
	local p stat ppid changed=1 pid
	for pid in $(sandbox_processes | awk '{ print $1 }'); do
		victims[$pid]=1
	done
	while [ "$changed" -eq 1 ]; do
		changed=0
		for p in /proc/[0-9]*; do
			pid=${p#/proc/}
			[ -z "${victims[$pid]:-}" ] || continue
			stat=$(cat "$p/stat" 2>/dev/null) || continue
			stat=${stat##*) }
			ppid=$(cut -d' ' -f2 <<<"$stat")
			if [ -n "${victims[$ppid]:-}" ]; then
				victims[$pid]=1
				changed=1
			fi
		done
	done
	[ "${#victims[@]}" -gt 0 ] || return 0
	kill -KILL "${!victims[@]}" 2>/dev/null || true
}

test_processes_alive() {
	[ -n "$(sandbox_processes)" ]
}

not() {
	! "$@"
}
