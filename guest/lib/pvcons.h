/*
 * The PV console, guest side (guest/lib/pvcons.c): the ring page and
 * event channel dom0's toolstack gave this domain (HVM_PARAM_CONSOLE_PFN,
 * HVM_PARAM_CONSOLE_EVTCHN; include/public/io/console.h), used the way
 * Linux's hvc_xen uses them.
 *
 * Output: bytes into out[], then out_prod, then a notification; when the
 * ring is full the writer sleeps on its port (SCHEDOP_poll: the port may
 * stay masked) until the backend has taken some and notified. A backend
 * that takes nothing for PVCONS_STALL_NS is given up on: the console goes
 * back to console_io for good. Input: what the backend put into in[].
 *
 * The backend is not trusted either: indices are masked into the page,
 * and a ring whose indices make no sense is given up on likewise.
 */
#ifndef GUEST_PVCONS_H
#define GUEST_PVCONS_H

#include <lib/types.h>
#include <public/event_channel.h>

#define PVCONS_STALL_NS (2 * 1000000000ULL)

/* Finds the console (needs evtchn_init). 0, -ENODEV if the domain has no
 * console page, or the hypervisor's error. With `as_console`, printf and
 * friends go through it from now on (console_set_sink). */
int pvcons_init(bool as_console);

/* True while the PV console is in use (not given up on). */
bool pvcons_active(void);

/* The ring's guest frame and this domain's port (for reports). */
u64 pvcons_gfn(void);
evtchn_port_t pvcons_port(void);

/* Writes all n bytes, waiting for room; false if the console was given
 * up on (the bytes then went nowhere). */
bool pvcons_write(const char *s, size_t n);

/* Takes up to n bytes of input; 0 when none is waiting. */
size_t pvcons_read(char *buf, size_t n);

/* Sleeps until input arrives or the system time `deadline_ns` passes. */
void pvcons_wait_input(u64 deadline_ns);

#endif
