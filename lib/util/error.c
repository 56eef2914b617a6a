/* The definitions: clang's analyzer sees them under their own names. */
#define SBX_ERROR_IMPL
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vset(struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, va_list ap)
{
	size_t n;

	if (!err)
		return -1;
	err->errnum = errnum;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	n = strlen(err->msg);
	if (errnum && n < sizeof(err->msg))
		n += snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			      strerror(errnum));
	if (hint && *hint && n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, " (%s)", hint);
	return -1;
}

int sbx_err_set(struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, errnum, hint, fmt, ap);
	va_end(ap);
	return -1;
}

int sbx_err_sys(struct sbx_err *err, const char *hint, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(err, saved, hint, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int sbx_err_vset_in(struct sbx_err *err, int errnum, const char *hint, const char *where,
		    const char *fmt, va_list ap)
{
	char reason[SBX_ERR_MAX];

	vsnprintf(reason, sizeof(reason), fmt, ap);
	return sbx_err_set(err, errnum, hint, "%s: %s", where, reason);
}

int sbx_err_prefix(struct sbx_err *err, const char *fmt, ...)
{
	char context[SBX_ERR_MAX], msg[SBX_ERR_MAX];
	int errnum;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	memcpy(msg, err->msg, sizeof(msg));
	/* The message already holds its reason and hint. */
	errnum = err->errnum;
	sbx_err_set(err, 0, NULL, "%s: %s", context, msg);
	err->errnum = errnum;
	return -1;
}

void sbx_err_clear(struct sbx_err *err)
{
	if (err) {
		err->errnum = 0;
		err->msg[0] = '\0';
	}
}

const char *sbx_err_line(const struct sbx_err *err, char *buf, size_t len)
{
	snprintf(buf, len, "sandbox: %s",
		 err && err->msg[0] ? err->msg : "unknown error");
	return buf;
}
