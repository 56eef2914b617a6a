# Shared helpers for the sandbox-run integration tests (bats 1.5+).
#
# A test file does `load ../lib/common` and then gets:
#   $IMG          a busybox image with /bin/sbx-probe, built once per file
#   $SBX_CONFIG   a permissive site policy, used unless a test passes --config
#   sbx ARGS...   "$BUILD/sandbox-run" ARGS... (with --config "$SBX_CONFIG")
#   run_sbx ARGS  `run --separate-stderr sbx ARGS...`: $status, $output, $stderr
#   probe ARGS    the host's copy of sbx-probe, to see what an unsandboxed
#                 process gets
#   assert_*      assertions that print what they saw when they fail
# Tests must run as an unprivileged user: tests/run-all arranges that.

bats_require_minimum_version 1.5.0

SBX_TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SBX_REPO=$(cd "$SBX_TESTS_LIB/../.." && pwd)
BUILD=${BUILD:-$SBX_REPO/build}
export BUILD
export SANDBOX_HELPER=${SANDBOX_HELPER:-$BUILD/sandbox-helper}
# selftest's probe, which an install puts beside the helper
export SANDBOX_PROBE=${SANDBOX_PROBE:-$BUILD/sandbox-probe}
SBX_PROBE=$BUILD/tests/sbx-probe

IMG=$BATS_FILE_TMPDIR/image
SBX_CONFIG=$BATS_FILE_TMPDIR/sandbox.conf

# pids of host processes a test started in the background; teardown ends them.
SBX_BG_PIDS=()

# sandbox-run, the helper, the sandbox's init and the exec shim inherit this
# from sbx, which tells this test's sandbox processes from anyone else's.
SBX_TEST_TAG=sbx-test:${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}

is_root() {
	[ "$(id -u)" -eq 0 ]
}

# ---------------------------------------------------------------- fixtures

# The default policy of the suite: everything a test may ask for is allowed,
# and the defaults are the documented ones (read-only, no network, the
# caller's environment).
write_default_config() {
	cat >"$1" <<-'EOF'
	# slurm-sandbox test suite: permissive limits, documented defaults
	[images]
	allowed = /

	[mounts]
	allowed_sources = /
	mount_home = no
	allow_mount_home = yes

	[rootfs]
	writable = no
	allow_writable = yes
	sys = ro
	tmp = private
	shm = private

	[namespaces]
	net = none
	allow_net_host = yes
	allow_hostname = yes
	remap_root = no
	allow_remap_root = yes

	[environment]
	mode = inherit
	passthrough = TERM
	deny =
	allow_user_env = yes

	[security]
	seccomp = yes
	EOF
}

# Write a policy file from stdin (a test's own config) and print its path.
config_file() {
	local f
	f=$(mktemp "$BATS_TEST_TMPDIR/sandbox.XXXXXX.conf")
	cat >"$f"
	echo "$f"
}

# policy SECTION.KEY=VALUE...: the suite's default policy with those keys set
# (replaced or added); prints the file's path.
policy() {
	local f kv section key value
	f=$(mktemp "$BATS_TEST_TMPDIR/policy.XXXXXX.conf")
	write_default_config "$f"
	for kv in "$@"; do
		section=${kv%%.*}
		key=${kv#*.}
		key=${key%%=*}
		value=${kv#*=}
		awk -v sect="[$section]" -v key="$key" -v value="$value" '
			/^\[/ {
				if (inside && !done) { print key " = " value; done = 1 }
				inside = ($0 == sect)
			}
			inside && $1 == key { if (!done) print key " = " value; done = 1; next }
			{ print }
			END {
				if (!done) {
					if (!inside) print sect
					print key " = " value
				}
			}' "$f" >"$f.new"
		mv "$f.new" "$f"
	done
	echo "$f"
}

make_image() {
	"$SBX_TESTS_LIB/mkimage.sh" "$@"
}

# What every file's setup_file does (as the unprivileged user): the build
# checked, $IMG made and $SBX_CONFIG written.
prepare_suite() {
	local bin
	for bin in "$BUILD/sandbox-run" "$SANDBOX_HELPER" "$SBX_PROBE"; do
		if [ ! -x "$bin" ]; then
			echo "$bin is missing: build first (make all $BUILD/tests/sbx-probe)" >&2
			return 1
		fi
	done
	make_image "$IMG"
	write_default_config "$SBX_CONFIG"
}

setup_file() {
	is_root && return 0
	prepare_suite
}

setup() {
	if is_root; then
		skip "run as an unprivileged user (tests/run-all does this)"
	fi
	# A host directory that does not exist in the image, so the sandbox
	# starts in / unless a test says otherwise.
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_background
}

# ---------------------------------------------------------------- running

sbx() {
	local a
	if [ "${1:-}" != info ]; then
		for a in "$@"; do
			case $a in
			--) break ;;
			--config | --config=*)
				SBX_TEST_TAG=$SBX_TEST_TAG "$BUILD/sandbox-run" "$@"
				return
				;;
			esac
		done
		set -- --config "$SBX_CONFIG" "$@"
	fi
	SBX_TEST_TAG=$SBX_TEST_TAG "$BUILD/sandbox-run" "$@"
}

run_sbx() {
	run --separate-stderr sbx "$@"
}

probe() {
	"$SBX_PROBE" "$@"
}

# Start a host command in the background; teardown ends it (by pid).
background() {
	"$@" </dev/null >/dev/null 2>&1 3>&- &
	SBX_BG_PIDS+=($!)
}

stop_background() {
	local pid
	for pid in "${SBX_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SBX_BG_PIDS=()
}

# wait_for CONDITION...: retry for up to 10 s.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# A TCP listener on the host's 127.0.0.1; sets LISTEN_PORT.
start_tcp_listener() {
	local portfile=$BATS_TEST_TMPDIR/listener.port
	command -v python3 >/dev/null || skip "python3 is needed for a TCP listener"
	background python3 -c '
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    s.accept()[0].close()
' "$portfile"
	wait_for test -s "$portfile"
	LISTEN_PORT=$(cat "$portfile")
}

# ---------------------------------------------------------------- host state

# This test's sandbox processes alive on the host (pid and name): those that
# carry this test's SBX_TEST_TAG in their environment, so sandboxes that
# others run as the same user at the same time do not count.
# Zombies are left out: they are dead, and whether they are reaped at once
# depends on the machine's init, not on us.
sandbox_processes() {
	local p stat
	for p in /proc/[0-9]*; do
		[ -O "$p" ] || continue
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		[ "${stat%% *}" != Z ] || continue
		tr '\0' '\n' 2>/dev/null <"$p/environ" |
			grep -qxF "SBX_TEST_TAG=$SBX_TEST_TAG" || continue
		echo "${p#/proc/} $(cat "$p/comm" 2>/dev/null)"
	done
}

# start_sbx ARGS...: sbx ARGS... in the background. Sets SBX_JOB (the job,
# for wait_exit) and SBX_PID (the sandbox-run process, for signals).
start_sbx() {
	sbx "$@" </dev/null >/dev/null 2>&1 3>&- &
	SBX_JOB=$!
	SBX_PID=
	local i
	for i in $(seq 100); do
		SBX_PID=$(sandbox_processes | awk '$2 == "sandbox-run" { print $1; exit }')
		[ -z "$SBX_PID" ] || return 0
		sleep 0.1
	done
	echo "sandbox-run did not start" >&2
	return 1
}

# wait_exit JOB: wait up to 20 s for a background job to end; sets status.
wait_exit() {
	local i
	for i in $(seq 200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null || true
		echo "the job (pid $1) did not end within 20 s" >&2
		return 1
	fi
	status=0
	wait "$1" || status=$?
}

# What a run of sandbox-run must leave as it found it: the host's mount table,
# the caller's entries directly in /tmp, and sandbox processes.
host_state() {
	echo "## mountinfo"
	cat /proc/self/mountinfo
	echo "## /tmp entries of uid $(id -u)"
	find /tmp -maxdepth 1 -user "$(id -u)" 2>/dev/null | LC_ALL=C sort
	echo "## sandbox processes"
	sandbox_processes
}

remember_host_state() {
	host_state >"$BATS_TEST_TMPDIR/host-state.before"
}

assert_host_unchanged() {
	host_state >"$BATS_TEST_TMPDIR/host-state.after"
	if ! diff -u "$BATS_TEST_TMPDIR/host-state.before" \
		"$BATS_TEST_TMPDIR/host-state.after" >"$BATS_TEST_TMPDIR/host-state.diff"; then
		echo "the host changed:" >&2
		cat "$BATS_TEST_TMPDIR/host-state.diff" >&2
		return 1
	fi
}

# Every entry of a directory tree with type, mode, owner, size, mtime and link
# target, then the checksum of every file.
tree_snapshot() {
	(
		cd "$1" &&
			find . -printf '%y %m %U:%G %s %T@ %p -> %l\n' | LC_ALL=C sort &&
			find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2
	)
}

# ---------------------------------------------------------------- assertions

show_run() {
	{
		echo "status: $status"
		echo "stdout:"
		printf '  %s\n' "${lines[@]}"
		echo "stderr:"
		printf '  %s\n' "${stderr_lines[@]}"
	} >&2
}

assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit status $1" >&2
		show_run
		return 1
	fi
}

assert_success() {
	assert_status 0
}

assert_output() {
	if [ "$output" != "$1" ]; then
		echo "expected stdout:" >&2
		printf '  %s\n' "$1" >&2
		show_run
		return 1
	fi
}

# assert_text_contains WHAT TEXT PART: TEXT (the run's WHAT) holds PART.
assert_text_contains() {
	if [[ "$2" != *"$3"* ]]; then
		echo "expected $1 to contain: $3" >&2
		show_run
		return 1
	fi
}

assert_output_contains() {
	assert_text_contains stdout "$output" "$1"
}

assert_stderr_contains() {
	assert_text_contains stderr "$stderr" "$1"
}

refute_output_contains() {
	if [[ "$output" == *"$1"* ]]; then
		echo "expected stdout not to contain: $1" >&2
		show_run
		return 1
	fi
}

# assert_equal EXPECTED ACTUAL [WHAT]
assert_equal() {
	if [ "$1" != "$2" ]; then
		echo "${3:-value} differs" >&2
		echo "expected: $1" >&2
		echo "actual:   $2" >&2
		return 1
	fi
}

# assert_not_equal UNEXPECTED ACTUAL [WHAT]
assert_not_equal() {
	if [ "$1" = "$2" ]; then
		echo "${3:-value} should differ from: $1" >&2
		return 1
	fi
}

# A setup error: exit 125 and exactly one line on stderr, starting with
# "sandbox: " and containing every given word (the input, the policy key).
assert_refused() {
	local word ok=1
	[ "$status" -eq 125 ] || ok=0
	[ "${#stderr_lines[@]}" -eq 1 ] || ok=0
	[[ "${stderr_lines[0]:-}" == "sandbox: "* ]] || ok=0
	for word in "$@"; do
		[[ "${stderr_lines[0]:-}" == *"$word"* ]] || ok=0
	done
	if [ "$ok" -ne 1 ]; then
		echo "expected exit 125 and one stderr line \"sandbox: ...\" naming: $*" >&2
		show_run
		return 1
	fi
}
