/*
 * Instruction lengths for the instructions Keel intercepts, so RIP can be
 * advanced past them when the CPU does not report the length (SVM without
 * NRIP save, e.g. QEMU TCG). This is not a general x86 decoder: anything
 * outside the list below is refused, and the caller must not guess.
 *
 * Known instructions (Intel SDM vol. 2, AMD APM vol. 3):
 *   CPUID 0f a2, RDMSR 0f 32, WRMSR 0f 30, RDTSC 0f 31, INVD 0f 08,
 *   WBINVD 0f 09, HLT f4, VMMCALL 0f 01 d9, VMCALL 0f 01 c1,
 *   XSETBV 0f 01 d1, RDTSCP 0f 01 f9, MONITOR 0f 01 c8, MWAIT 0f 01 c9,
 *   IN/OUT imm8 e4-e7 ib, IN/OUT dx ec-ef, INS/OUTS 6c-6f,
 *   MOV from/to CR 0f 20 /r, 0f 22 /r (always a register operand: the mod
 *   bits are ignored, SDM "MOV—Move to/from Control Registers").
 * Prefixes: any of 66 67 f2 f3 f0 2e 36 3e 26 64 65, and in 64-bit mode
 * REX 40-4f. None of the known instructions has an operand-size-dependent
 * immediate or a memory operand, so prefixes only add to the length.
 */
#ifndef ASM_INSN_H
#define ASM_INSN_H

#include <lib/types.h>

/* The architectural maximum; longer instructions raise #GP(0)/#UD. */
#define INSN_MAX_LEN 15

/*
 * Length of the instruction starting at bytes[0], of which `avail` bytes
 * are valid. `long_mode_64` says the code runs in 64-bit mode (EFER.LMA
 * and CS.L), where 40-4f are REX prefixes rather than INC/DEC.
 * Returns the length (1..15), -EINVAL if it is not a known instruction or
 * would be longer than 15 bytes, or -EAGAIN if the `avail` bytes end
 * before the instruction does (fetch more and retry).
 */
int insn_length(const u8 *bytes, size_t avail, bool long_mode_64);

/* A legacy prefix (SDM vol. 2 2.1.1): lock/rep, segment overrides,
 * operand and address size. */
bool insn_is_legacy_prefix(u8 b);

struct vcpu;

/*
 * Hypervisor only (insn_fetch.c). Fetches the instruction at CS:rip of v (a fetch access
 * through the guest's page tables and p2m; the second page only if the
 * instruction crosses into it) and stores its length in *len.
 * 0, -EFAULT if the bytes cannot be fetched, -EINVAL if not a known
 * instruction. For the SVM back end when NRIP save is absent.
 */
int insn_fetch_and_length(struct vcpu *v, u64 rip, u8 *len);

struct guest_paging;

/*
 * Hypervisor only (insn_fetch.c). The fast half of insn_fetch_and_length:
 * true and *len if the instruction at linear address `va` (l64: 64-bit
 * code) is the one last measured, read through a translation that still
 * holds under the paging registers gp. A back end that reads gp and CS
 * cheaply (SVM: straight from the VMCB) asks this first; false means
 * "ask insn_fetch_and_length".
 */
bool insn_len_cached(struct vcpu *v, const struct guest_paging *gp, u64 va, bool l64,
		     u8 *len);

/*
 * A decoder over the bytes fetched so far (`avail` of them; l64: 64-bit
 * code): >= 0 done (its result), -EAGAIN to be given more bytes, another
 * negative errno to stop.
 */
typedef int (*insn_decode_fn)(const u8 *bytes, size_t avail, bool l64, void *ctx);

/*
 * Hypervisor only (insn_fetch.c). Fetches the instruction at CS:rip of v
 * as insn_fetch_and_length() does, page by page, handing the bytes to
 * `decode` until it stops asking for more. Returns decode's result,
 * -EFAULT if the bytes cannot be fetched, -EINVAL if 15 bytes were not
 * enough.
 */
int insn_fetch_decode(struct vcpu *v, u64 rip, insn_decode_fn decode, void *ctx);

#endif
