/* Failure points (failpoint.h). Empty in a release build. */
#include "util/failpoint.h"

#ifdef SBX_FAILPOINTS
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char set_spec[256], set_mark[4096];
static int have_set;
static unsigned passes;

void sbx_failpoint_set(const char *spec, const char *mark)
{
	size_t n = spec ? strlen(spec) : 0, m = mark ? strlen(mark) : 0;

	if (n >= sizeof(set_spec) || m >= sizeof(set_mark))
		return;
	memcpy(set_spec, spec ? spec : "", n + 1);
	memcpy(set_mark, mark ? mark : "", m + 1);
	have_set = 1;
}

static const char *spec_value(void)
{
	return have_set ? set_spec : getenv("SBX_FAILPOINT");
}

static const char *mark_path(void)
{
	return have_set ? (set_mark[0] ? set_mark : NULL) : getenv("SBX_FAILPOINT_MARK");
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

static void say_stopped(const char *name)
{
	const char *path = mark_path();
	char line[160], digits[16];
	size_t n = 0, d = 0;
	pid_t pid = getpid();
	int fd;

	if (!path || !*path)
		return;
	do
		digits[d++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && d < sizeof(digits));
	while (d > 0)
		line[n++] = digits[--d];
	line[n++] = ' ';
	for (size_t i = 0; name[i] && n < sizeof(line) - 2; i++)
		line[n++] = name[i];
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, n) != (ssize_t)n) {
		/* The test times out waiting for the mark and says so. */
	}
	close(fd);
}

int sbx_failpoint_hit(const char *name, struct sbx_err *err)
{
	const char *spec = spec_value(), *action;
	unsigned nth;

	if (!spec || !*spec || !matches(spec, name, &nth, &action) || ++passes != nth)
		return 0;
	if (strcmp(action, "stop") == 0) {
		say_stopped(name);
		raise(SIGSTOP);
		return 0;
	}
	if (strcmp(action, "kill") == 0)
		raise(SIGKILL);
	if (strcmp(action, "exit") == 0)
		_exit(1);
	return sbx_err_set(err, EIO, "injected by SBX_FAILPOINT", "failure point %s", name);
}
#else
/* ISO C wants something in a translation unit. */
typedef int sbx_failpoint_unused;
#endif
