/* The site's own additions to every sandbox: device globs and host binds,
 * each optionally conditional on a variable of the job (lib/spec/site.h). */
#include "spec/site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_FIRST "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
#define NAME_REST NAME_FIRST "0123456789"

static int conditional(enum sbx_site_kind kind)
{
	return kind == SBX_SITE_DEVICE_IF || kind == SBX_SITE_BIND_IF;
}

/* A path component "..", which would let a glob or a destination leave the
 * place it names. */
static int has_dotdot(const char *p)
{
	for (const char *s = strstr(p, ".."); s; s = strstr(s + 1, ".."))
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return 1;
	return 0;
}

int sbx_site_item_parse(enum sbx_site_kind kind, const char *item, struct sbx_site_item *out)
{
	const char *rest = item, *colon;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (conditional(kind)) {
		colon = strchr(item, ':');
		len = colon ? (size_t)(colon - item) : 0;
		if (!colon || len == 0 || len >= sizeof(out->var) || !strchr(NAME_FIRST, item[0]) ||
		    strspn(item, NAME_REST) != len)
			return -1;
		memcpy(out->var, item, len);
		rest = colon + 1;
	}
	if (kind == SBX_SITE_DEVICE || kind == SBX_SITE_DEVICE_IF) {
		if (strncmp(rest, "/dev/", 5) != 0 || rest[5] == '\0' || has_dotdot(rest) ||
		    strlen(rest) >= sizeof(out->src))
			return -1;
		strcpy(out->src, rest);
		return 0;
	}
	/* Host files are read-only unless the admin says rw. */
	out->readonly = 1;
	len = strlen(rest);
	if (len > 3 && (strcmp(rest + len - 3, ":ro") == 0 || strcmp(rest + len - 3, ":rw") == 0)) {
		out->readonly = rest[len - 1] == 'o';
		len -= 3;
	}
	colon = memchr(rest, ':', len);
	if (colon) {
		size_t slen = (size_t)(colon - rest), dlen = len - slen - 1;

		if (slen >= sizeof(out->src) || dlen >= sizeof(out->dst))
			return -1;
		memcpy(out->src, rest, slen);
		memcpy(out->dst, colon + 1, dlen);
	} else {
		if (len >= sizeof(out->src))
			return -1;
		memcpy(out->src, rest, len);
		memcpy(out->dst, rest, len);
	}
	if (out->src[0] != '/' || out->dst[0] != '/' || has_dotdot(out->src) || has_dotdot(out->dst) ||
	    strchr(out->dst, ':'))
		return -1;
	return 0;
}

const char *sbx_site_item_check(enum sbx_site_kind kind, const char *item, const char **hint)
{
	struct sbx_site_item it;

	switch (kind) {
	case SBX_SITE_DEVICE:
		*hint = "use globs of device nodes below /dev, such as /dev/nvidia*";
		break;
	case SBX_SITE_DEVICE_IF:
		*hint = "use VARIABLE:/dev/GLOB, such as CUDA_VISIBLE_DEVICES:/dev/nvidia*";
		break;
	case SBX_SITE_BIND:
		*hint = "use SRC[:DST][:ro|:rw] with absolute paths without '..'";
		break;
	default:
		*hint = "use VARIABLE:SRC[:DST][:ro|:rw] with absolute paths without '..'";
		break;
	}
	return sbx_site_item_parse(kind, item, &it) < 0 ? "bad item" : NULL;
}

int sbx_site_item_applies(const struct sbx_site_item *it)
{
	const char *v;

	if (!it->var[0])
		return 1;
	v = getenv(it->var);
	return v && *v;
}
