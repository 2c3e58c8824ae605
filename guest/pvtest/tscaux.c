/*
 * role=tscaux tag=T [rounds=N]: IA32_TSC_AUX is this vCPU's own. Where
 * CPUID shows RDTSCP, the domU writes T to IA32_TSC_AUX, then over N
 * yields (another domU with another tag runs in between) RDTSCP's ECX
 * and RDMSR must both return T. (Bits 63:32 are reserved; where the MSR
 * is passed through, VMX, the CPU decides, and Bochs 2.7 ignores them.)
 * Where CPUID shows neither RDTSCP nor RDPID, the MSR must #GP.
 */
#include <lib/string.h>
#include <public/sched.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"
#include "pvtest.h"


static u32 rdtscp_aux(void)
{
	u32 lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

void role_tscaux(void)
{
	u64 tag = arg_u64("tag") & 0xffffffffULL, rounds = arg_u64_or("rounds", 50), got = 0;
	bool rdtscp = cpuid(0x80000001).edx & (1u << 27);
	bool rdpid = cpuid(0).eax >= 7 && (cpuid_count(7, 0).ecx & (1u << 22));

	if (!rdtscp) {
		if (!rdpid && (rdmsr_safe(MSR_TSC_AUX, &got) || wrmsr_safe(MSR_TSC_AUX, tag)))
			fail("IA32_TSC_AUX accessible although CPUID shows neither RDTSCP nor RDPID");
		printf("pvtest: tscaux: PASS CPUID shows no RDTSCP; nothing to check\n");
		return;
	}
	if (!rdmsr_safe(MSR_TSC_AUX, &got))
		fail("rdmsr IA32_TSC_AUX: #GP although RDTSCP is shown");
	if (got)
		fail("IA32_TSC_AUX is 0x%lx at start, not 0", got);
	if (!wrmsr_safe(MSR_TSC_AUX, tag))
		fail("wrmsr IA32_TSC_AUX <- 0x%lx: #GP", tag);
	for (u64 i = 0; i < rounds; i++) {
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
		u32 aux = rdtscp_aux();
		if (aux != tag)
			fail("RDTSCP returned TSC_AUX 0x%x after %lu yields; this vCPU wrote 0x%lx", aux,
			     i + 1, tag);
		if (!rdmsr_safe(MSR_TSC_AUX, &got) || got != tag)
			fail("rdmsr IA32_TSC_AUX 0x%lx after %lu yields; wrote 0x%lx", got, i + 1, tag);
	}
	printf("pvtest: tscaux: PASS RDTSCP and RDMSR returned this vCPU's TSC_AUX 0x%lx over "
	       "%lu yields\n", tag, rounds);
}
