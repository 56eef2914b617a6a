/* A deferred start (launch.h, SBX_ENV_READY / SBX_ENV_GATE): the sandbox
 * was still being built when this task was exec'd. The task that started
 * the helper reads its record here and lets the step's other tasks through
 * its gate; they wait at the gate. */
#include "shim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "launch/launch.h"

static int parse_fds(const char *v, int *fds, size_t n)
{
	char *end;

	for (size_t i = 0; i < n; i++) {
		long fd = strtol(v, &end, 10);

		if (end == v || fd < -1 || fd > 1 << 20 || (*end && *end != ' '))
			return -1;
		fds[i] = (int)fd;
		v = end;
	}
	return *v ? -1 : 0;
}

/* n bytes to the gate, one per waiting task: a pipe holds far more than a
 * node has tasks, so this never blocks. */
static void open_gate(int gate, unsigned n)
{
	char buf[256];

	memset(buf, 1, sizeof(buf));
	while (n > 0) {
		ssize_t w = write(gate, buf, n < sizeof(buf) ? n : sizeof(buf));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		n -= (unsigned)w;
	}
}

int sbx_shim_wait_ready(void)
{
	const char *ready = getenv(SBX_ENV_READY), *gate = getenv(SBX_ENV_GATE);
	struct sbx_sandbox sb = SBX_SANDBOX_INIT;
	struct sbx_err err = { 0 };
	char line[SBX_ERR_MAX + 16];
	int fds[4], rc = -1;
	char c;

	if (ready) {
		if (parse_fds(ready, fds, 4) < 0 || fds[0] < 0 || fds[1] < 0 || fds[3] < 0) {
			fprintf(stderr, "sandbox: exec: %s='%s' is not \"<fd> <fd> <fd> <n>\" (the shim is started by the Slurm plugin)\n",
				SBX_ENV_READY, ready);
			goto out;
		}
		if (sbx_sandbox_read_ready(fds[0], fds[1], "sandbox-helper", &sb, &err) < 0) {
			fprintf(stderr, "%s\n", sbx_err_line(&err, line, sizeof(line)));
		} else if (sb.cgroup[0]) {
			/* Only a step whose tasks share Slurm's cgroups defers. */
			fprintf(stderr, "sandbox: exec: the sandbox has a cgroup of its own (%s); a deferred start cannot enter it\n",
				sb.cgroup);
		} else {
			if (fds[2] >= 0)
				open_gate(fds[2], (unsigned)fds[3]);
			rc = 0;
		}
		/* Closed unwritten on failure: the waiting tasks see EOF. */
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	} else if (gate) {
		/* The starting task explains a failure; these tasks say nothing. */
		if (parse_fds(gate, fds, 1) == 0 && fds[0] >= 0) {
			ssize_t n;

			while ((n = read(fds[0], &c, 1)) < 0 && errno == EINTR)
				;
			rc = n == 1 ? 0 : -1;
			close(fds[0]);
		} else {
			fprintf(stderr, "sandbox: exec: %s='%s' is not a file descriptor (the shim is started by the Slurm plugin)\n",
				SBX_ENV_GATE, gate);
		}
	} else {
		rc = 0;
	}
out:
	unsetenv(SBX_ENV_READY);
	unsetenv(SBX_ENV_GATE);
	return rc;
}
