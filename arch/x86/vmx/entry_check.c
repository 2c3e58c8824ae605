/*
 * Why did a VM entry fail? The CPU says only "invalid guest state" (exit
 * reason 33) or "invalid control field(s)" (VM-instruction error 7), never
 * which field. These checkers re-run, in software, the rules of SDM vol. 3
 * 27.2.1 (controls) and 27.3.1 (guest state) that Keel's own state could
 * plausibly break, and print every violated rule with the field's SDM name
 * and value. They only diagnose: nothing here is on the path of a
 * successful entry.
 */
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include "vmcs.h"
#include "vmx.h"

static unsigned problems;

__printf(3, 4) static void bad(u32 field, u64 val, const char *fmt, ...);
static void bad(u32 field, u64 val, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("VMX entry check: %s = 0x%lx: %s\n", vmcs_field_name(field), val, why);
	problems++;
}

static bool canonical(u64 a)
{
	return (u64)((s64)(a << 16) >> 16) == a;
}

/* ---- guest state (27.3.1) ------------------------------------------------------ */

struct seg {
	u32 sel_f, ar_f, limit_f, base_f;
	u64 sel, ar, limit, base;
	const char *name;
};

static void read_seg(struct seg *s, const char *name, u32 sel, u32 limit, u32 ar, u32 base)
{
	s->name = name;
	s->sel_f = sel;
	s->limit_f = limit;
	s->ar_f = ar;
	s->base_f = base;
	s->sel = vmread(sel);
	s->limit = vmread(limit);
	s->ar = vmread(ar);
	s->base = vmread(base);
}

#define SEG_TYPE(s) ((s)->ar & 0xf)
#define SEG_S(s) (((s)->ar >> 4) & 1)
#define SEG_DPL(s) (((s)->ar >> 5) & 3)
#define SEG_P(s) (((s)->ar >> 7) & 1)
#define SEG_L(s) (((s)->ar >> 13) & 1)
#define SEG_DB(s) (((s)->ar >> 14) & 1)
#define SEG_G(s) (((s)->ar >> 15) & 1)
#define SEG_USABLE(s) (!((s)->ar & AR_UNUSABLE))
#define AR_RESERVED 0xfffe0f00u /* bits 11:8 and 31:17 */

/* Present, reserved bits clear, and the limit consistent with G. */
static void check_seg_common(const struct seg *s)
{
	if (!SEG_P(s))
		bad(s->ar_f, s->ar, "%s is usable but not present", s->name);
	if (s->ar & AR_RESERVED)
		bad(s->ar_f, s->ar, "%s access rights: bits 11:8 and 31:17 are reserved",
		    s->name);
	if ((s->limit & 0xfff) != 0xfff && SEG_G(s))
		bad(s->ar_f, s->ar, "%s: G must be 0 when limit bits 11:0 are not all 1 "
		    "(limit 0x%lx)", s->name, s->limit);
	if ((s->limit & 0xfff00000) && !SEG_G(s))
		bad(s->ar_f, s->ar, "%s: G must be 1 when limit bits 31:20 are not all 0 "
		    "(limit 0x%lx)", s->name, s->limit);
}

static void check_segments(bool ug, bool ia32e, u64 cr0)
{
	struct seg cs, ss, tr, ldtr, data[4];
	static const char *const dnames[4] = { "DS", "ES", "FS", "GS" };
	static const u32 dfields[4][4] = {
		{ GUEST_DS_SELECTOR, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, GUEST_DS_BASE },
		{ GUEST_ES_SELECTOR, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, GUEST_ES_BASE },
		{ GUEST_FS_SELECTOR, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, GUEST_FS_BASE },
		{ GUEST_GS_SELECTOR, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, GUEST_GS_BASE },
	};

	read_seg(&cs, "CS", GUEST_CS_SELECTOR, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, GUEST_CS_BASE);
	read_seg(&ss, "SS", GUEST_SS_SELECTOR, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, GUEST_SS_BASE);
	read_seg(&tr, "TR", GUEST_TR_SELECTOR, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES, GUEST_TR_BASE);
	read_seg(&ldtr, "LDTR", GUEST_LDTR_SELECTOR, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES,
		 GUEST_LDTR_BASE);
	for (unsigned i = 0; i < 4; i++)
		read_seg(&data[i], dnames[i], dfields[i][0], dfields[i][1], dfields[i][2],
			 dfields[i][3]);

	/* CS (27.3.1.2): always usable. */
	unsigned t = SEG_TYPE(&cs);
	if (!(t == 9 || t == 11 || t == 13 || t == 15 || (ug && t == 3)))
		bad(cs.ar_f, cs.ar, "CS type must be 9, 11, 13 or 15 (or 3 with unrestricted guest)");
	if (!SEG_S(&cs))
		bad(cs.ar_f, cs.ar, "CS must be a code/data segment (S = 1)");
	if (t == 3 && SEG_DPL(&cs))
		bad(cs.ar_f, cs.ar, "CS of type 3 needs DPL 0");
	if ((t == 9 || t == 11) && SEG_DPL(&cs) != SEG_DPL(&ss))
		bad(cs.ar_f, cs.ar, "non-conforming CS needs DPL = SS.DPL (%lu)", SEG_DPL(&ss));
	if ((t == 13 || t == 15) && SEG_DPL(&cs) > SEG_DPL(&ss))
		bad(cs.ar_f, cs.ar, "conforming CS needs DPL <= SS.DPL (%lu)", SEG_DPL(&ss));
	if (ia32e && SEG_L(&cs) && SEG_DB(&cs))
		bad(cs.ar_f, cs.ar, "64-bit CS (L = 1) needs D/B = 0");
	check_seg_common(&cs);
	if (cs.base >> 32)
		bad(cs.base_f, cs.base, "CS base bits 63:32 must be 0");

	/* SS */
	if (!ug && (ss.sel & 3) != (cs.sel & 3))
		bad(ss.sel_f, ss.sel, "SS.RPL must equal CS.RPL without unrestricted guest");
	if (SEG_USABLE(&ss)) {
		if (SEG_TYPE(&ss) != 3 && SEG_TYPE(&ss) != 7)
			bad(ss.ar_f, ss.ar, "usable SS must be a read/write data segment (type 3 or 7)");
		if (!SEG_S(&ss))
			bad(ss.ar_f, ss.ar, "SS must be a code/data segment (S = 1)");
		check_seg_common(&ss);
		if (ss.base >> 32)
			bad(ss.base_f, ss.base, "usable SS base bits 63:32 must be 0");
	}
	if ((t == 3 || !(cr0 & CR0_PE)) && SEG_DPL(&ss))
		bad(ss.ar_f, ss.ar, "SS.DPL must be 0 (real mode or CS type 3)");

	/* DS, ES, FS, GS */
	for (unsigned i = 0; i < 4; i++) {
		struct seg *s = &data[i];
		if (!SEG_USABLE(s))
			continue;
		if (!(SEG_TYPE(s) & 1))
			bad(s->ar_f, s->ar, "usable %s must have the accessed bit (type bit 0)",
			    s->name);
		if ((SEG_TYPE(s) & 8) && !(SEG_TYPE(s) & 2))
			bad(s->ar_f, s->ar, "%s: a code segment here must be readable", s->name);
		if (!SEG_S(s))
			bad(s->ar_f, s->ar, "%s must be a code/data segment (S = 1)", s->name);
		check_seg_common(s);
		if (i < 2 && (s->base >> 32))
			bad(s->base_f, s->base, "%s base bits 63:32 must be 0", s->name);
		if (i >= 2 && !canonical(s->base))
			bad(s->base_f, s->base, "%s base must be canonical", s->name);
	}

	/* TR: always usable, a busy TSS. */
	if (tr.sel & 4)
		bad(tr.sel_f, tr.sel, "TR selector must have TI = 0");
	if (!SEG_USABLE(&tr))
		bad(tr.ar_f, tr.ar, "TR must be usable");
	if (!(SEG_TYPE(&tr) == 11 || (!ia32e && SEG_TYPE(&tr) == 3)))
		bad(tr.ar_f, tr.ar, "TR type must be 11 (busy TSS; 3 allowed outside IA-32e mode)");
	if (SEG_S(&tr))
		bad(tr.ar_f, tr.ar, "TR must be a system segment (S = 0)");
	check_seg_common(&tr);
	if (!canonical(tr.base))
		bad(tr.base_f, tr.base, "TR base must be canonical");

	/* LDTR, if usable. */
	if (SEG_USABLE(&ldtr)) {
		if (ldtr.sel & 4)
			bad(ldtr.sel_f, ldtr.sel, "LDTR selector must have TI = 0");
		if (SEG_TYPE(&ldtr) != 2 || SEG_S(&ldtr))
			bad(ldtr.ar_f, ldtr.ar, "usable LDTR must be type 2 with S = 0");
		check_seg_common(&ldtr);
		if (!canonical(ldtr.base))
			bad(ldtr.base_f, ldtr.base, "LDTR base must be canonical");
	}

	/* GDTR, IDTR (27.3.1.3) */
	u64 v;
	if (!canonical(v = vmread(GUEST_GDTR_BASE)))
		bad(GUEST_GDTR_BASE, v, "must be canonical");
	if (!canonical(v = vmread(GUEST_IDTR_BASE)))
		bad(GUEST_IDTR_BASE, v, "must be canonical");
	if ((v = vmread(GUEST_GDTR_LIMIT)) >> 16)
		bad(GUEST_GDTR_LIMIT, v, "bits 31:16 must be 0");
	if ((v = vmread(GUEST_IDTR_LIMIT)) >> 16)
		bad(GUEST_IDTR_LIMIT, v, "bits 31:16 must be 0");
}

unsigned vmx_check_guest_state(void)
{
	u64 entry = vmread(VM_ENTRY_CONTROLS);
	u64 proc2 = (vmread(CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY_CONTROLS)
			    ? vmread(SECONDARY_VM_EXEC_CONTROL) : 0;
	bool ug = proc2 & SEC_UNRESTRICTED_GUEST;
	bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;
	u64 cr0 = vmread(GUEST_CR0), cr4 = vmread(GUEST_CR4), v;
	u64 fixed0 = vmx.caps.cr0_fixed0 & (ug ? ~(u64)(CR0_PE | CR0_PG) : ~0ULL);

	problems = 0;

	/* 27.3.1.1 control registers, debug registers, MSRs */
	if ((cr0 & fixed0) != fixed0)
		bad(GUEST_CR0, cr0, "bits 0x%lx must be 1 (IA32_VMX_CR0_FIXED0)", fixed0 & ~cr0);
	if (cr0 & ~vmx.caps.cr0_fixed1)
		bad(GUEST_CR0, cr0, "bits 0x%lx must be 0 (IA32_VMX_CR0_FIXED1)",
		    cr0 & ~vmx.caps.cr0_fixed1);
	if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
		bad(GUEST_CR0, cr0, "PG needs PE");
	if ((cr4 & vmx.caps.cr4_fixed0) != vmx.caps.cr4_fixed0)
		bad(GUEST_CR4, cr4, "bits 0x%lx must be 1 (IA32_VMX_CR4_FIXED0)",
		    vmx.caps.cr4_fixed0 & ~cr4);
	if (cr4 & ~vmx.caps.cr4_fixed1)
		bad(GUEST_CR4, cr4, "bits 0x%lx must be 0 (IA32_VMX_CR4_FIXED1)",
		    cr4 & ~vmx.caps.cr4_fixed1);
	if (ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)))
		bad(VM_ENTRY_CONTROLS, entry, "IA-32e mode guest needs CR0.PG and CR4.PAE "
		    "(GUEST_CR0 0x%lx, GUEST_CR4 0x%lx)", cr0, cr4);
	if (!ia32e && (cr4 & (1ULL << 17)))
		bad(GUEST_CR4, cr4, "PCIDE needs IA-32e mode guest");
	if ((v = vmread(GUEST_CR3)) >> cpu_features.phys_addr_bits)
		bad(GUEST_CR3, v, "bits beyond the physical-address width (%u) must be 0",
		    cpu_features.phys_addr_bits);
	if ((entry & ENTRY_LOAD_DEBUG_CONTROLS) && ((v = vmread(GUEST_DR7)) >> 32))
		bad(GUEST_DR7, v, "bits 63:32 must be 0");
	if (entry & ENTRY_LOAD_IA32_EFER) {
		u64 efer = vmread(GUEST_IA32_EFER);
		if (efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			bad(GUEST_IA32_EFER, efer, "reserved bits must be 0");
		if (!!(efer & EFER_LMA) != ia32e)
			bad(GUEST_IA32_EFER, efer, "LMA must equal the IA-32e mode guest control (%d)",
			    ia32e);
		if ((cr0 & CR0_PG) && !!(efer & EFER_LME) != ia32e)
			bad(GUEST_IA32_EFER, efer, "with CR0.PG, LME must equal the IA-32e mode "
			    "guest control (%d)", ia32e);
	}
	if (entry & ENTRY_LOAD_IA32_PAT) {
		u64 pat = vmread(GUEST_IA32_PAT);
		for (unsigned i = 0; i < 8; i++) {
			unsigned t = (pat >> (8 * i)) & 0xff;
			if (t == 2 || t == 3 || t > 7)
				bad(GUEST_IA32_PAT, pat, "entry %u has invalid memory type %u", i, t);
		}
	}

	check_segments(ug, ia32e, cr0);

	/* 27.3.1.4 RIP and RFLAGS */
	u64 rflags = vmread(GUEST_RFLAGS), rip = vmread(GUEST_RIP);
	bool cs_l = vmread(GUEST_CS_AR_BYTES) & (1u << 13);
	if ((!ia32e || !cs_l) && (rip >> 32))
		bad(GUEST_RIP, rip, "bits 63:32 must be 0 outside 64-bit mode");
	if (ia32e && cs_l && !canonical(rip))
		bad(GUEST_RIP, rip, "must be canonical in 64-bit mode");
	if ((rflags & 0xffffffffffc08028ULL) || !(rflags & 2))
		bad(GUEST_RFLAGS, rflags, "reserved bits (63:22, 15, 5, 3) must be 0 and bit 1 must be 1");
	if ((ia32e || !(cr0 & CR0_PE)) && (rflags & RFLAGS_VM))
		bad(GUEST_RFLAGS, rflags, "VM must be 0 in IA-32e mode or real mode");

	/* 27.3.1.5 non-register state */
	u64 act = vmread(GUEST_ACTIVITY_STATE), intr = vmread(GUEST_INTERRUPTIBILITY_INFO);
	u64 ev = vmread(VM_ENTRY_INTR_INFO);
	unsigned ev_type = (ev & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (act > 3)
		bad(GUEST_ACTIVITY_STATE, act, "must be 0-3");
	if (intr & ~0x1fULL)
		bad(GUEST_INTERRUPTIBILITY_INFO, intr, "bits 31:5 are reserved");
	if ((intr & INTR_BLOCKING_BY_STI) && (intr & INTR_BLOCKING_BY_MOV_SS))
		bad(GUEST_INTERRUPTIBILITY_INFO, intr, "blocking by STI and by MOV SS together");
	if (!(rflags & RFLAGS_IF) && (intr & INTR_BLOCKING_BY_STI))
		bad(GUEST_INTERRUPTIBILITY_INFO, intr, "blocking by STI with RFLAGS.IF = 0");
	if ((ev & INTR_INFO_VALID) && ev_type == INTR_TYPE_EXT_INTR) {
		if (intr & (INTR_BLOCKING_BY_STI | INTR_BLOCKING_BY_MOV_SS))
			bad(GUEST_INTERRUPTIBILITY_INFO, intr,
			    "an external interrupt is injected during an STI/MOV SS shadow");
		if (!(rflags & RFLAGS_IF))
			bad(GUEST_RFLAGS, rflags, "an external interrupt is injected with IF = 0");
	}
	if ((ev & INTR_INFO_VALID) && ev_type == INTR_TYPE_NMI &&
	    (intr & (INTR_BLOCKING_BY_MOV_SS | INTR_BLOCKING_BY_STI)))
		bad(GUEST_INTERRUPTIBILITY_INFO, intr, "an NMI is injected during an STI/MOV SS shadow");
	if ((v = vmread(VMCS_LINK_POINTER)) != ~0ULL)
		bad(VMCS_LINK_POINTER, v, "must be all ones (no VMCS shadowing)");

	/* 27.3.1.6: with EPT and PAE paging, the PDPTEs come from the VMCS. */
	u64 efer = vmread(GUEST_IA32_EFER);
	if ((proc2 & SEC_ENABLE_EPT) && (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA)) {
		for (unsigned i = 0; i < 4; i++) {
			u64 p = vmread(GUEST_PDPTE0 + 2 * i);
			if ((p & 1) && ((p & 0x1e6) || (p >> cpu_features.phys_addr_bits)))
				bad(GUEST_PDPTE0 + 2 * i, p, "present PDPTE with reserved bits set");
		}
	}
	return problems;
}

/* ---- controls (27.2.1) --------------------------------------------------------- */

static const u32 ctl_fields[VMX_CTL_NR] = {
	[VMX_CTL_PIN] = PIN_BASED_VM_EXEC_CONTROL,
	[VMX_CTL_PROC] = CPU_BASED_VM_EXEC_CONTROL,
	[VMX_CTL_PROC2] = SECONDARY_VM_EXEC_CONTROL,
	[VMX_CTL_EXIT] = VM_EXIT_CONTROLS,
	[VMX_CTL_ENTRY] = VM_ENTRY_CONTROLS,
};

unsigned vmx_check_controls(void)
{
	problems = 0;
	u32 val[VMX_CTL_NR];

	for (unsigned f = 0; f < VMX_CTL_NR; f++) {
		val[f] = (u32)vmread(ctl_fields[f]);
		u32 a0 = vmx.ctl.allowed0[f], a1 = vmx.ctl.allowed1[f];
		for (unsigned b = 0; b < 32; b++) {
			const char *name = vmx_ctl_bit_name(f, b);
			if ((a0 & (1u << b)) && !(val[f] & (1u << b)))
				bad(ctl_fields[f], val[f], "bit %u (%s) must be 1 (%s)", b,
				    name ? name : "unnamed", vmx_ctl_msr_name(f, vmx.caps.basic));
			if (!(a1 & (1u << b)) && (val[f] & (1u << b)))
				bad(ctl_fields[f], val[f], "bit %u (%s) must be 0 (%s)", b,
				    name ? name : "unnamed", vmx_ctl_msr_name(f, vmx.caps.basic));
		}
	}
	u32 pin = val[VMX_CTL_PIN], proc = val[VMX_CTL_PROC];
	u32 proc2 = (proc & CPU_ACTIVATE_SECONDARY_CONTROLS) ? val[VMX_CTL_PROC2] : 0;
	u64 v;

	/* 27.2.1.1 */
	if ((pin & PIN_VIRTUAL_NMIS) && !(pin & PIN_NMI_EXITING))
		bad(PIN_BASED_VM_EXEC_CONTROL, pin, "virtual NMIs needs NMI exiting");
	if ((proc & CPU_NMI_WINDOW_EXITING) && !(pin & PIN_VIRTUAL_NMIS))
		bad(CPU_BASED_VM_EXEC_CONTROL, proc, "NMI-window exiting needs virtual NMIs");
	if ((proc2 & SEC_UNRESTRICTED_GUEST) && !(proc2 & SEC_ENABLE_EPT))
		bad(SECONDARY_VM_EXEC_CONTROL, proc2, "unrestricted guest needs enable EPT");
	if ((proc & CPU_USE_IO_BITMAPS) &&
	    (((v = vmread(IO_BITMAP_A)) & 0xfff) || (vmread(IO_BITMAP_B) & 0xfff)))
		bad(IO_BITMAP_A, v, "I/O bitmap addresses must be 4 KiB aligned");
	if ((proc & CPU_USE_MSR_BITMAPS) && ((v = vmread(MSR_BITMAP)) & 0xfff))
		bad(MSR_BITMAP, v, "must be 4 KiB aligned");
	if ((proc2 & SEC_ENABLE_VPID) && !(v = vmread(VIRTUAL_PROCESSOR_ID)))
		bad(VIRTUAL_PROCESSOR_ID, v, "must not be 0 with enable VPID");
	if (proc2 & SEC_ENABLE_EPT) {
		v = vmread(EPT_POINTER);
		if ((v & 7) != 0 && (v & 7) != 6)
			bad(EPT_POINTER, v, "memory type (bits 2:0) must be UC (0) or WB (6)");
		if (((v >> 3) & 7) != 3)
			bad(EPT_POINTER, v, "page-walk length - 1 (bits 5:3) must be 3");
		if ((v & 0xf80) || (v >> cpu_features.phys_addr_bits))
			bad(EPT_POINTER, v, "reserved bits (11:7, beyond the address width) must be 0");
	}

	/* 27.2.1.3: the event to inject */
	u64 ev = vmread(VM_ENTRY_INTR_INFO);
	if (ev & INTR_INFO_VALID) {
		unsigned type = (ev & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
		unsigned vec = ev & INTR_INFO_VECTOR_MASK;
		if (type == 1 || type == 7)
			bad(VM_ENTRY_INTR_INFO, ev, "interruption type %u is reserved", type);
		if (type == INTR_TYPE_NMI && vec != 2)
			bad(VM_ENTRY_INTR_INFO, ev, "an NMI must have vector 2");
		if (type == INTR_TYPE_HW_EXCEPTION && vec > 31)
			bad(VM_ENTRY_INTR_INFO, ev, "a hardware exception must have vector <= 31");
		if (ev & 0x7ffff000u)
			bad(VM_ENTRY_INTR_INFO, ev, "bits 30:12 are reserved");
		bool pe = vmread(GUEST_CR0) & CR0_PE;
		bool code_vec = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
		bool want = type == INTR_TYPE_HW_EXCEPTION && code_vec &&
			    (pe || !(proc2 & SEC_UNRESTRICTED_GUEST));
		if (!!(ev & INTR_INFO_DELIVER_CODE) != want)
			bad(VM_ENTRY_INTR_INFO, ev, "deliver-error-code must be %d for this event "
			    "(type %u, vector %u, CR0.PE %d)", want, type, vec, pe);
		if (type >= INTR_TYPE_SW_INTR) {
			u64 len = vmread(VM_ENTRY_INSTRUCTION_LEN);
			bool zero_ok = vmx.caps.misc & VMX_MISC_ZERO_LEN_INJECT;
			if (len > 15 || (len == 0 && !zero_ok))
				bad(VM_ENTRY_INSTRUCTION_LEN, len, "must be 1-15 for a software event");
		}
	}
	return problems;
}
