/*
 * lib/string.c's memmove (every image's; the hypervisor's grant copy of
 * PV block data runs through it): a forward REP MOVS copy where that is
 * safe (no overlap, or dst below src), backwards where dst starts inside
 * src. lib/string.c is included with its functions renamed, so the
 * host's libc keeps its own.
 */
#define memset keel_memset
#define memcpy keel_memcpy
#define memmove keel_memmove
#define memcmp keel_memcmp
#define strlen keel_strlen
#define strnlen keel_strnlen
#define strcmp keel_strcmp
#define strncmp keel_strncmp
#define strchr keel_strchr
#define strlcpy keel_strlcpy
#include "../../lib/string.c"
#undef memset
#undef memcpy
#undef memmove
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strlcpy

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define N 4200
static u8 buf[2 * N + 64], want[2 * N + 64];

static void fill(void)
{
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = want[i] = (u8)(i * 7 + 3);
}

/* Moves n bytes from offset s to offset d of buf, and of want by hand. */
static void check(unsigned d, unsigned s, unsigned n)
{
	u8 tmp[2 * N + 64];

	fill();
	for (unsigned i = 0; i < n; i++)
		tmp[i] = want[s + i];
	for (unsigned i = 0; i < n; i++)
		want[d + i] = tmp[i];
	ck_assert_ptr_eq(keel_memmove(buf + d, buf + s, n), buf + d);
	for (unsigned i = 0; i < sizeof(buf); i++)
		if (buf[i] != want[i])
			ck_abort_msg("d %u s %u n %u: byte %u is %u, want %u", d, s, n, i, buf[i],
				     want[i]);
}

START_TEST(apart_and_overlapping_both_ways)
{
	static const unsigned sizes[] = { 0, 1, 7, 8, 9, 63, 4096, N };
	static const unsigned shifts[] = { 1, 3, 8, 13, 4096 };

	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned n = sizes[k];
		check(N + 32, 0, n); /* apart, dst above */
		check(0, N + 32, n); /* apart, dst below */
		for (unsigned j = 0; j < sizeof(shifts) / sizeof(shifts[0]); j++) {
			check(shifts[j], 0, n);  /* dst inside src: backwards */
			check(0, shifts[j], n);  /* src inside dst: forwards */
		}
		check(5, 5, n);                  /* onto itself */
	}
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "lib-memmove-apart-and-overlapping-both-ways", &apart_and_overlapping_both_ways_ttest },
	{ 0 },
};
