/*
 * xenstored as a dom0 service (guest/dom0/xsd/): one store
 * (xenstored/xenstored.h) that dom0's own services use in-process and
 * that each introduced domU reaches through its xenstore ring page and
 * event channel (HVM_PARAM_STORE_PFN / HVM_PARAM_STORE_EVTCHN), served
 * from dom0's event loop (loop/loop.h). docs/xenstore.md, "In dom0".
 *
 * The store's memory comes from dom0's page pool (guest/lib/pages.h)
 * through a small size-class allocator (xsd_alloc.c).
 */
#ifndef GUEST_DOM0_XSD_H
#define GUEST_DOM0_XSD_H

#include <lib/types.h>
#include <public/event_channel.h>
#include <public/xen.h>
#include "xenstored/xenstored.h"

/* Rings served at once (introduced domUs). */
#define XSD_MAX_DOMAINS 8

/* Starts the service: the store, dom0's own privileged connection, the
 * event loop. Idempotent; 0 or -errno (-ENOMEM: no pool for the store). */
int xsd_init(void);

/* The store, and dom0's own connection (NULL before xsd_init). */
struct xs_store *xsd_store(void);
struct xs_conn *xsd_dom0(void);

/*
 * A request from dom0 in-process on its own connection (xs_call's
 * contract): 0 with the reply's payload in reply (*reply_len in: its
 * size, out: the payload's length), or the negative errno of an error
 * reply. Watch events dom0 registered on this connection stay queued
 * (xsd_dom0() with xs_conn_output); a service that wants its own events
 * makes its own connection with xs_conn_new(xsd_store(), 0, true, ...).
 */
int xsd_call(u32 type, u32 tx, const void *payload, u32 len, void *reply, u32 *reply_len);

/* Convenience forms of xsd_call: a NUL-terminated value; a path;
 * SET_PERMS with n entries ("n0", "r5" ...). */
int xsd_write(const char *path, const char *value);
int xsd_mkdir(const char *path);
int xsd_rm(const char *path);
int xsd_read(const char *path, char *buf, u32 size);
int xsd_set_perms(const char *path, const char *const *perms, unsigned n);

/* The ring connection of a domU as the service sees it. */
struct xsd_ring_stats {
	bool attached; /* ring mapped and channel bound */
	bool dropped;  /* broken ring: connection dropped by the service */
	u64 events;    /* event-channel events handled */
	u64 pumps;     /* xs_ring_pump calls that moved bytes */
};
/* -ENOENT if dom was never attached since its last release. */
int xsd_ring_stats(domid_t dom, struct xsd_ring_stats *s);

/* Runs dom's ring handler on the next loop iteration as if its channel
 * had fired (tests that play the guest's side from dom0). -ENOENT if
 * dom's ring is not attached. */
int xsd_ring_poke(domid_t dom);

/* Rings attached right now (leak checks). */
unsigned xsd_nr_rings(void);

/* The allocator's bytes in use, and pages taken from the pool (leak
 * checks: back to their old values once everything is freed). */
u64 xsd_alloc_in_use(void);
extern const struct xs_alloc xsd_allocator;

#endif
