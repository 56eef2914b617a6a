/* sandbox-exec: the shim every sandboxed task execs; see shim.c. */
#include "shim.h"

int main(int argc, char **argv)
{
	return sbx_shim_main(argc, argv);
}
