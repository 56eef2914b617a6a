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
load ../lib/images
load ../lib/registry

AUTH_CREDS=sbx-user:sbx-secret-pw
IMAGES=$BATS_FILE_TMPDIR/images
FILE_CACHE=$BATS_FILE_TMPDIR/cache

setup_file() {
	is_root && return 0
	prepare_image_suite
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

# cache_policy SECTION.KEY=VALUE...: the registry-friendly policy with this
# test's own cache; prints the file's path.
cache_policy() {
	mkdir -p -m 1777 "$CACHE"
	policy images.cache_dir="$CACHE" images.insecure_registries='127.0.0.1:*' "$@"
}

@test "an image pulled by tag runs" {
	need_fuse
	assert_image_runs "docker://$PLAIN_REGISTRY/sbx/layered:v1" --config "$(cache_policy)"
	assert_imports 1
}

@test "an image pulled by digest runs" {
	need_fuse
	local digest
	digest=$(REGISTRY=$PLAIN_REGISTRY registry_digest sbx/layered:v1)
	[[ "$digest" == sha256:* ]] || { echo "skopeo inspect gave: $digest" >&2; false; }
	assert_image_runs "docker://$PLAIN_REGISTRY/sbx/layered@$digest"
}

@test "the second use of a pulled image is a cache hit" {
	need_fuse
	assert_second_use_is_a_cache_hit "docker://$PLAIN_REGISTRY/sbx/base:v1"
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
	assert_16_first_uses_import_once "$(cache_policy)" "docker://$PLAIN_REGISTRY/sbx/crowd:v1"
}

@test "a registry that needs a login is used with REGISTRY_AUTH_FILE" {
	need_fuse
	registry_auth_file "$BATS_TEST_TMPDIR/auth.json" "$AUTH_CREDS" "$AUTH_REGISTRY"
	REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json assert_image_runs "docker://$AUTH_REGISTRY/sbx/base:v1"
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

# A tag pushed again after a use: within images.tag_ttl the digest of the
# first use still serves (no registry round trip); with tag_ttl empty the
# registry is asked every time and the new image comes.
@test "within images.tag_ttl a tag is not asked again; with tag_ttl empty it is" {
	need_fuse
	local conf fresh
	conf=$(cache_policy)
	REGISTRY=$PLAIN_REGISTRY registry_push "oci:$IMAGES/oci:base" sbx/moving:v1
	run_sbx --config "$conf" --image "docker://$PLAIN_REGISTRY/sbx/moving:v1" -- \
		sh -c 'test -e /etc/sbx-layer2-added && echo layered || echo base'
	assert_success
	assert_output base
	REGISTRY=$PLAIN_REGISTRY registry_push "oci:$IMAGES/oci:layered" sbx/moving:v1
	run_sbx --config "$conf" --image "docker://$PLAIN_REGISTRY/sbx/moving:v1" -- \
		sh -c 'test -e /etc/sbx-layer2-added && echo layered || echo base'
	assert_success
	assert_output base
	fresh=$(cache_policy images.tag_ttl=)
	run_sbx --config "$fresh" --image "docker://$PLAIN_REGISTRY/sbx/moving:v1" -- \
		sh -c 'test -e /etc/sbx-layer2-added && echo layered || echo base'
	assert_success
	assert_output layered
}

@test "a registry that does not answer is not fatal for a tag pulled before" {
	need_fuse
	local conf pid
	conf=$(cache_policy images.tag_ttl=)
	# A registry of this test's own, stopped after the first pull.
	registry_start --dir "$BATS_TEST_TMPDIR"
	registry_push "oci:$IMAGES/oci:base" sbx/offline:v1
	pid=$(tail -n 1 "$REGISTRY_PIDS_FILE")
	run_sbx --config "$conf" --image "docker://$REGISTRY/sbx/offline:v1" -- true
	assert_success
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	run_sbx --config "$conf" --image "docker://$REGISTRY/sbx/offline:v1" -- cat /etc/sbx-image-marker
	assert_success
	[ -n "$output" ]
	assert_stderr_contains "the registry did not answer"
	# A reference never pulled has nothing to fall back on.
	run_sbx --config "$conf" --image "docker://$REGISTRY/sbx/never:v1" -- true
	assert_status 125
	assert_stderr_contains "cannot reach registry $REGISTRY"
}
