/* Failure points (failpoint.h). Empty in a release build. */
#include "util/failpoint.h"

#ifdef SBX_FAILPOINTS
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char set_spec[256];
static int have_set;
static unsigned passes;

void sbx_failpoint_set(const char *spec)
{
	size_t n = spec ? strlen(spec) : 0;

	if (n >= sizeof(set_spec))
		return;
	memcpy(set_spec, spec ? spec : "", n + 1);
	have_set = 1;
}

static const char *spec_value(void)
{
	return have_set ? set_spec : getenv("SBX_FAILPOINT");
}

/* Does "NAME[@N][:ACTION]" name this point? *action gets ACTION's start. */
static int matches(const char *spec, const char *name, unsigned *nth, const char **action)
{
	size_t len = strcspn(spec, "@:");

	*nth = 1;
	*action = "fail";
	if (len > 0 && spec[len - 1] == '*') {
		if (strncmp(spec, name, len - 1) != 0)
			return 0;
	} else if (strlen(name) != len || strncmp(spec, name, len) != 0) {
		return 0;
	}
	if (spec[len] == '@') {
		*nth = 0;
		for (len++; spec[len] >= '0' && spec[len] <= '9'; len++)
			*nth = *nth * 10 + (unsigned)(spec[len] - '0');
	}
	if (spec[len] == ':')
		*action = spec + len + 1;
	return 1;
}

int sbx_failpoint_hit(const char *name, struct sbx_err *err)
{
	const char *spec = spec_value(), *action;
	unsigned nth;

	if (!spec || !*spec || !matches(spec, name, &nth, &action) || ++passes != nth)
		return 0;
	if (strcmp(action, "stop") == 0) {
		raise(SIGSTOP);
		return 0;
	}
	if (strcmp(action, "kill") == 0) {
		raise(SIGKILL);
		/* A pid namespace's init ignores its own SIGKILL. */
		_exit(128 + SIGKILL);
	}
	if (strcmp(action, "exit") == 0)
		_exit(1);
	return sbx_err_set(err, EIO, "injected by SBX_FAILPOINT", "failure point %s", name);
}
#else
/* ISO C wants something in a translation unit. */
typedef int sbx_failpoint_unused;
#endif
