/*
 * Keel's own test hooks: NOT part of the Xen ABI. dom0's exit self-test
 * (cmdline test=exits, guest/dom0/test/exit_test.c) relies on these, so the
 * hypervisor emulates them for every domain.
 *
 * Scratch port (KEEL_TEST_PORT, 0x5E0): a 32-bit register per domain,
 * 0 when the domain is created. OUT of 1, 2 or 4 bytes stores the value
 * zero-extended to 32 bits; IN of 1, 2 or 4 bytes returns the low 1, 2 or
 * 4 bytes. Ports 0x5E0..0x5E3 all reach the same register. The port is
 * not used by QEMU's PC machines (fw_cfg is 0x510, isa-debug-exit 0xF4,
 * the debug console 0xE9); on real hardware the hypervisor intercepts it
 * before any device sees it. (The value is written with the same tokens
 * as include/keel/io.h so that both headers may be included.)
 *
 * Unemulated port (KEEL_TEST_PORT_UNEMULATED): a port nothing emulates;
 * IN of any size returns all ones, as Xen's null handler does.
 *
 * MSRs the self-test uses:
 *  - IA32_APIC_BASE (0x1B), read: xAPIC base 0xFEE00000, enabled, x2APIC
 *    mode off, BSP set on vCPU 0 only (include/keel/apic_base.h).
 *  - the Xen hypercall-page MSR (CPUID base+2 EBX), written with a page's
 *    guest-physical address: the page then holds the stubs, and the MSR
 *    reads as 0.
 *  - KEEL_TEST_MSR_UNKNOWN, read: an index outside every architectural
 *    range; must raise #GP in the guest (not kill it).
 */
#ifndef KEEL_PUBLIC_KEEL_TEST_H
#define KEEL_PUBLIC_KEEL_TEST_H

#define KEEL_TEST_PORT 0x5e0
#define KEEL_TEST_PORT_RESET       0U
#define KEEL_TEST_PORT_UNEMULATED  0x0099U

#define KEEL_TEST_MSR_APIC_BASE    0x0000001BU
#define KEEL_TEST_MSR_UNKNOWN      0xC0DE0000U

/* A hypercall number no Xen defines: must return -ENOSYS. */
#define KEEL_TEST_HYPERCALL_UNKNOWN 63

#endif
