/* Guests' console output on the hypervisor console (kernel/guest_console.c). */
#ifndef KEEL_GUEST_CONSOLE_H
#define KEEL_GUEST_CONSOLE_H

#include <lib/types.h>

struct domain;

/* A domain's console budget other than dom0's (guest_console.c): a
 * burst, then a steady rate; the rest is dropped and counted. */
#define GUEST_CONSOLE_BURST 16384 /* bytes */
#define GUEST_CONSOLE_RATE 4096   /* bytes a second */
#define GUEST_CONSOLE_REPORT_NS 1000000000ULL /* dropped-bytes lines: 1/s */

/* Appends bytes from domain d (console_io, port 0xE9); complete lines
 * are printed as "(dN) line". Control characters other than tab and
 * newline are shown as '?', so a guest cannot drive the operator's
 * terminal. Throttled for every domain but dom0: bytes beyond its
 * budget are dropped, and counted in a "keel: domain N (name): console:
 * M bytes dropped" line when it is next heard or stops. Never waits for
 * the UART. */
void guest_console_write(struct domain *d, const char *buf, size_t len);

/* Ends d's current line and reports what it dropped (at shutdown). */
void guest_console_flush(struct domain *d);

/* Ends the partial line a domain other than `writer` has open on the
 * serial console (writer NULL: the hypervisor is about to print), so
 * lines of different owners never share a line. */
void guest_console_break_line(const struct domain *writer);

/* Shows d's partial line now (d is waiting for console input). */
void guest_console_show_partial(struct domain *d);

#endif
