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
#define PCI_HEADER_TYPE_MASK 0x7f       /* the layout: 0 device, 1 PCI-to-PCI bridge, 2 CardBus */
#define PCI_HEADER_TYPE_MULTIFUNC 0x80  /* functions 1-7 may exist */
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_BAR0 0x10
#define PCI_NR_BARS_NORMAL 6            /* BARs of a type 0 header */
#define PCI_NR_BARS_BRIDGE 2            /* ... and of a type 1 header */
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_ROM_ADDRESS 0x30    /* type 0 */
#define PCI_ROM_ADDRESS1 0x38   /* type 1 */
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_LIST_ID 0       /* in each capability: its id ... */
#define PCI_CAP_LIST_NEXT 1     /* ... and the offset of the next (dword aligned) */
#define PCI_CAP_PTR_MASK 0xfc
#define PCI_CFG_HEADER_END 0x40 /* capabilities live at 0x40-0xff */

/* PCI-to-PCI bridge (type 1) windows and control (PCI-to-PCI Bridge
 * Architecture 1.2, 3.2.5). A window forwards [base, limit] from the
 * primary to the secondary side; it is off while base > limit. */
#define PCI_IO_BASE 0x1c           /* bits 7:4 = address bits 15:12 */
#define PCI_IO_LIMIT 0x1d
#define PCI_IO_RANGE_TYPE_MASK 0x0f
#define PCI_IO_RANGE_TYPE_32 0x01  /* the upper-16 registers are used */
#define PCI_SEC_STATUS 0x1e
#define PCI_MEMORY_BASE 0x20       /* bits 15:4 = address bits 31:20 */
#define PCI_MEMORY_LIMIT 0x22
#define PCI_PREF_MEMORY_BASE 0x24  /* as memory, plus the upper 32 bits below */
#define PCI_PREF_MEMORY_LIMIT 0x26
#define PCI_PREF_RANGE_TYPE_MASK 0x0f
#define PCI_PREF_RANGE_TYPE_64 0x01
#define PCI_PREF_BASE_UPPER32 0x28
#define PCI_PREF_LIMIT_UPPER32 0x2c
#define PCI_IO_BASE_UPPER16 0x30
#define PCI_IO_LIMIT_UPPER16 0x32
#define PCI_BRIDGE_CONTROL 0x3e
#define PCI_BRIDGE_CTL_BUS_RESET 0x40  /* secondary bus reset (held while set) */

/* Configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): CONFIG_ADDRESS
 * at port 0xcf8 = enable | bdf << 8 | dword-aligned register; CONFIG_DATA
 * at 0xcfc-0xcff. ECAM (PCI Express Base 4.0, 7.2.2): a function's 4 KiB
 * at base + (bdf << 12). */
#define PCI_CONF1_ADDRESS_PORT 0xcf8
#define PCI_CONF1_DATA_PORT 0xcfc
#define PCI_CONF1_ENABLE 0x80000000u
#define PCI_CONF1_ADDRESS(bdf, reg) (PCI_CONF1_ENABLE | (u32)(bdf) << 8 | ((reg) & 0xfc))
#define PCI_CONF1_REGS 0x100       /* the registers mechanism #1 reaches */
#define PCI_ECAM_FUNC_SHIFT 12
#define PCI_ECAM_BUS_SHIFT 20
#define PCI_CFG_SPACE_EXP_SIZE 0x1000

/* BAR low bits (PCI Local Bus 3.0, 6.2.5.1) */
#define PCI_BAR_IO 0x1
#define PCI_BAR_MEM_TYPE_MASK 0x6
#define PCI_BAR_MEM_TYPE_32 0x0
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8
#define PCI_BAR_IO_FLAGS 0x3u          /* I/O BAR bits that are not address */
#define PCI_BAR_MEM_FLAGS 0xfu         /* memory BAR bits that are not address */
#define PCI_BAR_IO_ADDR_MASK (~PCI_BAR_IO_FLAGS)
#define PCI_BAR_MEM_ADDR_MASK (~PCI_BAR_MEM_FLAGS)
#define PCI_BAR_IO_PORT_MASK 0xfffcu   /* x86 ports are 16-bit: higher bits need not stick */

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

/* Power management (PCI Bus Power Management 1.2, 3.2.4): PMCSR at +4. A
 * D3hot -> D0 transition resets the function unless No_Soft_Reset. */
#define PCI_CAP_ID_PM 0x01
#define PCI_PM_CTRL 4
#define PCI_PM_CTRL_STATE_MASK 0x3
#define PCI_PM_STATE_D0 0x0
#define PCI_PM_STATE_D3HOT 0x3
#define PCI_PM_CTRL_NO_SOFT_RESET 0x8

/* Advanced Features (conventional PCI FLR; PCI Advanced Capabilities ECN):
 * control at +4, bit 0 initiates a function level reset. */
#define PCI_CAP_ID_AF 0x13
#define PCI_AF_CTRL 4
#define PCI_AF_CTRL_FLR 0x01

/* PCI Express capability (PCI Express Base 4.0, 7.5.3): Device
 * Capabilities at +4, Device Control at +8. */
#define PCI_EXP_DEVCAP 4
#define PCI_EXP_DEVCAP_FLR 0x10000000u   /* function level reset capable */
#define PCI_EXP_DEVCTL 8
#define PCI_EXP_DEVCTL_BCR_FLR 0x8000    /* initiate function level reset */

#endif
