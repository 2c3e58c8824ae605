/*
 * Decoding the guest instruction behind an emulated MMIO access (a nested
 * page fault on a guest-physical address the hypervisor emulates, such as
 * dom0's view of the PCI ECAM window). The fault already gives the
 * address; what is needed is the length, the access size, the direction,
 * and which register or immediate holds or receives the data.
 *
 * Only the plain moves compilers and Linux's MMIO accessors emit are
 * decoded (Intel SDM vol. 2; 64-bit mode only):
 *   88 /r  MOV r/m8, r8          89 /r  MOV r/m16/32/64, r
 *   8A /r  MOV r8, r/m8          8B /r  MOV r16/32/64, r/m
 *   C6 /0 ib  MOV r/m8, imm8     C7 /0 iw/id  MOV r/m16/32/64, imm
 *   0F B6 /r  MOVZX r, r/m8      0F B7 /r  MOVZX r, r/m16
 * with prefixes 66 (operand size), 67 (address size), segment overrides
 * (2E 36 3E 26 64 65), F2/F3 (ignored by MOV), and REX. LOCK (F0) makes
 * a MOV #UD and is refused, as is a register (mod = 3) operand.
 * Anything else returns -EINVAL and the caller kills the domain: guessing
 * would corrupt it.
 */
#ifndef ASM_MMIO_INSN_H
#define ASM_MMIO_INSN_H

#include <lib/types.h>

struct mmio_insn {
	u8 len;          /* instruction length in bytes */
	u8 size;         /* bytes accessed in memory: 1, 2, 4 or 8 */
	bool write;      /* a store to the MMIO address */
	bool has_imm;    /* store of an immediate (C6/C7) */
	u64 imm;         /* the immediate, sign-extended to 64 bits for C7 */
	u8 reg;          /* register number 0-15 (source or destination) */
	bool high8;      /* the register is AH, CH, DH or BH (reg - 4's bits 8-15) */
	u8 dst_size;     /* loads: bytes of the register written (1, 2, 4, 8) */
};

/*
 * Decodes the instruction at bytes[0..avail). 0 and *out filled,
 * -EAGAIN when `avail` bytes end first (fetch more), -EINVAL when it is
 * not one of the moves above (or the source/destination is RSP, which
 * lives outside the GPR array). Pure.
 */
int mmio_insn_decode(const u8 *bytes, size_t avail, struct mmio_insn *out);

/* The value a store writes (low `size` bytes are meaningful), reading the
 * source register from gprs[16]. Pure. */
u64 mmio_insn_store_value(const struct mmio_insn *in, const u64 *gprs);

/* Writes a load's result into gprs[16] with the architectural width rules:
 * 8/16-bit destinations keep the other bits, 32-bit ones zero-extend to
 * 64 (SDM vol. 1, 3.4.1.1). `val` is the `size` bytes read. Pure. */
void mmio_insn_load_result(const struct mmio_insn *in, u64 *gprs, u64 val);

#endif
