#!/bin/bash
# Build the Debian package (debian/) for one release, from a clean copy of
# this tree (tracked and new files, no build directories), into
# build-deb/<dist>/: the .deb, .buildinfo, .changes and lintian's report.
#
#   tests/deb/build-deb.sh [bookworm|trixie]     (default: bookworm)
#
# bookworm is built on this machine (a Debian 12 host: dpkg-buildpackage,
# debhelper and the Build-Depends, installed with apt-get when run as root
# and missing). trixie is built inside the Debian 13 root that
# tests/vm/trixie-root.sh makes (as root; TRIXIE_ROOT=DIR names another root
# with the build dependencies), in a private mount namespace, so the root
# keeps nothing but an empty mount point.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dist=${1:-bookworm}
out=$repo/build-deb/$dist
src=$out/slurm-sandbox

die() {
	echo "build-deb: $*" >&2
	exit 1
}

case $dist in
bookworm | trixie) ;;
*) die "unknown release '$dist' (use bookworm or trixie)" ;;
esac

rm -rf "$out"
mkdir -p "$src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
	tar -xf - -C "$src"
# A file deleted but not yet committed is listed and absent: tar says so; the
# copy is still what the tree holds.

start=$SECONDS
if [ "$dist" = bookworm ]; then
	. /etc/os-release
	[ "${VERSION_CODENAME:-}" = bookworm ] ||
		die "this host is ${VERSION_CODENAME:-not Debian}, not bookworm: build bookworm packages on a Debian 12 host"
	if ! (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
		[ "$(id -u)" -eq 0 ] || die "missing build dependencies: $(cd "$src" && dpkg-checkbuilddeps 2>&1 | sed 's/.*: //')"
		echo "build-deb: installing the build dependencies" >&2
		DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends \
			dpkg-dev debhelper fakeroot lintian \
			$(cd "$src" && dpkg-checkbuilddeps 2>&1 | sed -e 's/.*Unmet build dependencies: //' -e 's/([^)]*)//g' -e 's/<[^>]*>//g') >&2 ||
			die "apt-get install of the build dependencies failed"
	fi
	(cd "$src" && dpkg-buildpackage -b -us -uc -j2) >"$out/build.log" 2>&1 ||
		die "dpkg-buildpackage failed; the end of $out/build.log:$(tail -n 30 "$out/build.log" | sed 's/^/  /')"
else
	[ "$(id -u)" -eq 0 ] || die "not root (the trixie build chroots into the trixie root)"
	root=${TRIXIE_ROOT:-}
	if [ -z "$root" ]; then
		[ -x "$repo/tests/vm/trixie-root.sh" ] ||
			die "no tests/vm/trixie-root.sh in this tree (it comes with the trixie VM lane): set TRIXIE_ROOT=DIR"
		root=$("$repo/tests/vm/trixie-root.sh") || die "tests/vm/trixie-root.sh failed"
	fi
	[ -x "$root/usr/bin/dpkg-buildpackage" ] && [ -e "$root/usr/share/perl5/Debian/Debhelper/Dh_Lib.pm" ] ||
		die "$root has no dpkg-dev or debhelper"
	mkdir -p "$root$out"
	# The root holds the compilers but not the build-essential package that
	# dpkg-checkbuilddeps always asks for: check debian/control's own
	# Build-Depends, then build without the implicit check (-d).
	trixie_build='unmet=$(dpkg-checkbuilddeps 2>&1 | sed -n "s/.*unmet build dependencies: //p" | sed "s/build-essential:native//; s/^ *//; s/ *$//")
		if [ -n "$unmet" ]; then echo "build-deb: unmet build dependencies in the trixie root: $unmet" >&2; exit 1; fi
		dpkg-buildpackage -b -us -uc -d -j2'
	# shellcheck disable=SC2016
	unshare --mount --propagation private -- sh -c '
		set -e
		mount --bind "$2" "$1$2"
		mount -t proc proc "$1/proc"
		cd "$1$2/slurm-sandbox"
		exec chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			sh -c "cd \"$2/slurm-sandbox\" && $3"
	' sh "$root" "$out" "$trixie_build" >"$out/build.log" 2>&1 ||
		die "dpkg-buildpackage in the trixie root failed; the end of $out/build.log:$(tail -n 30 "$out/build.log" | sed 's/^/  /')"
fi
deb=$(ls "$out"/slurm-sandbox_*.deb)
echo "build-deb: $deb ($dist, $((SECONDS - start)) s)"

# lintian of the host (bookworm's) on both; errors fail the build.
if command -v lintian >/dev/null; then
	lintian --info --display-info "$out"/*.changes >"$out/lintian.txt" 2>&1 || true
	sed 's/^/  /' "$out/lintian.txt"
	! grep -q '^E: ' "$out/lintian.txt" || die "lintian found errors ($out/lintian.txt)"
else
	echo "build-deb: lintian is not installed: not run (apt-get install lintian)"
fi
