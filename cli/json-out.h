#ifndef SBX_CLI_JSON_OUT_H
#define SBX_CLI_JSON_OUT_H

#include <stdio.h>

/* str as a JSON string; bytes that are not valid UTF-8 become U+FFFD. */
void sbx_json_string(FILE *out, const char *str);

#endif
