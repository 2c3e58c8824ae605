/*
 * The I/O APICs (arch/x86/ioapic.c; Intel 82093AA datasheet, ACPI MADT):
 * the hypervisor owns them and routes device interrupt lines (GSIs) to
 * host vectors on the boot CPU, for dom0's pirqs (kernel/pirq.c).
 *
 * Every pin starts masked. Level-triggered lines are masked by the
 * interrupt handler before the LAPIC EOI and unmasked when dom0 says it
 * has handled the device (PHYSDEVOP_eoi), so a line that stays asserted
 * cannot storm the CPU.
 */
#ifndef ASM_IOAPIC_H
#define ASM_IOAPIC_H

#include <lib/types.h>

/* Finds the IOAPICs from the MADT (acpi_init first; the 0xfec00000
 * default without one), masks every pin. Returns the number of GSIs
 * covered (0 when there is no IOAPIC). */
unsigned ioapic_init(void);

/* True if some IOAPIC has a pin for gsi. */
bool ioapic_has_gsi(u32 gsi);

/* Points gsi at `vector` on the boot CPU (fixed delivery, physical
 * destination), with the trigger mode and polarity given; leaves the pin
 * masked. 0 or -EINVAL. */
int ioapic_route(u32 gsi, u8 vector, bool level, bool active_low);

void ioapic_mask(u32 gsi);
void ioapic_unmask(u32 gsi);

#endif
