/* physdev_op and EVTCHNOP_bind_pirq wrappers (contract in physdev.h). */
#include <lib/string.h>
#include "hypercall.h"
#include "physdev.h"

static long physdev_op(int cmd, void *arg)
{
	return hypercall6(__HYPERVISOR_physdev_op, (u64)cmd, (u64)(uintptr_t)arg, 0, 0, 0);
}

int physdev_setup_gsi(u32 gsi, bool level, bool active_low)
{
	struct physdev_setup_gsi s = { .gsi = (int32_t)gsi, .triggering = level,
				       .polarity = active_low };
	return (int)physdev_op(PHYSDEVOP_setup_gsi, &s);
}

int physdev_map_gsi(u32 gsi, u32 *pirq)
{
	struct physdev_map_pirq m = { .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_GSI,
				      .index = (int32_t)gsi, .pirq = -1 };
	long rc = physdev_op(PHYSDEVOP_map_pirq, &m);
	if (rc == 0)
		*pirq = (u32)m.pirq;
	return (int)rc;
}

int physdev_map_msi(u16 bdf, u32 *pirq)
{
	struct physdev_map_pirq m = { .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
				      .index = -1, .pirq = -1, .bus = bdf >> 8,
				      .devfn = bdf & 0xff, .entry_nr = 0, .table_base = 0 };
	long rc = physdev_op(PHYSDEVOP_map_pirq, &m);
	if (rc == 0)
		*pirq = (u32)m.pirq;
	return (int)rc;
}

int physdev_map_msix(u16 bdf, u32 entry, u64 table_base, u32 *pirq)
{
	struct physdev_map_pirq m = { .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
				      .index = -1, .pirq = -1, .bus = bdf >> 8,
				      .devfn = bdf & 0xff, .entry_nr = (int32_t)entry,
				      .table_base = table_base };
	long rc = physdev_op(PHYSDEVOP_map_pirq, &m);
	if (rc == 0)
		*pirq = (u32)m.pirq;
	return (int)rc;
}

int physdev_unmap_pirq(u32 pirq)
{
	struct physdev_unmap_pirq u = { .domid = DOMID_SELF, .pirq = (int32_t)pirq };
	return (int)physdev_op(PHYSDEVOP_unmap_pirq, &u);
}

int physdev_eoi(u32 pirq)
{
	struct physdev_eoi e = { .irq = pirq };
	return (int)physdev_op(PHYSDEVOP_eoi, &e);
}

int physdev_needs_eoi(u32 pirq, bool *needs)
{
	struct physdev_irq_status_query q = { .irq = pirq };
	long rc = physdev_op(PHYSDEVOP_irq_status_query, &q);
	if (rc == 0)
		*needs = q.flags & XENIRQSTAT_needs_eoi;
	return (int)rc;
}

int evtchn_bind_pirq(u32 pirq, evtchn_port_t *port)
{
	struct evtchn_bind_pirq b = { .pirq = pirq, .flags = 0 };
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &b);
	if (rc == 0)
		*port = b.port;
	return (int)rc;
}
