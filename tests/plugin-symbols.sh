#!/bin/sh
# The plugin is loaded into slurmstepd and srun: it links the core library
# only (lib/util, lib/spec, lib/launch). Fail if it defines or needs any
# symbol of the image pipeline's libraries (libarchive, json-c or nettle) or
# of libseccomp (the helper builds the filter; the policy needs only names),
# or if it needs any shared library but libc (srun and every slurmstepd load
# it, sandbox or not: its own libraries are linked in). The sanitizers'
# runtimes of an ASan build are allowed.
set -eu
so=${1:?usage: plugin-symbols.sh PLUGIN.so}
found=$(nm -A "$so" | awk '{print $NF}' | grep -E '^(archive_|json_|nettle_|seccomp_)' | sort -u || true)
if [ -n "$found" ]; then
	echo "plugin-symbols: $so has libarchive/json-c/nettle/libseccomp symbols:" >&2
	echo "$found" | sed 's/^/  /' >&2
	exit 1
fi
if ldd "$so" 2>/dev/null | grep -Eq 'libarchive|libjson-c|libnettle|libseccomp'; then
	echo "plugin-symbols: $so is linked against libarchive/json-c/nettle/libseccomp" >&2
	exit 1
fi
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -Ev '^(libc|libasan|libubsan)\.so' | tr '\n' ' ' || true)
if [ -n "$needed" ]; then
	echo "plugin-symbols: $so needs shared libraries besides libc: $needed" >&2
	exit 1
fi
echo "plugin-symbols: ok ($so has no libarchive, json-c, nettle or libseccomp symbols and needs only libc)"
