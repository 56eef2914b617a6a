/* libFuzzer target: the status channel (lib/launch/launch.c
 * sbx_status_record, lib/launch/ready.c sbx_ready_parse). The input is read
 * two ways:
 *   - as the line the launcher got: whatever sbx_ready_parse accepts has a
 *     pid > 0 and a cgroup that is "" or absolute, without "/..", "//",
 *     whitespace or control characters;
 *   - as the text of a record the helper writes (first byte: its kind): the
 *     record is one line, ends in '\n', holds no other control character,
 *     and fits the launcher's buffer. It is then parsed as the launcher
 *     would. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch/launch.h"
#include "launch/ready.h"
#include "util/error.h"

static void check_parse(const char *line)
{
	char cgroup[1024];
	pid_t pid = 0;

	if (sbx_ready_parse(line, &pid, cgroup, sizeof(cgroup)) < 0)
		return;
	if (pid <= 0)
		abort();
	if (cgroup[0] && (cgroup[0] != '/' || strstr(cgroup, "/..") || strstr(cgroup, "//")))
		abort();
	for (const char *c = cgroup; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			abort();
}

static void check_record(const char *kind, const char *text)
{
	char buf[SBX_ERR_MAX + 64 + 2];
	int p[2];
	ssize_t n;

	if (pipe(p) < 0)
		return;
	sbx_status_record(p[1], kind, "%s", text);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	close(p[0]);
	/* The launcher reads it into SBX_ERR_MAX + 64 bytes, a NUL included. */
	if (n <= 0 || (size_t)n > SBX_ERR_MAX + 63 || buf[n - 1] != '\n')
		abort();
	for (ssize_t i = 0; i < n - 1; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			abort();
	buf[n - 1] = '\0';
	if (strncmp(buf, kind, strlen(kind)) != 0 || buf[strlen(kind)] != ' ')
		abort();
	check_parse(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_parse(text);
	if (size > 0)
		check_record(data[0] & 1 ? "ready" : "error", text + 1);
	free(text);
	return 0;
}
