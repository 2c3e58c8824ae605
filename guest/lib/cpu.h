/*
 * Instruction wrappers for Keel's guests (CPL 0, 64-bit mode). Each one is
 * the bare instruction; the *_safe variants (traps.c) survive a #GP.
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <lib/types.h>

#define MSR_IA32_APIC_BASE 0x0000001BU
#define MSR_EFER           0xC0000080U
#define MSR_TSC_AUX        0xC0000103U

#define CPUID_1_ECX_VMX        (1U << 5)
#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_80000001_ECX_SVM (1U << 2)
#define CPUID_80000001_EDX_NX  (1U << 20)
#define CPUID_80000001_EDX_LM  (1U << 29)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32))
		     : "memory");
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u64 read_cr3(void)
{
	u64 v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void invlpg(u64 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void cpu_relax(void)
{
	asm volatile("pause");
}

struct __packed desc_ptr {
	u16 limit;
	u64 base;
};

static inline void lidt(const struct desc_ptr *p)
{
	asm volatile("lidt %0" : : "m"(*p));
}

/* Stops this vCPU for good: interrupts off, then HLT. Under Xen (and Keel)
 * a domain whose vCPUs all halt with IF = 0 is treated as powered off. */
static inline __noreturn void cpu_halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

#endif
