# shellcheck shell=bash
# Sourced: host_mirror prints the first Debian archive (not -security) the
# host's apt uses, from one-line or deb822 sources; nothing if there is none.
# The scripts that fetch from another Debian suite (tests/vm/trixie-root.sh,
# tests/valgrind/fetch.sh) use it so that they reach the mirror apt already
# reaches, without changing the host's apt sources.
host_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		sed -n -e 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([a-z]\+:[^[:space:]]*\).*/\2/p' \
			-e 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n'
	done | grep -E '/debian/?$' | head -n 1
}
