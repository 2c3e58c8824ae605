/*
 * #VMEXIT decoding: the VMCB's EXITCODE/EXITINFO1/EXITINFO2 become a
 * neutral struct vm_exit (exit codes: AMD APM vol. 2 appendix C; the
 * EXITINFO formats: 15.8-15.12 and 15.25.6). Nothing is handled here.
 */
#include <lib/string.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include <asm/insn.h>
#include <asm/paging.h>
#include "svm.h"

/* Exceptions that push an error code (APM 8.2), which the exception
 * intercept reports in EXITINFO1 (APM 15.12). */
#define EXC_HAS_ERROR_CODE                                                  \
	((1u << X86_EXC_DF) | (1u << X86_EXC_TS) | (1u << X86_EXC_NP) |     \
	 (1u << X86_EXC_SS) | (1u << X86_EXC_GP) | (1u << X86_EXC_PF) |     \
	 (1u << X86_EXC_AC) | (1u << X86_EXC_CP) | (1u << 29) | (1u << 30))

/*
 * The length of the instruction at RIP if it is the one last measured
 * (insn_fetch.c `insn_len_cached`), with the paging registers and CS
 * read straight from the VMCB: a loop of CPUIDs or hypercalls exits at
 * the same bytes every time, and the vendor interface's register calls
 * cost as much as the check itself (docs/PERFORMANCE.md). The VMCB's CS
 * attributes are in the compressed format struct vseg uses (L is bit 9).
 */
static bool insn_len_cached_svm(struct vcpu *v, const struct vmcb *vmcb, u8 *len)
{
	struct guest_paging gp;
	bool l64;

	svm_get_paging(v, &gp);
	l64 = (gp.efer & EFER_LMA) && (vmcb->save.cs.attrib & (1u << 9));
	return insn_len_cached(v, &gp, l64 ? vmcb->save.rip
					   : (vmcb->save.cs.base + vmcb->save.rip) & 0xffffffffULL,
			       l64, len);
}

/*
 * The tight re-check of the last exit's instruction: a loop of CPUIDs or
 * hypercalls exits at the same RIP, under the same paging registers,
 * through the same guest page-table entries, at the same bytes. The
 * generic check (insn_len_cached_svm above) builds a struct guest_paging,
 * searches the length cache and re-validates the fetch walk through
 * general loops, about 210 instructions here; this compares the same
 * things directly, in about 70 (docs/PERFORMANCE.md, fifth round).
 *
 * Why it is exact. The record is taken only right after the generic
 * check answered (insn_len_cached_deps), with the raw VMCB fields every
 * input of that answer derives from: the linear address (RIP, CS.base,
 * CS.L through CS.attrib, EFER.LMA), the walk's registers (CR0, CR3, CR4,
 * EFER, and the CPL from CR0.PE, RFLAGS.VM and the VMCB's CPL field, as
 * svm_get_paging derives it). The raw fields are compared whole (EFER
 * with SVME, all of CS.attrib), which is stricter than the derived
 * values, never looser. Then the p2m generation: equal, no p2m or RAM
 * change since, so the host pointers kept still map the same guest
 * frames, which are the guest's own RAM (gpa_ptr); only then are they
 * read: every page-table entry the walk read (a guest walk is a function
 * of the registers, the address and those entries, guest_mem.c `walk`),
 * and the instruction's bytes (a length is a function of the bytes and
 * the code size). Equal inputs, equal answer: the same length the full
 * decode gives. What is read is the guest's memory and nothing else, so
 * a guest racing its own page tables can at worst get the length its
 * own bytes had, as with the generic check.
 */
static bool insn_last_hit(struct vcpu *v, const struct vmcb *vmcb, u8 *len)
{
	struct svm_vcpu *sv = vcpu_svm(v);
	const struct vmcb_save *s = &vmcb->save;
	const struct svm_insn_last *l = &sv->insn_last[sv->insn_last_hit];
	u64 diff;

	if (l->rip != s->rip || !l->deps.len) {
		l = NULL;
		for (unsigned i = 0; i < SVM_INSN_LAST_SLOTS; i++)
			if (sv->insn_last[i].deps.len && sv->insn_last[i].rip == s->rip) {
				l = &sv->insn_last[i];
				sv->insn_last_hit = (u8)i;
				break;
			}
		if (!l)
			return false;
	}
	diff = (s->cs.base ^ l->cs_base) | (u64)(s->cs.attrib ^ l->cs_attrib) |
	       (s->cr3 ^ l->cr3) | (s->cr0 ^ l->cr0) | (s->cr4 ^ l->cr4) |
	       (s->efer ^ l->efer) | (u64)(s->cpl ^ l->cpl) |
	       ((s->rflags & RFLAGS_VM) ^ l->rflags_vm) | (v->dom->mem_gen ^ l->deps.gen);
	if (diff || !insn_deps_hold(&l->deps))
		return false;
	*len = l->deps.len;
	return true;
}

/* After a hit of the generic check: remember it for insn_last_hit, in
 * the slot this RIP had (what it rested on changed) or the next one. */
static void insn_last_record(struct vcpu *v, const struct vmcb *vmcb)
{
	struct svm_vcpu *sv = vcpu_svm(v);
	const struct vmcb_save *s = &vmcb->save;
	unsigned slot = sv->insn_last_next;
	struct svm_insn_last *l;

	for (unsigned i = 0; i < SVM_INSN_LAST_SLOTS; i++)
		if (sv->insn_last[i].deps.len && sv->insn_last[i].rip == s->rip)
			slot = i;
	if (slot == sv->insn_last_next)
		sv->insn_last_next = (u8)((slot + 1) % SVM_INSN_LAST_SLOTS);
	l = &sv->insn_last[slot];
	if (!insn_len_cached_deps(v, &l->deps))
		return;
	l->rip = s->rip;
	l->cs_base = s->cs.base;
	l->cs_attrib = s->cs.attrib;
	l->cr0 = s->cr0;
	l->cr3 = s->cr3;
	l->cr4 = s->cr4;
	l->efer = s->efer;
	l->cpl = s->cpl;
	l->rflags_vm = s->rflags & RFLAGS_VM;
	sv->insn_last_hit = (u8)slot;
}

/* The length when the tight re-check did not answer: the generic cache
 * (recorded for the re-check when it answers), else a fetch and decode.
 * Out of line: its frame would cost every exit. */
static __attribute__((noinline)) u8 insn_len_measured(struct vcpu *v, const struct vmcb *vmcb)
{
	u8 len;

	if (insn_len_cached_svm(v, vmcb, &len)) {
		insn_last_record(v, vmcb);
		return len;
	}
	if (insn_fetch_and_length(v, vmcb->save.rip, &len) == 0 && len >= 1 &&
	    len <= INSN_MAX_LEN)
		return len;
	return 0;
}

/*
 * Length of the instruction that caused an intercept the kernel will step
 * over. With NRIP save (CPUID 8000_000a EDX[3]) the CPU stores the next
 * RIP in the VMCB; without it (QEMU TCG) the instruction is fetched and
 * measured. RIP and nRIP are offsets in CS, so their difference is the
 * length in any mode. 0 means unknown: the kernel then stops the domain
 * rather than guess.
 */
static u8 intercepted_insn_len(struct vcpu *v, const struct vmcb *vmcb)
{
	u8 len;

	if (svm_caps.nrips) {
		u64 n = vmcb->control.nrip - vmcb->save.rip;
		if (n >= 1 && n <= INSN_MAX_LEN)
			return (u8)n;
	}
	if (insn_last_hit(v, vmcb, &len))
		return len;
	return insn_len_measured(v, vmcb);
}

/* IOIO (APM 15.10.2): EXITINFO1 says port, size, direction, string, REP;
 * EXITINFO2 always holds the RIP of the next instruction, NRIP save or
 * not, so the length is known even on QEMU TCG. */
static void decode_io(const struct vmcb *vmcb, struct vm_exit *e)
{
	u64 info = vmcb->control.exitinfo1;
	u64 next = vmcb->control.exitinfo2 - vmcb->save.rip;

	e->reason = EXIT_IO;
	e->io.port = (u16)(info >> IOIO_PORT_SHIFT);
	e->io.size = (info & IOIO_SZ32) ? 4 : (info & IOIO_SZ16) ? 2 : 1;
	e->io.in = info & IOIO_TYPE_IN;
	e->io.string = info & IOIO_STR;
	e->io.rep = info & IOIO_REP;
	e->insn_len = (next >= 1 && next <= INSN_MAX_LEN) ? (u8)next : 0;
}

/*
 * Nested page fault (APM 15.25.6): EXITINFO2 is the guest-physical
 * address, EXITINFO1 a #PF-style error code. U/S is always set (nested
 * walks are user accesses) and says nothing. Bit 33 marks a fault on the
 * guest's own page tables, which the CPU reads (and writes A/D bits in)
 * as data. SVM does not report the guest-virtual address.
 */
static void decode_npf(const struct vmcb *vmcb, struct vm_exit *e)
{
	u64 info = vmcb->control.exitinfo1;

	e->reason = EXIT_NPF;
	e->npf.gpa = vmcb->control.exitinfo2;
	e->npf.gva = 0;
	e->npf.gva_valid = false;
	e->npf.present = info & NPF_P;
	if (info & NPF_ID)
		e->npf.access = PT_X;
	else if (info & NPF_RW)
		e->npf.access = PT_W;
	else
		e->npf.access = PT_R;
}

/* Exception intercepts (APM 15.12): EXITINFO1 holds the error code when
 * the exception has one, EXITINFO2 the faulting address for #PF. */
static void decode_exception(const struct vmcb *vmcb, unsigned vector,
			     struct vm_exit *e)
{
	e->reason = EXIT_EXCEPTION;
	e->exc.vector = (u8)vector;
	e->exc.has_error = EXC_HAS_ERROR_CODE & (1u << vector);
	e->exc.error_code = e->exc.has_error ? (u32)vmcb->control.exitinfo1 : 0;
	e->exc.cr2 = vector == X86_EXC_PF ? vmcb->control.exitinfo2 : 0;
}

/*
 * CR access (exit codes 0x00-0x1f). Keel intercepts writes to CR0, CR3
 * and CR4 (cr.c says why), which cr.c decodes and checks. Reads are not
 * intercepted; for them only decode assists (APM "Decode Assists") say
 * which GPR a MOV used; otherwise `gpr` is GPR_NR, an index the kernel
 * refuses.
 */
static void decode_cr(struct vcpu *v, const struct vmcb *vmcb, u64 code,
		      struct vm_exit *e)
{
	u64 info = vmcb->control.exitinfo1;

	if (code >= VMEXIT_CR0_WRITE) {
		svm_cr_write_decode(v, vmcb, (unsigned)(code & 0xf), e);
		return;
	}
	e->reason = EXIT_CR_ACCESS;
	e->cr.cr = code & 0xf;
	e->cr.write = code >= VMEXIT_CR0_WRITE;
	if (svm_caps.decode_assists && (info & CR_EXITINFO_MOV))
		e->cr.gpr = info & CR_EXITINFO_GPR_MASK;
	else
		e->cr.gpr = GPR_NR;
	e->insn_len = intercepted_insn_len(v, vmcb);
}

void svm_exit_decode(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
{
	u64 code = vmcb->control.exitcode;

	/* The header only: each reason below fills every field of the union
	 * its handler reads (exit.h says which), and the decoders that fill
	 * only part of theirs (CR accesses) start from a cleared union. The
	 * whole 56 bytes cleared were about 10 instructions per exit. */
	e->reason = EXIT_UNKNOWN;
	e->raw = code;
	e->qual = vmcb->control.exitinfo1;
	e->insn_len = 0;
	e->cpl = 0;

	switch (code) {
	case VMEXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case VMEXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case VMEXIT_IOIO:
		decode_io(vmcb, e);
		return;
	case VMEXIT_MSR:
		/* EXITINFO1: 0 RDMSR, 1 WRMSR (APM 15.11); the MSR is in ECX. */
		e->reason = vmcb->control.exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->msr.index = (u32)v->arch.gprs[GPR_RCX];
		break;
	case VMEXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		/* What svm_get_seg reports as SS.DPL (vmcb.c). */
		e->cpl = vmcb->save.cpl & 3u;
		break;
	case VMEXIT_NPF:
		decode_npf(vmcb, e);
		return;
	case VMEXIT_SHUTDOWN:
		/* Shutdown: a triple fault, or #MC with CR4.MCE clear. */
		e->reason = EXIT_TRIPLE_FAULT;
		return;
	case VMEXIT_INTR:
		/* A physical interrupt (the host timer), taken by the host
		 * already (run.c). The guest resumes at the same RIP. */
		e->reason = EXIT_EXTINT;
		return;
	case VMEXIT_SMI:
	case VMEXIT_INIT:
		/* A host event, held while GIF=0; the host gets it after STGI.
		 * The guest resumes at the same RIP. */
		e->reason = EXIT_EXTINT;
		return;
	case VMEXIT_NMI:
		e->reason = EXIT_NMI;
		return;
	case VMEXIT_VINTR:
		e->reason = EXIT_INTR_WINDOW;
		return;
	case VMEXIT_VMRUN:
	case VMEXIT_VMLOAD:
	case VMEXIT_VMSAVE:
	case VMEXIT_STGI:
	case VMEXIT_CLGI:
	case VMEXIT_SKINIT:
	case VMEXIT_INVLPGA:
	case VMEXIT_MONITOR: /* hidden by CPUID: #UD as well */
	case VMEXIT_MWAIT:
		e->reason = EXIT_VIRT_INSN;
		break;
	case VMEXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case VMEXIT_INVD:
	case VMEXIT_WBINVD:
		e->reason = EXIT_CACHE_FLUSH;
		break;
	case VMEXIT_INVALID:
	case VMEXIT_INVALID_32:
		/* VMRUN refused the VMCB (APM 15.5.1); nothing ran. */
		e->reason = EXIT_ENTRY_FAILED;
		return;
	default:
		memset(&e->cr, 0, sizeof(*e) - __builtin_offsetof(struct vm_exit, cr));
		if (code >= VMEXIT_EXCP_BASE && code < VMEXIT_EXCP_BASE + 32) {
			decode_exception(vmcb, (unsigned)(code - VMEXIT_EXCP_BASE), e);
			return;
		}
		if (code < VMEXIT_DR0_READ) {
			decode_cr(v, vmcb, code, e);
			return;
		}
		e->reason = EXIT_UNKNOWN;
		return;
	}
	/* The reasons that broke out of the switch are instructions the
	 * kernel may step over. */
	e->insn_len = intercepted_insn_len(v, vmcb);
}
