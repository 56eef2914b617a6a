#!/usr/bin/env bats
# Race tests for the plugin's root code paths (issue 10, findings 1-3): the
# real spank_sandbox.so, loaded by a mini slurmstepd (fake-stepd) that calls
# its callbacks as root in Slurm's order thousands of times, while the job user
# (sbxtest) runs racer processes that swap a directory of theirs with a symlink
# to a root-owned canary (renameat2 RENAME_EXCHANGE in a tight loop).
#
# A pass means zero canary changes over every iteration: fake-stepd checks the
# canaries after each one and stops at the first change, saying after how many
# iterations. Each test is bounded: ITERATIONS or SECONDS, whichever first.
#
#   make race && BUILD=$PWD/build bats tests/race/root-races.bats     (as root)
#   SBX_RACE_PLUGIN   the plugin to race (default: $BUILD/spank_sandbox.so)
#                     (spank_sandbox_named.so beside it is loaded too)
#   SBX_RACE_ITERATIONS, SBX_RACE_SECONDS, SBX_RACE_RACERS   the budget
bats_require_minimum_version 1.5.0

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root: the plugin's root code paths race a job user here"
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BUILD=${BUILD:-$REPO/build}
	PLUGIN=${SBX_RACE_PLUGIN:-$BUILD/spank_sandbox.so}
	# The job epilog's plugin, beside it (named sandboxes need it loaded).
	NAMED_PLUGIN=$(dirname "$PLUGIN")/spank_sandbox_named.so
	RACER=$BUILD/tests/race/racer
	STEPD=$BUILD/tests/race/fake-stepd
	[ -f "$PLUGIN" ] && [ -f "$NAMED_PLUGIN" ] || skip "plugin not built ($PLUGIN, $NAMED_PLUGIN)"
	[ -x "$RACER" ] && [ -x "$STEPD" ] || skip "race harness not built (make race)"
	# A step's remote start costs the plugin ~0.2 ms here, an epilog with
	# the user's tree rebuilt ~7 ms: the steps get ten times the iterations.
	ITERATIONS=${SBX_RACE_ITERATIONS:-3000}
	STEP_ITERATIONS=$((ITERATIONS * 10))
	SECONDS_MAX=${SBX_RACE_SECONDS:-30}
	N_RACERS=${SBX_RACE_RACERS:-2}
	SBX_USER=${SBX_TEST_USER:-sbxtest}
	id "$SBX_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SBX_USER"
	JOB_UID=$(id -u "$SBX_USER")
	JOB_GID=$(id -g "$SBX_USER")
	JOB=4242
	RACERS=()

	# Everything root-owned under a fresh 0755 directory below /var/lib
	# (named_dir must be root's all the way up), which the job user can
	# traverse.
	T=$(mktemp -d /var/lib/sbx-race.XXXXXX)
	chmod 0755 "$T"
	mkdir -m 0755 "$T/named" "$T/image"
	NAMED=$T/named
	JOBDIR=$NAMED/$JOB_UID/$JOB
	CANARY=$T/canary
	mkdir "$CANARY"
	echo canary >"$CANARY/secret"
	chmod 0644 "$CANARY/secret"
}

teardown() {
	stop_racers
	[ -z "${T:-}" ] || rm -rf "$T"
}

as_job_user() {
	setpriv --reuid="$JOB_UID" --regid="$JOB_GID" --clear-groups "$@"
}

# Two cores: the racers on one, slurmstepd on the other, so that the race
# is real parallelism and not the scheduler's time slices.
pin_stepd() { [ "$(nproc)" -ge 2 ] && echo "taskset -c 0" || true; }
pin_racer() { [ "$(nproc)" -ge 2 ] && echo "taskset -c 1" || true; }

# start_racers ARGS...: $N_RACERS racers of the job user in the background,
# in the supplementary groups $RACER_GROUPS (none by default). setpriv and
# taskset exec the racer: $! is the racer itself.
start_racers() {
	local i groups=--clear-groups
	[ -z "${RACER_GROUPS:-}" ] || groups=--groups=$RACER_GROUPS
	for ((i = 0; i < N_RACERS; i++)); do
		setpriv --reuid="$JOB_UID" --regid="$JOB_GID" "$groups" $(pin_racer) \
			"$RACER" "$@" >>"$T/racers.log" 2>&1 3>&- &
		RACERS+=("$!")
	done
	for ((i = 0; i < 50; i++)); do
		[ "$(cat "$T/racers.log" 2>/dev/null | grep -c ': started$')" -lt "$N_RACERS" ] || return 0
		sleep 0.1
	done
	echo "the racers did not start:" >&2
	cat "$T/racers.log" >&2
	return 1
}

# The racers stopped (SIGTERM makes each print its summary) and reaped.
stop_racers() {
	local pid
	for pid in "${RACERS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${RACERS[@]}"; do wait "$pid" 2>/dev/null || true; done
	RACERS=()
}

# The swaps the racers made: a pass only counts if the race really ran.
racer_swaps() {
	awk '/^racer: exchange/ { for (i = 1; i < NF; i++) if ($(i + 1) == "swaps,") n += $i } END { print n + 0 }' \
		"$T/racers.log"
}

# fake-stepd as root with the plugstack.conf arguments of this node.
stepd() {
	$(pin_stepd) "$STEPD" --plugin "$PLUGIN" --plugin "$NAMED_PLUGIN" --uid "$JOB_UID" --gid "$JOB_GID" --job "$JOB" \
		--arg config="$REPO/conf/sandbox.conf" --arg named_dir="$NAMED" \
		--arg helper="$BUILD/sandbox-helper" "$@"
}

# The job's first step, srun --sandbox-name=nm --sandbox-image=IMG, with no
# racer yet: the plugin makes named_dir/<uid>/<job>/nm and hands it to the user.
first_named_step() {
	stepd --scenario prepare --opt sandbox-name=nm --opt sandbox-image="$T/image" "$@"
	[ "$(stat -c '%U %a' "$JOBDIR/nm")" = "$SBX_USER 700" ]
}

# The verdict of one race: fake-stepd's summary, and the race was real.
race_verdict() {
	echo "$output"
	cat "$T/racers.log"
	echo "racers swapped $(racer_swaps) times"
	[ "$status" -eq 0 ]
	[ "$(racer_swaps)" -gt 1000 ] || { echo "the racers hardly ran: this proves nothing" >&2; return 1; }
}

@test "a job user racing renames cannot make root chmod or chown a root-owned directory" {
	chmod 0755 "$CANARY"
	first_named_step --groups 100
	# The user, also in group 100, keeps their sandbox directory in that
	# group: each step then makes root chown it back to the job's group,
	# by name, as well as chmod it.
	as_job_user ln -s "$CANARY" "$JOBDIR/decoy"
	RACER_GROUPS=100 start_racers exchange "$JOBDIR/nm" "$JOBDIR/decoy" \
		--seconds $((SECONDS_MAX + 30)) --group 100

	# Later steps of the job name the sandbox only (srun --sandbox-name=nm):
	# root makes sure of the directories and reads the recorded image.
	run stepd --scenario prepare --groups 100 --opt sandbox-name=nm \
		--iterations "$STEP_ITERATIONS" --seconds "$SECONDS_MAX" --watch "$CANARY"
	stop_racers
	race_verdict
	[ "$(stat -c '%a %U:%G' "$CANARY")" = "755 root:root" ]
	[ "$(stat -c '%a %U:%G' "$CANARY/secret")" = "644 root:root" ]
	[ "$(cat "$CANARY/secret")" = canary ]
	[ ! -e "$CANARY/image" ]
}

@test "a job user racing renames cannot make root create an image file in a root-only directory" {
	chmod 0700 "$CANARY"
	first_named_step
	as_job_user ln -s "$CANARY" "$JOBDIR/decoy"
	start_racers exchange "$JOBDIR/nm" "$JOBDIR/decoy" --seconds $((SECONDS_MAX + 30))

	# Every step gives the image again: root records it in nm/image.
	run stepd --scenario prepare --opt sandbox-name=nm --opt sandbox-image="$T/image" \
		--iterations "$STEP_ITERATIONS" --seconds "$SECONDS_MAX" --watch "$CANARY"
	stop_racers
	race_verdict
	[ ! -e "$CANARY/image" ]
	[ "$(ls -A "$CANARY")" = secret ]
	[ "$(stat -c '%a %U:%G' "$CANARY")" = "700 root:root" ]
}

@test "a job user racing renames cannot make the job epilog delete root's files" {
	chmod 0755 "$CANARY"
	for i in $(seq -w 1 100); do echo canary >"$CANARY/f$i"; done
	first_named_step
	# Before each epilog the user's processes leave nm/upper/d with ten files
	# named like the canaries, and nm/upper/decoy, a symlink to the canary
	# directory, which the racers keep swapping with d.
	start_racers exchange "$JOBDIR/nm/upper/d" "$JOBDIR/nm/upper/decoy" --seconds $((SECONDS_MAX + 30))

	run stepd --scenario epilog --iterations "$ITERATIONS" --seconds "$SECONDS_MAX" \
		--user-tree "$JOBDIR/nm/upper,10,$CANARY" --watch "$CANARY"
	stop_racers
	race_verdict
	[ "$(ls "$CANARY" | wc -l)" -eq 101 ]
	for i in $(seq -w 1 100); do [ "$(cat "$CANARY/f$i")" = canary ]; done
	[ "$(stat -c '%a %U:%G' "$CANARY")" = "755 root:root" ]
}
