/* sandbox-exec, the shim: the static binary every sandboxed task execs to
 * join its sandbox and start the command (see shim.c). It links the core
 * library only (util, spec, launch). */
#ifndef SBX_SHIM_H
#define SBX_SHIM_H

int sbx_shim_main(int argc, char **argv);

#endif
