#!/bin/sh
# make install, as an admin runs it, into a scratch DESTDIR with its own
# build: the files land where README says, the compiled-in paths follow
# PREFIX, and nothing installed is setuid, setgid or has file capabilities.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/sbx-install-check
fail() { echo "install-check: $*" >&2; exit 1; }

make -s -C "$repo" BUILD="$tmp/build" PREFIX="$prefix" DESTDIR="$tmp/dest" install >/dev/null
root=$tmp/dest$prefix
for f in bin/sandbox-run libexec/sandbox-helper libexec/sandbox-exec libexec/sandbox-probe etc/slurm/sandbox.conf \
	lib/slurm/spank_sandbox.so lib/slurm/spank_sandbox_named.so share/doc/slurm-sandbox/README.md share/doc/slurm-sandbox/admin-guide.md \
	share/man/man1/sandbox-run.1 share/man/man5/sandbox.conf.5 share/man/man8/spank_sandbox.8; do
	[ -f "$root/$f" ] || fail "$prefix/$f is missing"
done
# man finds the installed pages by name and section.
if command -v man >/dev/null; then
	for page in "1 sandbox-run" "5 sandbox.conf" "8 spank_sandbox"; do
		# shellcheck disable=SC2086
		set -- $page
		[ "$(man -M "$root/share/man" -w "$1" "$2" 2>/dev/null)" = "$root/share/man/man$1/$2.$1" ] ||
			fail "man -M $prefix/share/man $1 $2 does not find the installed page"
	done
fi
grep -q "$prefix/etc/slurm/sandbox.conf" "$root/bin/sandbox-run" ||
	fail "sandbox-run does not default to $prefix/etc/slurm/sandbox.conf"
grep -q "$prefix/libexec/sandbox-helper" "$root/bin/sandbox-run" ||
	fail "sandbox-run does not look for $prefix/libexec/sandbox-helper"
[ -z "$(find "$tmp/dest" -perm /6000)" ] || fail "setuid/setgid files: $(find "$tmp/dest" -perm /6000)"
if command -v getcap >/dev/null; then
	[ -z "$(getcap -r "$tmp/dest" 2>/dev/null)" ] || fail "file capabilities: $(getcap -r "$tmp/dest")"
fi
# Failure points (lib/util/failpoint.h) are for test builds only: no point's
# name, no variable that sets one and no code of them in what is installed.
points=$(grep -rhoE 'SBX_FAILPOINT\("[^"]+"' "$repo/lib" "$repo/helper" "$repo/plugin" | cut -d'"' -f2 | sort -u)
[ -n "$points" ] || fail "found no failure points in the source (SBX_FAILPOINT(\"name\", err))"
for f in bin/sandbox-run libexec/sandbox-helper libexec/sandbox-exec lib/slurm/spank_sandbox.so \
	lib/slurm/spank_sandbox_named.so; do
	found=$(strings -a "$root/$f" | grep -F -e SBX_FAILPOINT -e 'failure point' -e "$points" | sort -u | head -3)
	[ -z "$found" ] || fail "$prefix/$f holds failure points: $found"
	! nm -a "$root/$f" 2>/dev/null | grep -q sbx_failpoint || fail "$prefix/$f holds the failure point code"
done
echo "install-check: ok ($(find "$tmp/dest" -type f | wc -l) files under $prefix, none setuid or with capabilities, $(echo "$points" | wc -l) failure points absent)"
