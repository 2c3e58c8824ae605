/*
 * Shared helpers for the libFuzzer harnesses (tests/fuzz/fuzz_*.c; how they
 * are built and run: docs/fuzzing.md).
 *
 * Each harness defines LLVMFuzzerTestOneInput() and names the Keel sources
 * it links on a line of the form
 *
 *     unit-sources: kernel/elf.c
 *
 * inside a comment, the same convention as tests/unit/ (tests/fuzz/fuzz.mk
 * reads it with unit.mk's unit_sources), so a harness and the unit test of
 * the same code compile the same files with the same -DUNIT_TEST.
 *
 * State-machine harnesses read their input as a sequence of operations
 * through struct fuzz_in: once the bytes run out every read returns 0, so
 * any prefix of an input is itself a valid input (libFuzzer's mutations
 * then stay meaningful).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/types.h>

struct fuzz_in {
	const u8 *p;
	size_t n;
};

static inline bool fuzz_more(const struct fuzz_in *in)
{
	return in->n > 0;
}

static inline u64 fuzz_bytes(struct fuzz_in *in, unsigned size)
{
	u64 v = 0;

	for (unsigned i = 0; i < size; i++)
		if (in->n) {
			v |= (u64)in->p[0] << (8 * i);
			in->p++;
			in->n--;
		}
	return v;
}

static inline u8 fuzz_u8(struct fuzz_in *in) { return (u8)fuzz_bytes(in, 1); }
static inline u16 fuzz_u16(struct fuzz_in *in) { return (u16)fuzz_bytes(in, 2); }
static inline u32 fuzz_u32(struct fuzz_in *in) { return (u32)fuzz_bytes(in, 4); }
static inline u64 fuzz_u64(struct fuzz_in *in) { return fuzz_bytes(in, 8); }

/* A broken invariant: print what and where, then abort() so libFuzzer
 * records the input as a crash (build/fuzz/crashes/NAME/). */
#define fuzz_check(cond, ...)                                                      \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant '%s' broken: ", __FILE__, \
				__LINE__, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#endif
