/*
 * MSI-X tables (kernel/msix.c): the hypervisor owns every entry's message
 * address and data. At boot each MSI-X table's pages are taken out of
 * dom0's p2m and served by an MMIO handler: reads pass through, writes to
 * address/data are dropped, writes to vector control and to whatever else
 * shares the pages (the PBA) pass through. PHYSDEVOP_map_pirq
 * (kernel/pirq.c) programs entries with msix_entry_program.
 */
#ifndef KEEL_MSIX_H
#define KEEL_MSIX_H

#include <keel/pci.h>
#include <keel/types.h>

struct domain;

/* Traps the function's MSI-X table pages (boot, after its BARs are
 * given to dom0). 0 or -errno. */
int msix_protect(struct domain *d, struct pci_func *f);
/* Takes every table page out of dom0's p2m again (after BAR mappings
 * were re-established). */
void msix_reprotect(struct domain *d);
/* Does BAR `bar` of the function hold its MSI-X table? */
bool msix_bar_holds_table(const struct pci_func *f, unsigned bar);
/* The table's entry count and BAR; false when there is no usable table. */
bool msix_table_info(const struct pci_func *f, unsigned *nr_entries, unsigned *bir);
/* Writes entry `entry` for host `vector` (unmasked), or masks it when
 * vector is 0. 0 or -errno. */
int msix_entry_program(struct pci_func *f, unsigned entry, u8 vector);

#endif
