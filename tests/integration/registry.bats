#!/usr/bin/env bats
# docker:// images from a real registry (Debian's docker-registry, started by
# this file as the test user on 127.0.0.1 over plain HTTP): pulls by tag and
# by digest, layers, concurrent first pulls, authentication, and the policy
# keys that decide which registries may be used.
#
# Imported images are mounted with squashfuse, which needs /dev/fuse
# read-writable by the test user: tests/run-all (as root) makes it 0666, as
# distributions ship it; the tests skip, saying so, when it is not.

load ../lib/common
load ../lib/registry

AUTH_CREDS=sbx-user:sbx-secret-pw
IMAGES=$BATS_FILE_TMPDIR/images
FILE_CACHE=$BATS_FILE_TMPDIR/cache

setup_file() {
	is_root && return 0
	local bin
	for bin in "$BUILD/sandbox-run" "$SANDBOX_HELPER" "$SBX_PROBE"; do
		if [ ! -x "$bin" ]; then
			echo "$bin is missing: build first (make all $BUILD/tests/sbx-probe)" >&2
			return 1
		fi
	done
	make_image "$IMG"
	"$SBX_TESTS_LIB/mkoci.sh" all "$IMG" "$IMAGES"
	mkdir -m 1777 "$FILE_CACHE"
	write_default_config "$SBX_CONFIG"
	sed -i "/^\[images\]/a cache_dir = $FILE_CACHE\ninsecure_registries = 127.0.0.1:*" "$SBX_CONFIG"

	registry_start --auth "$AUTH_CREDS"
	export AUTH_REGISTRY=$REGISTRY
	registry_push "oci:$IMAGES/oci:base" sbx/base:v1 --creds "$AUTH_CREDS"
	registry_start
	export PLAIN_REGISTRY=$REGISTRY
	registry_push "oci:$IMAGES/oci:layered" sbx/layered:v1
	registry_push "oci:$IMAGES/oci:base" sbx/base:v1
	# A second name for the same image, for a first pull the other tests
	# cannot have cached.
	registry_push "oci:$IMAGES/oci:layered" sbx/crowd:v1
}

teardown_file() {
	registry_stop
}

setup() {
	if is_root; then
		skip "run as an unprivileged user (tests/run-all does this)"
	fi
	cd "$BATS_TEST_TMPDIR"
	CACHE=$BATS_TEST_TMPDIR/cache
}

need_fuse() {
	[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
		skip "/dev/fuse is not read-writable by $(id -un) (squashfuse needs it; tests/run-all as root makes it 0666, as distributions ship it)"
}

# cache_policy SECTION.KEY=VALUE...: the registry-friendly policy with this
# test's own cache; prints the file's path.
cache_policy() {
	mkdir -p -m 1777 "$CACHE"
	policy images.cache_dir="$CACHE" images.insecure_registries='127.0.0.1:*' "$@"
}

assert_imports() {
	local n
	n=$(grep -c '^sandbox: importing ' <<<"$stderr" || true)
	if [ "$n" -ne "$1" ]; then
		echo "expected $1 \"sandbox: importing\" line(s), saw $n" >&2
		show_run
		return 1
	fi
}

# A pull refused midway: exit 125, and after the progress lines of the
# import ("sandbox: importing ..." and the like) one last "sandbox: ..." line
# naming every word.
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

@test "an image pulled by tag runs" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "docker://$PLAIN_REGISTRY/sbx/layered:v1" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
	assert_imports 1
}

@test "an image pulled by digest runs" {
	need_fuse
	local digest
	digest=$(REGISTRY=$PLAIN_REGISTRY registry_digest sbx/layered:v1)
	[[ "$digest" == sha256:* ]] || { echo "skopeo inspect gave: $digest" >&2; false; }
	run_sbx --image "docker://$PLAIN_REGISTRY/sbx/layered@$digest" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
}

@test "the second use of a pulled image is a cache hit" {
	need_fuse
	local conf
	conf=$(cache_policy)
	run_sbx --config "$conf" --image "docker://$PLAIN_REGISTRY/sbx/base:v1" -- true
	assert_success
	assert_imports 1
	run_sbx --config "$conf" --image "docker://$PLAIN_REGISTRY/sbx/base:v1" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
	assert_imports 0
}

@test "a pulled image's upper layer deletes a file and a directory" {
	need_fuse
	run_sbx --image "docker://$PLAIN_REGISTRY/sbx/layered:v1" -- sh -c \
		'for p in /etc/sbx-delete-me /opt/sbx-delete-dir; do [ -e $p ] && echo "present: $p"; done; echo done'
	assert_success
	assert_output "done"
}

@test "a pulled image's upper layer adds a file" {
	need_fuse
	run_sbx --image "docker://$PLAIN_REGISTRY/sbx/layered:v1" -- cat /etc/sbx-layer2-added
	assert_success
	assert_output "added by layer 2"
}

@test "a pulled image's config Env is set inside" {
	need_fuse
	run_sbx --image "docker://$PLAIN_REGISTRY/sbx/layered:v1" -- sh -c 'echo "$IMAGE_VAR"'
	assert_success
	assert_output "from-image"
}

@test "16 concurrent first pulls of one image import it once and all succeed" {
	need_fuse
	local conf i n rc failed=0
	local -a pids=()
	conf=$(cache_policy)
	for i in $(seq 16); do
		sbx --config "$conf" --image "docker://$PLAIN_REGISTRY/sbx/crowd:v1" -- cat /etc/sbx-image-marker \
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

@test "a registry that needs a login is used with REGISTRY_AUTH_FILE" {
	need_fuse
	registry_auth_file "$BATS_TEST_TMPDIR/auth.json" "$AUTH_CREDS" "$AUTH_REGISTRY"
	REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json \
		run_sbx --image "docker://$AUTH_REGISTRY/sbx/base:v1" -- cat /etc/sbx-image-marker
	assert_success
	assert_output "sbx-test-image"
}

@test "without credentials a registry that needs a login is refused in one line" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "docker://$AUTH_REGISTRY/sbx/base:v1" -- true
	assert_import_refused "$AUTH_REGISTRY/sbx/base:v1" "authentication"
}

@test "wrong credentials are refused in one line" {
	need_fuse
	registry_auth_file "$BATS_TEST_TMPDIR/auth.json" sbx-user:wrong-password "$AUTH_REGISTRY"
	REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json \
		run_sbx --config "$(cache_policy)" --image "docker://$AUTH_REGISTRY/sbx/base:v1" -- true
	assert_import_refused "$AUTH_REGISTRY/sbx/base:v1"
}

@test "an HTTP registry not in images.insecure_registries is refused naming that key" {
	run_sbx --config "$(cache_policy images.insecure_registries=)" \
		--image "docker://$PLAIN_REGISTRY/sbx/base:v1" -- true
	assert_refused "$PLAIN_REGISTRY" "images.insecure_registries"
}

@test "a registry not in images.registries is refused naming that key" {
	run_sbx --config "$(cache_policy images.registries=registry.example.org)" \
		--image "docker://$PLAIN_REGISTRY/sbx/base:v1" -- true
	assert_refused "$PLAIN_REGISTRY" "images.registries"
}

@test "a registry refused by the policy is refused before anything is pulled" {
	run_sbx --config "$(cache_policy images.registries=registry.example.org)" \
		--image "docker://$PLAIN_REGISTRY/sbx/base:v1" -- true
	assert_status 125
	assert_imports 0
	assert_equal "" "$(find "$CACHE" -type f 2>/dev/null)" "files in the cache"
}

@test "a missing tag is refused with a 'not found' line" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "docker://$PLAIN_REGISTRY/sbx/layered:no-such-tag" -- true
	assert_import_refused "sbx/layered:no-such-tag" "not found"
}

@test "a missing repository is refused with a 'not found' line" {
	need_fuse
	run_sbx --config "$(cache_policy)" --image "docker://$PLAIN_REGISTRY/sbx/no-such-repo:v1" -- true
	assert_import_refused "sbx/no-such-repo:v1" "not found"
}
