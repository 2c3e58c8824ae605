/*
 * The hypervisor's GDT, TSS and IDT, and what happens when the hypervisor
 * itself faults: a full report (vector, error code, registers, CR2, stack
 * trace) on the console, then a clean machine stop. A fault in hypervisor
 * context is always a hypervisor bug -- guest faults arrive as VM exits,
 * never here -- so there is nothing to recover.
 */
#include <lib/string.h>
#include <keel/machine.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/traps.h>

struct gdt_desc {
	u16 limit;
	u64 base;
} __packed;

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

struct idt_entry {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 zero;
} __packed;

#define IST_STACK_SIZE 8192
enum { IST_DF = 1, IST_NMI = 2, IST_MC = 3 };

static u64 gdt[5] __aligned(16);
static struct tss64 tss __aligned(16);
static struct idt_entry idt[256] __aligned(16);
static u8 ist_stacks[3][IST_STACK_SIZE] __aligned(16);
static irq_handler_t irq_handlers[256];

extern const u64 trap_stub_table[256];
extern char boot_stack_bottom[], boot_stack_top[];
extern char __text_start[], __text_end[];

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization exception",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

static void set_gate(unsigned vec, u64 handler, u8 ist)
{
	idt[vec] = (struct idt_entry){
		.offset_lo = handler & 0xffff,
		.selector = GDT_CODE64,
		.ist = ist,
		.type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

void traps_init(void)
{
	u64 tss_base = (u64)(uintptr_t)&tss;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf92000000ffffULL; /* data */
	/* A 64-bit TSS descriptor takes two slots (SDM vol. 3 7.2.3). */
	gdt[3] = (sizeof(tss) - 1) | ((tss_base & 0xffffff) << 16) |
		 (0x89ULL << 40) | (((tss_base >> 24) & 0xff) << 56);
	gdt[4] = tss_base >> 32;

	tss.ist[IST_DF - 1] = (u64)(uintptr_t)&ist_stacks[0][IST_STACK_SIZE];
	tss.ist[IST_NMI - 1] = (u64)(uintptr_t)&ist_stacks[1][IST_STACK_SIZE];
	tss.ist[IST_MC - 1] = (u64)(uintptr_t)&ist_stacks[2][IST_STACK_SIZE];
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */

	struct gdt_desc gd = { sizeof(gdt) - 1, (u64)(uintptr_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "ltr %w3"
			 :
			 : "m"(gd), "i"(GDT_CODE64), "i"(GDT_DATA), "r"((u16)GDT_TSS)
			 : "rax", "memory");

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, trap_stub_table[v], 0);
	set_gate(X86_EXC_DF, trap_stub_table[X86_EXC_DF], IST_DF);
	set_gate(X86_EXC_NMI, trap_stub_table[X86_EXC_NMI], IST_NMI);
	set_gate(X86_EXC_MC, trap_stub_table[X86_EXC_MC], IST_MC);

	struct gdt_desc id = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(id));
}

void irq_register(u8 vector, irq_handler_t fn)
{
	irq_handlers[vector] = fn;
}

static bool on_hypervisor_stack(u64 p)
{
	u64 lo = (u64)(uintptr_t)boot_stack_bottom, hi = (u64)(uintptr_t)boot_stack_top;
	if (p >= lo && p + 16 <= hi)
		return true;
	for (int i = 0; i < 3; i++) {
		lo = (u64)(uintptr_t)ist_stacks[i];
		if (p >= lo && p + 16 <= lo + IST_STACK_SIZE)
			return true;
	}
	return false;
}

void print_stack_trace(u64 rbp)
{
	/* The hypervisor is built with frame pointers: each frame starts with
	 * the caller's RBP and the return address. Only follow frames that
	 * lie on a known hypervisor stack, so a corrupt chain cannot fault. */
	printk(LOG_ERR, "keel: stack trace:\n");
	for (int depth = 0; depth < 32 && rbp && !(rbp & 7) && on_hypervisor_stack(rbp); depth++) {
		const u64 *fp = (const u64 *)(uintptr_t)rbp;
		u64 ret = fp[1];
		bool in_text = ret >= (u64)(uintptr_t)__text_start && ret < (u64)(uintptr_t)__text_end;
		printk(LOG_ERR, "keel:   [%2d] 0x%016lx%s\n", depth, ret, in_text ? "" : " (not in text)");
		if (fp[0] <= rbp)
			break; /* stacks grow down: callers' frames are higher */
		rbp = fp[0];
	}
}

static __noreturn void fatal_trap(struct trap_frame *f)
{
	const char *name = f->vector < 32 ? exc_names[f->vector] : "unexpected interrupt";
	char tag[8];
	strlcpy(tag, name, sizeof(tag));
	/* The short mnemonic ("#PF") is what people and tests grep for. */
	char *sp = strchr(tag, ' ');
	if (sp)
		*sp = 0;

	printk(LOG_ERR, "keel: FATAL: %s (vector %lu) error 0x%lx in hypervisor: %s\n",
	       tag, f->vector, f->error_code, name);
	printk(LOG_ERR, "keel: RIP=%04lx:%016lx RFLAGS=%016lx RSP=%04lx:%016lx\n",
	       f->cs, f->rip, f->rflags, f->ss, f->rsp);
	printk(LOG_ERR, "keel: RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n",
	       f->rax, f->rbx, f->rcx, f->rdx);
	printk(LOG_ERR, "keel: RSI=%016lx RDI=%016lx RBP=%016lx R8 =%016lx\n",
	       f->rsi, f->rdi, f->rbp, f->r8);
	printk(LOG_ERR, "keel: R9 =%016lx R10=%016lx R11=%016lx R12=%016lx\n",
	       f->r9, f->r10, f->r11, f->r12);
	printk(LOG_ERR, "keel: R13=%016lx R14=%016lx R15=%016lx\n", f->r13, f->r14, f->r15);
	printk(LOG_ERR, "keel: CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx\n",
	       read_cr0(), read_cr2(), read_cr3(), read_cr4());
	if (f->vector == X86_EXC_PF)
		printk(LOG_ERR, "keel: page fault: %s access to 0x%lx, %s%s%s\n",
		       (f->error_code & 2) ? "write" : (f->error_code & 16) ? "instruction fetch" : "read",
		       read_cr2(), (f->error_code & 1) ? "protection violation" : "page not present",
		       (f->error_code & 8) ? ", reserved bit set" : "",
		       (f->error_code & 4) ? ", user mode" : "");
	printk(LOG_ERR, "keel:   [ f] 0x%016lx (faulting instruction)\n", f->rip);
	print_stack_trace(f->rbp);
	machine_stop(STOP_PANIC);
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= 32 && irq_handlers[f->vector]) {
		irq_handlers[f->vector](f);
		return;
	}
	fatal_trap(f);
}
