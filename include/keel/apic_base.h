/*
 * The IA32_APIC_BASE value a guest vCPU reads (kernel/msr.c).
 */
#ifndef KEEL_APIC_BASE_H
#define KEEL_APIC_BASE_H

#include <lib/types.h>

#define APIC_BASE_BSP    (1ULL << 8)  /* this processor is the bootstrap processor */
#define APIC_BASE_EN     (1ULL << 11) /* xAPIC globally enabled */
#define APIC_BASE_XAPIC  0xfee00000ULL /* the architectural default base */

/*
 * IA32_APIC_BASE of vCPU `vcpu_id` as a processor shows it after reset
 * (Intel SDM Vol. 3A, "Local APIC Status and Location" and the figure
 * "IA32_APIC_BASE MSR"; AMD APM Vol. 2 16.3.1): the xAPIC at 0xFEE00000,
 * enabled, x2APIC mode off, and the BSP flag set on the bootstrap
 * processor only -- vCPU 0, the one a domain starts on; every other vCPU
 * is an application processor with BSP clear.
 */
static inline u64 guest_apic_base(u32 vcpu_id)
{
	return APIC_BASE_XAPIC | APIC_BASE_EN | (vcpu_id == 0 ? APIC_BASE_BSP : 0);
}

#endif
