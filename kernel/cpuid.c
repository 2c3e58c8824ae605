/*
 * CPUID as guests see it: the host's leaves with what Keel does not
 * virtualize taken out, plus Xen's leaves at 0x40000000
 * (xen/include/public/arch-x86/cpuid.h; docs/xen-abi.md section 1).
 */
#include <keel/domain.h>
#include <keel/vmexit.h>
#include <asm/cpu.h>
#include <asm/fpu.h>
#include <asm/spec.h>
#include <asm/vendor.h>
#include <asm/vintc.h>
#include <public/cpuid.h>

/* The Xen version guests are told: 4.17. Linux skips XS_RESET_WATCHES
 * below major 4; nothing else depends on the number. */
#define KEEL_XEN_MAJOR 4
#define KEEL_XEN_MINOR 17
#define KEEL_XEN_LAST_LEAF XEN_CPUID_LEAF(4)

/* MSR the guest writes to get its hypercall page (base+2 EBX). */
#define XEN_HYPERCALL_MSR 0x40000000

/* Leaf 1 ECX bits hidden: bit 5, hardware virtualization (no nesting), SMX, EST,
 * TM2, MONITOR (MWAIT is not virtualized), PDCM, x2APIC and TSC-deadline
 * (given back below to vCPUs with a virtual LAPIC, asm/vintc.h).
 * XSAVE/OSXSAVE/AVX: fpu_cpuid() (asm/fpu.h). */
#define LEAF1_ECX_HIDE ((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | \
			(1u << 15) | (1u << 21) | (1u << 24))
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_ECX_X2APIC (1u << 21)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_EDX_APIC (1u << 9)
/* Leaf 1 EDX bits hidden: MCE, MCA, DS, ACPI (thermal), HTT, TM, PBE. */
#define LEAF1_EDX_HIDE ((1u << 7) | (1u << 14) | (1u << 21) | (1u << 22) | (1u << 28) | \
			(1u << 29) | (1u << 31))
/* 0x80000001 ECX: bit 2 (hardware virtualization), SKINIT, WDT, LWP
 * (APM vol. 3 E.4.2). */
#define EXT1_ECX_HIDE ((1u << 2) | (1u << 12) | (1u << 13) | (1u << 15))
/* Leaf 7 EBX: TSC_ADJUST (Keel has no IA32_TSC_ADJUST MSR: hidden, so
 * Linux's TSC sync check never reads it), SGX, HLE, RTM, MPX, PQM/PQE
 * (not virtualized). */
#define LEAF7_EBX_HIDE ((1u << 1) | (1u << 2) | (1u << 4) | (1u << 11) | (1u << 12) | (1u << 14) | \
			(1u << 15))

static void xen_leaves(struct vcpu *v, u32 leaf, struct cpuid_regs *r)
{
	*r = (struct cpuid_regs){ 0 };
	switch (leaf) {
	case XEN_CPUID_LEAF(0):
		r->eax = KEEL_XEN_LAST_LEAF;
		r->ebx = XEN_CPUID_SIGNATURE_EBX;
		r->ecx = XEN_CPUID_SIGNATURE_ECX;
		r->edx = XEN_CPUID_SIGNATURE_EDX;
		break;
	case XEN_CPUID_LEAF(1):
		r->eax = (KEEL_XEN_MAJOR << 16) | KEEL_XEN_MINOR;
		break;
	case XEN_CPUID_LEAF(2):
		r->eax = 1; /* one hypercall page */
		r->ebx = XEN_HYPERCALL_MSR;
		break;
	case XEN_CPUID_LEAF(4):
		/* HVM leaf: vCPU and domain ids present. Not the per-vCPU
		 * upcall vector (bit 6): Linux then uses CALLBACK_IRQ. */
		r->eax = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT;
		r->ebx = v->id;
		r->ecx = v->dom->id;
		break;
	default:
		break; /* leaf 3 (TSC mode) and the rest: zeros */
	}
}

void cpuid_guest(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *out)
{
	struct cpuid_regs r;

	if (leaf >= XEN_CPUID_FIRST_LEAF && leaf <= 0x4000ffff) {
		if (leaf <= KEEL_XEN_LAST_LEAF)
			xen_leaves(v, leaf, &r);
		else
			r = (struct cpuid_regs){ 0 };
	} else {
		cpuid_count(leaf, sub, &r);
		switch (leaf) {
		case 1:
			r.ecx = (r.ecx & ~LEAF1_ECX_HIDE) | LEAF1_ECX_HYPERVISOR;
			r.edx &= ~LEAF1_EDX_HIDE;
			/* Initial APIC id = 2 * vCPU id (libxl's layout), one
			 * logical processor per package. */
			r.ebx = (r.ebx & 0x0000ffffu) | ((v->id * 2) << 24) | (1u << 16);
			/* A vCPU with a virtual LAPIC has x2APIC mode and the
			 * TSC-deadline timer, as Xen's PVH domUs see them. */
			if (vintc_present(v))
				r.ecx |= LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: EDX is the x2APIC ID, which the
			 * virtual LAPIC reports (the host's would contradict
			 * MSR 0x802 and the MADT). */
			if (vintc_present(v))
				r.edx = vintc_apic_id(v);
			break;
		case 5:  /* MONITOR/MWAIT: hidden */
		case 6:  /* thermal and power management */
		case 0xa: /* architectural performance monitoring */
			r = (struct cpuid_regs){ 0 };
			break;
		case 7:
			if (sub == 0)
				r.ebx &= ~LEAF7_EBX_HIDE;
			break;
		case 0x80000001:
			r.ecx &= ~EXT1_ECX_HIDE;
			break;
		case 0x8000000a: /* virtualization features: no nesting */
			r = (struct cpuid_regs){ 0 };
			break;
		default:
			break;
		}
		/* XSAVE, AVX and leaf 0xd: as far as the state is switched. */
		fpu_cpuid(v, leaf, sub, &r);
		/* Leaf 7.0 ECX/EDX, 7.2 EDX, 0x80000008 EBX and 0x80000021
		 * EAX: the speculation bits and the others that promise MSRs,
		 * from the same table as their MSRs (kernel/spec_msr.c). */
		spec_guest_cpuid(&spec_guest, leaf, sub, &r);
	}
	*out = r;
}

enum exit_action handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
	u64 *g = v->arch.gprs;
	struct cpuid_regs r;
	(void)e;

	cpuid_guest(v, (u32)g[GPR_RAX], (u32)g[GPR_RCX], &r);
	g[GPR_RAX] = r.eax;
	g[GPR_RBX] = r.ebx;
	g[GPR_RCX] = r.ecx;
	g[GPR_RDX] = r.edx;
	return EXIT_ADVANCE;
}
