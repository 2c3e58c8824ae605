/*
 * MSI messages and the vectors behind them (kernel/pirq.c), pure logic so
 * that tests/unit/test_msi.c can check it on the host.
 *
 * The hypervisor owns every MSI message: dom0 asks for one with
 * PHYSDEVOP_map_pirq (MAP_PIRQ_TYPE_MSI) and Keel picks a host vector
 * from the MSI range, composes the message and writes it to the device.
 *
 * Message (Intel SDM vol. 3, 11.11 "Message Signalled Interrupts"):
 *   address  0xFEE00000 | destination APIC ID << 12; RH = 0, DM = 0
 *            (physical destination: the boot CPU, the only one Keel runs);
 *   data     vector, delivery mode 000 (fixed), trigger mode 0 (edge).
 */
#ifndef KEEL_MSI_H
#define KEEL_MSI_H

#include <keel/types.h>

#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_DEST_SHIFT 12

/* Host vectors for MSI pirqs: after the GSI range (PIRQ_VECTOR_BASE +
 * NR_PIRQS = 0xb0), below the LAPIC timer (0xf0). */
#define MSI_VECTOR_BASE 0xb0
#define NR_MSI_VECTORS 64

static inline u32 msi_compose_addr(u32 dest_apic_id)
{
	return MSI_ADDR_BASE | (dest_apic_id & 0xff) << MSI_ADDR_DEST_SHIFT;
}

static inline u16 msi_compose_data(u8 vector)
{
	return vector; /* fixed delivery, edge, (level-assert bit ignored) */
}

/* The slot (vector - MSI_VECTOR_BASE) of a free vector, marked used in
 * `used` (one bit per slot), or -1 when all NR_MSI_VECTORS are taken. */
static inline int msi_vector_alloc(u64 *used)
{
	for (unsigned s = 0; s < NR_MSI_VECTORS; s++) {
		if (!(*used & (1ULL << s))) {
			*used |= 1ULL << s;
			return (int)s;
		}
	}
	return -1;
}

static inline void msi_vector_free(u64 *used, int slot)
{
	if (slot >= 0 && slot < NR_MSI_VECTORS)
		*used &= ~(1ULL << slot);
}

/* Offsets in the MSI capability (PCI 3.0, 6.8.1) of the message address
 * (low dword), upper address (64-bit capable only; 0 otherwise) and data,
 * from its message control word. */
static inline void msi_cap_layout(u16 ctl, unsigned *addr_lo, unsigned *addr_hi, unsigned *data)
{
	*addr_lo = 4;
	*addr_hi = (ctl & 0x80) ? 8 : 0;
	*data = (ctl & 0x80) ? 12 : 8;
}

#endif
