#include "util/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sbx_strv_push(struct sbx_strv *sv, const char *s)
{
	char *copy;

	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v)
			return -1;
		sv->v = v;
		sv->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -1;
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
	return 0;
}

int sbx_strv_push_list(struct sbx_strv *sv, const char *list)
{
	const char *p = list;
	int rc = 0;

	while (p && *p && rc == 0) {
		size_t len = strcspn(p, ", \t");

		if (len > 0) {
			char *item = strndup(p, len);

			if (!item)
				return -1;
			rc = sbx_strv_push(sv, item);
			free(item);
		}
		p += len;
		p += strspn(p, ", \t");
	}
	return rc;
}

int sbx_strv_contains(const struct sbx_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void sbx_strv_clear(struct sbx_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
