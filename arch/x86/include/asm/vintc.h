/*
 * The virtual interrupt controller of a vCPU, as the arch-neutral kernel
 * sees it (today: the virtual local APIC of arch/x86/vlapic*.c,
 * docs/lapic.md). Only domUs have one; for dom0's vCPUs every call is a
 * no-op or answers "not mine", and dom0 keeps today's behaviour.
 *
 * Callers: kernel/domain.c (vcpu_create), kernel/msr.c (MSR exits),
 * kernel/cpuid.c (what CPUID advertises), kernel/vcpu_run.c (before each
 * entry), kernel/evtchn_block.c (HLT), kernel/time.c (the scheduler's
 * timer pass). Single physical CPU, interrupts off: no locking.
 */
#ifndef ASM_VINTC_H
#define ASM_VINTC_H

#include <lib/types.h>

struct vcpu;

/* Gives v its controller in the reset state if its domain is a domU
 * (APIC ID 2 * v->id, xAPIC mode at 0xfee00000, BSP on vCPU 0), and makes
 * the xAPIC page an emulated MMIO region. 0 or -errno. */
int vintc_vcpu_init(struct vcpu *v);

/* True when v has a virtual LAPIC (CPUID then advertises x2APIC and
 * TSC-deadline, kernel/cpuid.c). */
bool vintc_present(const struct vcpu *v);

/* The APIC ID of v as the guest reads it (x2APIC ID; CPUID leaves 1 and
 * 0xb report it). */
u32 vintc_apic_id(const struct vcpu *v);

/*
 * RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE or an x2APIC MSR
 * (0x800-0x8ff). 0 when done (*val filled for a read), -EINVAL when the
 * guest gets #GP (the SDM's rules, docs/lapic.md), -ENOENT when the MSR
 * is not the controller's or v has none (the caller goes on).
 */
int vintc_msr_read(struct vcpu *v, u32 msr, u64 *val);
int vintc_msr_write(struct vcpu *v, u32 msr, u64 val);

/* Before every entry: injects the highest deliverable LAPIC interrupt if
 * the guest can take it, else asks the back end for the window (IF or
 * TPR) that brings it back. After evtchn_upcall_deliver(). */
void vintc_deliver(struct vcpu *v);

/* True when an interrupt is deliverable now (IRR above PPR): HLT must
 * not sleep. */
bool vintc_pending(const struct vcpu *v);

/* The controller's timer deadline (system time, ns), 0 if none. */
u64 vintc_next_deadline(const struct vcpu *v);

/* Fires v's LAPIC timer if due at `now` (raises its vector, wakes v). */
void vintc_timer_fire(struct vcpu *v, u64 now);

#endif
