#!/usr/bin/env bats
# Which squashfs path is used when, on a real local cluster: an admin's image
# under images.kernel_squashfs is mounted by the plugin (as root, in
# init_post_opt) with the kernel's squashfs driver and unmounted when the step
# ends; a user's squashfs, or an admin directory others may write to, goes
# through squashfuse in the user's namespace, which needs /dev/fuse open to
# users: a closed /dev/fuse gives one clear line (srun, sandbox-run) and
# `sandbox-run info` explains it. These run as root, which may close
# /dev/fuse for a moment and restores its mode.
bats_require_minimum_version 1.5.0

load common

setup_file() {
	slurm_require
	command -v mksquashfs >/dev/null || skip "mksquashfs is missing (apt-get install squashfs-tools)"
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-kimg-$$}"
	# Admin images: root-owned, 0755 all the way up (/tmp is 1777, so not
	# below it).
	export ADMIN=/var/lib/sbx-test-images-$$
	mkdir -m 0755 "$ADMIN" "$ADMIN/open"
	chmod 0777 "$ADMIN/open"
	local src
	src=$(mktemp -d)
	BUILD="$BUILD" "$REPO/tests/lib/mkimage.sh" "$src/img" >/dev/null
	echo admin-image >"$src/img/marker"
	mksquashfs "$src/img" "$ADMIN/app.sqfs" -comp zstd -noappend -quiet -no-progress >/dev/null
	cp "$ADMIN/app.sqfs" "$ADMIN/open/app.sqfs"
	chmod 0644 "$ADMIN/app.sqfs" "$ADMIN/open/app.sqfs"
	# Admin images a user may not read, and one readable through a group
	# the user is in (set before any job: slurmd caches a user's groups).
	cp "$ADMIN/app.sqfs" "$ADMIN/secret.sqfs"
	cp "$ADMIN/app.sqfs" "$ADMIN/group.sqfs"
	chmod 0600 "$ADMIN/secret.sqfs"
	getent group sbximg >/dev/null || groupadd sbximg
	id -nG "$SBX_USER" | grep -qw sbximg || usermod -aG sbximg "$SBX_USER"
	chgrp sbximg "$ADMIN/group.sqfs"
	chmod 0640 "$ADMIN/group.sqfs"
	export OTHER=sbxother
	id "$OTHER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$OTHER"
	rm -rf "$src"
	cat >>"$SBX_CLUSTER/etc/sandbox.conf" <<-CONF
	[images]
	kernel_squashfs = $ADMIN
	CONF
	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d /tmp/sbx-kimg.XXXXXX)
}

teardown() {
	[ -z "${FUSE_MODE:-}" ] || chmod "$FUSE_MODE" /dev/fuse
}

# Close /dev/fuse to users (mode 0600, as on this project's CI host) until
# the test ends.
close_dev_fuse() {
	[ -c /dev/fuse ] || skip "no /dev/fuse on this host"
	FUSE_MODE=$(stat -c %a /dev/fuse)
	chmod 0600 /dev/fuse
}

teardown_file() {
	slurm_teardown_cluster
	[ -n "${ADMIN:-}" ] && rm -rf "$ADMIN"
	return 0
}

@test "an admin squashfs under kernel_squashfs is mounted by the kernel during the step, and not after" {
	run --separate-stderr as_user srun -N1 --sandbox-image="$ADMIN/app.sqfs" cat /marker
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = admin-image ]
	# slurmd's log names the kernel mount; no squashfuse was needed.
	grep -q "sandbox: $ADMIN/app.sqfs mounted with the kernel's squashfs" "$SBX_CLUSTER"/log/slurmd-*.log
	# Unmounted (and the loop device freed) when the step ended.
	run grep -c "/run/slurm-sandbox/" /proc/self/mountinfo
	[ "$output" = 0 ]
}

@test "while the step runs the image is a kernel squashfs mount, read-only, nosuid, nodev" {
	as_user srun -N1 --sandbox-image="$ADMIN/app.sqfs" sleep 3 &
	local pid=$! line=
	for _ in $(seq 50); do
		line=$(grep " /run/slurm-sandbox/" /proc/self/mountinfo || true)
		[ -z "$line" ] || break
		sleep 0.1
	done
	wait "$pid"
	[[ "$line" == *" - squashfs "* ]] || { echo "mount: $line" >&2; false; }
	[[ "$line" == *ro,nosuid,nodev* ]] || { echo "mount: $line" >&2; false; }
}

@test "a user who may not read an admin image cannot run it: one line, and nothing is mounted" {
	run --separate-stderr as_user srun -N1 --sandbox-image="$ADMIN/secret.sqfs" cat /marker
	[ "$status" -ne 0 ]
	[ "$(grep -c 'sandbox: ' <<<"$stderr")" -eq 1 ] || { echo "$stderr" >&2; false; }
	[[ "$stderr" == *"image '$ADMIN/secret.sqfs': Permission denied (ask the admin for read access to the image)"* ]] ||
		{ echo "$stderr" >&2; false; }
	! grep -q "$ADMIN/secret.sqfs mounted with the kernel" "$SBX_CLUSTER"/log/slurmd-*.log
}

@test "an admin image readable through one of the user's groups runs with the kernel's driver" {
	run --separate-stderr as_user srun -N1 --sandbox-image="$ADMIN/group.sqfs" cat /marker
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = admin-image ]
	grep -q "sandbox: $ADMIN/group.sqfs mounted with the kernel's squashfs" "$SBX_CLUSTER"/log/slurmd-*.log
}

@test "while the step runs, neither another user nor the job's user reaches the mount on the host" {
	as_user srun -N1 --sandbox-image="$ADMIN/app.sqfs" sleep 3 &
	local pid=$! line= dir
	for _ in $(seq 50); do
		line=$(grep " /run/slurm-sandbox/" /proc/self/mountinfo || true)
		[ -z "$line" ] || break
		sleep 0.1
	done
	[ -n "$line" ] || { wait "$pid"; echo "no kernel mount seen" >&2; false; }
	dir=$(awk '{print $5}' <<<"$line")
	run runuser -u "$OTHER" -- cat "$dir/marker"
	[ "$status" -ne 0 ] && [[ "$output" == *"Permission denied"* ]] || { wait "$pid"; echo "$output" >&2; false; }
	run runuser -u "$OTHER" -- ls /run/slurm-sandbox
	[ "$status" -ne 0 ] || { wait "$pid"; echo "$output" >&2; false; }
	run runuser -u "$SBX_USER" -- cat "$dir/marker"
	[ "$status" -ne 0 ] || { wait "$pid"; echo "$output" >&2; false; }
	wait "$pid"
	[ "$(stat -c '%U %a' /run/slurm-sandbox)" = "root 700" ]
}

@test "an image in an admin directory others may write to goes through squashfuse, said in the log" {
	fuse_open || skip "/dev/fuse is not read-writable by $SBX_USER (tests/run-all opens it)"
	run --separate-stderr as_user srun -N1 --sandbox-image="$ADMIN/open/app.sqfs" cat /marker
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = admin-image ]
	grep -q "$ADMIN/open/app.sqfs: not mounted with the kernel's squashfs (.*$ADMIN/open is writable by others" \
		"$SBX_CLUSTER"/log/slurmd-*.log
}

@test "a user's squashfs never reaches the kernel's driver" {
	fuse_open || skip "/dev/fuse is not read-writable by $SBX_USER (tests/run-all opens it)"
	runuser -u "$SBX_USER" -- cp "$ADMIN/app.sqfs" "$WORK/mine.sqfs"
	run --separate-stderr as_user srun -N1 --sandbox-image="$WORK/mine.sqfs" cat /marker
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = admin-image ]
	! grep -q "$WORK/mine.sqfs mounted with the kernel" "$SBX_CLUSTER"/log/slurmd-*.log
}

@test "with /dev/fuse closed, a user's squashfs fails the step with one line naming /dev/fuse" {
	runuser -u "$SBX_USER" -- cp "$ADMIN/app.sqfs" "$WORK/closed.sqfs"
	close_dev_fuse
	run --separate-stderr as_user srun -N1 --sandbox-image="$WORK/closed.sqfs" cat /marker
	[ "$status" -ne 0 ]
	[ "$(grep -c 'sandbox: ' <<<"$stderr")" -eq 1 ] || { echo "$stderr" >&2; false; }
	[[ "$stderr" == *"image '$WORK/closed.sqfs': a squashfs image needs /dev/fuse: Permission denied (an admin makes it usable with 'chmod 0666 /dev/fuse'"* ]] ||
		{ echo "$stderr" >&2; false; }
	run sinfo -h -o %T
	[[ "$output" != *drain* ]]
}

@test "with /dev/fuse closed, the kernel path for admin images still works" {
	close_dev_fuse
	run --separate-stderr as_user srun -N1 --sandbox-image="$ADMIN/app.sqfs" cat /marker
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[ "$output" = admin-image ]
}

@test "with /dev/fuse closed, sandbox-run says so in one line and sandbox-run info explains it" {
	runuser -u "$SBX_USER" -- cp "$ADMIN/app.sqfs" "$WORK/closed2.sqfs"
	close_dev_fuse
	run --separate-stderr runuser -u "$SBX_USER" -- env SANDBOX_HELPER="$BUILD/sandbox-helper" \
		"$BUILD/sandbox-run" --image "$WORK/closed2.sqfs" -- true
	[ "$status" -eq 125 ]
	[ "$(wc -l <<<"$stderr")" -eq 1 ] || { echo "$stderr" >&2; false; }
	[[ "$stderr" == "sandbox: image '$WORK/closed2.sqfs': a squashfs image needs /dev/fuse"* ]] ||
		{ echo "$stderr" >&2; false; }
	run runuser -u "$SBX_USER" -- "$BUILD/sandbox-run" info
	# The label column is as wide as the longest label shown (Debian's
	# kernels add kernel.unprivileged_userns_clone).
	[[ "$output" =~ "/dev/fuse "\ +"no   mode 0600, owner root, open read-write: Permission denied" ]] ||
		{ echo "$output" >&2; false; }
	[[ "$output" == *"hint: chmod 0666 /dev/fuse"* ]] || { echo "$output" >&2; false; }
}
