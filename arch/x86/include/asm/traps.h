/* Descriptor tables, exceptions and interrupts of the hypervisor itself. */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#include <lib/types.h>

/* The layout trap_entry.asm builds on the stack. */
struct trap_frame {
	u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18

/* Loads Keel's GDT (with a TSS whose IST stacks take #DF, NMI and #MC)
 * and an IDT covering all 256 vectors. */
void traps_init(void);

/* Handler for a host interrupt vector (>= 32); set by the APIC code. */
typedef void (*irq_handler_t)(struct trap_frame *f);
void irq_register(u8 vector, irq_handler_t fn);

/* Prints a stack trace starting from frame pointer `rbp`. */
void print_stack_trace(u64 rbp);

/* Called from trap_entry.asm. */
void trap_dispatch(struct trap_frame *f);

#endif
