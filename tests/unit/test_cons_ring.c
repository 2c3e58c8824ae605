/*
 * The PV console backend's ring handling (guest/dom0/console/cons_ring.c)
 * with a hostile guest: every index it may write, checked; nothing read
 * or written outside the page.
 *
 * unit-sources: guest/dom0/console/cons_ring.c
 */
#include <string.h>
#include <lib/errno.h>
#include "../../guest/dom0/console/cons_ring.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* The ring inside a page with guard bytes around it. */
static struct {
	u8 before[64];
	struct xencons_interface r;
	u8 after[64];
} page;

static void reset(void)
{
	memset(&page, 0x5a, sizeof(page));
	memset(&page.r, 0, sizeof(page.r));
}

static void guards_intact(void)
{
	for (unsigned i = 0; i < 64; i++) {
		ck_assert_uint_eq(page.before[i], 0x5a);
		ck_assert_uint_eq(page.after[i], 0x5a);
	}
}

/* What a well-behaved guest does: bytes, then out_prod. */
static void guest_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		page.r.out[MASK_XENCONS_IDX(page.r.out_prod + i, page.r.out)] = s[i];
	page.r.out_prod += (u32)n;
}

START_TEST(cons_ring_reads_in_order_across_the_wrap)
{
	char buf[4096];
	reset();
	page.r.out_cons = page.r.out_prod = 0xfffffff0u; /* wraps the 32-bit index */
	guest_write("hello, ", 7);
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf, sizeof(buf)), 7);
	ck_assert_int_eq(memcmp(buf, "hello, ", 7), 0);
	/* A full ring, 2048 bytes, starting near the end of out[]. */
	char big[2048];
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	guest_write(big, sizeof(big));
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf, 100), 100); /* bounded by max */
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf + 100, sizeof(buf)), 1948);
	ck_assert_int_eq(memcmp(buf, big, sizeof(big)), 0);
	ck_assert_uint_eq(page.r.out_cons, page.r.out_prod);
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf, sizeof(buf)), 0);
	guards_intact();
}
END_TEST

START_TEST(cons_ring_refuses_out_of_range_indices)
{
	char buf[8192];
	reset();
	/* More than the ring holds. */
	page.r.out_cons = 100;
	page.r.out_prod = 100 + 2049;
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf, sizeof(buf)), -EIO);
	ck_assert_uint_eq(page.r.out_cons, 100); /* nothing changed */
	/* The consumer index ahead of the producer (difference wraps huge). */
	page.r.out_prod = 50;
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf, sizeof(buf)), -EIO);
	/* Huge indices are fine as long as the difference is: masked. */
	page.r.out_cons = 0x7ffffff0u;
	page.r.out_prod = 0x7ffffff0u + 2048;
	ck_assert_int_eq(cons_ring_read_out(&page.r, buf, sizeof(buf)), 2048);
	/* Input side: a guest claiming to have consumed more than written. */
	page.r.in_prod = 10;
	page.r.in_cons = 11;
	ck_assert_int_eq(cons_ring_write_in(&page.r, "x", 1), -EIO);
	page.r.in_cons = 10 - 1025;
	ck_assert_int_eq(cons_ring_write_in(&page.r, "x", 1), -EIO);
	ck_assert_uint_eq(page.r.in_prod, 10);
	guards_intact();
}
END_TEST

START_TEST(cons_ring_input_fills_only_the_room)
{
	char in[3000];
	reset();
	memset(in, 'k', sizeof(in));
	page.r.in_cons = page.r.in_prod = 1020; /* near the end of in[] */
	ck_assert_int_eq(cons_ring_write_in(&page.r, in, sizeof(in)), 1024);
	ck_assert_uint_eq(page.r.in_prod - page.r.in_cons, 1024);
	ck_assert_int_eq(cons_ring_write_in(&page.r, in, 1), 0); /* full */
	page.r.in_cons += 5;                                     /* guest read 5 */
	ck_assert_int_eq(cons_ring_write_in(&page.r, "abcdefg", 7), 5);
	for (unsigned i = 0; i < 5; i++) /* across the end of in[] */
		ck_assert_int_eq(page.r.in[MASK_XENCONS_IDX(1020 + 1024 + i, page.r.in)], "abcde"[i]);
	ck_assert_int_eq(page.r.out[0], 0); /* never past in[] */
	guards_intact();
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "console-ring-reads-in-order-across-the-wrap",
	  &cons_ring_reads_in_order_across_the_wrap_ttest },
	{ "console-ring-refuses-out-of-range-indices",
	  &cons_ring_refuses_out_of_range_indices_ttest },
	{ "console-ring-input-fills-only-the-room", &cons_ring_input_fills_only_the_room_ttest },
	{ 0 },
};
