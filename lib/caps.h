#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include <stdint.h>
#include "error.h"

/* Keep only the capabilities in mask (bit N = capability N) in every set.
 * Sets already narrower are left alone, so it can run twice. */
int sbx_caps_restrict(uint64_t mask, struct sbx_err *err);

#endif
