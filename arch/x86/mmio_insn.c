/*
 * The MMIO move decoder: contract and the accepted encodings in
 * asm/mmio_insn.h. Encodings: Intel SDM vol. 2, 2.1 (instruction format),
 * 2.2.1 (REX), table 2-2 (32/64-bit ModR/M), table 2-3 (SIB).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <asm/mmio_insn.h>

#define REX_W 8
#define REX_R 4

/* Bytes of ModR/M + SIB + displacement at p (ModR/M first), or -EAGAIN /
 * -EINVAL. In 64-bit mode the 67 prefix changes the address width but
 * not these lengths; mod = 00, r/m = 101 is RIP-relative with disp32. */
static int modrm_len(const u8 *p, size_t avail)
{
	if (avail < 1)
		return -EAGAIN;
	u8 modrm = p[0], mod = modrm >> 6, rm = modrm & 7;
	int n = 1;

	if (mod == 3)
		return -EINVAL; /* a register operand: no memory access */
	if (rm == 4) {
		if (avail < 2)
			return -EAGAIN;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4; /* SIB with no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		n += 4;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

int mmio_insn_decode(const u8 *b, size_t avail, struct mmio_insn *out)
{
	size_t i = 0;
	bool opsize16 = false;
	u8 rex = 0;

	memset(out, 0, sizeof(*out));
	/* Legacy prefixes, then at most one REX right before the opcode (a
	 * REX followed by another prefix is ignored, SDM 2.2.1). */
	for (;; i++) {
		if (i >= avail)
			return -EAGAIN;
		if (i >= 14)
			return -EINVAL;
		u8 c = b[i];
		if (c == 0x66) {
			opsize16 = true;
			rex = 0;
		} else if (c == 0x67 || c == 0xf2 || c == 0xf3 || c == 0x2e || c == 0x36 ||
			   c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65) {
			rex = 0;
		} else if ((c & 0xf0) == 0x40) {
			rex = c;
		} else {
			break; /* F0 (LOCK) falls through to the opcode check: refused */
		}
	}

	u8 op = b[i++];
	bool two_byte = false;
	if (op == 0x0f) {
		if (i >= avail)
			return -EAGAIN;
		op = b[i++];
		two_byte = true;
		if (op != 0xb6 && op != 0xb7)
			return -EINVAL;
	} else if (op != 0x88 && op != 0x89 && op != 0x8a && op != 0x8b && op != 0xc6 &&
		   op != 0xc7) {
		return -EINVAL;
	}

	int ml = modrm_len(b + i, avail - i);
	if (ml == -EAGAIN && avail >= 15)
		return -EINVAL; /* it would be longer than 15 bytes (found by fuzzing) */
	if (ml < 0)
		return ml;
	u8 modrm = b[i];
	unsigned reg = ((modrm >> 3) & 7) | ((rex & REX_R) ? 8 : 0);
	i += ml;
	if (i > avail)
		return i > 15 ? -EINVAL : -EAGAIN;

	unsigned wide = (rex & REX_W) ? 8 : opsize16 ? 2 : 4; /* operand size */
	bool byte_op = false;
	if (two_byte) {
		out->write = false;
		out->size = op == 0xb6 ? 1 : 2;
		out->dst_size = wide;
	} else {
		switch (op) {
		case 0x88: out->write = true; byte_op = true; out->size = 1; break;
		case 0x89: out->write = true; out->size = wide; break;
		case 0x8a: byte_op = true; out->size = 1; out->dst_size = 1; break;
		case 0x8b: out->size = wide; out->dst_size = wide; break;
		case 0xc6:
		case 0xc7:
			if ((modrm >> 3) & 7)
				return -EINVAL; /* /0 only; other reg values are undefined */
			out->write = true;
			out->has_imm = true;
			out->size = op == 0xc6 ? 1 : wide;
			unsigned isz = op == 0xc6 ? 1 : wide == 2 ? 2 : 4;
			if (i + isz > avail)
				return i + isz > 15 ? -EINVAL : -EAGAIN;
			u64 imm = 0;
			memcpy(&imm, b + i, isz);
			if (isz == 4 && wide == 8 && (imm & 0x80000000u))
				imm |= 0xffffffff00000000ULL; /* imm32 sign-extended */
			out->imm = imm;
			i += isz;
			break;
		}
	}
	if (i > 15)
		return -EINVAL;

	if (!out->has_imm) {
		/* Without REX, byte registers 4-7 are AH, CH, DH, BH (bits
		 * 8-15 of RAX..RBX); with any REX they are SPL..DIL. */
		if (byte_op && !rex && reg >= 4) {
			out->high8 = true;
			out->reg = reg - 4;
		} else {
			out->reg = reg;
		}
		if (out->reg == 4 && !out->high8)
			return -EINVAL; /* RSP is not in the GPR array */
	}
	out->len = i;
	return 0;
}

u64 mmio_insn_store_value(const struct mmio_insn *in, const u64 *gprs)
{
	if (in->has_imm)
		return in->imm;
	if (in->high8)
		return (gprs[in->reg] >> 8) & 0xff;
	return gprs[in->reg];
}

void mmio_insn_load_result(const struct mmio_insn *in, u64 *gprs, u64 val)
{
	u64 *r = &gprs[in->reg];

	if (in->size < 8)
		val &= (1ULL << (8 * in->size)) - 1; /* MOVZX: zero-extend */
	if (in->high8) {
		*r = (*r & ~0xff00ULL) | ((val & 0xff) << 8);
		return;
	}
	switch (in->dst_size) {
	case 1: *r = (*r & ~0xffULL) | (val & 0xff); break;
	case 2: *r = (*r & ~0xffffULL) | (val & 0xffff); break;
	case 4: *r = val & 0xffffffffu; break;
	default: *r = val; break;
	}
}
