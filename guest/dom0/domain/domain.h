/*
 * Building and watching domUs from dom0 (guest/dom0/domain/): the steps a
 * toolstack takes, shared by the self-test scenarios today and by the
 * domain launcher next (issue 12). Every function returns 0 or a negative
 * errno and leaves nothing half-done behind it; the caller decides whether
 * a failure ends anything. Built on the domctl/sysctl wrappers of
 * guest/lib/domctl.h.
 */
#ifndef GUEST_DOM0_DOMAIN_H
#define GUEST_DOM0_DOMAIN_H

#include <public/domctl.h>
#include <public/event_channel.h>
#include <public/start_info.h>

/* The boot module whose command line is `name` or starts with "name "
 * (keel.cfg `module NAME PATH` gives dom0 "NAME ..."): its bytes in
 * dom0's memory. -ENOENT if there is none. */
int dom_module_find(const struct hvm_start_info *si, const char *name, const void **image,
		    u64 *size);

/* Creates a paused domU named `name` with one vCPU and `ram_mib` MiB of
 * RAM at guest-physical 0 (max_mem set to the same). On failure nothing
 * is left: a domain already created is destroyed again. */
int dom_create(const char *name, unsigned ram_mib, domid_t *id);

/* The domain's info (XEN_DOMCTL_getdomaininfo). */
int dom_info(domid_t id, struct xen_domctl_getdomaininfo *info);

/* SHUTDOWN_* code of a shut-down domain; -1 while it runs; -errno if
 * there is no such domain. */
int dom_shutdown_code(domid_t id);

/*
 * VIRQ_DOM_EXC as a dom0 service (exc.c): the hypervisor raises it when a
 * domain shuts down, crashes or is destroyed. dom_exc_init binds it on
 * the event loop once (idempotent; 0 or -errno); each event runs every
 * subscriber from the loop, which then looks at the domains it cares
 * about with getdomaininfo (the VIRQ says only "something changed", as in
 * Xen). dom_exc_subscribe: 0, or -ENOSPC past DOM_EXC_MAX_SUBS.
 * dom_exc_events counts the events handled.
 */
#define DOM_EXC_MAX_SUBS 4
int dom_exc_init(void);
int dom_exc_subscribe(void (*fn)(void *arg), void *arg);
u64 dom_exc_events(void);

/*
 * Runs dom0's event loop until every domain in ids has shut down: 0, or
 * -ETIMEDOUT after timeout_ns, or the first domain-info error. Woken by
 * VIRQ_DOM_EXC (dom_exc_init); a 1 s tick covers a missed event. Not
 * from a loop handler.
 */
int dom_wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns);

/* One line "<prefix>dN exits: hypercall A, extint B, ..." of the domain's
 * exit counters (nothing if they cannot be read). */
void dom_print_exits(const char *prefix, domid_t id);

/*
 * Foreign mappings (XENMAPSPACE_gmfn_foreign through
 * XENMEM_add_to_physmap_batch): maps frame `gfn` of domain `fd` at dom0's
 * guest-physical `gpa` (which must be a hole or RAM dom0 gives up for
 * it). Returns the call's error; *err gets the frame's own error (the
 * batch reports per frame).
 */
int dom_map_foreign(domid_t fd, u64 gfn, u64 gpa, int *err);
/* The same, with the call's error, else the frame's. */
int dom_map_foreign_one(domid_t fd, u64 gfn, u64 gpa);
/* Removes a foreign mapping made by dom_map_foreign at `gpa`. */
int dom_unmap_foreign(u64 gpa);

/*
 * A PV console for a built (not yet running) domU, as Xen's toolstack
 * sets one up: one zeroed page of the domain's, placed at guest frame
 * ram_mib * 256 — just past the RAM of its memory map, so the guest never
 * takes it for RAM — and an unbound event-channel port of the domain's
 * that dom0 may bind; both announced to the guest through
 * HVM_PARAM_CONSOLE_PFN and HVM_PARAM_CONSOLE_EVTCHN. Call it after the
 * image is loaded (the memory map is made then). Returns the frame and
 * the port for the backend (console/backend.h cons_back_attach). On
 * failure what was made stays the domain's until it is destroyed.
 *
 * The launcher (launch.h) does the same for its domains, with a store
 * page next to it, and writes /local/domain/N/console/{ring-ref,port,
 * type,limit}.
 */
int dom_console_create(domid_t id, unsigned ram_mib, u64 *gfn, evtchn_port_t *port);

#endif
