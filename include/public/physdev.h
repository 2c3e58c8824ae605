/*
 * physdev_op (hypercall 33): dom0's physical interrupts. Numbers and
 * layouts are Xen's (xen/include/public/physdev.h); Keel implements the
 * subset in docs/dom0-devices.md ("Interrupts").
 */
#ifndef PUBLIC_PHYSDEV_H
#define PUBLIC_PHYSDEV_H

#include <lib/types.h>
#include <public/xen.h>

#define PHYSDEVOP_irq_status_query 5
#define PHYSDEVOP_eoi 12
#define PHYSDEVOP_map_pirq 13
#define PHYSDEVOP_unmap_pirq 14
#define PHYSDEVOP_setup_gsi 21

/* PHYSDEVOP_eoi: the guest has handled pirq `irq`. */
struct physdev_eoi {
	uint32_t irq;
};

/* PHYSDEVOP_irq_status_query */
struct physdev_irq_status_query {
	uint32_t irq;    /* IN */
	uint32_t flags;  /* OUT: XENIRQSTAT_* */
};
#define XENIRQSTAT_needs_eoi (1u << 0)
#define XENIRQSTAT_shared (1u << 1)

#define MAP_PIRQ_TYPE_MSI 0x0
#define MAP_PIRQ_TYPE_GSI 0x1
#define MAP_PIRQ_TYPE_UNKNOWN 0x2
#define MAP_PIRQ_TYPE_MSI_SEG 0x3
#define MAP_PIRQ_TYPE_MULTI_MSI 0x4

/* PHYSDEVOP_map_pirq */
struct physdev_map_pirq {
	domid_t domid;
	uint16_t pad;
	int32_t type;        /* MAP_PIRQ_TYPE_* */
	int32_t index;       /* GSI for MAP_PIRQ_TYPE_GSI */
	int32_t pirq;        /* IN (-1: any) / OUT */
	int32_t bus;         /* MSI */
	int32_t devfn;       /* MSI */
	int32_t entry_nr;    /* MSI */
	uint32_t pad2;
	uint64_t table_base; /* MSI-X */
};

/* PHYSDEVOP_unmap_pirq */
struct physdev_unmap_pirq {
	domid_t domid;
	uint16_t pad;
	int32_t pirq;
};

/* PHYSDEVOP_setup_gsi: triggering 0 edge / 1 level, polarity 0 active
 * high / 1 active low (what Linux passes from ACPI). */
struct physdev_setup_gsi {
	int32_t gsi;
	uint8_t triggering;
	uint8_t polarity;
	uint8_t pad[2];
};

_Static_assert(sizeof(struct physdev_eoi) == 4, "physdev_eoi size");
_Static_assert(sizeof(struct physdev_irq_status_query) == 8, "irq_status_query size");
_Static_assert(sizeof(struct physdev_map_pirq) == 40, "physdev_map_pirq size");
_Static_assert(__builtin_offsetof(struct physdev_map_pirq, table_base) == 32, "table_base");
_Static_assert(sizeof(struct physdev_unmap_pirq) == 8, "physdev_unmap_pirq size");
_Static_assert(sizeof(struct physdev_setup_gsi) == 8, "physdev_setup_gsi size");

#endif
