#ifndef SBX_RELAY_H
#define SBX_RELAY_H

#include <sys/types.h>

/* With every signal blocked by the caller: wait for child, relaying the
 * signals other processes send us (kill, scancel) to it; a terminal's
 * signals already reach the whole foreground process group, so those are
 * not relayed again. Returns the child's wait status. */
int sbx_wait_relaying(pid_t child);

#endif
