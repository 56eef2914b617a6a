#!/bin/bash
# Run a script in the trixie VM lane: Debian 13's kernel (6.12) under qemu
# (TCG), the trixie root (tests/vm/trixie-root.sh) read-only with a tmpfs
# overlay, this repository and SCRIPT's directory at their host paths, cgroup
# v2 only. Same interface and exit status as tests/vm/run.sh:
#
#   tests/vm/trixie-run.sh [--timeout SEC] [--share DIR]... [--env NAME=VALUE]... SCRIPT [ARGS...]
#
# The guest runs trixie's programs: SCRIPT gets BUILD=<repo>/build-trixie (or
# $BUILD_TRIXIE), the build tests/vm/trixie-build.sh makes, unless an --env
# BUILD=... says otherwise. Prepare first: tests/vm/trixie-prepare.sh.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SBX_VM_CACHE=${SBX_VM_CACHE:-/var/cache/slurm-sandbox-vm}/trixie exec "$here/run.sh" \
	--env "BUILD=$repo/${BUILD_TRIXIE:-build-trixie}" "$@"
