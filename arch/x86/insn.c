/*
 * Instruction lengths for intercepted instructions (asm/insn.h).
 *
 * The CPU has already decoded and faulted or exited on the instruction,
 * so the bytes are a valid instruction; what we must not do is skip the
 * wrong number of bytes. So the table is short and exact, and anything not
 * in it is refused rather than estimated.
 */
#include <lib/errno.h>
#include <lib/types.h>
#include <asm/insn.h>

bool insn_is_legacy_prefix(u8 b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:
	case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	default:
		return false;
	}
}

/* Bytes after the opcode byte(s) `op` (one-byte map), or -EINVAL. */
static int one_byte_tail(u8 op)
{
	switch (op) {
	case 0xf4:                         /* HLT */
	case 0xec: case 0xed:              /* IN AL/eAX, DX */
	case 0xee: case 0xef:              /* OUT DX, AL/eAX */
	case 0x6c: case 0x6d:              /* INS */
	case 0x6e: case 0x6f:              /* OUTS */
		return 0;
	case 0xe4: case 0xe5:              /* IN AL/eAX, imm8 */
	case 0xe6: case 0xe7:              /* OUT imm8, AL/eAX */
		return 1;
	default:
		return -EINVAL;
	}
}

/* The 0f 01 group members with a fixed ModRM byte (mod = 11). */
static bool is_0f01_known(u8 modrm)
{
	switch (modrm) {
	case 0xd9: /* VMMCALL */
	case 0xc1: /* VMCALL */
	case 0xd1: /* XSETBV */
	case 0xf9: /* RDTSCP */
	case 0xc8: /* MONITOR */
	case 0xc9: /* MWAIT */
		return true;
	default:
		return false;
	}
}

int insn_length(const u8 *bytes, size_t avail, bool long_mode_64)
{
	size_t i = 0;
	int tail;

	/* Prefixes in any order and number, up to the 15-byte limit. A REX
	 * that is not last is ignored by the CPU (SDM vol. 2 2.2.1) but
	 * still part of the instruction. */
	for (;; i++) {
		if (i >= INSN_MAX_LEN)
			return -EINVAL;
		if (i >= avail)
			return -EAGAIN;
		if (!insn_is_legacy_prefix(bytes[i]) &&
		    !(long_mode_64 && (bytes[i] & 0xf0) == 0x40))
			break;
	}

	if (bytes[i] != 0x0f) {
		tail = one_byte_tail(bytes[i]);
		if (tail < 0)
			return tail;
		i += 1 + tail;
	} else {
		/* Two-byte map: 0f xx. */
		if (i + 1 >= INSN_MAX_LEN)
			return -EINVAL;
		if (i + 1 >= avail)
			return -EAGAIN;
		switch (bytes[i + 1]) {
		case 0xa2: /* CPUID */
		case 0x32: /* RDMSR */
		case 0x30: /* WRMSR */
		case 0x31: /* RDTSC */
		case 0x08: /* INVD */
		case 0x09: /* WBINVD */
			i += 2;
			break;
		case 0x20: /* MOV r, CRn */
		case 0x22: /* MOV CRn, r */
			/* ModRM, always a register operand: no SIB, no
			 * displacement whatever mod says. */
			i += 3;
			break;
		case 0x01:
			if (i + 2 >= INSN_MAX_LEN)
				return -EINVAL;
			if (i + 2 >= avail)
				return -EAGAIN;
			if (!is_0f01_known(bytes[i + 2]))
				return -EINVAL;
			i += 3;
			break;
		default:
			return -EINVAL;
		}
	}
	if (i > INSN_MAX_LEN)
		return -EINVAL;
	if (i > avail)
		return -EAGAIN;
	return (int)i;
}

