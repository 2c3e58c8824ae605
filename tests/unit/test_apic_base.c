/*
 * IA32_APIC_BASE as vCPUs read it (include/keel/apic_base.h): the
 * architectural xAPIC base and enable bit on every vCPU, the BSP flag on
 * vCPU 0 only (an earlier version set it on every vCPU).
 *
 * unit-sources:
 */
#include <keel/apic_base.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

START_TEST(apic_base_bsp_only_on_vcpu0)
{
	ck_assert_uint_eq(guest_apic_base(0), 0xfee00900ULL);
	for (u32 id = 1; id < 64; id++)
		ck_assert_uint_eq(guest_apic_base(id), 0xfee00800ULL);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "msr-apic-base-bsp-only-on-vcpu0", &apic_base_bsp_only_on_vcpu0_ttest },
	{ 0 },
};
