/* Guests' console output on the hypervisor console (kernel/guest_console.c). */
#ifndef KEEL_GUEST_CONSOLE_H
#define KEEL_GUEST_CONSOLE_H

#include <keel/types.h>

struct domain;

/* Appends bytes from domain d; complete lines are printed as "(dN) line".
 * Control characters other than tab and newline are shown as '?', so a
 * guest cannot drive the operator's terminal. */
void guest_console_write(struct domain *d, const char *buf, size_t len);

/* Ends d's current line (at shutdown). */
void guest_console_flush(struct domain *d);

/* Shows d's partial line now (d is waiting for console input). */
void guest_console_show_partial(struct domain *d);

#endif
