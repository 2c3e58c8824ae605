/*
 * INS/OUTS decoding (contract in asm/string_io.h). Pure, unit-tested
 * (tests/unit/test_string_io.c); kernel/io.c does the transfer.
 */
#include <asm/insn.h>
#include <asm/string_io.h>
#include <lib/errno.h>

#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)

static int seg_of_prefix(u8 b)
{
	switch (b) {
	case 0x26: return VSEG_ES;
	case 0x2e: return VSEG_CS;
	case 0x36: return VSEG_SS;
	case 0x3e: return VSEG_DS;
	case 0x64: return VSEG_FS;
	case 0x65: return VSEG_GS;
	default: return -1;
	}
}

int string_io_decode(const u8 *bytes, size_t avail, bool l64, void *ctx)
{
	struct string_io_insn *s = ctx;

	s->seg = -1;
	s->addr_override = false;
	for (size_t i = 0; i < INSN_MAX_LEN; i++) {
		if (i >= avail)
			return -EAGAIN;
		u8 b = bytes[i];
		if (insn_is_legacy_prefix(b)) {
			int seg = seg_of_prefix(b);
			/* In 64-bit mode only FS and GS overrides count. */
			if (seg >= 0 && (!l64 || seg == VSEG_FS || seg == VSEG_GS))
				s->seg = seg;
			if (b == 0x67)
				s->addr_override = true;
			continue;
		}
		if (l64 && (b & 0xf0) == 0x40) {
			/* REX: only valid right before the opcode; a legacy
			 * prefix after it makes the CPU ignore it, which does
			 * not change what INS/OUTS do. */
			continue;
		}
		if (b < 0x6c || b > 0x6f)
			return -EINVAL;
		s->opcode = b;
		return (int)i + 1;
	}
	return -EINVAL;
}

unsigned string_io_addr_size(u16 cs_attr, bool lma, bool addr_override)
{
	if (lma && (cs_attr & SEG_ATTR_L))
		return addr_override ? 4 : 8;
	if (cs_attr & SEG_ATTR_DB)
		return addr_override ? 2 : 4;
	return addr_override ? 4 : 2;
}
