#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include <stdint.h>
#include "util/error.h"

/* Keep only the capabilities in mask (bit N = capability N) in every set.
 * bounding: also narrow the bounding set (one prctl per capability, and it
 * needs CAP_SETPCAP: done once, by the joining task). */
int sbx_caps_restrict(uint64_t mask, int bounding, struct sbx_err *err);

#endif
