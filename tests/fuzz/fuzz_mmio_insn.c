/*
 * The MMIO move decoder (arch/x86/mmio_insn.c): the guest instruction
 * behind a trapped MMIO access, fetched from guest memory.
 *
 * unit-sources: arch/x86/mmio_insn.c
 *
 * Input: 16 bytes of register values' seed, then the instruction bytes
 * (in a heap buffer of exactly that size). Checks asm/mmio_insn.h: a
 * decoded move has a length within what was fetched and 15 bytes, an
 * access size of 1, 2, 4 or 8, a register 0-15 that is not RSP; the
 * answer is the same when exactly `len` bytes are fetched and -EAGAIN
 * for fewer. Then store_value/load_result against the SDM's width rules
 * (vol. 1 3.4.1.1), touching no register but the destination.
 */
#include <lib/errno.h>
#include <asm/mmio_insn.h>

#include "fuzz.h"

static int decode(const u8 *bytes, size_t avail, struct mmio_insn *out)
{
	u8 *copy = malloc(avail ? avail : 1);
	int rc;

	memcpy(copy, bytes, avail);
	rc = mmio_insn_decode(copy, avail, out);
	free(copy);
	return rc;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size < 16 ? size : 16 };
	u64 seed = fuzz_u64(&in), val = fuzz_u64(&in);
	const u8 *bytes = data + (size < 16 ? size : 16);
	size_t avail = size - (size < 16 ? size : 16);
	struct mmio_insn d, again;
	int rc = decode(bytes, avail, &d);

	fuzz_check(rc == 0 || rc == -EINVAL || rc == -EAGAIN, "rc %d", rc);
	if (rc == -EAGAIN)
		fuzz_check(avail < 15, "-EAGAIN with %zu bytes", avail);
	if (rc)
		return 0;
	fuzz_check(d.len >= 2 && d.len <= 15 && d.len <= avail, "len %u of %zu", d.len, avail);
	fuzz_check(d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8, "size %u", d.size);
	fuzz_check(decode(bytes, d.len, &again) == 0 && memcmp(&again, &d, sizeof(d)) == 0,
		   "different with exactly %u bytes", d.len);
	for (unsigned n = 0; n < d.len; n++)
		fuzz_check(decode(bytes, n, &again) == -EAGAIN, "%u of %u bytes", n, d.len);
	if (d.has_imm) {
		fuzz_check(d.write, "an immediate load");
		return 0;
	}
	fuzz_check(d.reg < 16 && (d.reg != 4 || d.high8), "reg %u high8 %d", d.reg, d.high8);
	fuzz_check(!d.high8 || (d.reg < 4 && d.size == 1), "high8 reg %u size %u", d.reg, d.size);

	u64 gprs[16], before[16];
	for (unsigned i = 0; i < 16; i++)
		gprs[i] = before[i] = seed * (2 * i + 1) ^ (seed >> i);
	if (d.write) {
		u64 v = mmio_insn_store_value(&d, gprs);
		u64 want = d.high8 ? (gprs[d.reg] >> 8) & 0xff : gprs[d.reg];
		fuzz_check(v == want, "store value %#lx, want %#lx", (unsigned long)v,
			   (unsigned long)want);
		fuzz_check(memcmp(gprs, before, sizeof(gprs)) == 0, "a store changed a register");
		return 0;
	}
	fuzz_check(d.dst_size == 1 || d.dst_size == 2 || d.dst_size == 4 || d.dst_size == 8,
		   "dst_size %u", d.dst_size);
	mmio_insn_load_result(&d, gprs, val);
	for (unsigned i = 0; i < 16; i++)
		if (i != d.reg)
			fuzz_check(gprs[i] == before[i], "load changed register %u too", i);
	u64 loaded = d.size == 8 ? val : val & ((1ULL << (8 * d.size)) - 1);
	u64 r = gprs[d.reg], old = before[d.reg];
	if (d.high8)
		fuzz_check(r == ((old & ~0xff00ULL) | (loaded & 0xff) << 8), "high8 load");
	else if (d.dst_size == 4)
		fuzz_check(r == (loaded & 0xffffffffu), "32-bit load must zero-extend");
	else if (d.dst_size == 8)
		fuzz_check(r == loaded, "64-bit load");
	else {
		u64 m = (1ULL << (8 * d.dst_size)) - 1;
		fuzz_check(r == ((old & ~m) | (loaded & m)), "%u-byte load keeps the rest",
			   d.dst_size);
	}
	return 0;
}
