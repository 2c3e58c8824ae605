/*
 * Exception handling for Keel's guests (contract in guest.h). A guest
 * fault should be loud: the report names the vector, error code, RIP and
 * CR2 so a test log shows what went wrong without a debugger.
 */
#include <lib/string.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"

/* One fixup entry: a faulting instruction and where to resume. Entries
 * come from inline asm (.ex_table) all over the library. */
struct ex_entry {
	u64 insn;
	u64 fixup;
};

extern const struct ex_entry __ex_table_start[], __ex_table_end[];
extern const u64 exception_stubs[32];

volatile int trap_fixup_vector = -1;
volatile u64 trap_fixup_error, trap_fixup_cr2;

/* Interrupt gate, 64-bit: selector 0x08 (pvh_entry.asm's code segment),
 * type 0xE, DPL 0, present. */
struct __packed idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 zero;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate size");

/* All 256 vectors: 0..31 are the exceptions below, the rest are absent
 * until idt_set_handler() installs one (an interrupt on an absent vector
 * raises #NP, reported like any unexpected exception). */
static struct idt_gate idt[256] __aligned(16);

static const char *const trap_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *trap_name(unsigned vector)
{
	return vector < 32 ? trap_names[vector] : "interrupt";
}

void idt_set_handler(unsigned vector, void (*entry)(void))
{
	u64 a = (u64)(uintptr_t)entry;

	if (vector < 32 || vector > 255)
		return;
	idt[vector] = (struct idt_gate){
		.offset_lo = (u16)a,
		.selector = 0x08,
		.type_attr = 0x8E,
		.offset_mid = (u16)(a >> 16),
		.offset_hi = (u32)(a >> 32),
	};
}

void traps_init(void)
{
	struct desc_ptr p = { .limit = sizeof(idt) - 1, .base = (u64)(uintptr_t)idt };
	unsigned i;

	for (i = 0; i < 32; i++) {
		u64 a = exception_stubs[i];

		idt[i] = (struct idt_gate){
			.offset_lo = (u16)a,
			.selector = 0x08,
			.type_attr = 0x8E,
			.offset_mid = (u16)(a >> 16),
			.offset_hi = (u32)(a >> 32),
		};
	}
	lidt(&p);
}

static u64 read_cr2(void)
{
	u64 v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void trap_handler(struct trap_frame *f);

/* Called by trap_entry.asm with the saved state. Returns only after a fixup. */
void trap_handler(struct trap_frame *f)
{
	const struct ex_entry *e;

	for (e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->insn == f->rip) {
			trap_fixup_vector = (int)f->vector;
			trap_fixup_error = f->error;
			trap_fixup_cr2 = f->vector == 14 ? read_cr2() : 0;
			f->rip = e->fixup;
			f->rax = (u64)HYPERCALL_TRAPPED;
			return;
		}
	}

	printf("%s: unexpected exception %s (vector %lu) error 0x%lx at rip 0x%lx\n",
	       guest_name, trap_name((unsigned)f->vector), f->vector, f->error, f->rip);
	printf("%s:   cr2 0x%lx rsp 0x%lx rflags 0x%lx cs 0x%lx\n",
	       guest_name, read_cr2(), f->rsp, f->rflags, f->cs);
	printf("%s:   rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx rsi 0x%lx rdi 0x%lx\n",
	       guest_name, f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi);
	guest_crash();
}

bool rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;

	trap_fixup_vector = -1;
	asm volatile("1: rdmsr\n"
		     "2:\n"
		     ".pushsection .ex_table, \"a\"\n"
		     ".balign 8\n"
		     ".quad 1b, 2b\n"
		     ".popsection"
		     : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	if (trap_fixup_vector >= 0) {
		*val = 0;
		return false;
	}
	*val = ((u64)hi << 32) | lo;
	return true;
}

bool wrmsr_safe(u32 msr, u64 val)
{
	trap_fixup_vector = -1;
	asm volatile("1: wrmsr\n"
		     "2:\n"
		     ".pushsection .ex_table, \"a\"\n"
		     ".balign 8\n"
		     ".quad 1b, 2b\n"
		     ".popsection"
		     : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return trap_fixup_vector < 0;
}
