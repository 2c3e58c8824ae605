/*
 * Guest-side access to CR8 and the debug registers (64-bit mode, CPL 0),
 * for the isolation tests: a guest may set them freely, and what it sets
 * must be its own (the hypervisor switches them per vCPU; docs/design.md).
 */
#ifndef GUEST_CPUREGS_H
#define GUEST_CPUREGS_H

#include <lib/types.h>

/* CR8 is the task-priority register (TPR[7:4]); only its low 4 bits
 * exist (SDM vol. 3 10.8.6.1). */
static inline u64 read_cr8(void)
{
	u64 v;
	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static inline void write_cr8(u64 v)
{
	__asm__ volatile("mov %0, %%cr8" ::"r"(v) : "memory");
}

/* DR0-3, DR6, DR7 by number (others read 0 / are ignored). */
static inline u64 read_dr(unsigned n)
{
	u64 v = 0;
	switch (n) {
	case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
	case 6: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
	case 7: __asm__ volatile("mov %%dr7, %0" : "=r"(v)); break;
	default: break;
	}
	return v;
}

static inline void write_dr(unsigned n, u64 v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" ::"r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" ::"r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" ::"r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%dr3" ::"r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%dr6" ::"r"(v)); break;
	case 7: __asm__ volatile("mov %0, %%dr7" ::"r"(v)); break;
	default: break;
	}
}

static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}

#endif
