#!/bin/sh
# Static analysis (make lint): cppcheck and clang-tidy over the product's
# C sources (lib, helper, shim, cli, plugin), with the compile flags of the
# Makefile (passed in by make as LINT_FLAGS). The checks: .clang-tidy (and
# why some are off), tests/lint/cppcheck.supp. Exit status 1 on any finding.
#   tests/lint/run.sh [file.c...]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
LINT_FLAGS=${LINT_FLAGS:--std=gnu11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -O2 -Ilib}
if [ $# -eq 0 ]; then
	set -- lib/*/*.c helper/*.c shim/*.c cli/*.c plugin/*.c
fi
status=0
if command -v cppcheck >/dev/null; then
	# shellcheck disable=SC2086
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,style,performance,portability \
		--inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
		--template='{file}:{line}: cppcheck {severity} [{id}]: {message}' \
		$(printf '%s\n' $LINT_FLAGS | grep '^-[DI]') -Ilib "$@" || status=1
	echo "lint: cppcheck $([ $status = 0 ] && echo clean || echo "found the above") ($# files)"
else
	echo "lint: SKIP cppcheck: not installed (tests/install-deps.sh)"
fi
if command -v clang-tidy >/dev/null; then
	tidy=0
	for f in "$@"; do
		# shellcheck disable=SC2086
		if ! out=$(clang-tidy --quiet "$f" -- $LINT_FLAGS 2>&1); then
			tidy=1
			printf '%s\n' "$out" | grep -v 'warnings\? \(generated\|treated as errors\)'
		fi
	done
	[ $tidy = 0 ] || status=1
	echo "lint: clang-tidy $([ $tidy = 0 ] && echo clean || echo "found the above") ($# files)"
else
	echo "lint: SKIP clang-tidy: not installed (tests/install-deps.sh)"
fi
exit $status
