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

# private_apt_conf ETC LISTS STATUS CACHE prints an apt configuration whose
# sources and preferences live under ETC (sources.list, sources.list.d,
# preferences, preferences.d), its package lists in LISTS, its dpkg status in
# STATUS and its downloads in CACHE: nothing of the host's apt state is read
# or written, while the host's apt.conf.d still applies (proxies).
private_apt_conf() {
	cat <<EOF_CONF
Dir::Etc::SourceList "$1/sources.list";
Dir::Etc::SourceParts "$1/sources.list.d";
Dir::Etc::Preferences "$1/preferences";
Dir::Etc::PreferencesParts "$1/preferences.d";
Dir::State::Lists "$2";
Dir::State::status "$3";
Dir::Cache "$4";
EOF_CONF
}
