#!/bin/bash
# A newer valgrind for make check-valgrind, from a newer Debian suite, without
# touching the host's apt sources or dpkg database: Debian 12's valgrind 3.19
# knows neither openat2 nor the mount API (open_tree, move_mount, fsopen,
# fsconfig, fsmount, mount_setattr), Debian 13's 3.24 knows openat2 only;
# 3.25 and later know them all. A private apt configuration (its own sources
# list, package lists and cache, all under the cache directory) reads
# SBX_VALGRIND_SUITES from the host's own Debian mirror; apt-get download
# takes the newest valgrind among them (checked against the suites' signed
# Release files), which dpkg-deb unpacks into the cache. Its tool binaries are
# static and its launcher needs glibc 2.34, so it runs on Debian 12 as it is.
# Idempotent: prints the launcher's path on stdout (and nothing else).
#
#   tests/valgrind/fetch.sh [--refresh]      as root
#
# Environment:
#   SBX_VALGRIND_CACHE   default /var/cache/slurm-sandbox-tests/valgrind; the
#                        launcher is <cache>/bin/valgrind
#   SBX_VALGRIND_SUITES  default "forky trixie" (testing first: trixie's
#                        3.24 lacks the mount API)
#   SBX_VALGRIND_MIRROR  default: the host's, from /etc/apt/sources*
#
# tests/valgrind/run.sh uses <cache>/bin/valgrind when it runs, and says so
# when it falls back to the host's valgrind.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${SBX_VALGRIND_CACHE:-/var/cache/slurm-sandbox-tests/valgrind}
suites=${SBX_VALGRIND_SUITES:-forky trixie}

die() {
	echo "valgrind-fetch: $*" >&2
	exit 1
}

refresh=0
case ${1:-} in
--refresh) refresh=1 ;;
'') ;;
-h | --help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
*) die "unknown argument $1 (usage: fetch.sh [--refresh])" ;;
esac

# works LAUNCHER: it runs a program under memcheck.
works() {
	"$1" -q --vgdb=no --error-exitcode=1 /bin/true 2>/dev/null
}

if [ "$refresh" -eq 0 ] && [ -x "$cache/bin/valgrind" ] && works "$cache/bin/valgrind"; then
	echo "$cache/bin/valgrind"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "not root (writes $cache)"
# shellcheck source=tests/lib/debian-mirror.sh
. "$here/../lib/debian-mirror.sh"
mirror=${SBX_VALGRIND_MIRROR:-$(host_mirror)}
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: set SBX_VALGRIND_MIRROR"

mkdir -p "$cache"
exec {lock_fd}>"$cache/.lock"
flock "$lock_fd"
apt=$cache/apt
rm -rf "$apt" "$cache/new"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$cache/new"
: >"$apt/status"
for s in $suites; do
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
done >"$apt/sources.list"
# Everything apt reads or writes is ours.
private_apt_conf "$apt" "$apt/lists" "$apt/status" "$apt/cache" >"$apt/apt.conf"
mkdir -p "$apt/sources.list.d" "$apt/preferences.d"
chown -R _apt "$apt/lists" "$apt/cache" 2>/dev/null || true
export APT_CONFIG=$apt/apt.conf
echo "valgrind-fetch: apt-get update ($suites from $mirror)" >&2
apt-get -q update >"$apt/update.log" 2>&1 ||
	die "apt-get update for $suites failed: $(tail -n 1 "$apt/update.log")"
# The newest first; if it does not start here, the next suite's.
fetched=
# shellcheck disable=SC2086 # one word per suite
for want in valgrind $(printf 'valgrind/%s ' $suites); do
	rm -f "$cache/new/"*.deb
	(cd "$cache/new" && apt-get -q download "$want" >"$apt/download.log" 2>&1) || continue
	rm -rf "$cache/new/root"
	dpkg-deb -x "$cache/new/"*.deb "$cache/new/root" || continue
	lib=$cache/new/root/usr/libexec/valgrind
	VALGRIND_LIB=$lib works "$cache/new/root/usr/bin/valgrind.bin" || continue
	fetched=$want
	break
done
# apt-get update exits 0 when a mirror cannot be reached: its warnings say why.
[ -n "$fetched" ] || die "no valgrind from $suites runs here ($(grep -h '^[WE]:' "$apt/update.log" \
	"$apt/download.log" | head -n 1))"
# The launcher: valgrind.bin with its own tool directory. Not Debian's
# wrapper script, which would add LD_LIBRARY_PATH to every traced program.
# valgrind.bin re-execs itself (VALGRIND_LAUNCHER) for each traced child.
mkdir -p "$cache/new/bin"
cat >"$cache/new/bin/valgrind" <<EOF
#!/bin/sh
VALGRIND_LIB='$cache/root/usr/libexec/valgrind' exec '$cache/root/usr/bin/valgrind.bin' "\$@"
EOF
chmod 755 "$cache/new/bin/valgrind"
rm -rf "${cache:?}/root" "${cache:?}/bin"
mv "$cache/new/root" "$cache/root"
mv "$cache/new/bin" "$cache/bin"
# The package lists and the .deb are not needed again (~30 MB).
rm -rf "$cache/new" "$apt"
chmod -R a+rX "$cache"
works "$cache/bin/valgrind" || die "$cache/bin/valgrind does not start"
echo "valgrind-fetch: $("$cache/bin/valgrind" --version) ($fetched) in $cache" >&2
echo "$cache/bin/valgrind"
