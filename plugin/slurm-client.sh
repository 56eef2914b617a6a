#!/bin/sh
# The host's Slurm client inside a sandbox (docs/slurm.md, "srun inside a
# sandbox"). Installed once as slurm-client, with srun, sbatch, scontrol, ...
# as symlinks to it; the plugin binds this directory at /.sandbox-slurm/bin of
# a sandboxed batch step, the host's libraries at /.sandbox-slurm/lib, its
# loader at /.sandbox-slurm/ld.so and its commands at /.sandbox-slurm/host-bin.
# The host's loader runs the host's binary with the host's libraries only,
# so the image's libc never mixes in; --argv0 keeps the command's own name.
s=/.sandbox-slurm
name=${0##*/}
exec "$s/ld.so" --library-path "$s/lib:$s/slurm-lib" --argv0 "$name" "$s/host-bin/$name" "$@"
