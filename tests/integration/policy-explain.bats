#!/usr/bin/env bats
# `sandbox-run policy explain` and `policy check`: the admin's answer to
# "why was my job refused?" and to "is this policy file right?".

load ../lib/common

# line_of FILE REGEX: the number of the first line of FILE matching REGEX.
line_of() {
	grep -n -m1 -- "$2" "$1" | cut -d: -f1
}

# ------------------------------------------------------------ explain

@test "explain names the key and the line that refuse --net host" {
	conf=$(policy namespaces.allow_net_host=no)
	line=$(line_of "$conf" '^allow_net_host = no')
	run_sbx --config "$conf" policy explain --image "$IMG" --net host
	assert_status 1
	assert_output_contains "REFUSED  net          --net host: refused by namespaces.allow_net_host = no ($conf:$line)"
	assert_output_contains "verdict: refused: sandbox: --net host: refused by site policy"
}

@test "explain's verdict is the launch's own refusal, word for word" {
	conf=$(policy rootfs.allow_writable=no cgroups.max_memory=1G)
	for args in "--writable" "--memory 2G" "--mount /etc:/proc/x"; do
		# shellcheck disable=SC2086
		run_sbx --config "$conf" --image "$IMG" $args -- true
		assert_status 125
		launch=${stderr_lines[0]}
		# shellcheck disable=SC2086
		run_sbx --config "$conf" policy explain --image "$IMG" $args
		assert_status 1
		assert_output_contains "verdict: refused: $launch"
	done
}

@test "an allowed request shows the key that allowed it and the value the sandbox gets" {
	run_sbx policy explain --image "$IMG" --writable --hostname box --memory 512M
	assert_success
	assert_output_contains "allowed  writable     --writable: allowed by rootfs.allow_writable = yes ($SBX_CONFIG:"
	assert_output_contains "; effective: writable (changes vanish at exit)"
	assert_output_contains "allowed  hostname     --hostname box: allowed by namespaces.allow_hostname = yes"
	assert_output_contains "; effective: box"
	assert_output_contains "effective: 512M"
	assert_output_contains "verdict: allowed"
}

@test "a setting nobody asked for names the policy line that gives its value" {
	conf=$(policy rootfs.writable=yes)
	line=$(line_of "$conf" '^writable = yes')
	run_sbx --config "$conf" policy explain --image "$IMG"
	assert_success
	assert_output_contains "default  writable     not asked: rootfs.writable = yes ($conf:$line); effective: writable"
	assert_output_contains "default  hostname     not asked: namespaces.hostname = \"\" (the built-in default); effective: the host's name"
}

@test "srun's --sandbox-* options, one quoted string, are explained with a Slurm step's defaults" {
	conf=$(policy namespaces.slurm_net=host mounts.allow_mount_home=no)
	line=$(line_of "$conf" '^slurm_net = host')
	run_sbx --config "$conf" policy explain "--sandbox-image=$IMG --sandbox-mounts=/etc:/e:ro,/usr --sandbox-mount-home"
	assert_status 1
	assert_output_contains "front end: Slurm step"
	assert_output_contains "allowed  mount        /etc:/e: allowed by mounts.allowed_sources"
	assert_output_contains "effective: /usr on /usr, read-write"
	assert_output_contains "REFUSED  mount-home   --mount-home: refused by mounts.allow_mount_home = no"
	assert_output_contains "default  net          not asked: namespaces.slurm_net = host ($conf:$line); effective: host"
}

@test "a site that forbids the host's network explains why a Slurm step gets none" {
	conf=$(policy namespaces.slurm_net=host namespaces.allow_net_host=no)
	line=$(line_of "$conf" '^allow_net_host = no')
	run_sbx --config "$conf" policy explain --sandbox-image "$IMG"
	assert_success
	assert_output_contains "default  net          not asked: namespaces.allow_net_host = no ($conf:$line); effective: none (loopback only)"
}

@test "an image outside images.allowed is refused, with the key's line" {
	conf=$(policy images.allowed=/srv/images)
	line=$(line_of "$conf" '^allowed = /srv/images')
	run_sbx --config "$conf" policy explain --image "$IMG"
	assert_status 1
	assert_output_contains "REFUSED  image        $IMG: refused by images.allowed ($conf:$line)"
}

@test "explain without an image gives the verdict srun gives before anything starts" {
	conf=$(policy namespaces.allow_remap_root=no)
	run_sbx --config "$conf" policy explain --remap-root
	assert_status 1
	assert_output_contains "verdict: refused: sandbox: --remap-root: refused by site policy"
	run_sbx --config "$conf" policy explain --net none
	assert_success
	assert_output_contains "verdict: allowed (no image named"
}

@test "a bad option to explain is one line naming it" {
	run_sbx policy explain --image "$IMG" --net sideways
	assert_status 125
	assert_stderr_contains "sideways"
}

# ------------------------------------------------------------ check

@test "policy check prints every problem of a file with its line" {
	conf=$(config_file <<-'EOF'
	[rootfs]
	writable = maybe
	this line has no equals sign
	[securty]
	seccomp = no
	[security]
	capabilities = CAP_NOPE
	colour = blue
	EOF
	)
	run_sbx policy check "$conf"
	assert_status 1
	assert_output_contains "$conf:2: bad value 'maybe' for rootfs.writable (use yes or no)"
	assert_output_contains "$conf:3: syntax error"
	assert_output_contains "$conf:4: unknown section [securty]"
	assert_output_contains "$conf:7: unknown capability 'CAP_NOPE'"
	assert_output_contains "$conf:8: unknown key 'colour' in [security]"
	assert_output_contains "$conf: 5 problems"
	# The launch refuses the same file, at its first problem.
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:2"
}

@test "policy check of the suite's own policy finds nothing" {
	run_sbx policy check
	assert_success
	assert_output "$SBX_CONFIG: no problems"
}

@test "policy check of a missing file is a one-line error" {
	run_sbx policy check "$BATS_TEST_TMPDIR/none.conf"
	assert_refused "none.conf"
}
