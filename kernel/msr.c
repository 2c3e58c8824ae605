/*
 * Guest MSR accesses that the back end intercepts. Reads and writes of
 * MSRs Keel does not know raise #GP, as Xen does, so guests probe with
 * rdmsr_safe/wrmsr_safe and carry on.
 */
#include <keel/apic_base.h>
#include <keel/domain.h>
#include <keel/mtrr.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <keel/vmexit.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/spec.h>
#include <asm/vendor.h>
#include <asm/vintc.h>
#include <public/xen.h>

#define MSR_IA32_TSC 0x10
/* AMD's interrupt-pending message register (BKDG for family 0Fh,
 * C001_0055): Linux reads it without _safe on CPUs with erratum 400, as
 * which QEMU's qemu64 model counts (family 0Fh). */
#define MSR_AMD_INT_PENDING_MSG 0xc0010055
/* AMD SYSCFG (APM vol. 2 7.7.1): Linux reads it beside the fixed MTRRs
 * (MtrrFixDramEn/ModEn, bits 18-19). Reads 0 (those bits clear: the
 * fixed ranges are plain memory types); writing 0 is kept as a no-op,
 * any set bit is refused with #GP. */
#define MSR_AMD_SYSCFG 0xc0010010
#define MSR_IA32_MISC_ENABLE 0x1a0
/* The microcode revision: IA32_BIOS_SIGN_ID on Intel (SDM vol. 4 table
 * 2-2; the revision is bits 63:32), PATCH_LEVEL on AMD, the same index.
 * Linux's early_init_intel runs the SDM's "write 0, CPUID 1, read"
 * sequence with native_wrmsrl/native_rdmsrl (no _safe): a #GP there is
 * an "unchecked MSR access error" warning with a stack trace. Reads 0:
 * Keel loads no microcode and has no revision of its own to report (Xen
 * forwards that of its last load, xen/arch/x86/msr.c). Writing 0, the
 * sequence's first step, is accepted on Intel only, as Xen's guest_wrmsr
 * does; every other write is #GP (the register is read-only on both). */
#define MSR_IA32_UCODE_REV 0x8b
#define MSR_XEN_HYPERCALL_PAGE 0x40000000 /* CPUID base+2 EBX */

/* IA32_TSC_AUX exists where RDTSCP (CPUID 8000_0001 EDX[27]) or RDPID
 * (CPUID 7.0 ECX[22]) does (SDM vol. 4 table 2-2): as the guest's CPUID
 * says, so a guest told neither gets #GP. */
static bool has_tsc_aux(struct vcpu *v)
{
	struct cpuid_regs r;

	cpuid_guest(v, 0x80000001, 0, &r);
	if (r.edx & (1u << 27))
		return true;
	cpuid_guest(v, 7, 0, &r);
	return r.ecx & (1u << 22);
}

/* The guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]; 36 without the
 * leaf, SDM vol. 3A 4.1.4): the MTRR address bits end there. */
static unsigned guest_phys_bits(struct vcpu *v)
{
	struct cpuid_regs r;

	cpuid_guest(v, 0x80000000, 0, &r);
	if (r.eax < 0x80000008)
		return 36;
	cpuid_guest(v, 0x80000008, 0, &r);
	return r.eax & 0xff;
}

/* The guest's vendor is the host's (kernel/cpuid.c passes leaf 0
 * through): "AuthenticAMD" or "HygonGenuine" use AMD's MSRs. */
static bool guest_is_amd(struct vcpu *v)
{
	struct cpuid_regs r;

	cpuid_guest(v, 0, 0, &r);
	return (r.ebx == 0x68747541 && r.edx == 0x69746e65) || /* "Auth" "enti" */
	       (r.ebx == 0x6f677948 && r.edx == 0x6e65476e);   /* "Hygo" "nGen" */
}

#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define STUB_SIZE XEN_HYPERCALL_STUB_SIZE
#define HYPERCALL_IRET 23

/*
 * The hypercall page (Xen's hypercall_page_init for HVM guests):
 * 128 stubs of 32 bytes, stub i = "mov eax, i; <vmmcall|vmcall>; ret".
 * The iret stub is ud2: PVH guests must not use it.
 */
static int write_hypercall_page(struct vcpu *v, u64 gpa)
{
	static u8 page[PAGE_SIZE];

	memset(page, 0xcc, sizeof(page)); /* int3 between stubs */
	for (u32 i = 0; i < XEN_HYPERCALL_PAGE_STUBS; i++) {
		u8 *s = page + i * STUB_SIZE;
		if (i == HYPERCALL_IRET) {
			s[0] = 0x0f;
			s[1] = 0x0b;
			continue;
		}
		s[0] = 0xb8; /* mov eax, imm32 */
		memcpy(s + 1, &i, 4);
		memcpy(s + 5, vendor->hypercall_insn, 3);
		s[8] = 0xc3; /* ret */
	}
	return copy_to_gpa(v->dom, gpa, page, sizeof(page));
}

static bool pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

enum exit_action handle_msr_read(struct vcpu *v, struct vm_exit *e)
{
	u64 val;
	int rc;

	/* The virtual LAPIC's MSRs (IA32_APIC_BASE, TSC deadline, x2APIC)
	 * on a vCPU that has one; dom0's fall through to the table. */
	rc = vintc_msr_read(v, e->msr.index, &val);
	if (rc == -EINVAL)
		return EXIT_INJECT_GP;
	if (!rc)
		goto done;

	switch (e->msr.index) {
	case MSR_EFER:
		val = vendor->get_reg(v, VREG_EFER);
		break;
	case MSR_IA32_APIC_BASE:
		val = guest_apic_base(v->id);
		break;
	case MSR_IA32_PAT:
		val = v->msr_pat;
		break;
	case MSR_AMD_INT_PENDING_MSG:
		if (!guest_is_amd(v))
			return EXIT_INJECT_GP;
		val = 0; /* no C1E: Linux's AMD erratum-400 check reads it */
		break;
	case MSR_AMD_SYSCFG:
		if (!guest_is_amd(v))
			return EXIT_INJECT_GP;
		val = 0;
		break;
	case MSR_IA32_MISC_ENABLE:
		val = 1; /* fast strings */
		break;
	case MSR_IA32_UCODE_REV:
		val = 0;
		break;
	case MSR_IA32_TSC:
		val = rdtsc();
		break;
	case MSR_XEN_HYPERCALL_PAGE:
		val = 0; /* Xen: reads return 0 */
		break;
	case MSR_TSC_AUX:
		if (!has_tsc_aux(v))
			return EXIT_INJECT_GP;
		val = v->arch.tsc_aux;
		break;
	default:
		if (!mtrr_read(&v->mtrr, e->msr.index, &val))
			break;
		/* The speculation-control MSRs, as their CPUID bits say. */
		rc = spec_msr_read(&spec_guest, v->arch.spec_ctrl, e->msr.index, &val);
		if (!rc)
			break;
		pr_debug("d%uv%u: rdmsr 0x%x: not emulated, #GP\n", v->dom->id, v->id, e->msr.index);
		return EXIT_INJECT_GP;
	}
done:
	v->arch.gprs[GPR_RAX] = (u32)val;
	v->arch.gprs[GPR_RDX] = val >> 32;
	return EXIT_ADVANCE;
}

enum exit_action handle_msr_write(struct vcpu *v, struct vm_exit *e)
{
	u64 val = (v->arch.gprs[GPR_RAX] & 0xffffffffu) | (v->arch.gprs[GPR_RDX] << 32);
	unsigned actions;
	int rc = vintc_msr_write(v, e->msr.index, val);

	if (rc == -EINVAL)
		return EXIT_INJECT_GP;
	if (!rc)
		return EXIT_ADVANCE;
	switch (e->msr.index) {
	case MSR_EFER:
		if (val & ~EFER_GUEST_BITS)
			return EXIT_INJECT_GP;
		vendor->set_reg(v, VREG_EFER, val);
		break;
	case MSR_IA32_APIC_BASE:
		if (val != guest_apic_base(v->id))
			return EXIT_INJECT_GP; /* relocation and x2APIC: not yet */
		break;
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return EXIT_INJECT_GP;
		v->msr_pat = val;
		/* The guest's page tables' PAT indexes now pick its types;
		 * the nested tables let them through for RAM (paging.c,
		 * vmx/ept.c; docs/memory-types.md). */
		vendor->set_reg(v, VREG_PAT, val);
		break;
	case MSR_AMD_SYSCFG:
		if (!guest_is_amd(v) || val)
			return EXIT_INJECT_GP;
		break;
	case MSR_IA32_UCODE_REV:
		if (guest_is_amd(v) || val)
			return EXIT_INJECT_GP;
		break;
	case MSR_TSC_AUX:
		/* Bits 63:32 are reserved (#GP). Each vCPU has its own value;
		 * the back end puts it in the register while the vCPU runs. */
		if (!has_tsc_aux(v) || (val >> 32))
			return EXIT_INJECT_GP;
		v->arch.tsc_aux = val;
		break;
	case MSR_XEN_HYPERCALL_PAGE:
		/* The low 12 bits select which page of a multi-page area;
		 * Keel has one page, so they must be 0. */
		if ((val & ~PAGE_MASK) || write_hypercall_page(v, val)) {
			pr_debug("d%uv%u: hypercall page at 0x%lx refused (not a page of the domain's RAM)\n",
				 v->dom->id, v->id, val);
			return EXIT_INJECT_GP;
		}
		break;
	default:
		if (mtrr_is_msr(e->msr.index)) {
			if (mtrr_write(&v->mtrr, e->msr.index, val, guest_phys_bits(v)))
				return EXIT_INJECT_GP;
			break;
		}
		/* The speculation-control MSRs: the value goes to the real
		 * MSR at the next entry (arch/x86/spec.c); IBPB and L1D flush
		 * requests are carried out now, for this guest. */
		if (!spec_msr_write(&spec_guest, &v->arch.spec_ctrl, e->msr.index, val, &actions)) {
			spec_do_actions(actions);
			break;
		}
		pr_debug("d%uv%u: wrmsr 0x%x <- 0x%lx: not emulated, #GP\n", v->dom->id, v->id,
			 e->msr.index, val);
		return EXIT_INJECT_GP;
	}
	return EXIT_ADVANCE;
}
