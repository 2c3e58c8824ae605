/*
 * Hypercalls (kernel/hypercall.c): Xen's numbers and x86-64 convention
 * (RAX = number; RDI, RSI, RDX, R10, R8 = arguments; result in RAX).
 * Each table entry records who may call it, so privilege is checked in
 * one place (STYLE.md rule 7): hc_check_caller() in include/keel/priv.h,
 * which the domctl, sysctl and physdev sub-op tables use too.
 */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include <lib/types.h>

struct vcpu;

enum hc_caller {
	HC_NOBODY,    /* 0: an entry that forgot its rule admits no one */
	HC_ANY,       /* any domain */
	HC_DOM0_ONLY, /* the control domain only; others get -EPERM */
};

typedef long (*hypercall_fn)(struct vcpu *v, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);

struct hypercall_desc {
	hypercall_fn fn;
	const char *name;
	enum hc_caller who;
};

/* Implementations (one file per family). Arguments are raw guest values:
 * each validates its own. Pointers are guest-virtual. */
long do_console_io(struct vcpu *v, u64 cmd, u64 count, u64 buf, u64 a4, u64 a5);
long do_sched_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5);
long do_xen_version(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5);
long do_memory_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5);
long do_vcpu_op(struct vcpu *v, u64 cmd, u64 vcpuid, u64 arg, u64 a4, u64 a5);
long do_event_channel_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5);
long do_hvm_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5);
long do_set_timer_op(struct vcpu *v, u64 timeout, u64 a2, u64 a3, u64 a4, u64 a5);
long do_domctl(struct vcpu *v, u64 arg, u64 a2, u64 a3, u64 a4, u64 a5);
long do_sysctl(struct vcpu *v, u64 arg, u64 a2, u64 a3, u64 a4, u64 a5);
long do_grant_table_op(struct vcpu *v, u64 cmd, u64 uop, u64 count, u64 a4, u64 a5);

/*
 * For an implementation that did part of a long job (a batch) and wants
 * the rest done in a fresh entry, so the guest can be interrupted or
 * descheduled in between (Xen's hypercall_create_continuation): stores
 * the arguments for the rest in the guest's argument registers and
 * returns -ERESTART, which the implementation returns. The dispatcher
 * then leaves RAX (the hypercall number) and RIP alone, so the guest
 * executes the same hypercall instruction again with the new arguments.
 */
long hypercall_continue(struct vcpu *v, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);

#endif
