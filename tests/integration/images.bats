#!/usr/bin/env bats
# Images other than a plain directory, without a registry: squashfs files
# (mounted with squashfuse, never unpacked), rootfs tarballs, `docker save`
# archives and OCI layouts/archives (imported once into the user's cache as a
# squashfs), the OCI config (Env, WorkingDir, Entrypoint/Cmd), the cache's
# life (hits, ls/rm/gc, concurrent first uses, a corrupted
# entry) and hostile archives (refused, or neutralised with nothing written
# outside the cache entry). A killed import: tests/faults/sandbox-run.bats.
#
# squashfuse runs as the test user inside its user namespace and needs
# /dev/fuse read-writable by it. Distributions ship /dev/fuse 0666; this
# machine has it 0600, so tests/run-all (as root) makes it 0666 before the
# suite. Every test that mounts an image skips, saying so, when it is not.

load ../lib/common
load ../lib/images

setup_file() {
	is_root && return 0
	prepare_image_suite
	sed -i "/^\[images\]/a cache_dir = $FILE_CACHE" "$SBX_CONFIG"

	# The host directory the hostile archives aim at: in $HOME, which the
	# sandbox does not mount, writable by the test user so an escape shows.
	VICTIM=$(mktemp -d "$HOME/sbx-victim.XXXXXX")
	echo "$VICTIM" >"$BATS_FILE_TMPDIR/victim"
	echo "victim" >"$VICTIM/existing"
	"$SBX_TESTS_LIB/hostile.py" all "$HOSTILE" --victim "$VICTIM" --base "$IMG" --probe "$SBX_PROBE"
}

teardown_file() {
	local victim
	victim=$(cat "$BATS_FILE_TMPDIR/victim" 2>/dev/null) || return 0
	[ -z "$victim" ] || rm -rf "$victim"
}

IMAGES=$BATS_FILE_TMPDIR/images
HOSTILE=$BATS_FILE_TMPDIR/hostile
# The cache shared by the tests that do not count imports.
FILE_CACHE=$BATS_FILE_TMPDIR/cache

setup() {
	if is_root; then
		skip "run as an unprivileged user (tests/run-all does this)"
	fi
	cd "$BATS_TEST_TMPDIR"
	VICTIM=$(cat "$BATS_FILE_TMPDIR/victim")
	# A cache of this test's own, for the tests that count imports.
	CACHE=$BATS_TEST_TMPDIR/cache
}

# ---------------------------------------------------------------- helpers

# cache_policy SECTION.KEY=VALUE...: the suite's policy with this test's own
# cache ($CACHE); prints the file's path.
cache_policy() {
	mkdir -p -m 1777 "$CACHE"
	policy images.cache_dir="$CACHE" "$@"
}

# The short digest of the "sandbox: imported REF as sha256:<12 hex>" line.
imported_digest() {
	sed -n 's/^sandbox: imported .* as sha256:\([0-9a-f]\{12\}\).*/\1/p' <<<"$1" | tail -n 1
}

# Bytes of every published entry together.
cache_bytes() {
	local total=0 e
	while IFS= read -r e; do
		[ -n "$e" ] || continue
		total=$((total + $(du -sb "$e" | cut -f1)))
	done < <(cache_entries "$1")
	echo "$total"
}

# This user's squashfuse daemons that belong to this test: tagged, or
# naming the image on their command line.
squashfuse_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ -O "$p" ] || continue
		[[ "$(cat "$p/comm" 2>/dev/null)" == squashfuse* ]] || continue
		if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "SBX_TEST_TAG=$SBX_TEST_TAG" ||
			tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$1"; then
			echo "${p#/proc/}"
		fi
	done
}

squashfuse_running() {
	[ -n "$(squashfuse_pids "$1")" ]
}

# A squashfs of the test image plus one file with a name found nowhere else.
make_canary_squashfs() {
	CANARY=sbx-canary-$RANDOM$RANDOM
	local src=$BATS_TEST_TMPDIR/canary-src
	cp -a "$IMG" "$src"
	echo "canary" >"$src/$CANARY"
	SQFS=$BATS_TEST_TMPDIR/canary.sqfs
	"$SBX_TESTS_LIB/mkoci.sh" squashfs "$src" "$SQFS"
	rm -rf "$src"
}

# ---------------------------------------------------------------- kinds

@test "a squashfs image runs" {
	need_fuse
	assert_image_runs "$IMAGES/image.sqfs"
}

@test "a squashfs image is mounted, not imported: no progress line and no cache entry" {
	need_fuse
	make_canary_squashfs
	run_sbx --config "$(cache_policy)" --image "$SQFS" -- cat "/$CANARY"
	assert_success
	assert_output "canary"
	assert_imports 0
	assert_equal "" "$(cache_entries "$CACHE")" "cache entries"
}

@test "a squashfs image is not unpacked anywhere on the host" {
	need_fuse
	make_canary_squashfs
	run_sbx --config "$(cache_policy)" --image "$SQFS" -- cat "/$CANARY"
	assert_success
	assert_equal "" "$(find /tmp /var/tmp "$HOME" -xdev -name "$CANARY" 2>/dev/null || true)" \
		"copies of the image's files on the host"
}

@test "the squashfuse daemon lives while the sandbox runs and ends with it" {
	need_fuse
	start_sbx --image "$IMAGES/image.sqfs" -- sleep 3
	wait_for squashfuse_running "$IMAGES/image.sqfs"
	wait_exit "$SBX_JOB"
	assert_success
	wait_for not squashfuse_running "$IMAGES/image.sqfs"
}

# Some process of this test has a root that shows the file $1: the
# sandbox's command runs.
rooted_in_image() {
	local p
	for p in $(sandbox_processes | awk '{ print $1 }'); do
		[ ! -e "/proc/$p/root/$1" ] || return 0
	done
	return 1
}

@test "the squashfuse daemon keeps the host's root while the sandbox runs" {
	# pid 1's pivot_root moves every root in its mount namespace that
	# stood in the old one: a daemon there would look up its own files on
	# the mount it serves (squashfuse 0.5 then hangs when stopped).
	need_fuse
	make_canary_squashfs
	start_sbx --image "$SQFS" -- sleep 30
	wait_for squashfuse_running "$SQFS"
	wait_for rooted_in_image "$CANARY"
	local daemon
	daemon=$(squashfuse_pids "$SQFS")
	[ -e "/proc/$daemon/root$SQFS" ] || { echo "the image file is not under the daemon's root" >&2; false; }
	assert_equal "" "$(ls -d "/proc/$daemon/root/$CANARY" "/proc/$daemon/cwd/$CANARY" 2>/dev/null || true)" \
		"the image's files under the daemon's root or cwd"
	kill "$SBX_PID"
	wait_exit "$SBX_JOB" || true
	wait_for not squashfuse_running "$SQFS"
}

@test "a .tar.gz root filesystem runs" {
	need_fuse
	assert_image_runs "$IMAGES/rootfs.tar.gz"
}

@test "a .tar.zst root filesystem runs" {
	need_fuse
	assert_image_runs "$IMAGES/rootfs.tar.zst"
}

@test "a docker save archive runs" {
	need_fuse
	assert_image_runs "$IMAGES/docker.tar"
}

@test "an OCI layout directory runs" {
	need_fuse
	assert_image_runs "$IMAGES/oci-layered"
}

@test "an OCI archive runs" {
	need_fuse
	assert_image_runs "$IMAGES/oci.tar"
}

@test "a file and a directory deleted by the upper layer are absent" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" -- sh -c \
		'for p in /etc/sbx-delete-me /opt/sbx-delete-dir; do [ -e $p ] && echo "present: $p"; done; echo done'
	assert_success
	assert_output "done"
}

@test "a file added by the upper layer is present" {
	need_fuse
	run_sbx --image "$IMAGES/docker.tar" -- cat /etc/sbx-layer2-added
	assert_success
	assert_output "added by layer 2"
}

@test "import progress ends with an 'imported ... as sha256:' line" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "$IMAGES/rootfs.tar.gz" -- true
	assert_success
	assert_imports 1
	assert_stderr_contains "sandbox: importing $IMAGES/rootfs.tar.gz"
	[[ "${stderr_lines[-1]}" =~ ^sandbox:\ imported\ .*\ as\ sha256:[0-9a-f]{12}\ \(.*\)\ in\ .*s$ ]] || {
		echo "the last stderr line is not the 'imported' line" >&2
		show_run
		false
	}
}

@test "an image file whose name holds a newline and a forged 'ready' line imports, runs, and is shown escaped" {
	need_fuse
	# Progress has its own pipe and the helper's record is one escaped line:
	# neither the name nor the progress can pass for the helper's reply.
	local forged="$BATS_TEST_TMPDIR/image
ready 1 1 -
.tar"
	cp "$IMAGES/rootfs.tar.gz" "$forged"
	run_sbx --config "$(cache_policy)" --image "$forged" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
	assert_imports 1
	assert_stderr_contains "sandbox: importing $BATS_TEST_TMPDIR/image\x0aready 1 1 -\x0a.tar ("
	# Every stderr line is progress: none starts with the forged words.
	local line
	for line in "${stderr_lines[@]}"; do
		[[ "$line" == "sandbox: "* ]] || { echo "a line of its own: '$line'" >&2; show_run; false; }
	done
}

# ---------------------------------------------------------------- OCI config

@test "the image's Env is set inside" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" -- sh -c 'echo "$IMAGE_VAR"'
	assert_success
	assert_output "from-image"
}

@test "the image's PATH replaces the built-in PATH" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" -- sh -c 'echo "$PATH"; sbx-only-in-image'
	assert_success
	assert_output "/opt/sbx-imgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
only in the image"
}

@test "the sandbox user's HOME, USER and LOGNAME beat the image's" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" -- sh -c 'echo "$HOME $USER $LOGNAME"'
	assert_success
	assert_output "$HOME $(id -un) $(id -un)"
}

@test "the caller's variable beats the image's Env" {
	need_fuse
	IMAGE_VAR=from-caller run_sbx --image "$IMAGES/oci-layered" -- sh -c 'echo "$IMAGE_VAR"'
	assert_success
	assert_output "from-caller"
}

@test "the image's PATH beats the caller's unless --env PATH names it" {
	need_fuse
	PATH=/sbx-host-only:$PATH run_sbx --image "$IMAGES/oci-layered" -- sh -c 'echo "$PATH"'
	assert_success
	assert_output "/opt/sbx-imgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	PATH=/sbx-host-only:$PATH run_sbx --image "$IMAGES/oci-layered" --env PATH -- /bin/sh -c 'echo "$PATH"'
	assert_success
	assert_output "/sbx-host-only:$PATH"
}

@test "a variable the site denies leaves the image's value" {
	need_fuse
	local conf
	conf=$(policy images.cache_dir="$FILE_CACHE" environment.deny="IMAGE_*")
	IMAGE_VAR=from-caller run_sbx --config "$conf" --image "$IMAGES/oci-layered" -- sh -c 'echo "$IMAGE_VAR"'
	assert_success
	assert_output "from-image"
}

@test "with mode = clean a passed-through variable of the caller beats the image's Env" {
	need_fuse
	local conf
	conf=$(policy images.cache_dir="$FILE_CACHE" environment.mode=clean environment.passthrough="TERM IMAGE_VAR")
	IMAGE_VAR=from-caller run_sbx --config "$conf" --image "$IMAGES/oci-layered" -- sh -c 'echo "$IMAGE_VAR"'
	assert_success
	assert_output "from-caller"
	OTHER=x run_sbx --config "$conf" --image "$IMAGES/oci-layered" -- sh -c 'echo "$IMAGE_VAR"'
	assert_output "from-image"
}

@test "the sandbox user's identity beats the caller's USER" {
	need_fuse
	USER=caller-user run_sbx --image "$IMAGES/oci-layered" -- sh -c 'echo "$USER"'
	assert_success
	assert_output "$(id -un)"
}

@test "--env USER=... beats the sandbox user's identity" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" --env USER=chosen -- sh -c 'echo "$USER"'
	assert_success
	assert_output "chosen"
}

@test "--env beats the caller's variable and the image's Env" {
	need_fuse
	IMAGE_VAR=from-caller run_sbx --image "$IMAGES/oci-layered" \
		--env IMAGE_VAR=from-flag -- sh -c 'echo "$IMAGE_VAR"'
	assert_success
	assert_output "from-flag"
}

@test "the image's WorkingDir beats the caller's cwd" {
	need_fuse
	cd /etc
	run_sbx --image "$IMAGES/oci-layered" -- pwd
	assert_success
	assert_output "/srv/sbx-workdir"
}

@test "--workdir beats the image's WorkingDir" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" --workdir /tmp -- pwd
	assert_success
	assert_output "/tmp"
}

@test "without a WorkingDir the caller's cwd is used when it exists inside" {
	need_fuse
	cd /etc
	run_sbx --image "$IMAGES/rootfs.tar.gz" -- pwd
	assert_success
	assert_output "/etc"
}

@test "without a WorkingDir a cwd that is not in the image gives /" {
	need_fuse
	run_sbx --image "$IMAGES/rootfs.tar.gz" -- pwd
	assert_success
	assert_output "/"
}

@test "the Entrypoint is off by default" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" -- echo hello
	assert_success
	assert_output "hello"
}

@test "--entrypoint runs the Entrypoint with the command as its arguments" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" --entrypoint -- echo hello
	assert_success
	assert_output "sbx-entrypoint ran
hello"
}

@test "--entrypoint without a command runs the Entrypoint with the image's Cmd" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered" --entrypoint
	assert_success
	assert_output "sbx-entrypoint ran
sbx-image-cmd ran"
}

@test "without a command the image's Cmd runs" {
	need_fuse
	run_sbx --image "$IMAGES/oci-layered"
	assert_success
	assert_output "sbx-image-cmd ran"
}

@test "images.entrypoint = yes runs the Entrypoint by default" {
	need_fuse
	run_sbx --config "$(policy images.cache_dir="$FILE_CACHE" images.entrypoint=yes)" \
		--image "$IMAGES/oci-layered" -- echo hello
	assert_success
	assert_output "sbx-entrypoint ran
hello"
}

@test "--no-entrypoint overrides images.entrypoint = yes" {
	need_fuse
	run_sbx --config "$(policy images.cache_dir="$FILE_CACHE" images.entrypoint=yes)" \
		--image "$IMAGES/oci-layered" --no-entrypoint -- echo hello
	assert_success
	assert_output "hello"
}

# ---------------------------------------------------------------- the cache

@test "the second use of an archive is a cache hit" {
	need_fuse
	assert_second_use_is_a_cache_hit "$IMAGES/rootfs.tar.gz"
}

@test "the user's cache directory is mode 0700" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "$IMAGES/rootfs.tar.gz" -- true
	assert_success
	assert_equal 700 "$(stat -c %a "$CACHE/$(id -u)")" "mode of $CACHE/$(id -u)"
}

@test "an entry holds image.sqfs, config.json and source" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "$IMAGES/docker.tar" -- true
	assert_success
	local entry
	entry=$(cache_entries "$CACHE")
	[ -n "$entry" ] || { echo "no entry in $CACHE" >&2; find "$CACHE" >&2; false; }
	local f
	for f in image.sqfs config.json source; do
		[ -f "$entry/$f" ] || { echo "no $f in $entry:" >&2; ls -l "$entry" >&2; false; }
	done
}

@test "cache ls lists an imported image" {
	need_fuse
	local conf digest
	conf=$(cache_policy)
	run_sbx --config "$conf" --image "$IMAGES/rootfs.tar.gz" -- true
	assert_success
	digest=$(imported_digest "$stderr")
	[ -n "$digest" ] || { show_run; false; }
	run_sbx cache --config "$conf" ls
	assert_success
	assert_output_contains "$digest"
}

@test "cache rm removes an image and its next use imports it again" {
	need_fuse
	local conf digest
	conf=$(cache_policy)
	run_sbx --config "$conf" --image "$IMAGES/rootfs.tar.gz" -- true
	assert_success
	digest=$(imported_digest "$stderr")
	[ -n "$digest" ] || { show_run; false; }
	run_sbx cache --config "$conf" rm "$digest"
	assert_success
	run_sbx cache --config "$conf" ls
	assert_success
	refute_output_contains "$digest"
	assert_equal "" "$(cache_entries "$CACHE")" "cache entries"
	run_sbx --config "$conf" --image "$IMAGES/rootfs.tar.gz" -- true
	assert_success
	assert_imports 1
}

@test "cache rm --all empties the cache" {
	need_fuse
	local conf
	conf=$(cache_policy)
	run_sbx --config "$conf" --image "$IMAGES/rootfs.tar.gz" -- true
	run_sbx --config "$conf" --image "$IMAGES/docker.tar" -- true
	assert_success
	run_sbx cache --config "$conf" rm --all
	assert_success
	assert_equal "" "$(cache_entries "$CACHE")" "cache entries"
}

@test "cache gc --max-size frees the cache down to the cap" {
	need_fuse
	local conf ref e size max=0 min=0 cap n
	conf=$(cache_policy)
	for ref in rootfs.tar.gz rootfs.tar.zst docker.tar; do
		run_sbx --config "$conf" --image "$IMAGES/$ref" -- true
		assert_success
		sleep 1 # distinct last-use times
	done
	assert_equal 3 "$(cache_entries "$CACHE" | wc -l)" "entries before gc"
	while IFS= read -r e; do
		size=$(du -sb "$e" | cut -f1)
		[ "$size" -gt "$max" ] && max=$size
		{ [ "$min" -eq 0 ] || [ "$size" -lt "$min" ]; } && min=$size
	done < <(cache_entries "$CACHE")
	# Room for the largest entry, not for two.
	cap=$((max + min / 2))
	run_sbx cache --config "$conf" gc --max-size "$cap"
	assert_success
	n=$(cache_entries "$CACHE" | wc -l)
	[ "$n" -ge 1 ] && [ "$n" -lt 3 ] || { echo "$n entries left after gc --max-size $cap" >&2; false; }
	[ "$(cache_bytes "$CACHE")" -le "$cap" ] || {
		echo "$(cache_bytes "$CACHE") bytes left after gc --max-size $cap" >&2
		false
	}
}

@test "16 concurrent first uses of one archive import it once and all succeed" {
	need_fuse
	assert_16_first_uses_import_once "$(cache_policy)" "$IMAGES/docker.tar"
}

@test "a truncated image.sqfs in the cache is imported again" {
	need_fuse
	local conf entry
	conf=$(cache_policy)
	run_sbx --config "$conf" --image "$IMAGES/rootfs.tar.zst" -- true
	assert_success
	entry=$(cache_entries "$CACHE")
	[ -n "$entry" ] || { echo "no entry in $CACHE" >&2; false; }
	chmod u+w "$entry/image.sqfs"
	truncate -s 4096 "$entry/image.sqfs"
	assert_image_runs "$IMAGES/rootfs.tar.zst" --config "$conf"
	assert_imports 1
}

@test "sandbox-run info reports on /dev/fuse" {
	run_sbx info
	[[ "$output$stderr" == *"/dev/fuse"* ]] || { show_run; false; }
}

# ---------------------------------------------------------------- hostile

# This test's tmpdir (the cache's parent) but the cache and bats' own files.
tmpdir_listing() {
	find "$BATS_TEST_TMPDIR" -path "$CACHE" -prune -o ! -name 'separate-stderr-*' -print | LC_ALL=C sort
}

# hostile_run CASE CMD...: run the hostile image CASE (with its own cache)
# after recording what must not change.
hostile_run() {
	local ref=$HOSTILE/$1 conf
	shift
	[ -e "$ref" ] || ref=$ref.tar
	conf=$(cache_policy)
	VICTIM_BEFORE=$(tree_snapshot "$VICTIM")
	TMPDIR_BEFORE=$(tmpdir_listing)
	HOME_BEFORE=$(ls -A "$HOME")
	run_sbx --config "$conf" --image "$ref" -- "$@"
}

# Nothing outside the cache entry: the victim, the cache's parent (this
# test's tmpdir), $HOME, and no escaped file anywhere in the cache.
assert_nothing_escaped() {
	assert_equal "$VICTIM_BEFORE" "$(tree_snapshot "$VICTIM")" "the victim directory"
	assert_equal "$TMPDIR_BEFORE" "$(tmpdir_listing)" "the cache's parent directory"
	assert_equal "$HOME_BEFORE" "$(ls -A "$HOME")" "the entries of \$HOME"
	local found
	found=$(find "$CACHE" /tmp /var/tmp "$HOME" -xdev \( -name 'sbx-escape-*' -o -name sbx-pwned \
		-o -name sbx-absolute \) 2>/dev/null || true)
	assert_equal "" "$found" "escaped files"
}

# Refused with one line naming the words, or run (the neutralised image).
assert_refused_or_ran() {
	if [ "$status" -eq 125 ]; then
		assert_import_refused "$@"
	else
		assert_success
	fi
}

# hostile_refused_or_harmless CASE WORD OUTPUT CMD...: the hostile image CASE
# is refused naming WORD, or CMD prints OUTPUT in it; either way nothing
# outside the cache entry changed.
hostile_refused_or_harmless() {
	local case=$1 word=$2 want=$3
	shift 3
	hostile_run "$case" "$@"
	assert_refused_or_ran "$word"
	[ "$status" -eq 125 ] || assert_output "$want"
	assert_nothing_escaped
}

@test "hostile: a ../ member is refused and nothing is written outside" {
	need_fuse
	hostile_run dotdot true
	assert_import_refused "../sbx-escape-1" "leaves the image"
	assert_nothing_escaped
}

@test "hostile: an absolute member is refused or stays inside the image" {
	need_fuse
	hostile_refused_or_harmless absolute "sbx-absolute" "absolute" cat "$VICTIM/sbx-absolute"
}

@test "hostile: a write through an absolute symlink lands inside the image" {
	need_fuse
	hostile_refused_or_harmless symlink-abs "sbx-evil" "pwned through a symlink" cat /sbx-evil/sbx-pwned
}

@test "hostile: a write through a ../../.. symlink lands inside the image" {
	need_fuse
	hostile_refused_or_harmless symlink-climb "sbx-evil" "pwned through a symlink" cat /sbx-evil/sbx-pwned
}

@test "hostile: a hard link climbing out of the image is refused" {
	need_fuse
	hostile_run hardlink true
	assert_import_refused "sbx-hardlink"
	assert_nothing_escaped
}

@test "hostile: a hard link to an absolute host path is refused" {
	need_fuse
	hostile_run hardlink-abs true
	assert_import_refused "sbx-hardlink"
	assert_nothing_escaped
}

@test "hostile: device nodes are left out of the image" {
	need_fuse
	hostile_run devices sh -c 'ls -A /sbx-dev 2>/dev/null; cat /etc/sbx-image-marker'
	assert_success
	assert_output "sbx-test-image"
	assert_nothing_escaped
}

@test "hostile: a 1 TiB sparse file is refused naming images.max_unpacked_size" {
	need_fuse
	hostile_run sparse true
	assert_import_refused "images.max_unpacked_size"
	assert_nothing_escaped
	local used
	used=$(du -sb "$CACHE" | cut -f1)
	[ "$used" -lt $((64 << 20)) ] || { echo "the cache holds $used bytes after a refused import" >&2; false; }
}

@test "hostile: the setuid bits of an image file are stripped" {
	need_fuse
	run_sbx --image "$HOSTILE/setuid.tar" -- stat -c %a /bin/sbx-suid-probe
	assert_success
	if (((8#$output & 8#6000) != 0)); then
		echo "the setuid-root probe kept its set-id bits" >&2
		show_run
		false
	fi
}

@test "hostile: a setuid-root probe runs with the caller's euid" {
	need_fuse
	# The file it creates belongs to its effective uid.
	run_sbx --image "$HOSTILE/setuid.tar" -- sh -c \
		'/bin/sbx-suid-probe write /tmp/made >/dev/null && stat -c %u /tmp/made'
	assert_success
	assert_output "$(id -u)"
}

@test "hostile: a setuid-root probe runs with no_new_privs and no capabilities" {
	need_fuse
	run_sbx --image "$HOSTILE/setuid.tar" -- /bin/sbx-suid-probe status
	assert_success
	assert_output_contains "CapEff: 0000000000000000"
	assert_output_contains "NoNewPrivs: 1"
}

@test "hostile: an OCI whiteout '.wh..' is refused or harmless" {
	need_fuse
	hostile_refused_or_harmless oci-wh-dotdot ".wh.." "sbx-test-image" cat /etc/sbx-image-marker
}

@test "hostile: an OCI whiteout '../.wh.existing' is refused or harmless" {
	need_fuse
	hostile_refused_or_harmless oci-wh-parent ".wh.existing" "sbx-test-image" cat /etc/sbx-image-marker
}

@test "hostile: an OCI whiteout climbing to a host file is refused or harmless" {
	need_fuse
	hostile_refused_or_harmless oci-wh-climb ".wh.existing" "sbx-test-image" cat /etc/sbx-image-marker
}

@test "hostile: an OCI whiteout through a symlinked dir deletes no host file" {
	need_fuse
	hostile_refused_or_harmless oci-wh-symlink "sbx-evil" "sbx-test-image" cat /etc/sbx-image-marker
}

@test "hostile: an opaque whiteout through a symlinked dir empties no host dir" {
	need_fuse
	hostile_refused_or_harmless oci-wh-opaque "sbx-evil" "sbx-test-image" cat /etc/sbx-image-marker
}
