/*
 * The disk pattern dom0's storage self-tests and the host's harness share
 * (tests/hw/test_hw.py, tests/storage/, guest/pvtest/blk.c have the same
 * generator): the 32-bit little-endian word at byte offset 4*w of a disk.
 */
#ifndef GUEST_DOM0_TEST_DISK_PATTERN_H
#define GUEST_DOM0_TEST_DISK_PATTERN_H

#include <lib/types.h>

static inline u32 pattern_word(u64 w, u32 seed)
{
	return (u32)((w + (u64)seed * 0x10000000ULL) * 2654435761ULL) ^ (u32)(w >> 13);
}

/* Fills len bytes of buf with the pattern of the disk bytes starting at
 * byte_off. */
static inline void pattern_fill(void *buf, u64 byte_off, size_t len, u32 seed)
{
	u32 *p = buf;
	for (size_t i = 0; i < len / 4; i++)
		p[i] = pattern_word(byte_off / 4 + i, seed);
}

/* The byte offset (within buf) of the first word that differs from the
 * pattern, or -1 when all match. */
static inline long pattern_mismatch(const void *buf, u64 byte_off, size_t len, u32 seed)
{
	const u32 *p = buf;
	for (size_t i = 0; i < len / 4; i++)
		if (p[i] != pattern_word(byte_off / 4 + i, seed))
			return (long)(i * 4);
	return -1;
}

#endif
