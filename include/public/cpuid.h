/*
 * The Xen CPUID leaves (Xen public/arch-x86/cpuid.h).
 *
 * The leaves start at the first 0x100-aligned base from 0x40000000 that
 * carries the signature (guests scan 0x40000000..0x4000ff00). Relative to
 * that base:
 *   +0  EAX = largest Xen leaf (Xen reports base + 5; guests require at
 *           least base + 2); EBX, ECX, EDX = "XenVMMXenVMM".
 *   +1  EAX = (major << 16) | minor.
 *   +2  EAX = number of hypercall pages (1); EBX = the MSR index the guest
 *           writes a page's guest-physical address to (the low 12 bits
 *           must be 0; reads return 0).
 *   +3  TSC leaf (sub-leaves 0..2).
 *   +4  EAX = XEN_HVM_CPUID_* features; EBX = vcpu id (if VCPU_ID_PRESENT);
 *           ECX = domain id (if DOMID_PRESENT).
 *   +5  EBX[7:0] = machine address width.
 */
#ifndef KEEL_PUBLIC_CPUID_H
#define KEEL_PUBLIC_CPUID_H

#define XEN_CPUID_FIRST_LEAF   0x40000000U
#define XEN_CPUID_LAST_BASE    0x4000ff00U /* last base a guest scans */
#define XEN_CPUID_BASE_STEP    0x100U
#define XEN_CPUID_LEAF(i)      (XEN_CPUID_FIRST_LEAF + (i))

#define XEN_CPUID_SIGNATURE_EBX 0x566e6558U /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4dU /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566eU /* "nVMM" */

/* Leaf +2 ECX. */
#define XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD (1U << 0)

/* Leaf +3 sub-leaf 0 EAX and EBX. */
#define XEN_CPUID_TSC_EMULATED          (1U << 0)
#define XEN_CPUID_HOST_TSC_RELIABLE     (1U << 1)
#define XEN_CPUID_RDTSCP_INSTR_AVAIL    (1U << 2)
#define XEN_CPUID_TSC_MODE_DEFAULT      0U
#define XEN_CPUID_TSC_MODE_ALWAYS_EMULATE 1U
#define XEN_CPUID_TSC_MODE_NEVER_EMULATE  2U
#define XEN_CPUID_TSC_MODE_PVRDTSCP     3U

/* Leaf +4 EAX. Linux 6.1 reads only VCPU_ID_PRESENT, EXT_DEST_ID and
 * UPCALL_VECTOR. */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT  (1U << 0)
#define XEN_HVM_CPUID_X2APIC_VIRT       (1U << 1)
#define XEN_HVM_CPUID_IOMMU_MAPPINGS    (1U << 2)
#define XEN_HVM_CPUID_VCPU_ID_PRESENT   (1U << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT     (1U << 4)
#define XEN_HVM_CPUID_EXT_DEST_ID       (1U << 5)
#define XEN_HVM_CPUID_UPCALL_VECTOR     (1U << 6)

/* Leaf +5 EBX. */
#define XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK 0xffU

#define XEN_CPUID_MAX_NUM_LEAVES 5 /* base + 5 is the last Xen leaf */

#endif
