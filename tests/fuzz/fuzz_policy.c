/* libFuzzer target: the site policy's INI parser (sbx_policy_load), fed the
 * input as the policy file (a memfd, read through /proc/self/fd). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spec/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_policy pol = { 0 };
	struct sbx_err err = { 0 };
	char path[64];
	int fd;

	fd = memfd_create("fuzz-policy", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	sbx_policy_load(&pol, path, 1, &err);
	sbx_policy_free(&pol);
out:
	close(fd);
	return 0;
}
