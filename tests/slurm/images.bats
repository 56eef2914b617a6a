#!/usr/bin/env bats
# --sandbox-image with squashfs files, tarballs and docker:// references on a
# real local cluster (tests/slurm/local-cluster.sh: three slurmd on this
# machine), jobs submitted by the unprivileged user sbxtest. The registry runs
# as sbxtest on 127.0.0.1, which every node shares.
#
# The three nodes share this machine's filesystem, so their caches are one:
# the cluster's policy gets an [images] section with cache_dir a root-owned
# 1777 directory (as a site's shared cache would be), and a step imports an
# image once in total, the other node waiting for that import.
#
# squashfuse runs as the job's user and needs /dev/fuse read-writable by it:
# tests/run-all makes it 0666 (the distributions' default); the tests skip,
# saying so, when it is not.
bats_require_minimum_version 1.5.0

load common
load ../lib/registry

setup_file() {
	slurm_require
	slurm_start_cluster "${SBX_CLUSTER:-/tmp/sbx-cluster-images-$$}"

	export IMAGE_CACHE=$SBX_CLUSTER/image-cache
	mkdir -m 1777 "$IMAGE_CACHE"
	# The plugin reads its config= file in srun and in every slurmstepd, so
	# keys added now hold for every step of this file.
	cat >>"$SBX_CLUSTER/etc/sandbox.conf" <<-EOF
	[images]
	cache_dir = $IMAGE_CACHE
	insecure_registries = 127.0.0.1:*
	EOF

	export WORK=$(runuser -u "$SBX_USER" -- mktemp -d /tmp/sbx-slurm-images.XXXXXX)
	chmod 755 "$WORK"
	export IMG=$WORK/image
	as_user_quiet env BUILD="$BUILD" "$REPO/tests/lib/mkimage.sh" "$IMG"
	as_user_quiet sh -c "echo in-the-image > '$IMG/marker'"
	as_user_quiet "$REPO/tests/lib/mkoci.sh" all "$IMG" "$WORK/images"
	# A squashfs with a file whose name is found nowhere else, to show it
	# is never unpacked; its source is gone before any job runs.
	export CANARY=sbx-canary-$RANDOM$RANDOM
	as_user_quiet sh -c "cp -a '$IMG' '$WORK/canary-src' && echo canary > '$WORK/canary-src/$CANARY'"
	as_user_quiet "$REPO/tests/lib/mkoci.sh" squashfs "$WORK/canary-src" "$WORK/canary.sqfs"
	rm -rf "$WORK/canary-src"

	registry_start --as "$SBX_USER" --dir "$WORK"
	registry_push "oci:$WORK/images/oci:layered" sbx/layered:v1
	# A different image (another digest): nothing in the cache yet.
	registry_push "oci:$WORK/images/oci:base" sbx/one-node:v1
	registry_push "oci:$WORK/images/oci:layered" sbx/entry:v1
}

teardown_file() {
	registry_stop
	slurm_teardown_cluster
}

setup() {
	fuse_open ||
		skip "/dev/fuse is not read-writable by $SBX_USER (squashfuse needs it; tests/run-all makes it 0666, as distributions ship it)"
}

as_user_quiet() {
	(cd "$WORK" && runuser -u "$SBX_USER" -- "$@" >/dev/null)
}

show() {
	{
		echo "status: $status"
		echo "stdout:"
		printf '  %s\n' "${lines[@]}"
		echo "stderr:"
		printf '  %s\n' "$stderr"
	} >&2
}

count_lines() {
	grep -c "$1" <<<"$2" || true
}

# Every task printed "NODE in-the-image"; N distinct nodes among them.
assert_on_nodes() {
	local want_tasks=$1 want_nodes=$2
	[ "$status" -eq 0 ] || { show; return 1; }
	[ "${#lines[@]}" -eq "$want_tasks" ] || { echo "expected $want_tasks lines" >&2; show; return 1; }
	[ "$(awk '$2 != "in-the-image"' <<<"$output")" = "" ] || { echo "a task did not see the image" >&2; show; return 1; }
	[ "$(awk '{ print $1 }' <<<"$output" | sort -u | wc -l)" -eq "$want_nodes" ] ||
		{ echo "expected $want_nodes nodes" >&2; show; return 1; }
}

cache_entries() {
	find "$IMAGE_CACHE" -name image.sqfs 2>/dev/null
}

@test "a squashfs image runs on both nodes of srun -N2" {
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="$WORK/images/image.sqfs" \
		sh -c 'echo "$SLURMD_NODENAME $(cat /marker)"'
	assert_on_nodes 2 2
}

@test "a squashfs image under srun is mounted, not unpacked" {
	local before
	before=$(cache_entries)
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="$WORK/canary.sqfs" cat "/$CANARY"
	[ "$status" -eq 0 ] || { show; false; }
	[ "$output" = "canary
canary" ] || { show; false; }
	[ "$(count_lines 'sandbox: importing ' "$stderr")" -eq 0 ] || { show; false; }
	[ "$(cache_entries)" = "$before" ] || { echo "a cache entry appeared" >&2; false; }
	run find /tmp /var/tmp "$SBX_CLUSTER" -xdev -name "$CANARY"
	[ -z "$output" ] || { echo "the image was unpacked: $output" >&2; false; }
}

@test "a tarball image runs on both nodes of srun -N2" {
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="$WORK/images/rootfs.tar.gz" \
		sh -c 'echo "$SLURMD_NODENAME $(cat /marker)"'
	assert_on_nodes 2 2
}

@test "a docker:// image runs under srun -N2 -n4, imported once for the shared cache" {
	local before
	before=$(cache_entries | wc -l)
	run --separate-stderr as_user srun -N2 -n4 --sandbox-image="docker://$REGISTRY/sbx/layered:v1" \
		sh -c 'echo "$SLURMD_NODENAME $(cat /marker)"'
	assert_on_nodes 4 2
	[ "$(cache_entries | wc -l)" -eq $((before + 1)) ] || { echo "expected one new cache entry:" >&2; cache_entries >&2; false; }
	[ "$(count_lines 'sandbox: importing ' "$stderr")" -eq 1 ] || { echo "expected one import" >&2; show; false; }
	[ "$(count_lines 'sandbox: imported ' "$stderr")" -eq 1 ] || { echo "expected one 'imported' line" >&2; show; false; }
}

@test "the second step with a docker:// image is a cache hit on every node" {
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="docker://$REGISTRY/sbx/layered:v1" cat /marker
	[ "$status" -eq 0 ] || { show; false; }
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="docker://$REGISTRY/sbx/layered:v1" cat /marker
	[ "$status" -eq 0 ] || { show; false; }
	[ "$(count_lines 'sandbox: importing ' "$stderr")" -eq 0 ] || { echo "expected a cache hit" >&2; show; false; }
}

@test "import progress appears once per step, not once per task" {
	# Two tasks: a node of this cluster has two CPUs.
	run --separate-stderr as_user srun -N1 -n2 --sandbox-image="docker://$REGISTRY/sbx/one-node:v1" cat /marker
	[ "$status" -eq 0 ] || { show; false; }
	[ "${#lines[@]}" -eq 2 ] || { show; false; }
	[ "$(count_lines 'sandbox: importing ' "$stderr")" -eq 1 ] || { echo "expected one 'importing' line" >&2; show; false; }
	[ "$(count_lines 'sandbox: imported ' "$stderr")" -eq 1 ] || { echo "expected one 'imported' line" >&2; show; false; }
}

@test "--sandbox-entrypoint runs the image's Entrypoint under srun" {
	run --separate-stderr as_user srun -n1 --sandbox-image="docker://$REGISTRY/sbx/entry:v1" \
		--sandbox-entrypoint echo hello
	[ "$status" -eq 0 ] || { show; false; }
	[ "$output" = "sbx-entrypoint ran
hello" ] || { show; false; }
}

@test "--no-sandbox-entrypoint runs the command alone" {
	run --separate-stderr as_user srun -n1 --sandbox-image="docker://$REGISTRY/sbx/entry:v1" \
		--no-sandbox-entrypoint echo hello
	[ "$status" -eq 0 ] || { show; false; }
	[ "$output" = hello ] || { show; false; }
}

@test "the image's Env reaches the tasks under srun" {
	run --separate-stderr as_user srun -n1 --sandbox-image="docker://$REGISTRY/sbx/layered:v1" \
		sh -c 'echo "$IMAGE_VAR"'
	[ "$status" -eq 0 ] || { show; false; }
	[ "$output" = from-image ] || { show; false; }
}

@test "a missing docker:// tag fails the step with one clear line and drains no node" {
	run --separate-stderr as_user srun -N2 -n2 --sandbox-image="docker://$REGISTRY/sbx/layered:no-such-tag" true
	[ "$status" -ne 0 ] || { show; false; }
	grep -q "sandbox: .*no-such-tag.*not found" <<<"$stderr" || { show; false; }
	run sinfo -h -o %T
	[[ "$output" != *drain* ]] || { echo "node drained: $output" >&2; false; }
}
