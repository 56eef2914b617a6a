#!/bin/bash
# The Debian package, end to end on this (Debian 12) machine, as root:
#   1. build it (tests/deb/build-deb.sh bookworm; --no-build: reuse build-deb/bookworm/);
#   2. install it with apt-get (its dependencies must already be installed,
#      so that the purge can be compared with the machine before);
#   3. check the installed files: the three man pages (man -w, and rendered),
#      the commented-out plugstack drop-in, sandbox-run --help;
#   4. run the Slurm suite (tests/slurm/*.bats, a real local cluster) against
#      the installed plugin, helper, shim and sandbox-run: BUILD is a
#      directory of symlinks to the installed files, so the plugstack line
#      local-cluster.sh writes loads the installed spank_sandbox.so;
#   5. purge it, and check that no file of it is left and that /etc, /usr,
#      /opt and /var/lib hold exactly the files they held before.
#
#   flock /tmp/sbx-check.lock tests/deb/test-package.sh [--no-build]
#
# Environment: SBX_CLUSTER (the test cluster's prefix), SBX_TEST_USER,
# BATS_FILTER (bats -f, to run part of the Slurm suite), SBX_DEB_SUITES (the
# Slurm suite files to run, default all), SBX_SLURM_TESTS=0
# (leave the Slurm suite out: no cluster is started, no lock is needed).
# Exit status 0 when every step passed. The last line reads
# "check-deb: ... N passed, N failed, N skipped ...".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkg=slurm-sandbox
failed=0

note() { echo "# $*"; }
fail() {
	echo "check-deb: FAIL: $*" >&2
	failed=$((failed + 1))
}
die() {
	echo "check-deb: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "not root (it installs and purges a package)"
build=1
case ${1:-} in
--no-build) build=0 ;;
'') ;;
*) die "unknown argument $1 (usage: test-package.sh [--no-build])" ;;
esac
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
	die "$pkg is already installed here: this test would replace and purge it (apt-get purge $pkg first)"
fi

# 1. Build.
if [ "$build" -eq 1 ]; then
	"$repo/tests/deb/build-deb.sh" bookworm || die "the package did not build"
fi
deb=$(ls "$repo"/build-deb/bookworm/${pkg}_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "no $pkg .deb in build-deb/bookworm (run without --no-build)"
# The test harness (probe, racers) comes from the source build.
make -C "$repo" -s -j2 build/tests/sbx-probe race >/dev/null || die "make build/tests/sbx-probe race failed"

# 2. Install, with the machine's state before.
snapshot() {
	find /etc /usr /opt /var/lib -xdev \
		\( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/man-db -o -path /var/lib/ucf \
		-o -path /var/lib/systemd -o -path /etc/ld.so.cache \) -prune -o -print 2>/dev/null | sort
}
missing=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*//; s/\|.*//; s/ //g' | grep . |
	while read -r d; do dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'ok installed' || echo "$d"; done)
[ -z "$missing" ] || die "install the dependencies first, so that the purge can be compared: apt-get install $(echo $missing)"
before=$(mktemp) after=$(mktemp) files=$(mktemp)
trap 'rm -f "$before" "$after" "$files"; [ -n "${links:-}" ] && rm -rf "$links"' EXIT
snapshot >"$before"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >/tmp/check-deb-install.log 2>&1 ||
	die "apt-get install $deb failed ($(tail -n 3 /tmp/check-deb-install.log))"
dpkg -L "$pkg" >"$files"
note "installed $(basename "$deb"): $(while read -r f; do [ -f "$f" ] && echo; done <"$files" | wc -l) files"

# 3. The installed files.
plugindir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/slurm-wlm
for f in "$plugindir/spank_sandbox.so" "$plugindir/spank_sandbox_named.so" /usr/libexec/slurm-sandbox/sandbox-helper \
	/usr/libexec/slurm-sandbox/sandbox-exec /usr/bin/sandbox-run /etc/slurm/sandbox.conf \
	/etc/slurm/plugstack.conf.d/sandbox.conf; do
	grep -qx "$f" "$files" || fail "$f is not in the package"
done
grep -q "^/etc/slurm/sandbox.conf$" /var/lib/dpkg/info/$pkg.conffiles || fail "/etc/slurm/sandbox.conf is not a conffile"
if grep -v '^#' /etc/slurm/plugstack.conf.d/sandbox.conf | grep -q .; then
	fail "the plugstack drop-in enables something: $(grep -v '^#' /etc/slurm/plugstack.conf.d/sandbox.conf)"
fi
grep -qx "#required $plugindir/spank_sandbox.so config=/etc/slurm/sandbox.conf" /etc/slurm/plugstack.conf.d/sandbox.conf ||
	fail "the plugstack drop-in does not hold the commented plugin line"
grep -qx "#required $plugindir/spank_sandbox_named.so" /etc/slurm/plugstack.conf.d/sandbox.conf ||
	fail "the plugstack drop-in does not hold the commented named sandboxes' plugin line"
man_ok=0
for page in "1 sandbox-run" "8 spank_sandbox" "5 sandbox.conf"; do
	# shellcheck disable=SC2086
	set -- $page
	p=$(man -w "$1" "$2" 2>/dev/null)
	if [ "$p" = "/usr/share/man/man$1/$2.$1.gz" ] && man -P cat "$1" "$2" 2>/dev/null | grep -q "^NAME"; then
		note "man $1 $2: $p"
		man_ok=$((man_ok + 1))
	else
		fail "man $1 $2: '$p'"
	fi
done
/usr/bin/sandbox-run --help | grep -q "^usage: sandbox-run" || fail "sandbox-run --help"

# 4. The Slurm suite on the installed files.
n_ok=0 n_fail=0 n_skip=0
if [ "${SBX_SLURM_TESTS:-1}" = 0 ]; then
	n_skip=$(cd "$repo" && bats --count tests/slurm/*.bats)
	note "the $n_skip Slurm tests are left out (SBX_SLURM_TESTS=0): skipped"
else
	# Root's directory, not /tmp or /var/tmp: slurmstepd loads the plugin
	# through it, and root-trace.bats flags root resolving a path through a
	# directory users can write.
	mkdir -p "$repo/build-deb"
	links=$(mktemp -d "$repo/build-deb/installed.XXXXXX")
	chmod 0755 "$links"
	ln -s "$plugindir/spank_sandbox.so" "$links/spank_sandbox.so"
	ln -s "$plugindir/spank_sandbox_named.so" "$links/spank_sandbox_named.so"
	ln -s /usr/libexec/slurm-sandbox/sandbox-helper "$links/sandbox-helper"
	ln -s /usr/libexec/slurm-sandbox/sandbox-exec "$links/sandbox-exec"
	ln -s /usr/bin/sandbox-run "$links/sandbox-run"
	mkdir -p "$links/tests/race"
	cp "$repo/build/tests/sbx-probe" "$links/tests/"
	cp "$repo"/build/tests/race/* "$links/tests/race/"
	chmod -R a+rX "$links"
	for f in spank_sandbox.so spank_sandbox_named.so sandbox-helper sandbox-exec sandbox-run; do
		real=$(readlink -f "$links/$f")
		grep -qx "$real" "$files" || fail "$links/$f resolves to $real, not a file of the package"
	done
	# The test user reads the suites and the helpers' scripts.
	chmod -R o+rX "$repo/tests"
	d=$repo
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	export SBX_CLUSTER=${SBX_CLUSTER:-/tmp/sbx-cluster-deb}
	tap=$(mktemp)
	start=$SECONDS
	(cd "$repo" && BUILD="$links" SBX_TEST_USER="${SBX_TEST_USER:-sbxtest}" \
		bats --tap ${BATS_FILTER:+-f "$BATS_FILTER"} ${SBX_DEB_SUITES:-tests/slurm/*.bats}) | tee "$tap"
	rc=${PIPESTATUS[0]}
	n_skip=$(grep -c '^ok [0-9][0-9]* .* # skip' "$tap")
	n_ok=$(($(grep -c '^ok [0-9]' "$tap") - n_skip))
	n_fail=$(grep -c '^not ok [0-9]' "$tap")
	rm -f "$tap"
	[ "$rc" -eq 0 ] || [ "$n_fail" -gt 0 ] || n_fail=1
	[ "$n_fail" -eq 0 ] || fail "the Slurm suite on the installed files: $n_fail failed"
	note "Slurm suite on the installed files: $n_ok passed, $n_fail failed, $n_skip skipped ($((SECONDS - start)) s)"
	rm -rf "$links"
	links=
fi

# 5. Purge: nothing of the package left, the machine as it was.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" >/tmp/check-deb-purge.log 2>&1 ||
	fail "apt-get purge $pkg failed ($(tail -n 3 /tmp/check-deb-purge.log))"
left=0
while read -r f; do
	[ -f "$f" ] || [ -L "$f" ] || continue
	fail "left after purge: $f"
	left=$((left + 1))
done <"$files"
for d in /var/lib/slurm-sandbox /run/slurm-sandbox /etc/slurm/sandbox.conf /usr/share/doc/$pkg /usr/libexec/slurm-sandbox; do
	[ ! -e "$d" ] || { fail "left after purge: $d"; left=$((left + 1)); }
done
st=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)
[ -z "$st" ] || [ "$st" = not-installed ] || fail "dpkg still has $pkg: $st"
snapshot >"$after"
changed=$(diff "$before" "$after" | grep '^[<>]' | grep -vE '^[<>] /etc/(mtab|machine-id|\.pwd\.lock)$')
if [ -n "$changed" ]; then
	fail "/etc, /usr, /opt or /var/lib differ from before the install:"
	printf '%s\n' "$changed" | head -n 20 | sed 's/^/  /' >&2
fi
note "purge: $left of the package's files left, $(printf '%s' "$changed" | grep -c .) paths changed since before the install"

echo "check-deb: built, installed, man pages $man_ok/3, Slurm suite $n_ok passed, $n_fail failed, $n_skip skipped, purged with $left left; $failed failure(s)"
[ "$failed" -eq 0 ]
