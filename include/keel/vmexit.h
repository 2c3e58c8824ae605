/*
 * The VM-exit dispatcher (kernel/exit.c) and the handlers it calls.
 * A handler looks at the decoded exit and returns what happens next; the
 * run loop (kernel/vcpu_run.c) carries that out, advancing RIP in one
 * place for EXIT_ADVANCE.
 */
#ifndef KEEL_VMEXIT_H
#define KEEL_VMEXIT_H

#include <keel/exit.h>

struct vcpu;

enum exit_action {
	EXIT_ADVANCE,     /* done: skip the instruction (RIP += insn_len), resume */
	EXIT_RETAIN,      /* resume at the same RIP (fault injected, interrupt, ...) */
	EXIT_INJECT_GP,   /* inject #GP(0) at the same RIP */
	EXIT_INJECT_UD,   /* inject #UD at the same RIP */
	EXIT_STOP,        /* the vCPU can no longer run (shut down, blocked, killed) */
};

struct exit_handler {
	enum exit_action (*handle)(struct vcpu *v, struct vm_exit *e);
};

/* Runs the handler for e->reason (bounds-checked; a missing handler
 * kills the domain with a one-line report). */
enum exit_action exit_dispatch(struct vcpu *v, struct vm_exit *e);

struct cpuid_regs;
/* CPUID leaf/sub-leaf as v sees it (kernel/cpuid.c): the answer
 * handle_cpuid gives, for back ends that must keep the guest's state
 * within what it was told (e.g. the CR4 bits a guest may set). */
void cpuid_guest(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *out);

/* Handlers, one file each under kernel/. */
enum exit_action handle_cpuid(struct vcpu *v, struct vm_exit *e);
enum exit_action handle_msr_read(struct vcpu *v, struct vm_exit *e);
enum exit_action handle_msr_write(struct vcpu *v, struct vm_exit *e);
enum exit_action handle_io(struct vcpu *v, struct vm_exit *e);
enum exit_action handle_hypercall(struct vcpu *v, struct vm_exit *e);

/* Runs v until it stops being runnable or asks to yield the CPU. */
void vcpu_run(struct vcpu *v);

#endif
