/* The helper's word to its launcher: the one record it writes on
 * SBX_STATUS_FD, and the reading of it with its progress relayed. Apart from
 * the spawning (launch.c) so that the static shim, which reads the record of
 * a start it did not make (a Slurm task, opts.defer), links only this. */
#include "launch/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "launch/ready.h"

/* Control characters become '?' (keep: those that may stay, "\n\t" for
 * relayed progress, "" for a record). */
static void harmless(char *s, size_t n, const char *keep)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c == 0x7f) && !(c && strchr(keep, c)))
			s[i] = '?';
	}
}

void sbx_status_record(int fd, const char *kind, const char *fmt, ...)
{
	char buf[SBX_ERR_MAX + 64];
	size_t k = strlen(kind), n;
	va_list ap;
	int len;

	if (k + 3 > sizeof(buf))
		return;
	memcpy(buf, kind, k);
	buf[k++] = ' ';
	va_start(ap, fmt);
	len = vsnprintf(buf + k, sizeof(buf) - k - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	n = k + ((size_t)len < sizeof(buf) - k - 1 ? (size_t)len : sizeof(buf) - k - 2);
	harmless(buf + k, n - k, "");
	buf[n++] = '\n';
	/* One write, far below PIPE_BUF: the record arrives whole. */
	if (write(fd, buf, n) < 0) {
		/* The launcher is gone; nobody is left to tell. */
	}
}

/* The helper's import progress: whole lines to our stderr (the task's,
 * which reaches srun; a detached helper's own stderr is /dev/null), with
 * control characters but newline and tab made harmless. */
struct relay {
	char buf[4096];
	size_t off;
};

static void relay_write(const char *s, size_t n)
{
	if (write(STDERR_FILENO, s, n) < 0) {
		/* Progress only: nothing to do about it. */
	}
}

static void relay_flush(struct relay *r)
{
	if (r->off) {
		r->buf[r->off++] = '\n';
		relay_write(r->buf, r->off);
		r->off = 0;
	}
}

/* Read what fd has (all of it unless once); 0 at EOF or error, 1 if open. */
static int relay_read(int fd, struct relay *r, int once)
{
	for (;;) {
		/* One byte is kept for the newline of a line cut short. */
		ssize_t n = read(fd, r->buf + r->off, sizeof(r->buf) - 1 - r->off);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			relay_flush(r);
			return 0;
		}
		harmless(r->buf + r->off, (size_t)n, "\n\t");
		r->off += (size_t)n;
		if ((nl = memrchr(r->buf, '\n', r->off))) {
			size_t line = (size_t)(nl - r->buf) + 1;

			relay_write(r->buf, line);
			memmove(r->buf, nl + 1, r->off - line);
			r->off -= line;
		} else if (r->off == sizeof(r->buf) - 1) {
			relay_flush(r);
		}
		if (once)
			return 1;
	}
}

/* The helper's record (its first line on status_fd, without the newline,
 * control characters made harmless) while its progress is relayed. Returns
 * the record's length, or 0 when the helper closed status_fd without one.
 * Progress written before the record is all in the pipe by then (the helper
 * closes its progress fd first): read what is there, never wait for an EOF
 * another process of the user could hold back. */
static int read_reply(int status_fd, int progress_fd, char *buf, size_t len)
{
	struct relay r = { .off = 0 };
	size_t off = 0;
	int record = 0, open_progress = 1;
	char *nl = NULL;

	fcntl(progress_fd, F_SETFL, O_NONBLOCK);
	while (!nl) {
		struct pollfd pfd[2] = { { status_fd, POLLIN, 0 }, { progress_fd, POLLIN, 0 } };

		if (poll(pfd, open_progress ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (open_progress && pfd[1].revents)
			open_progress = relay_read(progress_fd, &r, 1);
		if (pfd[0].revents) {
			ssize_t n = read(status_fd, buf + off, len - 1 - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
			nl = memchr(buf, '\n', off);
			if (!nl && off == len - 1)
				nl = buf + off;
		}
	}
	if (nl) {
		record = (int)(nl - buf);
		buf[record] = '\0';
		harmless(buf, (size_t)record, "");
	}
	if (open_progress)
		relay_read(progress_fd, &r, 0);
	relay_flush(&r);
	return record;
}


int sbx_sandbox_read_ready(int status_fd, int progress_fd, const char *helper, struct sbx_sandbox *sb,
			   struct sbx_err *err)
{
	char line[SBX_ERR_MAX + 64];

	if (read_reply(status_fd, progress_fd, line, sizeof(line)) <= 0) {
		sbx_err_set(err, 0, "see the helper's messages above",
			    "helper '%s' exited before the sandbox was ready", helper);
		return -2;
	}
	if (strncmp(line, "error ", 6) == 0)
		return sbx_err_set(err, 0, NULL, "%s", line + 6);
	if (sbx_ready_parse(line, &sb->init_pid, sb->cgroup, sizeof(sb->cgroup)) < 0)
		return sbx_err_set(err, 0, "sandbox-run and sandbox-helper must come from the same build",
				   "helper '%s': unexpected reply '%s'", helper, line);
	return 0;
}
