#!/usr/bin/env bats
# The site policy (--config FILE): what the admin allows, the defaults it
# sets, and mistakes in the file itself.

load ../lib/common

# ------------------------------------------------------------ refusals

@test "a mount source outside allowed_sources is refused, naming the key" {
	conf=$(policy mounts.allowed_sources=/home)
	remember_host_state
	run_sbx --config "$conf" --image "$IMG" --mount /etc:/mnt/etc:ro -- true
	assert_refused /etc allowed_sources
	assert_host_unchanged
}

@test "a mount source inside allowed_sources is accepted" {
	mkdir "$BATS_TEST_TMPDIR/data"
	conf=$(policy "mounts.allowed_sources=$BATS_TEST_TMPDIR")
	run_sbx --config "$conf" --image "$IMG" --mount "$BATS_TEST_TMPDIR/data:/mnt" -- true
	assert_success
}

@test "a symlink inside allowed_sources that leads outside is refused" {
	mkdir "$BATS_TEST_TMPDIR/allowed"
	ln -s /etc "$BATS_TEST_TMPDIR/allowed/etc-link"
	conf=$(policy "mounts.allowed_sources=$BATS_TEST_TMPDIR/allowed")
	run_sbx --config "$conf" --image "$IMG" --mount "$BATS_TEST_TMPDIR/allowed/etc-link:/mnt/etc:ro" -- true
	assert_refused etc-link allowed_sources
}

@test "an image outside the allowed image dirs is refused, naming the key" {
	conf=$(policy images.allowed=/srv/images)
	remember_host_state
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$IMG" allowed
	assert_host_unchanged
}

@test "--remap-root is refused when allow_remap_root = no" {
	conf=$(policy namespaces.allow_remap_root=no)
	remember_host_state
	run_sbx --config "$conf" --image "$IMG" --remap-root -- id -u
	assert_refused remap-root allow_remap_root
	assert_host_unchanged
}

@test "--net host is refused when allow_net_host = no" {
	conf=$(policy namespaces.allow_net_host=no)
	run_sbx --config "$conf" --image "$IMG" --net host -- true
	assert_refused host allow_net_host
}

@test "--writable is refused when allow_writable = no" {
	conf=$(policy rootfs.allow_writable=no)
	run_sbx --config "$conf" --image "$IMG" --writable -- true
	assert_refused writable allow_writable
}

@test "--hostname is refused when allow_hostname = no" {
	conf=$(policy namespaces.allow_hostname=no)
	run_sbx --config "$conf" --image "$IMG" --hostname chosen -- true
	assert_refused chosen allow_hostname
}

@test "--env is refused when allow_user_env = no" {
	conf=$(policy environment.allow_user_env=no)
	run_sbx --config "$conf" --image "$IMG" --env FOO=bar -- true
	assert_refused FOO allow_user_env
}

# ------------------------------------------------------------ defaults

@test "net = host gives the host's network without --net" {
	conf=$(policy namespaces.net=host)
	host=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort)
	run_sbx --config "$conf" --image "$IMG" -- cat /proc/net/dev
	assert_success
	inside=$(printf '%s\n' "${lines[@]:2}" | cut -d: -f1 | tr -d ' ' | sort)
	assert_equal "$host" "$inside" "interfaces"
}

@test "--net none overrides net = host" {
	conf=$(policy namespaces.net=host)
	run_sbx --config "$conf" --image "$IMG" --net none -- cat /proc/net/dev
	assert_success
	inside=$(printf '%s\n' "${lines[@]:2}" | cut -d: -f1 | tr -d ' ')
	assert_equal "lo" "$inside" "interfaces"
}

@test "under the shipped policy sandbox-run gets a private loopback-only network" {
	run_sbx --config "$SBX_REPO/conf/sandbox.conf" --image "$IMG" -- sh -c 'cat /proc/net/dev; readlink /proc/self/ns/net'
	assert_success
	inside=$(printf '%s\n' "${lines[@]:2}" | grep -v '^net:\[' | cut -d: -f1 | tr -d ' ')
	assert_equal "lo" "$inside" "interfaces"
	assert_not_equal "$(readlink /proc/self/ns/net)" "${lines[-1]}" "the network namespace"
}

@test "sandbox_run_net = host gives sandbox-run the host's network; slurm_net does not" {
	conf=$(policy namespaces.net=none namespaces.sandbox_run_net=host)
	run_sbx --config "$conf" --image "$IMG" -- readlink /proc/self/ns/net
	assert_success
	assert_output "$(readlink /proc/self/ns/net)"
	conf=$(policy namespaces.net=none namespaces.slurm_net=host)
	run_sbx --config "$conf" --image "$IMG" -- readlink /proc/self/ns/net
	assert_success
	assert_not_equal "$(readlink /proc/self/ns/net)" "$output" "the network namespace"
}

@test "a host network default the site forbids gives none, not an error" {
	conf=$(policy namespaces.net=host namespaces.allow_net_host=no)
	run_sbx --config "$conf" --image "$IMG" -- readlink /proc/self/ns/net
	assert_success
	assert_not_equal "$(readlink /proc/self/ns/net)" "$output" "the network namespace"
}

@test "writable = yes makes the image writable without --writable" {
	conf=$(policy rootfs.writable=yes)
	run_sbx --config "$conf" --image "$IMG" -- sbx-probe write /new-file
	assert_success
	assert_output "write: ok"
}

@test "--readonly overrides writable = yes" {
	conf=$(policy rootfs.writable=yes)
	run_sbx --config "$conf" --image "$IMG" --readonly -- sbx-probe write /new-file
	assert_success
	assert_output "write: EROFS"
}

@test "remap_root = yes makes the command uid 0 without --remap-root" {
	conf=$(policy namespaces.remap_root=yes)
	run_sbx --config "$conf" --image "$IMG" -- id -u
	assert_success
	assert_output "0"
}

@test "hostname = NAME sets the hostname inside" {
	conf=$(policy namespaces.hostname=site-node)
	run_sbx --config "$conf" --image "$IMG" -- hostname
	assert_success
	assert_output "site-node"
}

@test "mount_home = yes shows the caller's home inside" {
	conf=$(policy mounts.mount_home=yes)
	marker=$(mktemp "$HOME/sbx-home-marker.XXXXXX")
	run_sbx --config "$conf" --image "$IMG" -- test -e "$marker"
	rm -f "$marker"
	assert_success
}

@test "tmp_size limits the size of /tmp" {
	conf=$(policy rootfs.tmp_size=1M)
	run_sbx --config "$conf" --image "$IMG" -- sh -c 'awk "\$2 == \"/tmp\" { print \$4 }" /proc/mounts'
	assert_success
	assert_output_contains "size=1024k"
}

@test "sys = none leaves /sys empty" {
	conf=$(policy rootfs.sys=none)
	run_sbx --config "$conf" --image "$IMG" -- ls -A /sys
	assert_success
	assert_output ""
}

@test "seccomp_allow takes a syscall off the deny list" {
	[ "$(probe keyctl)" = "keyctl: ok" ] || skip "keyctl does not work on the host"
	conf=$(policy security.seccomp_allow=keyctl)
	run_sbx --config "$conf" --image "$IMG" -- sbx-probe keyctl
	assert_success
	assert_output "keyctl: ok"
}

@test "seccomp_deny adds a syscall to the deny list" {
	conf=$(policy security.seccomp_deny=socket)
	run_sbx --config "$conf" --image "$IMG" -- sbx-probe connect 127.0.0.1 9
	assert_success
	assert_output "connect: EPERM"
}

@test "seccomp = no runs the command without a filter" {
	conf=$(policy security.seccomp=no)
	run_sbx --config "$conf" --image "$IMG" -- sbx-probe status
	assert_success
	assert_output_contains "Seccomp: 0"
}

@test "passthrough passes the listed variables with mode = clean" {
	conf=$(policy environment.mode=clean "environment.passthrough=SITE_*, TERM")
	SITE_VAR=from-site OTHER_VAR=hidden run_sbx --config "$conf" --image "$IMG" -- env
	assert_success
	assert_output_contains "SITE_VAR=from-site"
	refute_output_contains "OTHER_VAR"
}

@test "mode = inherit passes the caller's environment" {
	conf=$(policy environment.mode=inherit "environment.passthrough=TERM")
	SITE_VAR=kept run_sbx --config "$conf" --image "$IMG" -- env
	assert_success
	assert_output_contains "SITE_VAR=kept"
}

@test "the key clean of earlier releases is refused, naming mode" {
	conf=$(policy environment.clean=yes)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:" "key 'clean' in [environment] is now 'mode' (write mode = clean, or mode = inherit for the job's whole environment)"
}

# ------------------------------------------------------------ errors in the file

@test "an unknown key is refused with the file and line" {
	conf=$(config_file <<-'EOF'
	[rootfs]
	writable = no
	bogus_key = 1
	EOF
	)
	remember_host_state
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:3:" bogus_key
	[[ "${stderr_lines[0]}" == "sandbox: $conf:3:"* ]] || { show_run; false; }
	assert_host_unchanged
}

@test "an unknown section is refused with the file and line" {
	conf=$(config_file <<-'EOF'
	[images]
	allowed = /
	[bogus]
	key = 1
	EOF
	)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:3:" bogus
}

@test "a bad size is refused with the file, line and value" {
	conf=$(config_file <<-'EOF'
	[rootfs]
	writable_size = 12Q
	EOF
	)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:2:" 12Q
}

@test "a bad boolean is refused with the file, line and value" {
	conf=$(config_file <<-'EOF'
	[namespaces]

	allow_remap_root = maybe
	EOF
	)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:3:" maybe
}

@test "a bad net mode in the file is refused with the file and line" {
	conf=$(config_file <<-'EOF'
	[namespaces]
	net = wide
	EOF
	)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:2:" wide
}

@test "a line without '=' is refused with the file and line" {
	conf=$(config_file <<-'EOF'
	[rootfs]
	# a comment is fine
	writable
	EOF
	)
	run_sbx --config "$conf" --image "$IMG" -- true
	assert_refused "$conf:3:"
}

# ------------------------------------------------------------ global options

# The policy's cap of the cache shows which policy a cache command read.
@test "--config before cache works as after it: ls, gc, rm" {
	conf=$(policy images.cache_max_size=3G)
	run_sbx --config "$conf" cache ls
	assert_success
	assert_output_contains "(cap 3.0G)"
	before=$output
	run_sbx cache --config "$conf" ls
	assert_success
	assert_output "$before"
	run_sbx "--config=$conf" cache gc
	assert_success
	assert_output_contains "(cap 3.0G)"
	run_sbx --config "$conf" cache rm --all
	assert_success
}

@test "--config before info works as after it" {
	conf=$(policy images.cache_max_size=3G)
	run_sbx --config "$conf" info
	assert_output_contains "policy file"
	assert_output_contains "$conf is readable"
	before=$output
	run_sbx info --config "$conf"
	assert_equal "$before" "$output" "the report"
}

@test "a missing --config before a subcommand is refused in one line" {
	run_sbx --config /no/such/sandbox.conf cache ls
	assert_refused /no/such/sandbox.conf
}

@test "a run whose command is called info or cache is still a run" {
	# Not in the image: 127, the shim's "not found".
	run -127 --separate-stderr sbx --config "$SBX_CONFIG" --image "$IMG" info
	assert_stderr_contains "info"
	run -127 --separate-stderr sbx --config "$SBX_CONFIG" --image "$IMG" -- cache ls
	assert_stderr_contains "cache"
}
