/*
 * SVM vCPU state: the PVH entry state of a new VMCB, the register
 * accessors' SVM-specific rules (EFER.SVME hidden, LMA derived, CPL from
 * SS), event injection encoding and re-injection (AMD APM vol. 2, 15.20),
 * the interrupt window, ASID allocation, and the VMRUN consistency-check
 * diagnosis.
 *
 * unit-sources: arch/x86/svm/vmcb.c arch/x86/svm/inject.c arch/x86/svm/npt.c arch/x86/svm/domain.c arch/x86/svm/intercepts.c arch/x86/svm/iomap.c arch/x86/debugreg.c
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include "../../arch/x86/svm/svm.h"

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment ---------------------------------------------------------- */

/* 48: the C heap's addresses stand in for physical ones. */
struct cpu_features cpu_features = { .phys_addr_bits = 48 };
struct svm_cpu svm_cpu;

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * PAGE_SIZE);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, n * PAGE_SIZE);
	return (paddr_t)(uintptr_t)p;
}

paddr_t frame_alloc(void)
{
	return frame_alloc_contig(1, PAGE_SIZE);
}

void frame_free(paddr_t pa)
{
	free((void *)(uintptr_t)pa);
}

void frame_free_contig(paddr_t pa, u64 n)
{
	(void)n;
	free((void *)(uintptr_t)pa);
}

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_abort_msg("panic: %s", buf);
	abort();
}

static struct domain dom;
static struct vcpu vcpu0, vcpu1;

static void setup(void)
{
	memset(&dom, 0, sizeof(dom));
	memset(&vcpu0, 0, sizeof(vcpu0));
	memset(&vcpu1, 0, sizeof(vcpu1));
	dom.id = 3;
	dom.arch.p2m.root = 0x123000;
	ck_assert_int_eq(svm_intercepts_init(), 0);
	ck_assert_int_eq(svm_domain_init(&dom), 0);
	vcpu0.dom = vcpu1.dom = &dom;
	vcpu1.id = 1;
	ck_assert_int_eq(svm_vcpu_init(&vcpu0), 0);
	ck_assert_int_eq(svm_vcpu_init(&vcpu1), 0);
	dom.vcpus[0] = &vcpu0;
	dom.vcpus[1] = &vcpu1;
	dom.nr_vcpus = 2;
}

/* ---- initial state and accessors ------------------------------------------ */

START_TEST(vcpu_starts_in_pvh_entry_state)
{
	struct vseg cs, ds, tr;
	const struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	svm_get_seg(&vcpu0, VSEG_CS, &cs);
	svm_get_seg(&vcpu0, VSEG_DS, &ds);
	svm_get_seg(&vcpu0, VSEG_TR, &tr);
	/* 32-bit code and data, base 0, limit 4 GiB; 32-bit busy TSS. */
	ck_assert_uint_eq(cs.attr, 0xc9b);
	ck_assert_uint_eq(cs.limit, 0xffffffff);
	ck_assert_uint_eq(cs.base, 0);
	ck_assert_uint_eq(ds.attr, 0xc93);
	ck_assert_uint_eq(tr.attr, 0x8b);
	ck_assert_uint_eq(tr.limit, 0x67);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_CR0), CR0_PE | CR0_ET);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_CR4), 0);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_RFLAGS), 0x2);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_RIP), 0);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_EFER), 0);
	ck_assert_msg(vmcb->save.efer & EFER_SVME, "VMRUN needs EFER.SVME in the VMCB");
	ck_assert(vmcb->control.np_enable & NP_ENABLE);
	ck_assert_uint_eq(vmcb->control.n_cr3, 0x123000);
	ck_assert(vmcb->control.v_intr & V_INTR_MASKING);
	ck_assert_uint_eq(vmcb->save.g_pat, 0x0007040600070406ULL);
	ck_assert_msg(svm_vmcb_check(vmcb) && strstr(svm_vmcb_check(vmcb), "ASID"),
		      "a new VMCB fails only the ASID check until run() assigns one");
}
END_TEST

START_TEST(efer_hides_svme_and_derives_lma)
{
	const struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	/* The guest writes LME (and a bogus LMA) with paging off. */
	svm_set_reg(&vcpu0, VREG_EFER, EFER_LME | EFER_LMA | EFER_NXE);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_EFER), EFER_LME | EFER_NXE);
	ck_assert(vmcb->save.efer & EFER_SVME);
	/* Paging on: long mode is active. */
	svm_set_reg(&vcpu0, VREG_CR0, CR0_PE | CR0_ET | CR0_PG);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_EFER), EFER_LME | EFER_LMA | EFER_NXE);
	/* Clearing SVME from the guest's side does not reach the VMCB. */
	svm_set_reg(&vcpu0, VREG_EFER, EFER_LME);
	ck_assert(vmcb->save.efer & EFER_SVME);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_EFER), EFER_LME | EFER_LMA);
	svm_set_reg(&vcpu0, VREG_CR0, CR0_PE | CR0_ET);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_EFER), EFER_LME);
}
END_TEST

START_TEST(ss_dpl_is_the_cpl)
{
	struct vseg ss = { .sel = 0x2b, .attr = 0xcf3, .limit = 0xffffffff, .base = 0 };
	struct vseg got;

	setup();
	svm_set_seg(&vcpu0, VSEG_SS, &ss);
	ck_assert_uint_eq(vcpu_vmcb(&vcpu0)->save.cpl, 3);
	vcpu_vmcb(&vcpu0)->save.cpl = 0; /* e.g. the CPU's CPL after an exit */
	svm_get_seg(&vcpu0, VSEG_SS, &got);
	ck_assert_uint_eq(got.attr, 0xc93);
	ck_assert_uint_eq(got.sel, 0x2b);
}
END_TEST

/* ---- events --------------------------------------------------------------- */

START_TEST(inject_encodes_eventinj)
{
	struct vevent gp = { .vector = X86_EXC_GP, .type = VEVENT_EXCEPTION, .has_error = true,
			     .error_code = 0x10 };
	struct vevent irq = { .vector = 0xf3, .type = VEVENT_EXTINT };
	struct vevent nmi = { .type = VEVENT_NMI };

	setup();
	svm_inject(&vcpu0, &gp);
	/* vector 13, type 3, EV, V, error code in 63:32. */
	ck_assert_uint_eq(vcpu_vmcb(&vcpu0)->control.eventinj, 0x0000001080000b0dULL);
	svm_inject(&vcpu0, &irq);
	ck_assert_uint_eq(vcpu_vmcb(&vcpu0)->control.eventinj, 0x00000000800000f3ULL);
	svm_inject(&vcpu0, &nmi);
	ck_assert_uint_eq(vcpu_vmcb(&vcpu0)->control.eventinj, 0x0000000080000202ULL);
}
END_TEST

START_TEST(intr_open_needs_if_no_shadow_nothing_queued)
{
	struct vevent irq = { .vector = 0xf3, .type = VEVENT_EXTINT };
	struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	ck_assert(!svm_intr_open(&vcpu0)); /* IF = 0 at PVH entry */
	vmcb->save.rflags |= RFLAGS_IF;
	ck_assert(svm_intr_open(&vcpu0));
	vmcb->control.interrupt_shadow = INTERRUPT_SHADOW; /* right after STI */
	ck_assert(!svm_intr_open(&vcpu0));
	vmcb->control.interrupt_shadow = 0;
	svm_inject(&vcpu0, &irq);
	ck_assert(!svm_intr_open(&vcpu0));
}
END_TEST

START_TEST(interrupted_delivery_is_reinjected)
{
	struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	/* An injected interrupt was cut short by an NPF on the guest's IDT. */
	vmcb->control.eventinj = 0x80000030ULL;
	vmcb->control.exitcode = VMEXIT_NPF;
	vmcb->control.exitintinfo = 0x80000030ULL;
	svm_events_after_exit(vmcb, 0x80000030ULL);
	ck_assert_uint_eq(vmcb->control.eventinj, 0x80000030ULL);

	/* A #GP with its error code comes back whole. */
	vmcb->control.exitintinfo = 0x0000000480000b0dULL;
	svm_events_after_exit(vmcb, 0);
	ck_assert_uint_eq(vmcb->control.eventinj, 0x0000000480000b0dULL);

	/* Delivered (EXITINTINFO invalid): nothing stays queued. */
	vmcb->control.exitintinfo = 0;
	svm_events_after_exit(vmcb, 0);
	ck_assert_uint_eq(vmcb->control.eventinj, 0);

	/* INTn and INT3 re-execute instead. */
	vmcb->control.exitintinfo = 0x80000480ULL; /* soft int 0x80 */
	svm_events_after_exit(vmcb, 0);
	ck_assert_uint_eq(vmcb->control.eventinj, 0);
	vmcb->control.exitintinfo = 0x80000303ULL; /* #BP */
	svm_events_after_exit(vmcb, 0);
	ck_assert_uint_eq(vmcb->control.eventinj, 0);

	/* An INTn the kernel injected (RIP past it) must come back. */
	vmcb->save.rip = 0x2002;
	vmcb->control.exitintinfo = 0x80000480ULL;
	svm_events_after_exit(vmcb, 0x80000480ULL);
	ck_assert_uint_eq(vmcb->control.eventinj, 0x80000480ULL);
	ck_assert_uint_eq(vmcb->control.nrip, 0x2002);
}
END_TEST

START_TEST(intr_window_is_one_shot)
{
	struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	svm_want_intr_window(&vcpu0, true);
	ck_assert(vmcb->control.intercept_misc1 & INTERCEPT_VINTR);
	ck_assert(vmcb->control.v_intr & V_IRQ);
	ck_assert(vmcb->control.v_intr & V_INTR_MASKING);
	vmcb->control.exitcode = VMEXIT_VINTR;
	svm_events_after_exit(vmcb, 0);
	ck_assert(!(vmcb->control.intercept_misc1 & INTERCEPT_VINTR));
	ck_assert(!(vmcb->control.v_intr & V_IRQ));
	ck_assert_msg(vmcb->control.v_intr & V_INTR_MASKING, "V_INTR_MASKING lost");
}
END_TEST

/* CR8 writes exit whenever V_IRQ is set (QEMU 7.2 aborts otherwise) and
 * while a TPR window waits for the guest to lower CR8; never else. */
START_TEST(cr8_write_intercepted_only_while_a_window_is_armed)
{
	const u32 cr8_write = 1u << (16 + 8);
	struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	ck_assert(!(vmcb->control.intercept_cr & cr8_write));
	svm_want_intr_window(&vcpu0, true);
	ck_assert(vmcb->control.intercept_cr & cr8_write);
	svm_want_intr_window(&vcpu0, false);
	ck_assert(!(vmcb->control.intercept_cr & cr8_write));
	vmcb->control.v_intr |= 15; /* the guest wrote CR8 = 15 */
	ck_assert_uint_eq(svm_get_tpr(&vcpu0), 15);
	svm_want_tpr_window(&vcpu0, 15);
	ck_assert(vmcb->control.intercept_cr & cr8_write);
	ck_assert_msg(!(vmcb->control.v_intr & V_IRQ), "the TPR window uses no V_IRQ");
	ck_assert(!(vmcb->control.intercept_misc1 & INTERCEPT_VINTR));
	svm_want_tpr_window(&vcpu0, 0);
	ck_assert(!(vmcb->control.intercept_cr & cr8_write));
	ck_assert_uint_eq(svm_get_tpr(&vcpu0), 15);
	/* The CR0/CR3/CR4 write intercepts are untouched by all this. */
	ck_assert_uint_eq(vmcb->control.intercept_cr, (1u << 16) | (1u << 19) | (1u << 20));
}
END_TEST

/* ---- ASIDs ---------------------------------------------------------------- */

static void prepare(struct vcpu *v, u32 want_asid, u8 want_tlb)
{
	struct vmcb *vmcb = vcpu_vmcb(v);

	svm_asid_prepare(v, vmcb);
	ck_assert_msg(vmcb->control.guest_asid == want_asid && vmcb->control.tlb_control == want_tlb,
		      "vCPU %u: ASID %u TLB_CONTROL %u, want ASID %u TLB_CONTROL %u", v->id,
		      vmcb->control.guest_asid, vmcb->control.tlb_control, want_asid, want_tlb);
}

START_TEST(asids_per_vcpu_renewed_after_p2m_change)
{
	setup();
	svm_asid_init(4); /* ASIDs 1..3 */
	prepare(&vcpu0, 1, TLB_CONTROL_FLUSH_ALL_ASIDS); /* first entry ever */
	prepare(&vcpu1, 2, TLB_CONTROL_DO_NOTHING);      /* not vCPU 0's ASID */
	prepare(&vcpu0, 1, TLB_CONTROL_DO_NOTHING);      /* kept */
	svm_p2m_flush(&dom);
	prepare(&vcpu0, 3, TLB_CONTROL_DO_NOTHING);      /* fresh ASID, no flush */
	/* Out of ASIDs: new generation, flush everything once. */
	prepare(&vcpu1, 1, TLB_CONTROL_FLUSH_ALL_ASIDS);
	prepare(&vcpu0, 2, TLB_CONTROL_DO_NOTHING);
	prepare(&vcpu1, 1, TLB_CONTROL_DO_NOTHING);
	ck_assert_uint_eq(dom.arch.tag, 0);
}
END_TEST

START_TEST(failed_entry_keeps_the_pending_full_flush)
{
	setup();
	svm_asid_init(4);
	prepare(&vcpu0, 1, TLB_CONTROL_FLUSH_ALL_ASIDS);
	svm_asid_entry_failed(vcpu_vmcb(&vcpu0));
	prepare(&vcpu1, 2, TLB_CONTROL_FLUSH_ALL_ASIDS);
}
END_TEST

/* ---- diagnosis ------------------------------------------------------------ */

START_TEST(vmcb_check_names_the_failing_rule)
{
	struct vmcb *vmcb;

	setup();
	vmcb = vcpu_vmcb(&vcpu0);
	vmcb->control.guest_asid = 1;
	ck_assert_ptr_null(svm_vmcb_check(vmcb));
	/* Long mode without PAE. */
	svm_set_reg(&vcpu0, VREG_EFER, EFER_LME);
	svm_set_reg(&vcpu0, VREG_CR0, CR0_PE | CR0_PG);
	ck_assert_str_eq(svm_vmcb_check(vmcb), "EFER.LME and CR0.PG are set but CR4.PAE is clear");
	svm_set_reg(&vcpu0, VREG_CR4, CR4_PAE);
	ck_assert_ptr_null(svm_vmcb_check(vmcb));
	vmcb->save.cr0 |= CR0_NW;
	ck_assert_str_eq(svm_vmcb_check(vmcb), "CR0.NW is set while CR0.CD is clear");
	vmcb->save.cr0 &= ~CR0_NW;
	vmcb->control.intercept_misc2 &= ~INTERCEPT2_VMRUN;
	ck_assert_str_eq(svm_vmcb_check(vmcb), "the VMRUN intercept is clear");
}
END_TEST

/* svm_get_paging reports what get_reg and get_seg(SS) report, with
 * guest_mem.c's CPL rule: 0 without CR0.PE, 3 in virtual-8086 mode. */
START_TEST(get_paging_matches_get_reg_and_get_seg)
{
	static const struct { u64 cr0, rflags; u8 cpl; unsigned want_cpl; } c[] = {
		{ 0x10, 0x2, 3, 0 },                     /* real mode: CPL 0 whatever the field */
		{ 0x11, 0x2 | (1u << 17), 0, 3 },        /* virtual-8086 */
		{ 0x80000011, 0x2, 3, 3 },               /* protected, paging, user */
		{ 0x80000011, 0x2, 0, 0 },
	};
	setup();
	struct vmcb *vmcb = vcpu_vmcb(&vcpu0);
	vmcb->save.cr3 = 0x1234000;
	vmcb->save.cr4 = 0x20;
	vmcb->save.efer = EFER_SVME | 0x500;
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct guest_paging gp;
		struct vseg ss;
		vmcb->save.cr0 = c[i].cr0;
		vmcb->save.rflags = c[i].rflags;
		vmcb->save.cpl = c[i].cpl;
		svm_get_paging(&vcpu0, &gp);
		svm_get_seg(&vcpu0, VSEG_SS, &ss);
		ck_assert_uint_eq(gp.cr0, svm_get_reg(&vcpu0, VREG_CR0));
		ck_assert_uint_eq(gp.cr3, svm_get_reg(&vcpu0, VREG_CR3));
		ck_assert_uint_eq(gp.cr4, svm_get_reg(&vcpu0, VREG_CR4));
		ck_assert_uint_eq(gp.efer, svm_get_reg(&vcpu0, VREG_EFER));
		ck_assert_uint_eq(gp.cpl, c[i].want_cpl);
		if ((c[i].cr0 & 1) && !(c[i].rflags & (1u << 17)))
			ck_assert_uint_eq(gp.cpl, (ss.attr >> 5) & 3);
	}
}
END_TEST

/*
 * run.c skips saving the guest state for a refusal's report while
 * entry_clean holds: every write VMRUN's checks could refuse must clear
 * it; moving RIP (the fast path's only write) must not.
 */
START_TEST(entry_clean_cleared_by_every_checked_write)
{
	struct vseg ss;
	struct vevent ev = { .vector = 0x20, .type = VEVENT_EXTINT };
	static const enum vreg regs[] = { VREG_RSP, VREG_RFLAGS, VREG_CR0, VREG_CR2,
					  VREG_CR3, VREG_CR4, VREG_EFER };

	setup();
	ck_assert_msg(!vcpu_svm(&vcpu0)->entry_clean, "a new VMCB is not clean");
	vcpu_svm(&vcpu0)->entry_clean = true;
	svm_set_reg(&vcpu0, VREG_RIP, 0x1000);
	ck_assert_msg(vcpu_svm(&vcpu0)->entry_clean, "moving RIP keeps the fast path");
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		vcpu_svm(&vcpu0)->entry_clean = true;
		svm_set_reg(&vcpu0, regs[i], svm_get_reg(&vcpu0, regs[i]));
		ck_assert_msg(!vcpu_svm(&vcpu0)->entry_clean, "set_reg(%u) left it clean", regs[i]);
	}
	for (unsigned id = 0; id < VSEG_NR; id++) {
		vcpu_svm(&vcpu0)->entry_clean = true;
		svm_get_seg(&vcpu0, id, &ss);
		svm_set_seg(&vcpu0, id, &ss);
		ck_assert_msg(!vcpu_svm(&vcpu0)->entry_clean, "set_seg(%u) left it clean", id);
	}
	vcpu_svm(&vcpu0)->entry_clean = true;
	svm_inject(&vcpu0, &ev);
	ck_assert_msg(!vcpu_svm(&vcpu0)->entry_clean, "inject left it clean");
	ck_assert_msg(!vcpu_svm(&vcpu1)->entry_clean, "another vCPU's flag moved");
}
END_TEST

/* The fast way out of an exit does what set_reg(RIP, RIP + len) does. */
START_TEST(skip_insn_is_set_reg_rip_plus_len)
{
	struct vmcb *a, *b;

	setup();
	a = vcpu_vmcb(&vcpu0);
	b = vcpu_vmcb(&vcpu1);
	svm_set_reg(&vcpu0, VREG_RIP, 0xffffffff81000ffeULL);
	svm_set_reg(&vcpu1, VREG_RIP, 0xffffffff81000ffeULL);
	a->control.interrupt_shadow = b->control.interrupt_shadow = INTERRUPT_SHADOW;
	vcpu_svm(&vcpu0)->entry_clean = vcpu_svm(&vcpu1)->entry_clean = true;
	svm_skip_insn(&vcpu0, 3);
	svm_set_reg(&vcpu1, VREG_RIP, svm_get_reg(&vcpu1, VREG_RIP) + 3);
	ck_assert_uint_eq(svm_get_reg(&vcpu0, VREG_RIP), 0xffffffff81001001ULL);
	ck_assert_uint_eq(a->save.rip, b->save.rip);
	ck_assert_uint_eq(a->control.interrupt_shadow, b->control.interrupt_shadow);
	ck_assert(!(a->control.interrupt_shadow & INTERRUPT_SHADOW));
	ck_assert(vcpu_svm(&vcpu0)->entry_clean && vcpu_svm(&vcpu1)->entry_clean);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "svm-get-paging-matches-get-reg-and-get-seg", &get_paging_matches_get_reg_and_get_seg_ttest },
	{ "svm-vcpu-starts-in-pvh-entry-state", &vcpu_starts_in_pvh_entry_state_ttest },
	{ "svm-vcpu-efer-hides-svme-and-derives-lma", &efer_hides_svme_and_derives_lma_ttest },
	{ "svm-vcpu-ss-dpl-is-the-cpl", &ss_dpl_is_the_cpl_ttest },
	{ "svm-inject-encodes-eventinj", &inject_encodes_eventinj_ttest },
	{ "svm-inject-intr-open-needs-if-no-shadow-nothing-queued", &intr_open_needs_if_no_shadow_nothing_queued_ttest },
	{ "svm-inject-interrupted-delivery-is-reinjected", &interrupted_delivery_is_reinjected_ttest },
	{ "svm-inject-intr-window-is-one-shot", &intr_window_is_one_shot_ttest },
	{ "svm-inject-cr8-write-intercepted-only-while-a-window-is-armed",
	  &cr8_write_intercepted_only_while_a_window_is_armed_ttest },
	{ "svm-asid-per-vcpu-renewed-after-p2m-change", &asids_per_vcpu_renewed_after_p2m_change_ttest },
	{ "svm-asid-failed-entry-keeps-the-pending-full-flush", &failed_entry_keeps_the_pending_full_flush_ttest },
	{ "svm-vmcb-check-names-the-failing-rule", &vmcb_check_names_the_failing_rule_ttest },
	{ "svm-entry-clean-cleared-by-every-checked-write", &entry_clean_cleared_by_every_checked_write_ttest },
	{ "svm-skip-insn-is-set-reg-rip-plus-len", &skip_insn_is_set_reg_rip_plus_len_ttest },
	{ 0 },
};
