/*
 * The library every Keel guest links (guest/lib): PVH entry, console,
 * start_info and command-line parsing, traps, paging and shutdown.
 * Hypercalls are in hypercall.h, instruction wrappers in cpu.h, the libc
 * subset (string functions, vsnprintf) in lib/string.h (the top-level
 * lib/, linked as build/lib/guest/lib.a).
 *
 * Start-up: pvh_entry.asm enters long mode and calls guest_start(si),
 * which saves the start_info, installs the exception handlers, reads the
 * library's cmdline options (`hypercall=direct`), sets up hypercalls and
 * the console, then calls the program's guest_main(si). If guest_main
 * returns, the domain powers off.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <lib/types.h>
#include <stdarg.h>
#include <public/start_info.h>

/* ---- provided by each program ----------------------------------------- */

/* The program's short name ("dom0", "pvtest"): prefixes library messages. */
extern const char guest_name[];

/* The program proper; `si` is valid (magic checked) and identity-mapped. */
void guest_main(const struct hvm_start_info *si);

/* Called by pvh_entry.asm. */
__noreturn void guest_start(u64 start_info_paddr);

/* ---- console ----------------------------------------------------------- */

/*
 * Output goes to the Xen console (console_io CONSOLEIO_write), buffered
 * per line; if that returns an error, or there is no hypervisor, to the
 * debug port 0xE9 (QEMU -debugcon, Bochs port_e9_hack, Keel).
 */
void console_putc(char c);
void console_write(const char *s, size_t n);
void console_flush(void);
bool console_uses_port_e9(void);
/* Sends every flushed line to `sink` instead of console_io (the PV
 * console, pvcons.h); NULL goes back to console_io. */
void console_set_sink(void (*sink)(const char *s, size_t n));
/* A line its writer keeps open on the screen (dom0's shell: the prompt
 * and the keys typed after it). Until console_release_line(), the next
 * output by anyone ends that line first with a newline, so lines do not
 * mix, and then calls broken() once (the holder may draw its line again
 * later). The holder releases the line before it writes itself. */
void console_hold_line(void (*broken)(void));
void console_release_line(void);
/* Ends a held line now, as the next output would (nothing if none). */
void console_break_line(void);

__printf(1, 2) int printf(const char *fmt, ...);
int vprintf(const char *fmt, va_list ap);
int puts(const char *s); /* writes s and a newline */

/* ---- start_info -------------------------------------------------------- */

/* The structure the domain was started with (after guest_start). */
const struct hvm_start_info *start_info(void);

/* The command line, or "" when there is none. */
const char *si_cmdline(const struct hvm_start_info *si);

/* The memory map (NULL and *n = 0 when version < 1 or no entries). */
const struct hvm_memmap_table_entry *si_memmap(const struct hvm_start_info *si,
					      unsigned *n);

/* The module list (NULL and *n = 0 when there are none). */
const struct hvm_modlist_entry *si_modules(const struct hvm_start_info *si,
					   unsigned *n);

/* A module's command line, or "". */
const char *si_module_cmdline(const struct hvm_modlist_entry *m);

/* "ram", "reserved", "acpi", "nvs", "unusable", "disabled", "pmem" or
 * "unknown". */
const char *si_mem_type_name(u32 type);

/* Sum of the sizes of the RAM entries. */
u64 si_ram_total(const struct hvm_start_info *si);

/* True if [base, base + len) lies inside one RAM entry. */
bool si_is_ram(const struct hvm_start_info *si, u64 base, u64 len);

/* ---- command line ------------------------------------------------------ */

/*
 * The command line is words separated by spaces; a word is `key` or
 * `key=value` (no quoting). The functions below look at the first word
 * whose key matches exactly.
 */
struct cmdline_opt {
	const char *key;
	size_t key_len;
	const char *value;  /* after '=', or NULL for a bare key */
	size_t value_len;
};

/* Parses the word at or after *pos into *opt and advances *pos past it.
 * Returns false at the end of the line. */
bool cmdline_next(const char **pos, struct cmdline_opt *opt);

/* True if `key` appears (with or without a value). */
bool cmdline_has(const char *cmdline, const char *key);

/* Copies key's value (NUL-terminated, truncated to size - 1) into buf.
 * Returns true if the key appears with a value. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);

/* key's value as a number (0x hex or decimal). Returns 0, -ENOENT when
 * the key is absent, -EINVAL when the value is not a number. */
int cmdline_get_u64(const char *cmdline, const char *key, u64 *out);

/* ---- traps ------------------------------------------------------------- */

/* The stack exception stubs (trap_entry.asm) build; r15 at the lowest address. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/*
 * Loads an IDT for vectors 0..31. An exception at an instruction listed
 * in the fixup table (the *_safe functions, hypercall_direct) resumes at
 * its fixup with RAX = HYPERCALL_TRAPPED and trap_fixup_vector set; any
 * other prints a report (vector, error code, RIP, CR2, registers) and
 * crashes the domain (SCHEDOP_shutdown, SHUTDOWN_crash).
 */
void traps_init(void);

/* Installs `entry` (an assembly stub ending in IRETQ) as the interrupt
 * gate for vector 32..255; other vectors are ignored. */
void idt_set_handler(unsigned vector, void (*entry)(void));

/* The vector of the last fixed-up exception, -1 if none since reset. */
extern volatile int trap_fixup_vector;
/* Its error code (0 for vectors without one) and, for #PF, CR2. */
extern volatile u64 trap_fixup_error, trap_fixup_cr2;

/* RDMSR/WRMSR that return false instead of dying on #GP. */
bool rdmsr_safe(u32 msr, u64 *val);
bool wrmsr_safe(u32 msr, u64 val);

/* "#DE", "#UD", "#GP", ... for vector 0..31. */
const char *trap_name(unsigned vector);

/* ---- paging (the identity map built by pvh_entry.asm) ----------------- */

#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_PS  (1ULL << 7)
#define PTE_NX  (1ULL << 63)

/* Maps the 2 MiB page at va (2 MiB aligned) to pa with `flags` (PTE_P and
 * PTE_PS are added), allocating tables from a small static pool. Returns
 * 0, -EINVAL for a misaligned address, -ENOMEM when the pool is empty. */
int pt_map_2m(u64 va, u64 pa, u64 flags);

/* Removes the 2 MiB mapping at va and flushes it from the TLB. Returns 0,
 * or -ENOENT when nothing was mapped there. */
int pt_unmap_2m(u64 va);

/* ---- shutdown ---------------------------------------------------------- */

/*
 * SCHEDOP_shutdown with the reason; the console is flushed first. If the
 * hypercall returns (no hypervisor, or it refused), the vCPU halts with
 * interrupts off (Xen and Keel treat that as power-off). Without a
 * hypervisor it first writes Keel's exit code (0 power-off, 1 reboot,
 * 2 crash) to port 0xF4, so that QEMU with
 * `-device isa-debug-exit,iobase=0xf4,iosize=4` exits with 2 * code + 1.
 */
__noreturn void guest_shutdown(unsigned reason);
__noreturn void guest_poweroff(void);
__noreturn void guest_reboot(void);
__noreturn void guest_crash(void);

#endif
