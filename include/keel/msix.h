/*
 * MSI-X tables (kernel/msix.c): the hypervisor owns every entry's message
 * address and data. Each MSI-X table whose BAR has an address (at boot,
 * or once dom0 assigns it) has its pages taken out of dom0's p2m and
 * served by an MMIO handler: reads pass through, writes to address/data
 * are dropped, writes to vector control and to whatever else shares the
 * pages (the PBA) pass through. f->msix_trapped says the handler serves
 * the table; MSI-X is usable only then. PHYSDEVOP_map_pirq (kernel/pirq.c)
 * programs entries with msix_entry_program.
 */
#ifndef KEEL_MSIX_H
#define KEEL_MSIX_H

#include <keel/pci.h>
#include <lib/types.h>

struct domain;

/* Traps the function's MSI-X table pages where its BAR is now (boot,
 * after its BARs are given to dom0; after dom0 assigned or moved the
 * BAR). Does nothing for a function without a table or whose table BAR is
 * unassigned; traps nothing where passthrough_mmio_ok refuses the BAR
 * (-EPERM: it was not given to dom0). The pages leave dom0's p2m even when
 * trapping then fails (-ENOSPC, -ENOMEM, -EEXIST). Failures print one line
 * and leave f->msix_trapped false. 0 or -errno. */
int msix_protect(struct domain *d, struct pci_func *f);
/* Forgets the function's trap (before its table BAR moves): the MMIO
 * handler goes, f->msix_trapped turns false. The caller re-establishes
 * dom0's p2m for the old range as it sees fit. */
void msix_unprotect(struct domain *d, struct pci_func *f);
/* Takes every table page out of dom0's p2m again (after BAR mappings
 * were re-established). */
void msix_reprotect(struct domain *d);
/* Does BAR `bar` of the function hold its MSI-X table (assigned or not)? */
bool msix_bar_holds_table(const struct pci_func *f, unsigned bar);
/* The table's entry count and BAR; false when there is no usable table. */
bool msix_table_info(const struct pci_func *f, unsigned *nr_entries, unsigned *bir);
/* Writes entry `entry` for host `vector` (unmasked), or masks it when
 * vector is 0. 0, -EINVAL (no such entry, BAR unassigned) or -EPERM (a
 * vector for an untrapped table). */
int msix_entry_program(struct pci_func *f, unsigned entry, u8 vector);

#endif
