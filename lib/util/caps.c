#include "util/caps.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* Joining the user namespace gives a task every capability in it; keep
 * only what the site policy lists, in every set, so nothing returns at
 * execve: bounding (limits what exec may grant), permitted/effective,
 * inheritable and ambient (how a non-root uid keeps a cap across exec). */
int sbx_caps_restrict(uint64_t mask, int bounding, struct sbx_err *err)
{
	cap_t caps = NULL;
	cap_value_t last = (cap_value_t)cap_max_bits() - 1;
	int rc = -1;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sbx_err_sys(err, NULL, "capabilities: clear ambient");
	for (cap_value_t c = 0; bounding && c <= last; c++) {
		if (mask & (1ULL << c))
			continue;
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return sbx_err_sys(err, NULL, "capabilities: drop bounding %d", c);
	}
	caps = cap_init();
	if (!caps)
		return sbx_err_sys(err, NULL, "capabilities");
	for (cap_value_t c = 0; c <= last; c++) {
		if (!(mask & (1ULL << c)))
			continue;
		if (cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_SET) < 0) {
			sbx_err_sys(err, NULL, "capabilities: set %d", c);
			goto out;
		}
	}
	if (cap_set_proc(caps) < 0) {
		sbx_err_sys(err, NULL, "capabilities: apply");
		goto out;
	}
	for (cap_value_t c = 0; c <= last; c++)
		if ((mask & (1ULL << c)) && cap_set_ambient(c, CAP_SET) < 0) {
			sbx_err_sys(err, NULL, "capabilities: ambient %d", c);
			goto out;
		}
	rc = 0;
out:
	cap_free(caps);
	return rc;
}
