#!/usr/bin/env bats
# Package managers in a --remap-root --writable sandbox (docs/sandbox-run.md,
# "Installing packages"): the user namespace holds one id, so chown to other
# ids and apt's switch to _apt cannot be honoured; the seccomp filter makes
# them report success and the sandbox tells apt not to switch. The Debian 12
# image (mmdebstrap --variant=apt) is cached by tests/lib/debian-image.sh, run
# as root once (tests/run-all does it); without it these tests skip.

load ../lib/common

setup_file() {
	is_root && return 0
	prepare_suite
	export DEB_IMG=$BATS_FILE_TMPDIR/debian DEB_SKIP=
	local tarball
	if ! tarball=$("$SBX_TESTS_LIB/debian-image.sh" 2>"$BATS_FILE_TMPDIR/why"); then
		DEB_SKIP=$(cat "$BATS_FILE_TMPDIR/why")
		return 0
	fi
	# Unpacked by the user, so every file is the user's: root inside.
	mkdir "$DEB_IMG"
	tar -xf "$tarball" -C "$DEB_IMG" --exclude='./dev/*' --no-same-owner
	"$SBX_TESTS_LIB/mkdeb.py" "$BATS_FILE_TMPDIR/sbx-hello.deb"
}

setup() {
	is_root && skip "run as an unprivileged user (tests/run-all does this)"
	[ -z "$DEB_SKIP" ] || skip "$DEB_SKIP"
	cd "$BATS_TEST_TMPDIR"
}

apt_sbx() {
	run_sbx --image "$DEB_IMG" --remap-root --writable \
		--mount "$BATS_FILE_TMPDIR/sbx-hello.deb:/tmp/sbx-hello.deb:ro" "$@"
}

@test "apt-get install ./pkg.deb works as root in a --remap-root --writable sandbox" {
	apt_sbx -- sh -c 'apt-get install -y -q /tmp/sbx-hello.deb >/dev/null 2>&1; echo "apt=$?"; sbx-hello; dpkg -s sbx-hello | grep Status'
	assert_success
	assert_output "apt=0
hello from sbx-hello
Status: install ok installed"
}

@test "files a package gives to other users, and its postinst's chown _apt, stay the user's" {
	apt_sbx -- sh -c 'apt-get install -y -q /tmp/sbx-hello.deb >/dev/null 2>&1 && stat -c "%u:%g %n" /var/lib/sbx-hello /var/lib/sbx-hello/state'
	assert_success
	assert_output "0:0 /var/lib/sbx-hello
0:0 /var/lib/sbx-hello/state"
}

@test "the install is gone with the sandbox: the image is not written" {
	apt_sbx -- sh -c 'apt-get install -y -q /tmp/sbx-hello.deb >/dev/null 2>&1'
	assert_success
	[ ! -e "$DEB_IMG/usr/bin/sbx-hello" ]
	[ ! -e "$DEB_IMG/etc/apt/apt.conf.d/00slurm-sandbox-remap-root" ]
}

@test "without the seccomp filter dpkg's chown to an unmapped id fails (what the filter fixes)" {
	apt_sbx --config "$(policy security.seccomp=no)" -- sh -c 'apt-get install -y -q /tmp/sbx-hello.deb 2>&1; echo "apt=$?"'
	assert_success
	assert_output_contains "Invalid argument"
	refute_output_contains "apt=0"
}

@test "a read-only or non-remapped sandbox gets neither the fakes nor the apt setting" {
	run_sbx --image "$DEB_IMG" --remap-root -- sh -c 'ls /etc/apt/apt.conf.d; touch /tmp/f; chown 100 /tmp/f 2>/dev/null || echo refused'
	assert_success
	refute_output_contains "00slurm-sandbox-remap-root"
	assert_output_contains "refused"
}

@test "apt-get update and install from the Debian archive, with the host's network" {
	curl -fsI --max-time 5 http://deb.debian.org/debian/dists/bookworm/Release >/dev/null 2>&1 ||
		skip "the Debian archive is not reachable from here"
	apt_sbx --net host -- sh -c 'apt-get update -q >/dev/null 2>&1 && apt-get install -y -q hello >/dev/null 2>&1; hello'
	assert_success
	assert_output "Hello, world!"
}

@test "the image's own users stay in /etc/passwd and /etc/group, read-only or writable" {
	for mode in "" --writable; do
		run_sbx --image "$DEB_IMG" $mode -- sh -c 'grep -c "^_apt:" /etc/passwd; grep -c "^daemon:" /etc/group'
		assert_success
		assert_output "1
1"
	done
}
