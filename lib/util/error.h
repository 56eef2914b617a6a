/* Errors are values: library functions return -1 and fill a struct sbx_err;
 * only front ends (sandbox-run, the plugin) decide how to print it. */
#ifndef SBX_ERROR_H
#define SBX_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define SBX_ERR_MAX 1024

struct sbx_err {
	int errnum;              /* errno of the failing call, 0 if none */
	char msg[SBX_ERR_MAX];   /* "<step> <input>: <reason> (<hint>)", no prefix */
};

/* Format the message; a ": strerror" part is added when errnum != 0 and the
 * hint (may be NULL) is appended in parentheses. Always returns -1. */
int sbx_err_set(struct sbx_err *err, int errnum, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Like sbx_err_set with errnum = errno. */
int sbx_err_sys(struct sbx_err *err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* sbx_err_set of "<where>: <reason>", the reason formatted from fmt and ap:
 * for the wrappers that put their own context (an entry, a file) in front of
 * every message. Always returns -1. */
int sbx_err_vset_in(struct sbx_err *err, int errnum, const char *hint, const char *where,
		    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Put context in front of the message err already holds: "<context>: <msg>"
 * (errnum and hint kept), for a caller that knows what the failing call was
 * for. Always returns -1. */
int sbx_err_prefix(struct sbx_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void sbx_err_clear(struct sbx_err *err);

/* clang's static analyzer (make lint) does not look into variadic functions,
 * so it would take "return sbx_err_set(...)" for a success that may leave
 * out-values unset: tell it what the comments above say. No effect on the
 * build. */
#if defined(__clang_analyzer__) && !defined(SBX_ERROR_IMPL)
#define sbx_err_set(...) (sbx_err_set(__VA_ARGS__), -1)
#define sbx_err_sys(...) (sbx_err_sys(__VA_ARGS__), -1)
#define sbx_err_prefix(...) (sbx_err_prefix(__VA_ARGS__), -1)
#endif

/* The one-line, user-facing form: "sandbox: <msg>". */
const char *sbx_err_line(const struct sbx_err *err, char *buf, size_t len);

#endif
