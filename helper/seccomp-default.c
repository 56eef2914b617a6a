#include "helper.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "seccomp-default.h"

/* The built-in deny list, unchanged by the site (no seccomp_allow or
 * seccomp_deny), in the order the plan keeps it. */
static int is_default(const struct sbx_plan *plan)
{
	size_t i;

	for (i = 0; sbx_seccomp_default_deny[i]; i++)
		if (i >= plan->seccomp_deny.n || strcmp(plan->seccomp_deny.v[i], sbx_seccomp_default_deny[i]) != 0)
			return 0;
	return i == plan->seccomp_deny.n;
}

int sbx_seccomp_export(const struct sbx_plan *plan, int fd, struct sbx_err *err)
{
	const unsigned char *bpf = sbx_seccomp_default_bpf;
	size_t len = sizeof(sbx_seccomp_default_bpf);

	if (!is_default(plan))
		return sbx_seccomp_compile(plan, fd, err);
	if (plan->remap_root && plan->writable) {
		bpf = sbx_seccomp_default_fake_root_bpf;
		len = sizeof(sbx_seccomp_default_fake_root_bpf);
	}
	while (len) {
		ssize_t n = write(fd, bpf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sbx_err_sys(err, NULL, "write the seccomp filter");
		bpf += n;
		len -= (size_t)n;
	}
	return 0;
}
