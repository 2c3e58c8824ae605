/*
 * What an intercepted INS/OUTS needs beyond what the exit reports
 * (arch/x86/string_io.c): its segment override and address-size
 * override, read from the instruction's prefixes (SDM vol. 2 2.1.1,
 * 2.2.1; "INS/INSB/INSW/INSD", "OUTS/OUTSB/OUTSW/OUTSD"), and the
 * effective address size in the vCPU's mode (SDM vol. 1 3.6.1, table 3-3).
 */
#ifndef ASM_STRING_IO_H
#define ASM_STRING_IO_H

#include <lib/types.h>
#include <asm/vendor.h>

struct string_io_insn {
	int seg;        /* enum vseg_id of an override prefix, or -1 */
	bool addr_override; /* 67h present */
	u8 opcode;      /* 6c INSB, 6d INSW/D, 6e OUTSB, 6f OUTSW/D */
};

/*
 * An insn_decode_fn (asm/insn.h): decodes prefixes up to the INS/OUTS
 * opcode in bytes[0..avail) (`l64`: 64-bit code, where 40-4f are REX and
 * ES/CS/SS/DS overrides are ignored, SDM vol. 1 3.7.4.1) into *ctx
 * (struct string_io_insn). Returns the length, -EAGAIN for more bytes,
 * -EINVAL when the opcode is not 6c-6f or 15 bytes pass.
 */
int string_io_decode(const u8 *bytes, size_t avail, bool l64, void *ctx);

/*
 * The address size in bytes (2, 4 or 8) of a string instruction in a
 * code segment with attributes `cs_attr` (struct vseg encoding: L bit 9,
 * D/B bit 10) when EFER.LMA is `lma`, with or without the 67h prefix.
 */
unsigned string_io_addr_size(u16 cs_attr, bool lma, bool addr_override);

#endif
