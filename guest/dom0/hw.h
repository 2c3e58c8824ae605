/*
 * dom0 as the owner of the machine's devices (guest/dom0/hw*.c): PCI
 * enumeration, driver binding, the boot inventory, and the hardware
 * self-tests the integration tests drive through the command line.
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

/*
 * True if `test` names a hardware self-test (blk, blk-past-end, net,
 * pci-bar); dom0_hw_test_run() then runs it and powers off. The tests
 * and their cmdline options are described in guest/dom0/README.md.
 */
bool dom0_hw_test_known(const char *test);
__noreturn void dom0_hw_test_run(const struct hvm_start_info *si, const char *test);

/* dom0 as a hostile device owner (pci_hostile_test.c, cmdline
 * `test=pci-hostile case=...`): tries to rewrite what the hypervisor keeps
 * (host bridge, LPC decode, bridge bus numbers, MSI-X tables) and checks
 * it was kept. Powers off. */
__noreturn void pci_hostile_test_run(const struct hvm_start_info *si);

/* The self-tests (hw_blk_test.c, hw_net_test.c, hw.c). Each prints
 * `dom0: <name>: PASS|FAIL ...` lines and returns the number of failures. */
int hw_blk_test(const char *cmdline);
int hw_blk_past_end_test(const char *cmdline);
int hw_net_test(const char *cmdline);

#endif
