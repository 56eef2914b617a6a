#include "spec/list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict because a skipped empty element hides a mistake: a stray comma, or a
 * variable that expanded to nothing (--sandbox-mounts=$DATA,$SCRATCH). */
int sbx_list_split(const char *opt, const char *list, const char *syntax,
		   struct sbx_strv *out, struct sbx_err *err)
{
	char hint[256];
	size_t n = 1;
	const char *p;
	int rc = -1;

	snprintf(hint, sizeof(hint), "use %s with no empty element", syntax);
	if (!list || !*list)
		return sbx_err_set(err, 0, hint, "%s '': empty list", opt);
	for (p = list; *p; p++)
		n += *p == ',';
	p = list;
	for (size_t i = 1; i <= n; i++) {
		size_t len = strcspn(p, ",");
		char *item;

		if (len == 0) {
			sbx_err_set(err, 0, hint, "%s '%s': element %zu of %zu is empty", opt, list, i, n);
			goto out;
		}
		item = strndup(p, len);
		if (!item || sbx_strv_push(out, item) < 0) {
			free(item);
			sbx_err_set(err, ENOMEM, NULL, "out of memory");
			goto out;
		}
		free(item);
		p += len + (p[len] == ',');
	}
	rc = 0;
out:
	if (rc < 0)
		sbx_strv_clear(out);
	return rc;
}
