/*
 * dom0's physical interrupts from a Keel guest (guest/lib/physdev.c):
 * wrappers for physdev_op (hypercall 33; Xen public/physdev.h) and
 * EVTCHNOP_bind_pirq. The model is in include/keel/pirq.h. Each returns
 * 0 or the hypervisor's negative errno.
 */
#ifndef GUEST_PHYSDEV_H
#define GUEST_PHYSDEV_H

#include <lib/types.h>
#include <public/event_channel.h>
#include <public/physdev.h>

/* PHYSDEVOP_setup_gsi: how the GSI is wired. */
int physdev_setup_gsi(u32 gsi, bool level, bool active_low);
/* PHYSDEVOP_map_pirq (MAP_PIRQ_TYPE_GSI, any pirq): *pirq gets it. */
int physdev_map_gsi(u32 gsi, u32 *pirq);
/* PHYSDEVOP_map_pirq (MAP_PIRQ_TYPE_MSI) for the function bdf's MSI: the
 * hypervisor programs the message and enables MSI; *pirq gets the pirq. */
int physdev_map_msi(u16 bdf, u32 *pirq);
/* PHYSDEVOP_map_pirq for entry `entry` of the function's MSI-X table
 * (Xen's convention: MAP_PIRQ_TYPE_MSI with table_base, the address of
 * the BAR holding the table, != 0): the hypervisor writes the entry and
 * enables MSI-X; *pirq gets the pirq. */
int physdev_map_msix(u16 bdf, u32 entry, u64 table_base, u32 *pirq);
int physdev_unmap_pirq(u32 pirq);
/* PHYSDEVOP_eoi: the device behind pirq has been quieted. */
int physdev_eoi(u32 pirq);
/* PHYSDEVOP_irq_status_query: does pirq need PHYSDEVOP_eoi? */
int physdev_needs_eoi(u32 pirq, bool *needs);
/* EVTCHNOP_bind_pirq. */
int evtchn_bind_pirq(u32 pirq, evtchn_port_t *port);

#endif
