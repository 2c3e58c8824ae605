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
 * What a hit of insn_len_cached() rested on, in the form a back end can
 * re-check in a few instructions for the next exit at the same place
 * (SVM: svm/exit.c `insn_last_hit`): the p2m generation, the guest
 * page-table entries the fetch walk read (host pointers and values;
 * unused slots point at a constant 0 and expect 0, so all four are
 * compared without a loop) and 16 bytes at the instruction, of which
 * `mask` selects the instruction's own. The registers the walk and the
 * linear address depend on are the back end's to keep and compare.
 */
/* An 8-byte load from any byte address (x86 allows it; the type tells
 * the compiler so, and that it may alias the guest's bytes). */
typedef u64 u64_unaligned __attribute__((aligned(1), may_alias));

struct insn_deps {
	u64 gen;
	const volatile u64 *pte[4];
	u64 val[4];
	const volatile u64_unaligned *host; /* 16 readable bytes, inside one RAM page */
	u64 bytes[2], mask[2];
	u8 len;                     /* 0: nothing recorded */
};

/*
 * Hypervisor only (insn_fetch.c). Right after insn_len_cached() answered
 * true for v: fills *d with what that answer rested on and returns true,
 * or false if it does not fit the tight form (4-byte page-table entries,
 * an instruction within 16 bytes of its page's end, a page that is not
 * wholly RAM). Pointers in *d are valid while v's domain's mem_gen equals
 * d->gen.
 */
bool insn_len_cached_deps(struct vcpu *v, struct insn_deps *d);

/*
 * The memory half of the tight re-check: d was filled by
 * insn_len_cached_deps() and its generation still matches (the caller
 * checks that first: only then are the pointers the guest's pages). True
 * if every entry and the instruction's bytes read as they did.
 */
static inline bool insn_deps_hold(const struct insn_deps *d)
{
	u64 diff = (*d->pte[0] ^ d->val[0]) | (*d->pte[1] ^ d->val[1]) |
		   (*d->pte[2] ^ d->val[2]) | (*d->pte[3] ^ d->val[3]);

	diff |= ((d->host[0] ^ d->bytes[0]) & d->mask[0]) |
		((d->host[1] ^ d->bytes[1]) & d->mask[1]);
	return !diff;
}

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
