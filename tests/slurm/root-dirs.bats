#!/usr/bin/env bats
# The directories root makes for users (docs/design.md, "Security model"):
# named sandboxes below a root-owned named_dir, users' directories in a
# root-owned image cache. No other user can take a user's name there first;
# where a shared (1777) cache lets one, the step fails with one line naming
# the owner and the admin's fix; a FIFO where a file belongs fails the step
# instead of hanging root. On a real local cluster, jobs of the unprivileged
# user $SBX_USER, squatting attempts by a second user $OTHER.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	export OTHER=sbxother
	id "$OTHER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$OTHER"
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-rootdirs-$$}"
	# A cache a site keeps root's: 0755, so only root makes users' entries.
	export CACHE=/var/lib/sbx-test-cache-$$
	mkdir -m 0755 "$CACHE"
	cat >>"$SBX_CLUSTER/etc/sandbox.conf" <<-EOF
	[images]
	cache_dir = $CACHE
	EOF
	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d /tmp/sbx-rootdirs.XXXXXX)
	chmod 755 "$WORK"
	export IMG=$WORK/image
	runuser -u "$SBX_USER" -- env BUILD="$BUILD" "$REPO/tests/lib/mkimage.sh" "$IMG" >/dev/null
	# A tarball: imported into the cache, so the step needs the cache.
	runuser -u "$SBX_USER" -- tar -C "$IMG" -cf "$WORK/image.tar" .
	export UID_OF_USER=$(id -u "$SBX_USER")
}

teardown_file() {
	slurm_teardown_cluster
	[ -n "${CACHE:-}" ] && rm -rf "$CACHE"
	return 0
}

@test "in a root-owned cache_dir root makes the user's directory, and no other user can make it first" {
	run runuser -u "$OTHER" -- mkdir "$CACHE/$UID_OF_USER"
	[ "$status" -ne 0 ] && [[ "$output" == *"Permission denied"* ]]
	run --separate-stderr as_user srun -N1 --sandbox-image="$WORK/image.tar" true
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$(stat -c '%u %a' "$CACHE/$UID_OF_USER")" = "$UID_OF_USER 700" ]
}

@test "in a sticky shared cache_dir, a name another user took first fails the step with one line, and the admin's fix works" {
	rm -rf "${CACHE:?}/$UID_OF_USER"
	chmod 1777 "$CACHE"
	runuser -u "$OTHER" -- mkdir -m 0777 "$CACHE/$UID_OF_USER"
	run --separate-stderr as_user srun -N1 --sandbox-image="$WORK/image.tar" true
	chmod 0755 "$CACHE"
	[ "$status" -ne 0 ]
	[ "$(grep -c 'sandbox: ' <<<"$stderr")" -eq 1 ] || { echo "$stderr" >&2; false; }
	[[ "$stderr" == *"image cache '$CACHE': '$UID_OF_USER' is owned by uid $(id -u "$OTHER") (another user made it first: an admin removes it)"* ]] ||
		{ echo "$stderr" >&2; false; }
	# The fix docs/admin names: remove it; a 0755 cache_dir keeps it so.
	rm -rf "${CACHE:?}/$UID_OF_USER"
	run --separate-stderr as_user srun -N1 --sandbox-image="$WORK/image.tar" true
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
}

@test "named sandboxes live below a root-owned named_dir that no other user can write" {
	local named
	named=$(slurm_named_dir)
	run --separate-stderr as_user srun -N1 --sandbox-name=n1 --sandbox-image="$IMG" true
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$(stat -c '%U %a' "$named")" = "root 755" ]
	[ "$(stat -c '%u %a' "$named/$UID_OF_USER")" = "$UID_OF_USER 700" ]
	run runuser -u "$OTHER" -- mkdir "$named/$(id -u "$OTHER")"
	[ "$status" -ne 0 ] && [[ "$output" == *"Permission denied"* ]]
}

@test "a FIFO where a named sandbox's image record belongs fails the step at once instead of hanging" {
	cat >"$WORK/fifo.sh" <<-EOF
	#!/bin/sh
	srun -N1 --sandbox-name=f1 --sandbox-image=$IMG true || exit 3
	d=\$(ls -d $(slurm_named_dir)/$UID_OF_USER/\$SLURM_JOB_ID/f1)
	rm "\$d/image" && mkfifo "\$d/image"
	srun -N1 --sandbox-name=f1 true
	EOF
	chmod 755 "$WORK/fifo.sh"
	run --separate-stderr timeout 60 runuser -u "$SBX_USER" -- env SLURM_CONF="$SLURM_CONF" \
		sbatch --wait -N1 -o "$WORK/fifo.out" "$WORK/fifo.sh"
	[ "$status" -ne 124 ] || { echo "the step hung" >&2; false; }
	grep -q "named sandbox 'f1': image is not a regular file (remove it)" "$WORK/fifo.out" ||
		{ cat "$WORK/fifo.out" >&2; false; }
}
