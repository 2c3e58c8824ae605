/*
 * SVM intercept policy: the bit positions of the MSR and I/O permission
 * maps (AMD APM vol. 2, 15.10.1 and 15.11), which MSRs a guest reaches
 * directly, per-domain port passthrough, and the intercept vectors a new
 * VMCB gets.
 *
 * unit-sources: arch/x86/svm/intercepts.c arch/x86/svm/iomap.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <keel/frame.h>
#include <asm/cpu.h>
#include "../../arch/x86/svm/svm.h"

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment: frames from the C heap (identity "physical") --------- */

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * PAGE_SIZE);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, n * PAGE_SIZE);
	return (paddr_t)(uintptr_t)p;
}

void frame_free_contig(paddr_t pa, u64 n)
{
	(void)n;
	free((void *)(uintptr_t)pa);
}

static u8 *shared_msrpm(void)
{
	static struct vmcb vmcb;

	ck_assert_int_eq(svm_intercepts_init(), 0);
	svm_intercepts_setup(&vmcb);
	return (u8 *)(uintptr_t)vmcb.control.msrpm_base_pa;
}

/* ---- MSR permission map --------------------------------------------------- */

START_TEST(msrpm_bits_land_where_the_apm_says)
{
	static u8 map[MSRPM_SIZE];
	static u8 want[MSRPM_SIZE];

	/* MSR 0 read: byte 0, bit 0. */
	ck_assert_int_eq(msrpm_set(map, 0, true, false), 0);
	want[0] = 0x01;
	/* EFER c000_0080 write: range 2 starts at byte 0x800; 0x80 * 2 bits
	 * = bit 256 = byte 0x20, bit 0 read / 1 write. */
	ck_assert_int_eq(msrpm_set(map, 0xc0000080, false, true), 0);
	want[0x820] = 0x02;
	/* VM_HSAVE_PA c001_0117 both: range 3 at 0x1000; 0x117 * 2 = 0x22e
	 * bits = byte 0x45, bit 6 and 7. */
	ck_assert_int_eq(msrpm_set(map, 0xc0010117, true, true), 0);
	want[0x1045] = 0xc0;
	/* The last MSR of range 1: 0x1fff * 2 = bit 0x3ffe = byte 0x7ff, bits 6-7. */
	ck_assert_int_eq(msrpm_set(map, 0x1fff, false, true), 0);
	want[0x7ff] = 0x80;

	for (unsigned i = 0; i < MSRPM_SIZE; i++)
		ck_assert_msg(map[i] == want[i], "byte 0x%x is 0x%02x, want 0x%02x", i, map[i],
			      want[i]);
	ck_assert_uint_eq(msrpm_get(map, 0xc0010117), 3);
	ck_assert_uint_eq(msrpm_get(map, 0xc0000080), 2);
	ck_assert_uint_eq(msrpm_get(map, 0), 1);
}
END_TEST

START_TEST(msrpm_rejects_msrs_outside_its_ranges)
{
	static u8 map[MSRPM_SIZE];
	static const u32 outside[] = { 0x2000, 0x40000000, 0xc0002000, 0xc0012000, 0xffffffff };

	for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		ck_assert_int_eq(msrpm_set(map, outside[i], false, false), -EINVAL);
		ck_assert_msg(msrpm_get(map, outside[i]) == 3,
			      "MSR 0x%x outside the map must count as intercepted", outside[i]);
	}
}
END_TEST

START_TEST(guest_reaches_only_msrs_the_vmcb_switches)
{
	static const u32 direct[] = {
		MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
		MSR_CSTAR, MSR_SFMASK, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP,
	};
	const u8 *map = shared_msrpm();
	unsigned open = 0;

	for (unsigned i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		ck_assert_msg(msrpm_get(map, direct[i]) == 0, "MSR 0x%x should be direct", direct[i]);
	ck_assert_uint_eq(msrpm_get(map, MSR_EFER), 3);
	ck_assert_uint_eq(msrpm_get(map, MSR_IA32_PAT), 3);
	ck_assert_uint_eq(msrpm_get(map, 0x10), 3); /* TSC */
	ck_assert_uint_eq(msrpm_get(map, MSR_VM_HSAVE_PA), 3);
	ck_assert_uint_eq(msrpm_get(map, MSR_VM_CR), 3);
	ck_assert_uint_eq(msrpm_get(map, MSR_TSC_AUX), 3);

	/* Nothing else is open: count clear bits over the whole map. */
	for (unsigned i = 0; i < MSRPM_SIZE; i++)
		for (unsigned b = 0; b < 8; b++)
			open += !(map[i] & (1u << b));
	ck_assert_msg(open == 2 * (sizeof(direct) / sizeof(direct[0])),
		      "%u open bits, want %zu", open, 2 * (sizeof(direct) / sizeof(direct[0])));
}
END_TEST

/* ---- I/O permission map --------------------------------------------------- */

START_TEST(every_port_intercepted_by_default)
{
	static struct domain d;
	const u8 *iopm;

	ck_assert_int_eq(svm_intercepts_init(), 0);
	iopm = (const u8 *)(uintptr_t)svm_iopm_pa(&d);
	for (unsigned i = 0; i < IOPM_SIZE; i++)
		ck_assert_msg(iopm[i] == 0xff, "I/O map byte 0x%x is 0x%02x", i, iopm[i]);
}
END_TEST

START_TEST(io_allow_opens_a_range_for_one_domain_only)
{
	static struct domain dom0, domu;
	paddr_t deny_all;
	const u8 *map;

	ck_assert_int_eq(svm_intercepts_init(), 0);
	dom0.id = 0;
	domu.id = 1;
	deny_all = svm_iopm_pa(&domu);
	ck_assert_int_eq(svm_io_allow(&dom0, 0x3f8, 8, true), 0);
	ck_assert_msg(svm_iopm_pa(&dom0) != deny_all, "dom0 did not get its own map");
	ck_assert_msg(svm_iopm_pa(&domu) == deny_all, "another domain's map changed");

	map = (const u8 *)(uintptr_t)svm_iopm_pa(&dom0);
	ck_assert(iopm_get(map, 0x3f7));
	for (u32 p = 0x3f8; p < 0x400; p++)
		ck_assert_msg(!iopm_get(map, p), "port 0x%x still intercepted", p);
	ck_assert(iopm_get(map, 0x400));
	ck_assert(iopm_get(map, 0x10000)); /* the wrap-around bits stay set */

	/* Closing again; ranges past 0xffff are refused. */
	ck_assert_int_eq(svm_io_allow(&dom0, 0x3f8, 8, false), 0);
	ck_assert(iopm_get(map, 0x3f8));
	ck_assert_int_eq(svm_io_allow(&dom0, 0xfff0, 0x20, true), -EINVAL);
	svm_io_domain_destroy(&dom0);
	ck_assert_msg(svm_iopm_pa(&dom0) == deny_all, "destroyed domain keeps its map");
}
END_TEST

/*
 * The map hangs off the domain object (its arch.vendor part), not off the
 * domain id: a domain that reuses the id of one still being torn down
 * (a DOM_DYING zombie) starts with the deny-all map, and destroying one
 * leaves the other's alone. (Before, both shared one slot by id.)
 */
START_TEST(io_map_belongs_to_the_domain_not_its_id)
{
	static struct domain old, reused;
	paddr_t deny_all, old_map;

	ck_assert_int_eq(svm_intercepts_init(), 0);
	old.id = reused.id = 5;
	deny_all = svm_iopm_pa(&reused);
	ck_assert_int_eq(svm_io_allow(&old, 0x60, 1, true), 0);
	old_map = svm_iopm_pa(&old);
	ck_assert_msg(old_map != deny_all, "the domain did not get its own map");
	ck_assert_msg(svm_iopm_pa(&reused) == deny_all,
		      "a domain with the same id got the other's open ports");
	ck_assert_int_eq(svm_io_allow(&reused, 0x70, 2, true), 0);
	ck_assert_msg(svm_iopm_pa(&reused) != old_map, "two domains share one map");
	svm_io_domain_destroy(&old);
	ck_assert_msg(svm_iopm_pa(&reused) != deny_all, "destroying one domain closed the other's map");
	ck_assert(!iopm_get((const u8 *)(uintptr_t)svm_iopm_pa(&reused), 0x70));
	ck_assert(iopm_get((const u8 *)(uintptr_t)svm_iopm_pa(&reused), 0x60));
	svm_io_domain_destroy(&reused);
}
END_TEST

START_TEST(iopm_set_bit_positions)
{
	static u8 map[IOPM_SIZE];

	ck_assert_int_eq(iopm_set(map, 0x61, 1, true), 0);
	ck_assert_uint_eq(map[0x0c], 0x02); /* port 0x61 = byte 12, bit 1 */
	ck_assert_int_eq(iopm_set(map, 0xfff8, 8, true), 0);
	ck_assert_uint_eq(map[0x1fff], 0xff);
	ck_assert_int_eq(iopm_set(map, 0xffff, 2, true), -EINVAL);
}
END_TEST

/* ---- intercept vectors ---------------------------------------------------- */

START_TEST(new_vmcb_intercepts_what_the_policy_names)
{
	static struct vmcb vmcb;
	const struct vmcb_control *c = &vmcb.control;

	ck_assert_int_eq(svm_intercepts_init(), 0);
	svm_intercepts_setup(&vmcb);
	/* VMRUN's consistency checks require the VMRUN intercept. */
	ck_assert(c->intercept_misc2 & INTERCEPT2_VMRUN);
	ck_assert(c->intercept_misc2 & INTERCEPT2_VMMCALL);
	ck_assert(c->intercept_misc2 & INTERCEPT2_XSETBV);
	ck_assert(c->intercept_misc2 & INTERCEPT2_VMLOAD);
	ck_assert(c->intercept_misc2 & INTERCEPT2_CLGI);
	/* Hidden by CPUID: #UD, never run natively. */
	ck_assert(c->intercept_misc2 & INTERCEPT2_MONITOR);
	ck_assert(c->intercept_misc2 & INTERCEPT2_MWAIT);
	ck_assert(c->intercept_misc1 & INTERCEPT_CPUID);
	ck_assert(c->intercept_misc1 & INTERCEPT_HLT);
	ck_assert(c->intercept_misc1 & INTERCEPT_IOIO_PROT);
	ck_assert(c->intercept_misc1 & INTERCEPT_MSR_PROT);
	ck_assert(c->intercept_misc1 & INTERCEPT_SHUTDOWN);
	ck_assert(c->intercept_misc1 & INTERCEPT_INVD);
	ck_assert(c->intercept_misc1 & INTERCEPT_INTR);
	ck_assert(c->intercept_misc1 & INTERCEPT_NMI);
	ck_assert(c->intercept_exceptions & (1u << X86_EXC_UD));
	/* Writes of CR0, CR3 and CR4 are checked (svm/cr.c), no CR read and
	 * no CR8 write; nested paging: no #PF or INVLPG intercepts; VINTR
	 * only on demand. */
	ck_assert_uint_eq(c->intercept_cr, (1u << 16) | (1u << 19) | (1u << 20));
	ck_assert(!(c->intercept_exceptions & (1u << X86_EXC_PF)));
	ck_assert(!(c->intercept_misc1 & INTERCEPT_INVLPG));
	ck_assert(!(c->intercept_misc1 & INTERCEPT_VINTR));
	ck_assert_msg(c->msrpm_base_pa && c->iopm_base_pa, "maps not set");
	ck_assert_uint_eq(c->msrpm_base_pa % PAGE_SIZE, 0);
	ck_assert_uint_eq(c->iopm_base_pa % PAGE_SIZE, 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "svm-msrpm-bits-land-where-the-apm-says", &msrpm_bits_land_where_the_apm_says_ttest },
	{ "svm-msrpm-rejects-msrs-outside-its-ranges", &msrpm_rejects_msrs_outside_its_ranges_ttest },
	{ "svm-msrpm-guest-reaches-only-msrs-the-vmcb-switches", &guest_reaches_only_msrs_the_vmcb_switches_ttest },
	{ "svm-iopm-every-port-intercepted-by-default", &every_port_intercepted_by_default_ttest },
	{ "svm-iopm-map-belongs-to-the-domain-not-its-id",
	  &io_map_belongs_to_the_domain_not_its_id_ttest },
	{ "svm-iopm-io-allow-opens-a-range-for-one-domain-only", &io_allow_opens_a_range_for_one_domain_only_ttest },
	{ "svm-iopm-set-bit-positions", &iopm_set_bit_positions_ttest },
	{ "svm-intercepts-new-vmcb-intercepts-what-the-policy-names", &new_vmcb_intercepts_what_the_policy_names_ttest },
	{ 0 },
};
