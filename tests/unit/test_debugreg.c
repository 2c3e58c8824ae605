/*
 * Lazy switching of guest DR0-3 and DR6 between vCPUs (arch/x86/debugreg.c,
 * shared by both back ends): the registers change only when another vCPU
 * enters, the leaving owner's values are saved first, DR6 only for the back
 * end that asks (VMX; SVM has it in the VMCB), and a forgotten (destroyed)
 * owner is never written to.
 *
 * unit-sources: arch/x86/debugreg.c
 */
#include <string.h>

#include <keel/domain.h>
#include <asm/debugreg.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* The registers as debugreg.c sees them under UNIT_TEST. */
extern u64 unit_dr[8];

static struct vcpu a, b;

static void reset(void)
{
	/* The owner is file-private in debugreg.c: make nobody own the
	 * registers by forgetting whoever a previous case left there. */
	debugregs_forget(&a);
	debugregs_forget(&b);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(unit_dr, 0, sizeof(unit_dr));
	for (unsigned i = 0; i < 4; i++) {
		a.arch.debugregs.dr[i] = 0xa0 + i;
		b.arch.debugregs.dr[i] = 0xb0 + i;
	}
	a.arch.debugregs.dr6 = 0xa6;
	b.arch.debugregs.dr6 = 0xb6;
}

START_TEST(first_entry_loads_own_values)
{
	reset();
	debugregs_switch_to(&a, true);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(unit_dr[i], 0xa0 + i);
	ck_assert_uint_eq(unit_dr[6], 0xa6);
}
END_TEST

START_TEST(switch_saves_the_leaving_guests_values)
{
	reset();
	debugregs_switch_to(&a, true);
	/* a's guest writes its registers while it runs. */
	for (unsigned i = 0; i < 4; i++)
		unit_dr[i] = 0x1000 + i;
	unit_dr[6] = 0xffff0ff5;
	debugregs_switch_to(&b, true);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(a.arch.debugregs.dr[i], 0x1000 + i);
		ck_assert_uint_eq(unit_dr[i], 0xb0 + i);
	}
	ck_assert_uint_eq(a.arch.debugregs.dr6, 0xffff0ff5);
	ck_assert_uint_eq(unit_dr[6], 0xb6);
	/* And back: a finds what it wrote. */
	debugregs_switch_to(&a, true);
	ck_assert_uint_eq(unit_dr[2], 0x1002);
	ck_assert_uint_eq(unit_dr[6], 0xffff0ff5);
}
END_TEST

START_TEST(same_vcpu_again_touches_nothing)
{
	reset();
	debugregs_switch_to(&a, true);
	unit_dr[0] = 0x77;
	debugregs_switch_to(&a, true);
	ck_assert_uint_eq(unit_dr[0], 0x77);
	ck_assert_uint_eq(a.arch.debugregs.dr[0], 0xa0);
}
END_TEST

START_TEST(dr6_only_for_the_back_end_that_asks)
{
	reset();
	unit_dr[6] = 0x66;
	debugregs_switch_to(&a, false);
	ck_assert_uint_eq(unit_dr[6], 0x66);
	unit_dr[6] = 0x99;
	debugregs_switch_to(&b, false);
	ck_assert_uint_eq(a.arch.debugregs.dr6, 0xa6); /* not saved: not a's */
	ck_assert_uint_eq(unit_dr[6], 0x99);
	/* DR6 upper half must be 0 for MOV DR6 (#GP otherwise). */
	b.arch.debugregs.dr6 = 0xdead0000ffff0ff0ULL;
	debugregs_switch_to(&a, true);
	debugregs_switch_to(&b, true);
	ck_assert_uint_eq(unit_dr[6], 0xffff0ff0);
}
END_TEST

START_TEST(forgotten_owner_is_not_written)
{
	reset();
	debugregs_switch_to(&a, true);
	unit_dr[1] = 0x5555;
	debugregs_forget(&a);
	debugregs_switch_to(&b, true);
	ck_assert_uint_eq(a.arch.debugregs.dr[1], 0xa1);
	ck_assert_uint_eq(unit_dr[1], 0xb1);
	/* Forgetting a vCPU that does not own the registers changes nothing. */
	debugregs_forget(&a);
	unit_dr[1] = 0x6666;
	debugregs_switch_to(&a, true);
	ck_assert_uint_eq(b.arch.debugregs.dr[1], 0x6666);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "debugregs-first-entry-loads-own-values", &first_entry_loads_own_values_ttest },
	{ "debugregs-switch-saves-the-leaving-guests-values",
	  &switch_saves_the_leaving_guests_values_ttest },
	{ "debugregs-same-vcpu-again-touches-nothing", &same_vcpu_again_touches_nothing_ttest },
	{ "debugregs-dr6-only-for-the-back-end-that-asks",
	  &dr6_only_for_the_back_end_that_asks_ttest },
	{ "debugregs-forgotten-owner-is-not-written", &forgotten_owner_is_not_written_ttest },
	{ 0 },
};
