# What a fault must not leave behind, and the fault count of a suite.
#
#   leftovers_remember [CACHE]   snapshot before the fault
#   assert_no_leftovers [CACHE]  after it: the same host mounts, no process of
#                                this test, no sandbox cgroup, no loop device
#                                and no temporary entry more; with CACHE, no
#                                import directory in it and no lock held
#   LEFTOVER_PROCESSES           the function that lists this test's processes
#                                (default fault_processes)
#   LEFTOVER_UID                 whose cache and temporary files (default: ours)
#   fault_injected NAME / fault_survived NAME
#                                count for tests/run-faults ($SBX_FAULT_LOG)
#
# Other people's tests may run beside ours as the same user: processes count
# when they are this test's (fault_processes), and mounts of other local
# clusters are left out.

# The host's mounts, by mount point, source and options (mount ids change
# with every mount anywhere), but those of other local clusters: their
# prefix, job containers and named sandboxes (tests/slurm/local-cluster.sh),
# and the kernel-mounted images of their steps (the fault suites mount none).
leftover_mounts() {
	local ours
	ours=$(basename "${SBX_CLUSTER:-/none}")
	awk -v ours="$ours" '
		$5 ~ "^(/tmp/sbx-cluster-|/var/tmp/sbx-jc-|/var/lib/sbx-named-|/var/lib/sbx-vm-named/sbx-named-)" && index($5, ours) == 0 { next }
		$5 ~ "^/run/slurm-sandbox/" { next }
		{ print $5, $9, $10 }' /proc/self/mountinfo | LC_ALL=C sort
}

# Sandbox cgroups (the helper's sandbox-<pid>) anywhere in the hierarchies.
leftover_cgroups() {
	find /sys/fs/cgroup -maxdepth 7 -type d -name 'sandbox-*' 2>/dev/null | LC_ALL=C sort
}

# Loop devices on files of this test (other clusters' steps attach theirs).
leftover_loops() {
	losetup -a 2>/dev/null | grep -F -e "$BATS_TEST_TMPDIR" ${WORK:+-e "$WORK"} \
		${SBX_CLUSTER:+-e "$SBX_CLUSTER"} | LC_ALL=C sort
}

# What the sandbox's tools would leave in the temporary directories: the
# test's own TMPDIR stays empty, and nothing of skopeo's or ours appears in
# /tmp or /var/tmp (names, since other tests of this user run beside ours).
leftover_tmp() {
	[ ! -d "${TMPDIR:-}" ] || find "$TMPDIR" -mindepth 1
	find /tmp /var/tmp -maxdepth 1 -user "${LEFTOVER_UID:-$(id -u)}" \( -name 'container_images_*' -o \
		-name 'sandbox*' -o -name 'squashfuse*' -o -name 'skopeo*' \) 2>/dev/null | LC_ALL=C sort
}

# This test's sandbox processes: tagged (common.bash), or in this session
# (nothing of the sandbox calls setsid) with a sandbox's name: pid 1 of a
# sandbox is not dumpable, so its environment cannot be read for the tag.
fault_processes() {
	local p stat sid
	sid=$(cut -d' ' -f6 </proc/$$/stat)
	{
		sandbox_processes
		for p in /proc/[0-9]*; do
			[ -O "$p" ] || continue
			stat=$(cat "$p/stat" 2>/dev/null) || continue
			stat=${stat##*) }
			read -r -a f <<<"$stat"
			[ "${f[0]}" != Z ] && [ "${f[3]}" = "$sid" ] || continue
			case $(cat "$p/comm" 2>/dev/null) in
			sandbox-* | squashfuse* | mksquashfs | skopeo) echo "${p#/proc/} $(cat "$p/comm")" ;;
			esac
		done
	} | LC_ALL=C sort -u -n
}

# Locks of a cache held by anyone (an OFD lock conflicts with lockf's).
cache_locks_held() {
	local u=$1/${LEFTOVER_UID:-$(id -u)}
	[ -d "$u/locks" ] || return 0
	python3 - "$u/locks" <<-'EOF'
	import fcntl, os, sys
	for name in sorted(os.listdir(sys.argv[1])):
	    path = os.path.join(sys.argv[1], name)
	    try:
	        fd = os.open(path, os.O_RDWR)
	    except OSError:
	        continue
	    try:
	        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
	    except OSError:
	        print("lock held: locks/" + name)
	    os.close(fd)
	EOF
}

leftover_state() {
	echo "## host mounts"
	leftover_mounts
	echo "## processes of this test"
	"${LEFTOVER_PROCESSES:-fault_processes}"
	echo "## sandbox cgroups"
	leftover_cgroups
	echo "## loop devices"
	leftover_loops
	echo "## /tmp entries of uid ${LEFTOVER_UID:-$(id -u)}"
	leftover_tmp
	if [ -n "${1:-}" ]; then
		echo "## in the cache"
		cache_strays "$1"
		cache_locks_held "$1"
	fi
}

leftovers_remember() {
	leftover_state "$@" >"$BATS_TEST_TMPDIR/leftovers.before"
}

# Processes of a killed sandbox take a moment to go (pid 1's namespace is
# torn down by the kernel): wait for them, never for anything else.
assert_no_leftovers() {
	local i
	for i in $(seq 100); do
		[ -n "$("${LEFTOVER_PROCESSES:-fault_processes}")" ] || break
		sleep 0.1
	done
	leftover_state "$@" >"$BATS_TEST_TMPDIR/leftovers.after"
	if ! diff -u "$BATS_TEST_TMPDIR/leftovers.before" "$BATS_TEST_TMPDIR/leftovers.after" \
		>"$BATS_TEST_TMPDIR/leftovers.diff"; then
		echo "the fault left something behind:" >&2
		cat "$BATS_TEST_TMPDIR/leftovers.diff" >&2
		return 1
	fi
}

fault_injected() {
	[ -z "${SBX_FAULT_LOG:-}" ] || echo "injected $1" >>"$SBX_FAULT_LOG"
}

fault_survived() {
	[ -z "${SBX_FAULT_LOG:-}" ] || echo "survived $1" >>"$SBX_FAULT_LOG"
}

# The long form (make check-long) runs every point and action; the short one
# (make check) one of each kind.
long_faults() {
	[ "${SBX_FAULTS_LONG:-0}" = 1 ]
}

# wait_stopped COMM: the pid of this test's process named COMM that stopped
# at its failure point (SBX_FAILPOINT=NAME:stop), within 30 s.
wait_stopped() {
	local i pid
	for i in $(seq 300); do
		for pid in $(fault_processes | awk -v c="$1" '$2 == c { print $1 }'); do
			[[ "$(cat "/proc/$pid/stat" 2>/dev/null)" == *") T "* ]] && echo "$pid" && return 0
		done
		sleep 0.1
	done
	echo "no $1 stopped at its failure point within 30 s; this test's processes:" >&2
	fault_processes >&2
	return 1
}
