#!/bin/bash
# Parse the AppArmor profiles of conf/apparmor/ with an AppArmor 4 parser
# (they use abi/4.0 and the "userns" rule, which AppArmor 3 cannot read), and
# show that a broken copy is refused. No kernel support is needed: -Q skips
# loading, -K and -T the cache.
#
#   tests/deb/check-apparmor.sh
#
# The parser: apparmor_parser on PATH when it is version 4 or later; else, as
# root, Debian 13's, downloaded into a private tmpfs inside the trixie root
# (TRIXIE_ROOT, or tests/vm/trixie-root.sh) and run there. Neither: SKIP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

# Runs in the environment that has the parser: $1 the parser, $2 its
# abi/tunables directory (or ""), $3 the directory with the profiles.
# shellcheck disable=SC2016
check='
	parser=$1 base=$2 dir=$3 rc=0
	set -- -Q -K -T
	[ -z "$base" ] || set -- "$@" --base "$base" -I "$base"
	echo "# $("$parser" --version 2>/dev/null | head -n 1)"
	for f in "$dir"/profiles/*; do
		if "$parser" "$@" "$f" 2>"$dir/err"; then
			echo "ok: $(basename "$f") parses"
		else
			echo "not ok: $(basename "$f"): $(grep -v "Warning\|Cache read" "$dir/err")"
			rc=1
		fi
	done
	sed "s/userns,/userns_typo,/" "$dir/profiles/sandbox-run" >"$dir/bad"
	if "$parser" "$@" "$dir/bad" 2>/dev/null; then
		echo "not ok: a profile with a typo parses too: the check cannot fail"
		rc=1
	else
		echo "ok: a profile with a typo is refused"
	fi
	exit $rc
'

if command -v apparmor_parser >/dev/null &&
	[ "$(apparmor_parser --version | sed -n '1s/.* \([0-9]*\)\..*/\1/p')" -ge 4 ] 2>/dev/null; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp -r "$repo/conf/apparmor" "$tmp/profiles"
	sh -c "$check" sh apparmor_parser "" "$tmp"
	exit
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: no AppArmor 4 parser here ($(apparmor_parser --version 2>/dev/null | head -n 1 || echo none)), and the trixie root needs root"
	exit 0
fi
root=${TRIXIE_ROOT:-}
if [ -z "$root" ] && [ -x "$repo/tests/vm/trixie-root.sh" ]; then
	root=$("$repo/tests/vm/trixie-root.sh") || root=
fi
if [ -z "$root" ]; then
	echo "SKIP: no AppArmor 4 parser here and no trixie root (set TRIXIE_ROOT or add tests/vm/trixie-root.sh)"
	exit 0
fi
# In a private mount namespace: the tmpfs on the root's /mnt vanishes with it.
# shellcheck disable=SC2016
unshare --mount --propagation private -- sh -c '
	set -e
	root=$1 repo=$2 check=$3
	mount -t tmpfs tmpfs "$root/mnt"
	cp -r "$repo/conf/apparmor" "$root/mnt/profiles"
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root sh -c "
		cd /mnt && apt-get download -q apparmor >/mnt/dl.log 2>&1 || { echo \"SKIP: apt-get download apparmor failed in the trixie root: \$(tail -n 1 /mnt/dl.log)\"; exit 0; }
		dpkg-deb -x apparmor_*.deb x
		sh -c \"\$0\" sh \$(ls /mnt/x/usr/sbin/apparmor_parser /mnt/x/sbin/apparmor_parser 2>/dev/null | head -n 1) /mnt/x/etc/apparmor.d /mnt
	" "$check"
' sh "$root" "$repo" "$check"
