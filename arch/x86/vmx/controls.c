/*
 * The VM-execution, VM-exit and VM-entry controls Keel programs, computed
 * from the capability MSRs (SDM vol. 3 appendix A, 32.5.1).
 *
 * Every control MSR reports, for each bit, its allowed 0-setting (low 32
 * bits: a 1 there means the control must be 1) and its allowed 1-setting
 * (high 32 bits: a 0 there means the control must be 0). Some controls are
 * "default1": older CPUs force them on; when IA32_VMX_BASIC bit 55 is set,
 * the TRUE_* MSRs say which of them may be cleared (e.g. CR3-load exiting,
 * which Keel does not want with EPT). The secondary controls have no TRUE
 * variant and no default1 bits.
 *
 * The computation is a pure function of the MSR values so that it can be
 * tested on the host with any CPU's numbers (tests/unit/test_vmx_controls.c).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <lib/types.h>
#include "vmcs.h"
#include "vmx.h"

#define BIT_OF(mask) ((u8)__builtin_ctz(mask))

/*
 * What Keel asks for, and why. Rows may name (by index) a row they need:
 * the SDM makes some controls invalid without another (27.2.1.1), so a
 * row is set only when the row it needs is.
 */
enum {
	W_EXTINT_EXIT, W_NMI_EXIT, W_VIRTUAL_NMIS, W_PREEMPTION_TIMER,
	W_INTR_WINDOW, W_NMI_WINDOW, W_HLT, W_MWAIT, W_MONITOR, W_IO_BITMAPS, W_MSR_BITMAPS,
	W_TPR_SHADOW, W_SECONDARY,
	W_EPT, W_VPID, W_UNRESTRICTED, W_RDTSCP, W_INVPCID, W_WBINVD,
	W_HOST_64, W_SAVE_EFER, W_LOAD_EFER_EXIT, W_SAVE_PAT, W_LOAD_PAT_EXIT,
	W_ACK_INTR, W_SAVE_DEBUG,
	W_LOAD_EFER_ENTRY, W_LOAD_PAT_ENTRY, W_IA32E_GUEST, W_LOAD_DEBUG,
	W_NR
};

#define REQ VMX_WANT_REQUIRED
#define DYN VMX_WANT_DYNAMIC
#define ROW(f, mask, fl, dep, nm) \
	{ .field = (f), .bit = BIT_OF(mask), .flags = (fl), .needs = (dep), .name = (nm) }

const struct vmx_ctl_want vmx_wanted_controls[] = {
	/* Host interrupts and NMIs must reach the hypervisor, never the
	 * guest's IDT. */
	[W_EXTINT_EXIT] = ROW(VMX_CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING, REQ, -1,
			      "external-interrupt exiting"),
	[W_NMI_EXIT] = ROW(VMX_CTL_PIN, PIN_NMI_EXITING, REQ, -1, "NMI exiting"),
	/* Lets the CPU track the guest's NMI blocking, which NMI-window
	 * exiting needs; without it NMIs are injected when not blocked by
	 * STI/MOV SS and the guest's own NMI nesting is not tracked. */
	[W_VIRTUAL_NMIS] = ROW(VMX_CTL_PIN, PIN_VIRTUAL_NMIS, 0, W_NMI_EXIT, "virtual NMIs"),
	/* The time-slice backstop: armed before every entry for the end of
	 * the scheduler's slice (preempt.c), it ends the guest's turn even
	 * where a host interrupt does not (Bochs 2.7, docs/sched.md). Real
	 * CPUs also exit on the host timer, so it is optional. */
	[W_PREEMPTION_TIMER] = ROW(VMX_CTL_PIN, PIN_PREEMPTION_TIMER, 0, -1,
				   "activate VMX-preemption timer"),

	[W_INTR_WINDOW] = ROW(VMX_CTL_PROC, CPU_INTERRUPT_WINDOW_EXITING, REQ | DYN, -1,
			      "interrupt-window exiting"),
	[W_NMI_WINDOW] = ROW(VMX_CTL_PROC, CPU_NMI_WINDOW_EXITING, DYN, W_VIRTUAL_NMIS,
			     "NMI-window exiting"),
	/* A halted vCPU must give the CPU back to the scheduler. */
	[W_HLT] = ROW(VMX_CTL_PROC, CPU_HLT_EXITING, REQ, -1, "HLT exiting"),
	/* MONITOR/MWAIT are hidden by CPUID (kernel/cpuid.c) and raise #UD
	 * as on a CPU without them, as Xen does for HVM guests: run
	 * natively, MWAIT would let a guest pick the physical CPU's sleep
	 * state (C-states). Every VT-x CPU offers both controls. */
	[W_MWAIT] = ROW(VMX_CTL_PROC, CPU_MWAIT_EXITING, REQ, -1, "MWAIT exiting"),
	[W_MONITOR] = ROW(VMX_CTL_PROC, CPU_MONITOR_EXITING, REQ, -1, "MONITOR exiting"),
	/* Port and MSR intercepts are chosen per port / per MSR. */
	[W_IO_BITMAPS] = ROW(VMX_CTL_PROC, CPU_USE_IO_BITMAPS, REQ, -1, "use I/O bitmaps"),
	[W_MSR_BITMAPS] = ROW(VMX_CTL_PROC, CPU_USE_MSR_BITMAPS, REQ, -1, "use MSR bitmaps"),
	/* A guest's MOV to/from CR8 must not reach the physical LAPIC TPR:
	 * a guest raising it to 15 would mask the hypervisor's own timer
	 * vector and hang the machine. With a TPR shadow CR8 reads and
	 * writes the VTPR in the vCPU's virtual-APIC page (26.3, 30.1.2)
	 * without exits. Every CPU with EPT and unrestricted guest has it. */
	[W_TPR_SHADOW] = ROW(VMX_CTL_PROC, CPU_USE_TPR_SHADOW, REQ, -1, "use TPR shadow"),
	[W_SECONDARY] = ROW(VMX_CTL_PROC, CPU_ACTIVATE_SECONDARY_CONTROLS, REQ, -1,
			    "activate secondary controls"),

	/* Guest-physical memory is EPT (issue 4: no shadow paging). */
	[W_EPT] = ROW(VMX_CTL_PROC2, SEC_ENABLE_EPT, REQ, W_SECONDARY, "enable EPT"),
	/* Tagged TLBs; without VPID every entry and exit flushes them,
	 * which is slower but correct. */
	[W_VPID] = ROW(VMX_CTL_PROC2, SEC_ENABLE_VPID, 0, W_SECONDARY, "enable VPID"),
	/* The PVH start state (protected mode, paging off) and real mode
	 * need it; it also needs EPT (27.2.1.1). */
	[W_UNRESTRICTED] = ROW(VMX_CTL_PROC2, SEC_UNRESTRICTED_GUEST, REQ, W_EPT,
			       "unrestricted guest"),
	/* Guest CPUID passes RDTSCP and INVPCID through (kernel/cpuid.c);
	 * without these controls they would raise #UD in the guest. XSAVES
	 * stays off: CPUID hides XSAVE from guests. */
	[W_RDTSCP] = ROW(VMX_CTL_PROC2, SEC_ENABLE_RDTSCP, 0, W_SECONDARY, "enable RDTSCP"),
	[W_INVPCID] = ROW(VMX_CTL_PROC2, SEC_ENABLE_INVPCID, 0, W_SECONDARY, "enable INVPCID"),
	/* A WBINVD loop stalls every domain on the machine (a full cache
	 * write-back each time); the kernel decides (EXIT_CACHE_FLUSH), as
	 * with SVM's WBINVD intercept. INVD exits unconditionally. */
	[W_WBINVD] = ROW(VMX_CTL_PROC2, SEC_WBINVD_EXITING, REQ, W_SECONDARY, "WBINVD exiting"),

	/* The hypervisor is 64-bit. */
	[W_HOST_64] = ROW(VMX_CTL_EXIT, EXIT_HOST_ADDRESS_SPACE_SIZE, REQ, -1,
			  "host address-space size"),
	/* EFER differs between guest and host (NXE, SCE, LMA); saving it
	 * keeps GUEST_IA32_EFER right when the guest enters long mode by
	 * itself. */
	[W_SAVE_EFER] = ROW(VMX_CTL_EXIT, EXIT_SAVE_IA32_EFER, REQ, -1, "save IA32_EFER"),
	[W_LOAD_EFER_EXIT] = ROW(VMX_CTL_EXIT, EXIT_LOAD_IA32_EFER, REQ, -1, "load IA32_EFER"),
	/* PAT: guest writes are intercepted and kept; with "load IA32_PAT"
	 * on entry the guest's PAT is in force for its RAM (ept.c), without
	 * it EPT leaves ignore the PAT. Optional. */
	[W_SAVE_PAT] = ROW(VMX_CTL_EXIT, EXIT_SAVE_IA32_PAT, 0, -1, "save IA32_PAT"),
	[W_LOAD_PAT_EXIT] = ROW(VMX_CTL_EXIT, EXIT_LOAD_IA32_PAT, 0, -1, "load IA32_PAT"),
	/* The vector of the interrupt that caused the exit is then in the
	 * exit information; the back end hands it to the host's IDT. */
	[W_ACK_INTR] = ROW(VMX_CTL_EXIT, EXIT_ACK_INTERRUPT_ON_EXIT, 0, W_EXTINT_EXIT,
			   "acknowledge interrupt on exit"),
	/* DR7 and IA32_DEBUGCTL are per vCPU: saved into the VMCS on exit
	 * (which then sets DR7 to 0x400, 28.5.1) and loaded on entry, so a
	 * guest's breakpoints are armed only while it runs (asm/debugreg.h
	 * does DR0-3 and DR6). Default1 controls: every CPU has them. */
	[W_SAVE_DEBUG] = ROW(VMX_CTL_EXIT, EXIT_SAVE_DEBUG_CONTROLS, REQ, -1,
			     "save debug controls"),

	[W_LOAD_EFER_ENTRY] = ROW(VMX_CTL_ENTRY, ENTRY_LOAD_IA32_EFER, REQ, -1, "load IA32_EFER"),
	[W_LOAD_PAT_ENTRY] = ROW(VMX_CTL_ENTRY, ENTRY_LOAD_IA32_PAT, 0, -1, "load IA32_PAT"),
	/* Follows the guest's EFER.LMA (cr.c); 0 for the PVH start. */
	[W_IA32E_GUEST] = ROW(VMX_CTL_ENTRY, ENTRY_IA32E_MODE_GUEST, REQ | DYN, -1,
			      "IA-32e mode guest"),
	[W_LOAD_DEBUG] = ROW(VMX_CTL_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS, REQ, -1,
			     "load debug controls"),
};
const unsigned vmx_wanted_controls_nr = ARRAY_SIZE(vmx_wanted_controls);
BUILD_BUG_ON(ARRAY_SIZE(vmx_wanted_controls) != W_NR);

static const char *const field_names[VMX_CTL_NR] = {
	[VMX_CTL_PIN] = "pin-based VM-execution",
	[VMX_CTL_PROC] = "primary processor-based VM-execution",
	[VMX_CTL_PROC2] = "secondary processor-based VM-execution",
	[VMX_CTL_EXIT] = "VM-exit",
	[VMX_CTL_ENTRY] = "VM-entry",
};

const char *vmx_ctl_field_name(enum vmx_ctl_field field)
{
	return field < VMX_CTL_NR ? field_names[field] : "?";
}

const char *vmx_ctl_msr_name(enum vmx_ctl_field field, u64 basic)
{
	bool t = basic & VMX_BASIC_TRUE_CTLS;

	switch (field) {
	case VMX_CTL_PIN:
		return t ? "IA32_VMX_TRUE_PINBASED_CTLS" : "IA32_VMX_PINBASED_CTLS";
	case VMX_CTL_PROC:
		return t ? "IA32_VMX_TRUE_PROCBASED_CTLS" : "IA32_VMX_PROCBASED_CTLS";
	case VMX_CTL_PROC2:
		return "IA32_VMX_PROCBASED_CTLS2";
	case VMX_CTL_EXIT:
		return t ? "IA32_VMX_TRUE_EXIT_CTLS" : "IA32_VMX_EXIT_CTLS";
	case VMX_CTL_ENTRY:
		return t ? "IA32_VMX_TRUE_ENTRY_CTLS" : "IA32_VMX_ENTRY_CTLS";
	default:
		return "?";
	}
}

/* Names of the control bits Keel does not ask for but may find forced on
 * or see in a report (SDM tables 25-5 to 25-7, 25-13, 25-15). */
static const struct {
	u8 field, bit;
	const char *name;
} other_bits[] = {
	{ VMX_CTL_PIN, 7, "process posted interrupts" },
	{ VMX_CTL_PROC, 3, "use TSC offsetting" },
	{ VMX_CTL_PROC, 9, "INVLPG exiting" },
	{ VMX_CTL_PROC, 10, "MWAIT exiting" },
	{ VMX_CTL_PROC, 11, "RDPMC exiting" },
	{ VMX_CTL_PROC, 12, "RDTSC exiting" },
	{ VMX_CTL_PROC, 15, "CR3-load exiting" },
	{ VMX_CTL_PROC, 16, "CR3-store exiting" },
	{ VMX_CTL_PROC, 17, "activate tertiary controls" },
	{ VMX_CTL_PROC, 19, "CR8-load exiting" },
	{ VMX_CTL_PROC, 20, "CR8-store exiting" },
	{ VMX_CTL_PROC, 23, "MOV-DR exiting" },
	{ VMX_CTL_PROC, 24, "unconditional I/O exiting" },
	{ VMX_CTL_PROC, 27, "monitor trap flag" },
	{ VMX_CTL_PROC, 29, "MONITOR exiting" },
	{ VMX_CTL_PROC, 30, "PAUSE exiting" },
	{ VMX_CTL_PROC2, 0, "virtualize APIC accesses" },
	{ VMX_CTL_PROC2, 2, "descriptor-table exiting" },
	{ VMX_CTL_PROC2, 4, "virtualize x2APIC mode" },
	{ VMX_CTL_PROC2, 8, "APIC-register virtualization" },
	{ VMX_CTL_PROC2, 9, "virtual-interrupt delivery" },
	{ VMX_CTL_PROC2, 10, "PAUSE-loop exiting" },
	{ VMX_CTL_PROC2, 11, "RDRAND exiting" },
	{ VMX_CTL_PROC2, 13, "enable VM functions" },
	{ VMX_CTL_PROC2, 14, "VMCS shadowing" },
	{ VMX_CTL_PROC2, 16, "RDSEED exiting" },
	{ VMX_CTL_PROC2, 17, "enable PML" },
	{ VMX_CTL_PROC2, 18, "EPT-violation #VE" },
	{ VMX_CTL_PROC2, 20, "enable XSAVES/XRSTORS" },
	{ VMX_CTL_EXIT, 12, "load IA32_PERF_GLOBAL_CTRL" },
	{ VMX_CTL_EXIT, 22, "save VMX-preemption timer value" },
	{ VMX_CTL_ENTRY, 10, "entry to SMM" },
	{ VMX_CTL_ENTRY, 11, "deactivate dual-monitor treatment" },
	{ VMX_CTL_ENTRY, 13, "load IA32_PERF_GLOBAL_CTRL" },
};

const char *vmx_ctl_bit_name(enum vmx_ctl_field field, unsigned bit)
{
	for (unsigned i = 0; i < W_NR; i++)
		if (vmx_wanted_controls[i].field == field && vmx_wanted_controls[i].bit == bit)
			return vmx_wanted_controls[i].name;
	for (unsigned i = 0; i < ARRAY_SIZE(other_bits); i++)
		if (other_bits[i].field == field && other_bits[i].bit == bit)
			return other_bits[i].name;
	return NULL;
}

/* The MSR value that governs `field`. */
static u64 ctl_msr(const struct vmx_caps *c, enum vmx_ctl_field field)
{
	bool t = c->basic & VMX_BASIC_TRUE_CTLS;

	switch (field) {
	case VMX_CTL_PIN:
		return t ? c->true_pinbased : c->pinbased;
	case VMX_CTL_PROC:
		return t ? c->true_procbased : c->procbased;
	case VMX_CTL_PROC2:
		return c->procbased2;
	case VMX_CTL_EXIT:
		return t ? c->true_exit : c->exit;
	case VMX_CTL_ENTRY:
		return t ? c->true_entry : c->entry;
	default:
		return 0;
	}
}

int vmx_compute_controls(const struct vmx_caps *caps,
			 const struct vmx_ctl_want *want, unsigned nr_want,
			 struct vmx_controls *out, char *err, size_t errlen)
{
	/* Whether each row ended up set; rows only name earlier rows, so
	 * one pass in table order settles every dependency. */
	bool on[64];

	if (nr_want > ARRAY_SIZE(on))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (unsigned f = 0; f < VMX_CTL_NR; f++) {
		u64 m = ctl_msr(caps, f);
		out->allowed0[f] = (u32)m;
		out->allowed1[f] = (u32)(m >> 32);
		out->val[f] = out->allowed0[f];
	}

	for (unsigned i = 0; i < nr_want; i++) {
		const struct vmx_ctl_want *w = &want[i];
		u32 bit = 1u << w->bit;
		bool allowed = out->allowed1[w->field] & bit;
		bool dep_ok = w->needs < 0 || ((unsigned)w->needs < i && on[w->needs]);

		on[i] = allowed && dep_ok;
		if (on[i]) {
			out->avail[w->field] |= bit;
			if (!(w->flags & VMX_WANT_DYNAMIC))
				out->val[w->field] |= bit;
			continue;
		}
		if (!(w->flags & VMX_WANT_REQUIRED))
			continue;
		if (!allowed)
			snprintf(err, errlen,
				 "VMX: required %s control '%s' (bit %u) is not allowed by %s "
				 "(allowed-1 settings 0x%08x)",
				 vmx_ctl_field_name(w->field), w->name, w->bit,
				 vmx_ctl_msr_name(w->field, caps->basic),
				 out->allowed1[w->field]);
		else
			snprintf(err, errlen,
				 "VMX: required %s control '%s' needs '%s', which this CPU lacks",
				 vmx_ctl_field_name(w->field), w->name, want[w->needs].name);
		return -ENODEV;
	}

	/* Controls only the secondary set depends on: without "activate
	 * secondary controls" the CPU ignores that field, so keep it 0 to
	 * say what the hardware will do. */
	if (!(out->val[VMX_CTL_PROC] & CPU_ACTIVATE_SECONDARY_CONTROLS)) {
		out->val[VMX_CTL_PROC2] = 0;
		out->avail[VMX_CTL_PROC2] = 0;
	}
	return 0;
}
