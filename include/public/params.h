/*
 * HVM parameters for HVMOP_set_param / HVMOP_get_param (Xen
 * public/hvm/params.h).
 */
#ifndef KEEL_PUBLIC_PARAMS_H
#define KEEL_PUBLIC_PARAMS_H

/*
 * CALLBACK_IRQ: how event-channel upcalls reach the guest. Bits 63:56 are
 * the type; for TYPE_VECTOR bits 7:0 are the vector, injected while the
 * vCPU's evtchn_upcall_pending = 1 and interrupts are open, bypassing the
 * LAPIC (no IRR/ISR, no EOI). Linux 6.1 sets 0x02000000000000F3.
 */
#define HVM_PARAM_CALLBACK_IRQ            0
#define HVM_PARAM_CALLBACK_IRQ_TYPE_MASK  0xFF00000000000000ULL
#define HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT 56
#define HVM_PARAM_CALLBACK_TYPE_GSI       0 /* bits 31:0 = GSI */
#define HVM_PARAM_CALLBACK_TYPE_PCI_INTX  1
#define HVM_PARAM_CALLBACK_TYPE_VECTOR    2 /* bits 7:0 = vector */

#define HVM_PARAM_STORE_PFN              1  /* xenstore ring page */
#define HVM_PARAM_STORE_EVTCHN           2
#define HVM_PARAM_IOREQ_PFN              5
#define HVM_PARAM_BUFIOREQ_PFN           6
#define HVM_PARAM_VIRIDIAN               9
#define HVM_PARAM_TIMER_MODE            10
#define HVM_PARAM_HPET_ENABLED          11
#define HVM_PARAM_IDENT_PT              12
#define HVM_PARAM_DM_DOMAIN             13
#define HVM_PARAM_ACPI_S_STATE          14
#define HVM_PARAM_VM86_TSS              15
#define HVM_PARAM_VPT_ALIGN             16
#define HVM_PARAM_CONSOLE_PFN           17  /* console ring page */
#define HVM_PARAM_CONSOLE_EVTCHN        18
#define HVM_PARAM_ACPI_IOPORTS_LOCATION 19
#define HVM_PARAM_PAGING_RING_PFN       27
#define HVM_PARAM_MONITOR_RING_PFN      28
#define HVM_PARAM_SHARING_RING_PFN      29
#define HVM_PARAM_TRIPLE_FAULT_REASON   31
#define HVM_PARAM_IOREQ_SERVER_PFN      32
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES 33
#define HVM_PARAM_VM_GENERATION_ID_ADDR 34
#define HVM_PARAM_ALTP2M                35
#define HVM_PARAM_X87_FIP_WIDTH         36
#define HVM_PARAM_VM86_TSS_SIZED        37
#define HVM_PARAM_MCA_CAP               38
#define HVM_NR_PARAMS                   39

#endif
