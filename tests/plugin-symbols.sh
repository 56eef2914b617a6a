#!/bin/sh
# The plugin is loaded into slurmstepd and srun: it links the core library
# only (lib/util, lib/spec, lib/launch). Fail if it defines or needs any
# symbol of the image pipeline's libraries (libarchive, json-c or nettle) or
# of libseccomp (the helper builds the filter; the policy needs only names),
# or if it needs any shared library but libc (srun and every slurmstepd load
# it, sandbox or not: its own libraries are linked in). The sanitizers'
# runtimes of an ASan build are allowed.
# With the companion (spank_sandbox_named.so) as second argument: the main
# plugin must export neither slurm_spank_job_prolog nor _epilog (slurmd
# would then spawn `slurmstepd spank epilog` for every job, sandbox or not),
# the companion must export the epilog, and both pass the checks above.
set -eu
so=${1:?usage: plugin-symbols.sh PLUGIN.so [COMPANION.so]}
companion=${2:-}
# The dynamic symbols a plugin exports (what Slurm's dlsym finds).
exports() { nm -D --defined-only "$1" | awk '{print $NF}'; }
if [ -n "$companion" ]; then
	if exports "$so" | grep -Ex 'slurm_spank_job_(prolog|epilog)' >&2; then
		echo "plugin-symbols: $so exports a job prolog/epilog (it belongs in $companion)" >&2
		exit 1
	fi
	if ! exports "$companion" | grep -qx slurm_spank_job_epilog; then
		echo "plugin-symbols: $companion does not export slurm_spank_job_epilog" >&2
		exit 1
	fi
	# Slurm loads plugins lazily: a symbol of the main plugin's files that
	# the companion needs but lacks would fail only in the epilog.
	undef=$(nm -D --undefined-only "$companion" | awk '{print $NF}' | grep -E '^sbx_' || true)
	if [ -n "$undef" ]; then
		echo "plugin-symbols: $companion needs symbols it does not hold: $undef" >&2
		exit 1
	fi
	"$0" "$companion"
fi
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
echo "plugin-symbols: ok ($so${companion:+ (no job prolog/epilog)} has no libarchive, json-c, nettle or libseccomp symbols and needs only libc)"
