/*
 * dom0 as the owner of the machine's devices (guest/dom0/hw/): PCI
 * enumeration, driver binding, the boot inventory, and the environment
 * drivers/ runs in (drv_env.c). The hardware self-tests are in
 * guest/dom0/test/hw_test.c.
 */
#ifndef GUEST_DOM0_HW_H
#define GUEST_DOM0_HW_H

#include <public/start_info.h>

/*
 * Enumerates PCI, binds the drivers of drivers/ and prints the inventory
 * (every PCI function with its driver, every disk with size and model,
 * every NIC with MAC and link). Cmdline `hw=off` skips it all.
 */
void dom0_hw_init(const struct hvm_start_info *si);

/* The inventory lines again (the shell's `lspci`-like report). */
void dom0_hw_inventory(void);

/* Cmdline `msi=off`: drivers use INTx even where the device has MSI
 * (drv_irq_attach in drv_env.c prefers MSI otherwise). */
extern bool drv_msi_disabled;

/* True once dom0_hw_init has brought the devices up. */
bool dom0_hw_ready(void);

#endif
