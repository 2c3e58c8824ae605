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

#include <lib/types.h>

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

/*
 * MSI-X (PCI 3.0, 6.8.2). The capability's table register names the BAR
 * (BIR, bits 0-2) and the offset of the table in it; the control word's
 * bits 0-10 are the table size - 1. Each 16-byte entry: message address
 * (low, high), data, vector control (bit 0: masked). The hypervisor owns
 * address and data; dom0 reaches the table only through the hypervisor
 * (kernel/msix.c), which drops its writes to them and passes through its
 * writes to vector control and to whatever else shares the table's pages
 * (the PBA, other registers).
 */
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_VECTOR_CTRL 12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1u
#define PCI_MSIX_TABLE_SIZE_MASK 0x7ffu

/* The BAR, offset and entry count of the table, from the capability's
 * control word and table register. */
static inline void msix_table_layout(u16 ctl, u32 table_reg, unsigned *bir, u32 *offset,
				     unsigned *nr_entries)
{
	*bir = table_reg & 7;
	*offset = table_reg & ~7u;
	*nr_entries = (ctl & PCI_MSIX_TABLE_SIZE_MASK) + 1;
}

/* The four dwords of an entry delivering `vector` to APIC ID `dest`,
 * unmasked. */
static inline void msix_compose_entry(u32 dest_apic_id, u8 vector, u32 e[4])
{
	e[0] = msi_compose_addr(dest_apic_id);
	e[1] = 0;
	e[2] = msi_compose_data(vector);
	e[3] = 0; /* vector control: unmasked */
}

/* Which bytes of a dom0 write of `size` bytes at physical address `pa`
 * reach the device (bit i = byte i), the table being `nr_entries` entries
 * at `table`: every byte outside the table, and inside it only the vector
 * control dwords. */
static inline u8 msix_write_pass_mask(u64 pa, unsigned size, u64 table, unsigned nr_entries)
{
	u8 m = 0;
	for (unsigned i = 0; i < size && i < 8; i++) {
		u64 a = pa + i;
		if (a < table || a - table >= (u64)nr_entries * PCI_MSIX_ENTRY_SIZE ||
		    (a - table) % PCI_MSIX_ENTRY_SIZE >= PCI_MSIX_ENTRY_VECTOR_CTRL)
			m |= (u8)(1u << i);
	}
	return m;
}

#endif
