/*
 * ELF note types in the "Xen" namespace (Xen public/elfnote.h). Notes live
 * in a PT_NOTE segment; numeric descriptors are 4 or 8 bytes. A PVH kernel
 * is recognised by XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical address
 * of its entry point (docs/misc/pvh.pandoc). Keel's own guests also emit
 * GUEST_OS, GUEST_VERSION and LOADER (guest/lib/pvh_entry.asm, which
 * repeats the numbers it uses because nasm cannot include this header).
 */
#ifndef KEEL_PUBLIC_ELFNOTE_H
#define KEEL_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_NAME "Xen" /* note owner, NUL-terminated: namesz = 4 */

#define XEN_ELFNOTE_INFO               0
#define XEN_ELFNOTE_ENTRY              1
#define XEN_ELFNOTE_HYPERCALL_PAGE     2
#define XEN_ELFNOTE_VIRT_BASE          3
#define XEN_ELFNOTE_PADDR_OFFSET       4
#define XEN_ELFNOTE_XEN_VERSION        5  /* string */
#define XEN_ELFNOTE_GUEST_OS           6  /* string */
#define XEN_ELFNOTE_GUEST_VERSION      7  /* string */
#define XEN_ELFNOTE_LOADER             8  /* string, "generic" */
#define XEN_ELFNOTE_PAE_MODE           9
#define XEN_ELFNOTE_FEATURES          10  /* string */
#define XEN_ELFNOTE_BSD_SYMTAB        11
#define XEN_ELFNOTE_HV_START_LOW      12
#define XEN_ELFNOTE_L1_MFN_VALID      13
#define XEN_ELFNOTE_SUSPEND_CANCEL    14
#define XEN_ELFNOTE_INIT_P2M          15
#define XEN_ELFNOTE_MOD_START_PFN     16
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17
#define XEN_ELFNOTE_PHYS32_ENTRY      18  /* numeric: PVH 32-bit entry */
#define XEN_ELFNOTE_PHYS32_RELOC      19  /* not used by Linux 6.1 */
#define XEN_ELFNOTE_MAX               XEN_ELFNOTE_PHYS32_RELOC

#endif
