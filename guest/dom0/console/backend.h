/*
 * dom0's PV console backend (guest/dom0/console/backend.c): a service on
 * the event loop (loop/loop.h) serving each domU's console ring
 * (include/public/io/console.h), as Xen's xenconsoled does.
 *
 * For each attached domain it maps the ring page (a frame of the domU's,
 * foreign-mapped into dom0), binds an interdomain channel to the domU's
 * console port and, each time that fires, drains the output promptly
 * (bounded per event, so one flooding guest cannot starve the others),
 * keeps the last CONS_HISTORY bytes, optionally mirrors it to Keel's
 * serial console as that domain's "(dN)" lines (KEEL_DOMCTL_console_write)
 * and hands it to a tap (tests). Input for the guest goes into the ring's
 * in[] (cons_back_input).
 *
 * The ring is hostile: indices out of range drop that connection with one
 * log line ("dom0: console: dN: ... connection dropped"); nothing outside
 * the page is ever read; other domains' consoles carry on.
 */
#ifndef GUEST_DOM0_CONSOLE_BACKEND_H
#define GUEST_DOM0_CONSOLE_BACKEND_H

#include <lib/types.h>
#include <public/event_channel.h>
#include <public/xen.h>

#define CONS_MAX_DOMAINS 8
#define CONS_HISTORY (64 * 1024) /* bytes of output kept per domain */

/* Mirror domUs' output to Keel's console (default on; dom0 cmdline
 * `cons_mirror=0` turns it off). */
extern bool cons_back_mirror;

/*
 * Serves domain `dom`'s console: its ring is guest frame `gfn`, its end of
 * the event channel is `remote_port` (the HVM_PARAM_CONSOLE_* values its
 * builder set, guest/dom0/domain/domain.h dom_console_create). 0, or
 * -errno with nothing left behind (-ENOSPC: CONS_MAX_DOMAINS served,
 * -EEXIST: already attached).
 */
int cons_back_attach(domid_t dom, u64 gfn, evtchn_port_t remote_port);

/* Stops serving dom: unbinds and closes the channel and unmaps the ring
 * (so the domain's pages can go back when it is destroyed). Its history
 * is forgotten. Safe for a domain not attached. */
void cons_back_detach(domid_t dom);

/* Writes up to n bytes of input into dom's ring and notifies it. Returns
 * how many fitted (0 when full), -ENOENT if dom is not served (or was
 * dropped), -EIO if its ring is corrupt (the connection is dropped). */
int cons_back_input(domid_t dom, const char *buf, size_t n);

/* Copies the last min(n, kept) bytes of dom's output into buf, oldest
 * first; returns how many. */
size_t cons_back_history(domid_t dom, char *buf, size_t n);

/* Called with every chunk of dom's output, in order, from the loop. */
typedef void (*cons_tap_fn)(domid_t dom, const char *buf, size_t n, void *arg);
void cons_back_set_tap(domid_t dom, cons_tap_fn fn, void *arg);

struct cons_back_stats {
	bool attached, dropped;
	u64 out_bytes, in_bytes, events;
};
/* -ENOENT if dom was never attached (a dropped connection still counts). */
int cons_back_stats(domid_t dom, struct cons_back_stats *s);

#endif
