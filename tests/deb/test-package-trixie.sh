#!/bin/bash
# The trixie package (build-deb/trixie/, make deb DIST=trixie) installed and
# purged in a throw-away overlay of the trixie root: apt-get install, the
# three man pages (man -w), sandbox-run --help, apt-get purge, then no file
# of the package left and no change outside dpkg's and apt's own state (the
# overlay's upper directory shows every file the install and purge left).
# No Slurm suite: the trixie VM lane runs Slurm 24.11. As root.
#
#   tests/deb/test-package-trixie.sh        (TRIXIE_ROOT=DIR, or tests/vm/trixie-root.sh)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

die() {
	echo "check-deb-trixie: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "not root (overlay mount and chroot)"
deb=$(ls "$repo"/build-deb/trixie/slurm-sandbox_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "no package in build-deb/trixie (make deb DIST=trixie)"
root=${TRIXIE_ROOT:-}
if [ -z "$root" ]; then
	[ -x "$repo/tests/vm/trixie-root.sh" ] || die "no tests/vm/trixie-root.sh in this tree: set TRIXIE_ROOT=DIR"
	root=$("$repo/tests/vm/trixie-root.sh") || die "tests/vm/trixie-root.sh failed"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2016
unshare --mount --propagation private -- sh -c '
	set -e
	root=$1 deb=$2 tmp=$3
	mount -t tmpfs tmpfs "$tmp"
	mkdir "$tmp/upper" "$tmp/work" "$tmp/merged"
	mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/merged"
	cp "$deb" "$tmp/merged/tmp/"
	mount -t proc proc "$tmp/merged/proc"
	rc=0
	chroot "$tmp/merged" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive sh -c "
		rc=0
		apt-get install -y -q /tmp/$(basename "$deb") >/tmp/install.log 2>&1 ||
			{ tail -n 5 /tmp/install.log; echo \"not ok: apt-get install\"; exit 1; }
		echo \"ok: installed \$(dpkg -L slurm-sandbox | while read -r f; do [ -f \"\$f\" ] && echo; done | wc -l) files\"
		dpkg -L slurm-sandbox >/tmp/files
		for p in \"1 sandbox-run\" \"8 spank_sandbox\" \"5 sandbox.conf\"; do
			set -- \$p
			w=\$(man -w \$1 \$2 2>/dev/null)
			if [ \"\$w\" = /usr/share/man/man\$1/\$2.\$1.gz ]; then echo \"ok: man \$1 \$2: \$w\"; else echo \"not ok: man \$1 \$2\"; rc=1; fi
		done
		sandbox-run --help | grep -q \"^usage: sandbox-run\" && echo \"ok: sandbox-run --help\" || { echo \"not ok: sandbox-run --help\"; rc=1; }
		apt-get purge -y -q slurm-sandbox >/tmp/purge.log 2>&1 || { echo \"not ok: apt-get purge\"; rc=1; }
		left=0
		while read -r f; do if [ -f \"\$f\" ] || [ -L \"\$f\" ]; then echo \"not ok: left after purge: \$f\"; left=1; fi; done </tmp/files
		[ \$left -eq 0 ] && echo \"ok: no file of the package left after purge\" || rc=1
		exit \$rc
	" || rc=$?
	# What the install and purge changed, but for dpkg, apt, man-db and /tmp.
	changed=$(cd "$tmp/upper" && find . -mindepth 1 \( -type f -o -type l -o -type c \) |
		grep -vE "^\./(tmp|proc|var/lib/dpkg|var/lib/apt|var/cache|var/log|var/lib/man-db|etc/ld\.so\.cache)(/|$)" || true)
	if [ -n "$changed" ]; then
		echo "not ok: the purge left changes outside dpkg and apt:"
		printf "  %s\n" $changed
		exit 1
	fi
	echo "ok: nothing changed outside dpkg and apt state after the purge"
	exit $rc
' sh "$root" "$deb" "$tmp"
rc=$?
[ "$rc" -eq 0 ] && echo "check-deb-trixie: ok ($(basename "$deb"))" || echo "check-deb-trixie: FAILED"
exit "$rc"
