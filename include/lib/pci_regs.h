/*
 * PCI configuration-space registers and bit fields (PCI Local Bus 3.0,
 * chapter 6; capability ids from the PCI Code and ID Assignment spec).
 * Hardware facts only, shared by the hypervisor (kernel/pci*.c) and dom0's
 * drivers (drivers/pci/).
 */
#ifndef LIB_PCI_REGS_H
#define LIB_PCI_REGS_H

/* bus << 8 | device << 3 | function, as in PCI "BDF" notation. */
#define PCI_BDF(b, d, f) ((u16)(((b) << 8) | ((d) << 3) | (f)))
#define PCI_BUS(bdf) ((bdf) >> 8)
#define PCI_DEV(bdf) (((bdf) >> 3) & 31)
#define PCI_FN(bdf) ((bdf) & 7)

/* Type 0/1 header registers (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_ROM_ADDRESS 0x30    /* type 0 */
#define PCI_ROM_ADDRESS1 0x38   /* type 1 */
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

/* BAR low bits */
#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8

/* Capabilities */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_QSIZE 0x0070  /* multiple message enable */
#define PCI_MSI_FLAGS_64BIT 0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_PRIMARY_BUS 0x18
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP 0x10

#endif
