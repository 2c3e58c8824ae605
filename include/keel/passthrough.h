/*
 * dom0 owns the machine's devices (kernel/passthrough.c). At boot the
 * hypervisor hands it, 1:1 (guest-physical = host-physical):
 *  - the MMIO BARs of every PCI function, mapped uncached in its p2m;
 *  - the I/O-port BARs, opened in its I/O permission map;
 *  - configuration space through ports CF8/CFC and the MCFG's ECAM window,
 *    both emulated with filtering (kernel/pci_cfg.c);
 *  - the ACPI tables (read-only) and ACPI NVS, so it can read the MCFG;
 *  - the legacy devices listed in docs/dom0-devices.md, each by name.
 * Never: what the hypervisor keeps (its UART, the PIT and PICs, LAPIC and
 * the MSI window, IOAPICs, HPET, the ECAM window itself, the reset and
 * debug-exit ports), nor RAM that is not dom0's. docs/dom0-devices.md
 * is the list a reader checks.
 */
#ifndef KEEL_PASSTHROUGH_H
#define KEEL_PASSTHROUGH_H

#include <keel/boot_info.h>
#include <keel/cmdline.h>
#include <lib/types.h>

struct domain;
struct pci_func;

/*
 * Reads ACPI and PCI, then gives dom0 what is listed above, one line per
 * device. Call once, after dom0_build(). A machine without ACPI or PCI
 * still boots (dom0 then has only what it found). Returns 0 or -ENOMEM.
 */
int dom0_devices_init(struct domain *d0, paddr_t rsdp, const struct boot_mem_range *map,
		      unsigned nmap, const struct keel_options *opts);

/* True if dom0 may have a device mapping over [base, base+len): not RAM
 * (usable, ACPI, NVS in the firmware map), not above the physical address
 * width, not a range the hypervisor keeps. *why says what it hit. */
bool passthrough_mmio_ok(u64 base, u64 len, const char **why);

/* True if dom0 may access ports [first, first+count) directly. */
bool passthrough_io_ok(u64 first, u64 count, const char **why);

/*
 * Moves BAR `i` of f to `addr` for dom0 (called by the config-space
 * filter when dom0 reprograms a BAR): checks the new range (policy above,
 * alignment, no overlap with another assigned BAR), reprograms the device
 * with decoding off, moves the p2m mapping or the port permissions, and
 * traps an MSI-X table in the BAR at its new place (kernel/msix.c). Address
 * 0 of a memory BAR unassigns it (nothing mapped, its table untrapped), as
 * firmware leaves a BAR it had no room for. A table BAR with mapped MSI-X
 * entries does not move. 0, or -EPERM when refused, or -EBUSY when dom0
 * holds a foreign or grant mapping at the new place (asm/p2m.h); either
 * way one line printed, nothing changed.
 */
int passthrough_bar_move(struct domain *d0, struct pci_func *f, unsigned i, u64 addr);

#endif
