/*
 * VMX controls computed from the capability MSRs (SDM vol. 3 appendix A):
 * forced bits, wanted bits, optional bits dropped, TRUE_* MSRs preferred
 * when IA32_VMX_BASIC bit 55 says they exist, and the exact error that
 * names a required control the CPU does not allow; and the VMX-preemption
 * timer value computed from a time-slice deadline.
 *
 * unit-sources: arch/x86/vmx/controls.c arch/x86/vmx/preempt.c
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include "../../arch/x86/vmx/vmcs.h"
#include "../../arch/x86/vmx/vmx.h"

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

#define MSR(lo, hi) (((u64)(hi) << 32) | (u32)(lo))

/*
 * Bochs 2.7, cpu model corei7_skylake_x, exactly as Keel's probe read them
 * there (loglvl=debug prints "VMX MSRs: ..."; docs/test-hosts.md has
 * BASIC, the secondary allowed-1 bits and EPT_VPID_CAP).
 */
static const struct vmx_caps bochs = {
	.basic = 0x00d810000000002bULL,
	.pinbased = 0x0000007f00000016ULL,
	.procbased = 0xf7f9fffe0401e172ULL,
	.procbased2 = 0x02177fff00000000ULL,
	.exit = 0x007fffff00036dffULL,
	.entry = 0x0000ffff000011ffULL,
	.true_pinbased = 0x0000007f00000016ULL,
	.true_procbased = 0xf7f9fffe04006172ULL,
	.true_exit = 0x007fffff00036dfbULL,
	.true_entry = 0x0000ffff000011fbULL,
	.misc = 0x600401e0,
	.ept_vpid = 0x00000f0106334141ULL,
	.cr0_fixed0 = 0x80000021,
	.cr0_fixed1 = 0xffffffff,
	.cr4_fixed0 = 0x2000,
	.cr4_fixed1 = 0x003727ff,
};

static struct vmx_controls out;
static char err[256];

static int compute(const struct vmx_caps *c)
{
	memset(&out, 0x5a, sizeof(out));
	strcpy(err, "(untouched)");
	return vmx_compute_controls(c, vmx_wanted_controls, vmx_wanted_controls_nr, &out, err,
				    sizeof(err));
}

#define expect_ctl(field, want)                                                       \
	ck_assert_msg(out.val[field] == (want), "%s controls 0x%08x, want 0x%08x",     \
		      vmx_ctl_field_name(field), out.val[field], (unsigned)(want))

START_TEST(bochs_skylake_x)
{
	ck_assert_msg(compute(&bochs) == 0, "rc != 0: %s", err);

	/* Forced (TRUE allowed-0) plus exactly what Keel asks for. */
	expect_ctl(VMX_CTL_PIN, 0x16 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
					PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER);
	expect_ctl(VMX_CTL_PROC, 0x04006172 | CPU_HLT_EXITING | CPU_MWAIT_EXITING |
					 CPU_MONITOR_EXITING | CPU_USE_IO_BITMAPS |
					 CPU_USE_MSR_BITMAPS | CPU_USE_TPR_SHADOW |
					 CPU_ACTIVATE_SECONDARY_CONTROLS);
	expect_ctl(VMX_CTL_PROC2, SEC_ENABLE_EPT | SEC_ENABLE_VPID | SEC_UNRESTRICTED_GUEST |
					  SEC_ENABLE_RDTSCP | SEC_ENABLE_INVPCID |
					  SEC_WBINVD_EXITING);
	expect_ctl(VMX_CTL_EXIT, 0x36dfb | EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					 EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT |
					 EXIT_LOAD_IA32_PAT | EXIT_ACK_INTERRUPT_ON_EXIT |
					 EXIT_SAVE_DEBUG_CONTROLS);
	expect_ctl(VMX_CTL_ENTRY, 0x11fb | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT |
					  ENTRY_LOAD_DEBUG_CONTROLS);

	/* Run-time controls are available but start clear. */
	ck_assert(out.avail[VMX_CTL_PROC] & CPU_INTERRUPT_WINDOW_EXITING);
	ck_assert(out.avail[VMX_CTL_PROC] & CPU_NMI_WINDOW_EXITING);
	ck_assert(out.avail[VMX_CTL_ENTRY] & ENTRY_IA32E_MODE_GUEST);
	ck_assert(!(out.val[VMX_CTL_PROC] & (CPU_INTERRUPT_WINDOW_EXITING | CPU_NMI_WINDOW_EXITING)));
	ck_assert(!(out.val[VMX_CTL_ENTRY] & ENTRY_IA32E_MODE_GUEST));
	/* TRUE MSRs let CR3 exiting go. */
	ck_assert(!(out.val[VMX_CTL_PROC] & (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING)));
	/* The guest's CR8 is shadowed, not intercepted, and MOV DR runs
	 * natively (DR0-3/DR6 are switched lazily, DR7 by the VMCS). */
	ck_assert(!(out.val[VMX_CTL_PROC] & (CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING |
					     CPU_MOV_DR_EXITING)));
	/* XSAVES is deliberately not asked for (guest CPUID hides XSAVE). */
	ck_assert(!(out.val[VMX_CTL_PROC2] & SEC_ENABLE_XSAVES));
}
END_TEST

START_TEST(default1_without_true_msrs)
{
	struct vmx_caps c = bochs;

	/* Bit 55 clear: the TRUE values must be ignored, however tempting. */
	c.basic &= ~VMX_BASIC_TRUE_CTLS;
	c.true_procbased = MSR(0, 0xffffffff);
	c.true_exit = MSR(0, 0xffffffff);
	c.true_entry = MSR(0, 0xffffffff);
	ck_assert_msg(compute(&c) == 0, "rc != 0: %s", err);
	ck_assert(out.val[VMX_CTL_PROC] & CPU_CR3_LOAD_EXITING);
	ck_assert(out.val[VMX_CTL_PROC] & CPU_CR3_STORE_EXITING);
	ck_assert(out.val[VMX_CTL_EXIT] & EXIT_SAVE_DEBUG_CONTROLS);
	ck_assert(out.val[VMX_CTL_ENTRY] & ENTRY_LOAD_DEBUG_CONTROLS);
	ck_assert_uint_eq(out.allowed0[VMX_CTL_PROC], 0x0401e172);
}
END_TEST

START_TEST(true_msrs_preferred)
{
	struct vmx_caps c = bochs;

	/* The TRUE MSR is the one obeyed, in both halves: here it forces
	 * RDTSC exiting on, then it withholds HLT exiting. */
	c.true_procbased = MSR(0x04006172 | CPU_RDTSC_EXITING, 0xf7f9fffe);
	ck_assert_msg(compute(&c) == 0, "rc != 0: %s", err);
	ck_assert(out.val[VMX_CTL_PROC] & CPU_RDTSC_EXITING);
	ck_assert_uint_eq(out.allowed0[VMX_CTL_PROC], 0x04006172 | CPU_RDTSC_EXITING);

	c.true_procbased = MSR(0x04006172, 0xf7f9fffe & ~CPU_HLT_EXITING);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required primary processor-based VM-execution control "
			      "'HLT exiting' (bit 7) is not allowed by "
			      "IA32_VMX_TRUE_PROCBASED_CTLS (allowed-1 settings 0xf7f9ff7e)");
}
END_TEST

START_TEST(allowed0_forces_bits_on)
{
	struct vmx_caps c = bochs;

	/* A CPU that insists on MWAIT exiting and the preemption timer gets
	 * them, wanted or not. */
	c.true_procbased = MSR(0x04006172 | CPU_MWAIT_EXITING, 0xf7f9fffe);
	c.true_pinbased = MSR(0x16 | PIN_PREEMPTION_TIMER, 0x7f);
	ck_assert_msg(compute(&c) == 0, "rc != 0: %s", err);
	ck_assert(out.val[VMX_CTL_PROC] & CPU_MWAIT_EXITING);
	ck_assert(out.val[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER);
}
END_TEST

START_TEST(missing_ept_names_the_control)
{
	struct vmx_caps c = bochs;

	c.procbased2 = MSR(0, 0x02177fff & ~SEC_ENABLE_EPT);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required secondary processor-based VM-execution control "
			      "'enable EPT' (bit 1) is not allowed by IA32_VMX_PROCBASED_CTLS2 "
			      "(allowed-1 settings 0x02177ffd)");
}
END_TEST

START_TEST(missing_unrestricted_guest_names_the_control)
{
	struct vmx_caps c = bochs;

	c.procbased2 = MSR(0, 0x02177fff & ~SEC_UNRESTRICTED_GUEST);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required secondary processor-based VM-execution control "
			      "'unrestricted guest' (bit 7) is not allowed by "
			      "IA32_VMX_PROCBASED_CTLS2 (allowed-1 settings 0x02177f7f)");
}
END_TEST

START_TEST(no_secondary_controls)
{
	struct vmx_caps c = bochs;

	/* Without the secondary controls the CPU has no PROCBASED_CTLS2:
	 * the probe reads it as 0. */
	c.true_procbased = MSR(0x04006172, 0xf7f9fffe & ~CPU_ACTIVATE_SECONDARY_CONTROLS);
	c.procbased2 = 0;
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required primary processor-based VM-execution control "
			      "'activate secondary controls' (bit 31) is not allowed by "
			      "IA32_VMX_TRUE_PROCBASED_CTLS (allowed-1 settings 0x77f9fffe)");
}
END_TEST

START_TEST(missing_exit_control_names_the_msr)
{
	struct vmx_caps c = bochs;

	c.true_exit = MSR(0x00036dfb, 0x007fffff & ~EXIT_LOAD_IA32_EFER);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required VM-exit control 'load IA32_EFER' (bit 21) is not "
			      "allowed by IA32_VMX_TRUE_EXIT_CTLS (allowed-1 settings 0x005fffff)");
}
END_TEST

START_TEST(optional_controls_dropped)
{
	struct vmx_caps c = bochs;

	/* No virtual NMIs, no VPID, no PAT switching, no interrupt ack: VMX
	 * still works; NMI-window exiting goes with virtual NMIs. */
	c.true_pinbased = MSR(0x16, 0x7f & ~PIN_VIRTUAL_NMIS);
	c.procbased2 = MSR(0, 0x02177fff & ~SEC_ENABLE_VPID);
	c.true_exit = MSR(0x00036dfb, 0x007fffff & ~(EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT |
						      EXIT_ACK_INTERRUPT_ON_EXIT));
	c.true_entry = MSR(0x000011fb, 0x0000ffff & ~ENTRY_LOAD_IA32_PAT);
	ck_assert_msg(compute(&c) == 0, "rc != 0: %s", err);
	ck_assert(!(out.val[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS));
	ck_assert(!(out.avail[VMX_CTL_PROC] & CPU_NMI_WINDOW_EXITING));
	ck_assert(!(out.val[VMX_CTL_PROC2] & SEC_ENABLE_VPID));
	expect_ctl(VMX_CTL_EXIT, 0x36dfb | EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					 EXIT_LOAD_IA32_EFER | EXIT_SAVE_DEBUG_CONTROLS);
	expect_ctl(VMX_CTL_ENTRY, 0x11fb | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_DEBUG_CONTROLS);
}
END_TEST

START_TEST(missing_tpr_shadow_names_the_control)
{
	struct vmx_caps c = bochs;

	/* Without it a guest's CR8 would be the physical TPR (issue 10). */
	c.true_procbased = MSR(0x04006172, 0xf7f9fffe & ~CPU_USE_TPR_SHADOW);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required primary processor-based VM-execution control "
			      "'use TPR shadow' (bit 21) is not allowed by "
			      "IA32_VMX_TRUE_PROCBASED_CTLS (allowed-1 settings 0xf7d9fffe)");
}
END_TEST

START_TEST(missing_wbinvd_exiting_names_the_control)
{
	struct vmx_caps c = bochs;

	c.procbased2 = MSR(0, 0x02177fff & ~SEC_WBINVD_EXITING);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required secondary processor-based VM-execution control "
			      "'WBINVD exiting' (bit 6) is not allowed by "
			      "IA32_VMX_PROCBASED_CTLS2 (allowed-1 settings 0x02177fbf)");
}
END_TEST

START_TEST(missing_debug_controls_name_the_control)
{
	struct vmx_caps c = bochs;

	c.true_entry = MSR(0x000011fb, 0x0000ffff & ~ENTRY_LOAD_DEBUG_CONTROLS);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required VM-entry control 'load debug controls' (bit 2) is "
			      "not allowed by IA32_VMX_TRUE_ENTRY_CTLS (allowed-1 settings "
			      "0x0000fffb)");
	c = bochs;
	c.true_exit = MSR(0x00036dfb, 0x007fffff & ~EXIT_SAVE_DEBUG_CONTROLS);
	ck_assert_int_eq(compute(&c), -ENODEV);
	ck_assert_str_eq(err, "VMX: required VM-exit control 'save debug controls' (bit 2) is "
			      "not allowed by IA32_VMX_TRUE_EXIT_CTLS (allowed-1 settings "
			      "0x007ffffb)");
}
END_TEST

START_TEST(no_preemption_timer_is_not_fatal)
{
	struct vmx_caps c = bochs;

	/* Real CPUs also exit on the host timer: VMX works without it. */
	c.true_pinbased = MSR(0x16, 0x7f & ~PIN_PREEMPTION_TIMER);
	ck_assert_msg(compute(&c) == 0, "rc != 0: %s", err);
	ck_assert(!(out.val[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER));
	ck_assert(!(out.avail[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER));
}
END_TEST

START_TEST(preemption_units_from_deadline)
{
	/* Bochs: rate 0 (IA32_VMX_MISC[4:0] of the table above), TSC at
	 * 150 MHz: a 10 ms slice is 1,500,000 ticks, plus the partial unit. */
	ck_assert_uint_eq(VMX_MISC_PREEMPTION_SHIFT(bochs.misc), 0);
	ck_assert_uint_eq(vmx_preemption_units(10000000, 150000, 0), 1500001);
	/* Rate 5: one unit per 32 ticks, rounded up (never early). */
	ck_assert_uint_eq(vmx_preemption_units(10000000, 150000, 5), 46875 + 1);
	ck_assert_uint_eq(vmx_preemption_units(1000, 150000, 5), 5 + 1);
	/* 1 ns still waits at least a tick; a passed deadline exits at once. */
	ck_assert_uint_eq(vmx_preemption_units(1, 3000000, 0), 3 + 1);
	ck_assert_uint_eq(vmx_preemption_units(0, 3000000, 0), 0);
	/* Far deadlines are cut to 1 s; nothing overflows 32 bits. */
	ck_assert_uint_eq(vmx_preemption_units(~0ULL, 1000000, 5), 31250000 + 1);
	ck_assert_uint_eq(vmx_preemption_units(~0ULL, 10000000, 0), 0xffffffffu);
}
END_TEST

START_TEST(required_dependency_unmet_names_both)
{
	/* A wish list where a required control needs an optional one the
	 * CPU lacks: the error names both. */
	static const struct vmx_ctl_want want[] = {
		{ VMX_CTL_PIN, 5, 0, -1, "virtual NMIs" },
		{ VMX_CTL_PROC, 22, VMX_WANT_REQUIRED, 0, "NMI-window exiting" },
	};
	struct vmx_caps c = bochs;

	c.true_pinbased = MSR(0x16, 0x7f & ~PIN_VIRTUAL_NMIS);
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(vmx_compute_controls(&c, want, 2, &out, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "VMX: required primary processor-based VM-execution control "
			      "'NMI-window exiting' needs 'virtual NMIs', which this CPU lacks");
}
END_TEST

START_TEST(bit_names_for_reports)
{
	ck_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_PROC2, 1), "enable EPT");
	ck_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_PROC, 15), "CR3-load exiting");
	ck_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_ENTRY, 9), "IA-32e mode guest");
	ck_assert_ptr_null(vmx_ctl_bit_name(VMX_CTL_PIN, 1));
	ck_assert_str_eq(vmx_ctl_msr_name(VMX_CTL_ENTRY, 0), "IA32_VMX_ENTRY_CTLS");
	ck_assert_str_eq(vmx_ctl_msr_name(VMX_CTL_ENTRY, VMX_BASIC_TRUE_CTLS),
			 "IA32_VMX_TRUE_ENTRY_CTLS");
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "vmx-controls-bochs-skylake-x", &bochs_skylake_x_ttest },
	{ "vmx-controls-default1-without-true-msrs", &default1_without_true_msrs_ttest },
	{ "vmx-controls-true-msrs-preferred", &true_msrs_preferred_ttest },
	{ "vmx-controls-allowed0-forces-bits-on", &allowed0_forces_bits_on_ttest },
	{ "vmx-controls-missing-ept-names-the-control", &missing_ept_names_the_control_ttest },
	{ "vmx-controls-missing-unrestricted-guest-names-the-control",
	  &missing_unrestricted_guest_names_the_control_ttest },
	{ "vmx-controls-no-secondary-controls", &no_secondary_controls_ttest },
	{ "vmx-controls-missing-exit-control-names-the-msr",
	  &missing_exit_control_names_the_msr_ttest },
	{ "vmx-controls-optional-controls-dropped", &optional_controls_dropped_ttest },
	{ "vmx-controls-missing-tpr-shadow-names-the-control",
	  &missing_tpr_shadow_names_the_control_ttest },
	{ "vmx-controls-missing-wbinvd-exiting-names-the-control",
	  &missing_wbinvd_exiting_names_the_control_ttest },
	{ "vmx-controls-missing-debug-controls-name-the-control",
	  &missing_debug_controls_name_the_control_ttest },
	{ "vmx-controls-no-preemption-timer-is-not-fatal",
	  &no_preemption_timer_is_not_fatal_ttest },
	{ "vmx-preemption-units-from-deadline", &preemption_units_from_deadline_ttest },
	{ "vmx-controls-required-dependency-unmet-names-both",
	  &required_dependency_unmet_names_both_ttest },
	{ "vmx-controls-bit-names-for-reports", &bit_names_for_reports_ttest },
	{ 0 },
};
