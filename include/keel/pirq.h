/*
 * dom0's physical interrupts (kernel/pirq.c), Xen's pirq model:
 *
 *   PHYSDEVOP_setup_gsi   dom0 says how a GSI is wired (level/edge,
 *                         polarity), as Linux does from ACPI _PRT/MADT;
 *   PHYSDEVOP_map_pirq    (MAP_PIRQ_TYPE_GSI) gives the GSI a pirq:
 *                         Keel routes it through the IOAPIC to a host
 *                         vector, masked. The pirq number is the GSI;
 *   EVTCHNOP_bind_pirq    binds an event channel to the pirq and unmasks
 *                         the line;
 *   the interrupt         Keel masks a level-triggered line, EOIs the
 *                         LAPIC and marks the pirq's port pending in dom0
 *                         (at the scheduler's next safe point);
 *   PHYSDEVOP_eoi         dom0 has quieted the device: the line is
 *                         unmasked (and fires again if still asserted).
 *   MAP_PIRQ_TYPE_MSI     (bus, devfn; entry_nr 0, table_base 0) gives a
 *                         function's MSI a pirq above the GSIs
 *                         (NR_PIRQS + slot): Keel takes a host vector
 *                         from its MSI range (include/keel/msi.h), writes
 *                         the message address and data itself and sets
 *                         the MSI enable bit (single message). Edge: no
 *                         masking, PHYSDEVOP_eoi is a no-op. unmap_pirq
 *                         clears the enable bit and frees the vector.
 * PHYSDEVOP_irq_status_query reports XENIRQSTAT_needs_eoi for level lines.
 *   MAP_PIRQ_TYPE_MSI with table_base != 0 (Xen's MSI-X convention:
 *                         table_base = the table's BAR, entry_nr = the
 *                         entry): the same for one MSI-X table entry,
 *                         written through the hypervisor's mapping
 *                         (kernel/msix.c; the table is trapped from dom0),
 *                         then MSI-X enabled. unmap_pirq masks the entry.
 * MAP_PIRQ_TYPE_MSI_SEG and MULTI_MSI are not implemented (-EOPNOTSUPP).
 * Only dom0 (the hypercall table's HC_DOM0_ONLY) has pirqs.
 */
#ifndef KEEL_PIRQ_H
#define KEEL_PIRQ_H

#include <lib/types.h>
#include <keel/msi.h>
#include <public/physdev.h>

struct domain;
struct vcpu;

#define NR_PIRQS 128          /* pirq = GSI, below this */
#define PIRQ_VECTOR_BASE 0x30 /* host vector = base + GSI */
/* MSI pirqs: NR_PIRQS + slot, host vector MSI_VECTOR_BASE + slot. */
#define PIRQ_MSI_BASE NR_PIRQS
#define NR_ALL_PIRQS (NR_PIRQS + NR_MSI_VECTORS)

/* Sets up the IOAPICs (all pins masked) and records which GSIs belong to
 * the hypervisor's own devices (`console_port`: its UART's IRQ). */
void pirq_init(u16 console_port);

/* physdev_op (hypercall 33), dom0 only. */
long do_physdev_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5);

/* For EVTCHNOP_bind_pirq (kernel/evtchn.c): checks that d may bind pirq
 * now: 0, -EINVAL (not d's, not mapped), -EEXIST (bound already). */
int pirq_check_bind(struct domain *d, u32 pirq);
/* The port is bound: records it and unmasks the line. */
void pirq_bound(struct domain *d, u32 pirq, u32 port);
/* EVTCHNOP_close of a pirq port: masks the line, forgets the port. */
void pirq_unbound(struct domain *d, u32 pirq);

/* At the scheduler's safe point: raises the ports of the pirqs whose
 * interrupt arrived since the last call. */
void pirq_deliver_pending(void);

/* After a reset of f (kernel/pci_reset.c): writes again the MSI message
 * and enable of a mapped MSI pirq, and every mapped MSI-X entry and the
 * MSI-X enable (memory decoding turned on only while the table is
 * written), as PHYSDEVOP_map_pirq left them. Nothing when nothing is
 * mapped. */
struct pci_func;
void pirq_msi_restore(struct pci_func *f);

/* True while some pirq is bound (an interrupt may still wake a vCPU, so
 * an idle CPU with no timer armed must wait rather than give up). */
bool pirq_any_bound(void);

#endif
