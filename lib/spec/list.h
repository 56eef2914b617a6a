/* Users' comma lists: --sandbox-mounts, --sandbox-env and their SANDBOX_*
 * presets. (The site policy's lists, blanks or commas, are the INI's own:
 * sbx_strv_push_list.) */
#ifndef SBX_LIST_H
#define SBX_LIST_H

#include "util/error.h"
#include "util/strv.h"

/* The elements of the comma-separated list, into out (empty before). Strict: an empty
 * list or an empty element is an error naming opt (the option or preset as
 * the user wrote it), the list and the element's position, with syntax as
 * the hint, e.g.
 *   "--sandbox-env 'FOO,': element 2 of 2 is empty (use NAME[=VALUE][,...] with no empty element)"
 * On error out is empty. */
int sbx_list_split(const char *opt, const char *list, const char *syntax,
		   struct sbx_strv *out, struct sbx_err *err);

#endif
