#!/bin/bash
# The man pages and docs cannot drift from the code: the option and key lists
# are read from the source tables and compared, both ways, with what the
# pages say.
#
#   tests/docs-drift.sh              check this tree
#   tests/docs-drift.sh --self-test  show that the check fails when a page
#                                    loses an option or a key, or names one
#                                    the code does not have
#
# Sources of truth:
#   plugin/args.c      the spank_option table (srun/sbatch/salloc --sandbox-*),
#                      the SANDBOX_* presets, the plugstack.conf arguments
#   lib/spec/policy.c  the KEY("section", "name", ...) table
#   lib/spec/request.c sandbox-run's long options (less the launcher's own,
#                      which sandbox-run refuses: the "&& !front_end" test)
#   cli/*.c            the subcommands' options and sandbox-run's usage text
# Exit status 1 and one line per mismatch when they disagree.
set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${DOCS_DRIFT_ROOT:-$repo}

# --self-test: the check must fail on a copy of this tree with one change
# at a time, and pass on the unchanged copy.
if [ "${1:-}" = --self-test ]; then
	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	st_fail=0
	fresh() {
		rm -rf "$tmp/t" && mkdir "$tmp/t" &&
			(cd "$repo" && cp -r plugin lib cli helper shim man docs conf "$tmp/t/")
	}
	expect() {   # expect pass|fail DESCRIPTION
		local want=$1 what=$2 out rc
		out=$(DOCS_DRIFT_ROOT=$tmp/t "$0" 2>&1)
		rc=$?
		if { [ "$want" = pass ] && [ "$rc" -eq 0 ]; } || { [ "$want" = fail ] && [ "$rc" -eq 1 ]; }; then
			echo "ok: $what: the check ${want/pass/passe}s ($(printf '%s\n' "$out" | grep -v 'note:' | head -n 1))"
		else
			echo "NOT OK: $what: expected the check to $want, it exited $rc" >&2
			printf '%s\n' "$out" >&2
			st_fail=1
		fi
	}
	fresh && expect pass "the tree as it is"
	fresh && sed -i '/sandbox\\-pids=/d' "$tmp/t/man/spank_sandbox.8" &&
		expect fail "--sandbox-pids removed from spank_sandbox(8)"
	fresh && sed -i '/^\\fBtag_ttl\\fR/d' "$tmp/t/man/sandbox.conf.5" &&
		expect fail "tag_ttl removed from sandbox.conf(5)"
	fresh && sed -i '/^\.SH OPTIONS/a .TP\n.B \\-\\-frobnicate\nNot an option.' "$tmp/t/man/sandbox-run.1" &&
		expect fail "an option the code lacks added to sandbox-run(1)"
	fresh && sed -i 's/{ "sandbox-hostname", "NAME"/{ "sandbox-hostname", "NAME" }, { "sandbox-gpus", "N"/' "$tmp/t/plugin/args.c" &&
		expect fail "an srun option added to plugin/args.c without docs"
	fresh && sed -i 's/KEY("rootfs", "shm", KEY_SHARE, shm),/&\n\tKEY("rootfs", "dev", KEY_SHARE, shm),/' "$tmp/t/lib/spec/policy.c" &&
		expect fail "a policy key added to lib/spec/policy.c without docs"
	if [ -x "${BUILD:-$repo/build}/sandbox-run" ]; then
		fresh && sed -i 's/Example: \\fBmax_pids = 65536/Example: \\fBmax_pids = many/' "$tmp/t/man/sandbox.conf.5" &&
			expect fail "an invalid example in sandbox.conf(5)"
		fresh && sed -i 's/^    allow_net_host = no$/    allow_net_host = never/' "$tmp/t/docs/admin-guide.md" &&
			expect fail "an invalid recipe in the admin guide"
	fi
	exit "$st_fail"
fi
failures=0

bad() {
	echo "docs-drift: $*" >&2
	failures=$((failures + 1))
}

# Subcommands (and their options) that the man page may document before the
# code has them: each is checked like any other once the code has it; until
# then a note. None today.
PENDING_SUBCOMMANDS=""
PENDING_OPTIONS=""

# man(7) source to plain words: "\-" is "-", font changes and "\&" vanish.
troff_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\&//g' -e 's/\\(..//g' "$1"
}

# Markdown and text: "--[no-]name" documents --name and --no-name.
expand_no() {
	sed -E 's/--\[no-\]([a-z][a-z-]*)/--\1 --no-\1/g'
}

# The long options that text (stdin) names.
options_in() {
	expand_no | grep -oE -- '(^|[^a-zA-Z0-9_-])--[a-z][a-z0-9-]*[a-z0-9]-?\*?' | sed -E 's/^[^-]*--/--/' |
		grep -v '\*$' | sort -u
}

# Does text (stdin) name option $1 as a whole word?
names_option() {
	expand_no | grep -qE -- "(^|[^a-zA-Z0-9_-])$1([^a-zA-Z0-9_-]|$)"
}

# ------------------------------------------------------------------ code

# srun options: the entries of plugin/args.c's spank_option table.
spank_opts=$(awk '/struct spank_option options\[\] = \{/ { t = 1; next }
	t && /SPANK_OPTIONS_TABLE_END/ { exit }
	t { while (match($0, /\{ "[a-z][a-z-]*"/)) { print "--" substr($0, RSTART + 3, RLENGTH - 4); $0 = substr($0, RSTART + RLENGTH) } }' \
	"$root/plugin/args.c" | sort -u)
presets=$(grep -oE 'preset\(sp, "SANDBOX_[A-Z_]+"' "$root/plugin/args.c" | grep -oE 'SANDBOX_[A-Z_]+' | sort -u)
plugstack_args=$(awk '/^int sbx_args_parse/ { t = 1 } t && /^}/ { exit }
	t { while (match($0, /"[a-z_]+=",/)) { print substr($0, RSTART + 1, RLENGTH - 3); $0 = substr($0, RSTART + RLENGTH) } }' \
	"$root/plugin/args.c" | sort -u)
# Every SANDBOX_* name the code reads or sets anywhere (presets, SANDBOX_REPORT, SANDBOX_HELPER, ...).
env_names=$(cat "$root"/plugin/*.c "$root"/helper/*.c "$root"/cli/*.c "$root"/lib/*/*.c "$root"/lib/*/*.h "$root"/shim/*.c |
	grep -oE '"SANDBOX_[A-Z_]+"' | tr -d '"' | sort -u)

# Policy keys as section.key, from the KEY() table.
policy_keys=$(grep -oE 'KEY\("[a-z_]+", "[a-z_]+"' "$root/lib/spec/policy.c" |
	sed -E 's/KEY\("([a-z_]+)", "([a-z_]+)"/\1.\2/' | sort -u)

# sandbox-run's run options: request.c's long_opts, less the launcher's own.
internal_ids=$(grep -E '&& !front_end' -B3 "$root/lib/spec/request.c" | grep -oE 'OPT_[A-Z_]+' | sort -u)
run_opts=$(awk -v ids=" $(echo $internal_ids) " '/long_opts\[\] = \{/ { t = 1; next } t && /^\};/ { exit }
	t && match($0, /\{ "[a-z][a-z-]*", [a-z_]+, NULL, OPT_[A-Z_]+/) {
		split(substr($0, RSTART, RLENGTH), f, /[",]+/); id = f[5]; gsub(/ /, "", id)
		if (index(ids, " " id " ") == 0) print "--" f[2] }' "$root/lib/spec/request.c" | sort -u)
launcher_opts=$(awk -v ids=" $(echo $internal_ids) " '/long_opts\[\] = \{/ { t = 1; next } t && /^\};/ { exit }
	t && match($0, /\{ "[a-z][a-z-]*", [a-z_]+, NULL, OPT_[A-Z_]+/) {
		split(substr($0, RSTART, RLENGTH), f, /[",]+/); id = f[5]; gsub(/ /, "", id)
		if (index(ids, " " id " ") > 0) print "--" f[2] }' "$root/lib/spec/request.c" | sort -u)
# The subcommands' options: getopt tables and argv comparisons in cli/.
sub_opts=$( { grep -hoE '\{ "[a-z][a-z-]*", (no|required|optional)_argument' "$root"/cli/*.c |
		sed -E 's/\{ "([a-z-]+)".*/--\1/'
	      grep -hoE 'strcmp\((argv|words\.v)\[[a-z0-9]+\], "--[a-z][a-z-]*"\)' "$root"/cli/*.c | grep -oE -- '--[a-z-]+'
	    } | sort -u)
# Subcommands: sandbox-run's usage text and its dispatch.
subcommands=$( { grep -E '^[[:space:]]*"(usage: |[[:space:]]+)sandbox-run ' "$root/cli/sandbox-run.c" |
		 grep -oE 'sandbox-run (\[--config FILE\] )?[a-z]+' | awk '{ print $NF }'
		 awk '/^static int subcommand_index/ { t = 1 } t && /^}/ { exit }
			t { while (match($0, /strcmp\(argv\[i\], "[a-z]+"\)/)) { s = substr($0, RSTART, RLENGTH); gsub(/.*, "|"\)/, "", s); print s; $0 = substr($0, RSTART + RLENGTH) } }' \
			"$root/cli/sandbox-run.c"
	       } | sort -u)

# A parser that finds nothing must fail, not pass: the tables' sizes today.
check_count() {
	local what=$1 list=$2 min=$3 n
	n=$(printf '%s\n' "$list" | grep -c .)
	[ "$n" -ge "$min" ] || bad "found only $n $what in the code (expected at least $min): the parser in $0 needs updating"
}
check_count "srun options (plugin/args.c)" "$spank_opts" 15
check_count "SANDBOX_* presets (plugin/args.c)" "$presets" 10
check_count "plugstack arguments (plugin/args.c)" "$plugstack_args" 3
check_count "policy keys (lib/spec/policy.c)" "$policy_keys" 40
check_count "sandbox-run options (lib/spec/request.c)" "$run_opts" 15
check_count "launcher-only options (lib/spec/request.c)" "$launcher_opts" 1
check_count "sandbox-run subcommands (cli/sandbox-run.c)" "$subcommands" 2

# ------------------------------------------------------------------ pages

man8=$(troff_text "$root/man/spank_sandbox.8")
man1=$(troff_text "$root/man/sandbox-run.1")
man5=$(troff_text "$root/man/sandbox.conf.5")

# Forward: each of the code's names is in each page that must document it.
require_all() {
	local kind=$1 list=$2 page=$3 text=$4 name
	for name in $list; do
		printf '%s\n' "$text" | names_option "$(printf '%s' "$name" | sed 's/[.[\*^$]/\\&/g')" ||
			bad "$page does not document $kind $name"
	done
}

for f in docs/slurm.md docs/user-guide.md; do
	[ -f "$root/$f" ] || { bad "$f is missing"; continue; }
	require_all "srun option" "$spank_opts" "$f" "$(cat "$root/$f")"
done
require_all "srun option" "$spank_opts" man/spank_sandbox.8 "$man8"
require_all "preset" "$presets" man/spank_sandbox.8 "$man8"
require_all "preset" "$presets" docs/slurm.md "$(cat "$root/docs/slurm.md")"
for a in $plugstack_args; do
	for f in man/spank_sandbox.8 docs/slurm.md docs/admin-guide.md; do
		case $f in man/*) t=$man8 ;; *) t=$(cat "$root/$f" 2>/dev/null) ;; esac
		printf '%s\n' "$t" | grep -qE "(^|[^a-z_])$a" || bad "$f does not document plugstack argument $a"
	done
done
require_all "sandbox-run option" "$run_opts" man/sandbox-run.1 "$man1"
require_all "sandbox-run option" "$run_opts" docs/sandbox-run.md "$(cat "$root/docs/sandbox-run.md")"
# --help/-h are usage, not options worth a line in docs/sandbox-run.md.
require_all "subcommand option" "$(printf '%s\n' "$sub_opts" | grep -vx -- --help)" man/sandbox-run.1 "$man1"
for o in $launcher_opts; do
	printf '%s\n' "$man1" | names_option "$o" && bad "man/sandbox-run.1 documents $o, which sandbox-run refuses (the launcher's own)"
done

# Subcommands: in the SUBCOMMANDS section of sandbox-run(1) and in docs/sandbox-run.md.
man1_subs=$(awk '/^\.SH SUBCOMMANDS/ { t = 1; next } /^\.SH/ { t = 0 }
	t && prev ~ /^\.TP/ { sub(/^\.[BIR]+ /, ""); split($0, w, /[ "]+/); print (w[1] == "" ? w[2] : w[1]) } { prev = $0 }' \
	"$root/man/sandbox-run.1" | sort -u)
for s in $subcommands; do
	printf '%s\n' "$man1_subs" | grep -qx "$s" || bad "man/sandbox-run.1 does not document subcommand $s"
	grep -qE "sandbox-run (\[--config FILE\] )?$s( |\`|$)" "$root/docs/sandbox-run.md" ||
		bad "docs/sandbox-run.md does not document subcommand $s"
done
for s in $man1_subs; do
	printf '%s\n' "$subcommands" | grep -qx "$s" && continue
	case " $PENDING_SUBCOMMANDS " in
	*" $s "*) echo "docs-drift: note: sandbox-run(1) documents '$s', which this build does not have yet (pending)" ;;
	*) bad "man/sandbox-run.1 documents subcommand '$s', which cli/sandbox-run.c does not have" ;;
	esac
done

# Backward: a page names no option the code does not have.
known_man8=$(printf '%s\n' $spank_opts)
for o in $(printf '%s\n' "$man8" | options_in); do
	case $o in --sandbox-* | --no-sandbox-*) ;; *) continue ;; esac
	printf '%s\n' "$known_man8" | grep -qx -- "$o" || bad "man/spank_sandbox.8 names $o, which plugin/args.c does not register"
done
for f in docs/slurm.md docs/user-guide.md docs/admin-guide.md; do
	[ -f "$root/$f" ] || continue
	for o in $(options_in <"$root/$f"); do
		case $o in --sandbox-* | --no-sandbox-*) ;; *) continue ;; esac
		printf '%s\n' $spank_opts $run_opts $sub_opts $PENDING_OPTIONS | grep -qx -- "$o" ||
			bad "$f names $o, which plugin/args.c does not register"
	done
done
for o in $(printf '%s\n' "$man1" | options_in); do
	printf '%s\n' $run_opts $sub_opts | grep -qx -- "$o" && continue
	case " $PENDING_OPTIONS " in *" $o "*) continue ;; esac
	bad "man/sandbox-run.1 names $o, which sandbox-run does not have"
done
for v in $(printf '%s\n' "$man8" | grep -oE 'SANDBOX_[A-Z_]+' | sort -u); do
	printf '%s\n' $env_names | grep -qx "$v" || bad "man/spank_sandbox.8 names $v, which the code never reads"
done

# Policy keys, both ways: sandbox.conf(5) lists ".TP / \fBkey\fR" under '.SS "[section]"';
# docs/policy.md has "| `key` |" rows under "### `[section]`".
man5_keys=$(awk '/^\.SS "\[[a-z_]+\]"/ { s = $0; gsub(/.*\[|\].*/, "", s); next } /^\.SH/ { s = "" }
	s != "" && prev ~ /^\.TP/ && match($0, /^\\fB[a-z_]+\\fR/) { print s "." substr($0, 4, RLENGTH - 6) } { prev = $0 }' \
	"$root/man/sandbox.conf.5" | sort -u)
md_keys=$(awk '/^#+ .*\[[a-z_]+\]/ { s = $0; gsub(/.*\[|\].*/, "", s); next } /^#/ { s = "" }
	s != "" && match($0, /^\| `[a-z_]+` \|/) { print s "." substr($0, 4, RLENGTH - 6) }' \
	"$root/docs/policy.md" | sort -u)
conf_keys=$(awk '/^\[[a-z_]+\]/ { s = $0; gsub(/[][]/, "", s); next }
	s != "" && match($0, /^#? ?\(?[a-z_]+ =( |$)/) { k = $0; sub(/^#? ?\(?/, "", k); sub(/ =( .*|$)/, "", k); print s "." k }' \
	"$root/conf/sandbox.conf" | sort -u)
compare_keys() {
	local where=$1 listed=$2 k
	for k in $policy_keys; do
		printf '%s\n' "$listed" | grep -qx "$k" || bad "$where does not document key $k"
	done
	for k in $listed; do
		printf '%s\n' "$policy_keys" | grep -qx "$k" || bad "$where documents key $k, which lib/spec/policy.c does not have"
	done
}
compare_keys man/sandbox.conf.5 "$man5_keys"
compare_keys docs/policy.md "$md_keys"
compare_keys conf/sandbox.conf "$conf_keys"

# The examples are valid policy: each "Example: key = value" of
# sandbox.conf(5) and each INI block of the admin guide, read by the real
# parser (sandbox-run reads the policy before anything else, and names
# FILE:LINE for an error in it). Needs a build.
sbx_run=${BUILD:-$repo/build}/sandbox-run
if [ -x "$sbx_run" ]; then
	ex_dir=$(mktemp -d)
	policy_error() {   # the parser's complaint about file $1, if any
		"$sbx_run" --config "$1" --image /nonexistent-docs-drift -- true 2>&1 | grep -F "$1:" || true
	}
	printf '%s\n' "$man5" | awk -v dir="$ex_dir" '/^\.SS "\[[a-z_]+\]"/ { s = $0; gsub(/.*\[|\].*/, "", s) }
		/Example: / { ex = $0; sub(/.*Example: /, "", ex); n++; f = dir "/man5-" n ".conf"
			print "[" s "]" > f; print ex > f; close(f) }'
	awk -v dir="$ex_dir" '/^    \[[a-z_]+\]$/ && !inblock { inblock = 1; n++ }
		inblock && /^    / { f = dir "/guide-" n ".conf"; l = $0; sub(/^    /, "", l); print l > f; next }
		inblock { inblock = 0; close(f) }' "$root/docs/admin-guide.md"
	n_examples=0
	for f in "$ex_dir"/*.conf; do
		[ -e "$f" ] || continue
		n_examples=$((n_examples + 1))
		e=$(policy_error "$f")
		[ -z "$e" ] || bad "$(case $f in */man5-*) echo "sandbox.conf(5) example" ;; *) echo "admin guide recipe" ;; esac) '$(tr '\n' ' ' <"$f")' is not valid policy: $e"
	done
	rm -rf "$ex_dir"
	[ "$n_examples" -ge 46 ] || bad "found only $n_examples policy examples in sandbox.conf(5) and the admin guide"
else
	echo "docs-drift: note: $sbx_run is not built: the policy examples were not parsed"
fi

# The pages render without groff warnings.
if command -v man >/dev/null; then
	for p in man/sandbox-run.1 man/spank_sandbox.8 man/sandbox.conf.5; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$root/$p" 2>&1 >/dev/null)
		[ -z "$w" ] || bad "$p: groff: $(printf '%s' "$w" | head -n 1)"
	done
fi

if [ "$failures" -gt 0 ]; then
	echo "docs-drift: $failures mismatch(es) between the code and the docs" >&2
	exit 1
fi
echo "docs-drift: ok (${n_examples:-no} policy examples parsed, $(echo $spank_opts | wc -w) srun options, $(echo $presets | wc -w) presets, $(echo $plugstack_args | wc -w) plugstack arguments, $(echo $policy_keys | wc -w) policy keys, $(echo $run_opts $sub_opts | wc -w) sandbox-run options, $(echo $subcommands | wc -w) subcommands)"
