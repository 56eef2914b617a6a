/* A growable, NULL-terminated vector of owned strings. */
#ifndef SBX_STRV_H
#define SBX_STRV_H

#include <stddef.h>

struct sbx_strv {
	char **v;      /* NULL-terminated when n > 0 or after any push */
	size_t n;
	size_t cap;
};

/* Append a copy of s. Returns 0, or -1 with errno = ENOMEM. */
int sbx_strv_push(struct sbx_strv *sv, const char *s);
/* Append every non-empty item of a list separated by commas and/or blanks. */
int sbx_strv_push_list(struct sbx_strv *sv, const char *list);
int sbx_strv_contains(const struct sbx_strv *sv, const char *s);
void sbx_strv_clear(struct sbx_strv *sv);

#endif
