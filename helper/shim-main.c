/* sandbox-exec: the exec shim, bound read-only into every sandbox at
 * /.sandbox/exec. See shim.c. */
#include "helper.h"

int main(int argc, char **argv)
{
	return sbx_shim_main(argc, argv);
}
