/*
 * The physical frame allocator: which frames it hands out, in what order,
 * and what it refuses.
 *
 * unit-sources: kernel/frame.c
 *
 * The allocator only keeps a bitmap; it zeroes the frames it returns
 * through frame_zero(), which this file implements by recording the calls
 * (the hypervisor's, kernel/frame_zero.c, writes through the direct map),
 * so the "physical" addresses below are never touched and need not exist
 * on the host. The bitmap is an array in this file. frame.c needs memset
 * (host libc) and panic() (the stub below, which turns a BUG_ON into a
 * test failure, or into a longjmp for the cases that expect one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/printk.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment ---------------------------------------------------------- */

static bool panic_expected;
static jmp_buf panic_jmp;
static char panic_msg[256];

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	if (panic_expected)
		longjmp(panic_jmp, 1);
	ck_abort_msg("unexpected panic: %s", panic_msg);
	abort();
}

/* frame_zero's calls, in order (the first few kept, all counted). */
static struct {
	paddr_t pa;
	u64 n;
} zero_calls[8];
static unsigned nr_zero_calls;

void frame_zero(paddr_t pa, u64 n)
{
	if (nr_zero_calls < sizeof(zero_calls) / sizeof(zero_calls[0])) {
		zero_calls[nr_zero_calls].pa = pa;
		zero_calls[nr_zero_calls].n = n;
	}
	nr_zero_calls++;
}

/* ---- fixture -------------------------------------------------------------- */

#define KB4 0x1000ULL
#define TOP 0x1000000ULL /* 16 MiB: 4096 frames */
#define NR_FRAMES (TOP / KB4)

/* A small PC: low RAM up to the EBDA, the legacy hole, RAM with an ACPI
 * table area in the middle. Already sanitized, as frame_init expects. */
static const struct boot_mem_range pc_map[] = {
	{ 0x0, 0x9f000, BOOT_MEM_USABLE, 0 },
	{ 0x9f000, 0x61000, BOOT_MEM_RESERVED, 0 },
	{ 0x100000, 0x700000, BOOT_MEM_USABLE, 0 },
	{ 0x800000, 0x10000, BOOT_MEM_ACPI, 0 },
	{ 0x810000, 0x7f0000, BOOT_MEM_USABLE, 0 },
};
#define PC_USABLE_FRAMES (0x9fULL + 0x700 + 0x7f0) /* 3983 */

static u64 bitmap[NR_FRAMES / 64];

/* The oracle: is pa inside a usable range of pc_map? */
static bool usable(paddr_t pa)
{
	for (unsigned i = 0; i < ARRAY_SIZE(pc_map); i++)
		if (pc_map[i].type == BOOT_MEM_USABLE && pa >= pc_map[i].base &&
		    pa < pc_map[i].base + pc_map[i].len)
			return true;
	return false;
}

static void init_pc(void)
{
	memset(bitmap, 0x5a, sizeof(bitmap)); /* frame_init must not trust it */
	int rc = frame_init(pc_map, ARRAY_SIZE(pc_map), bitmap, TOP);
	ck_assert_msg(rc == 0, "frame_init: rc %d, want 0", rc);
}

/*
 * As kernel_main does: frame 0 is reserved after init, because
 * frame_alloc's "none free" value 0 is also frame 0's address.
 */
#define FREE_AFTER_SETUP (PC_USABLE_FRAMES - 1)

static void setup(void)
{
	init_pc();
	frame_reserve(0, KB4);
	nr_zero_calls = 0;
}

#define expect_free(n)                                                           \
	ck_assert_msg(frames_free() == (u64)(n), "frames_free() = %llu, want %llu", \
		      (unsigned long long)frames_free(), (unsigned long long)(n))

/* Allocates single frames until frame_alloc returns 0; returns the count
 * and stores the frames (in allocation order) in out[]. */
static u64 drain(paddr_t *out, u64 max)
{
	u64 n = 0;
	for (paddr_t pa; (pa = frame_alloc()) != 0;) {
		ck_assert_msg(n < max, "frame_alloc handed out more than %llu frames",
			      (unsigned long long)max);
		out[n++] = pa;
	}
	return n;
}

static paddr_t got[NR_FRAMES];

/* ---- tests ---------------------------------------------------------------- */

START_TEST(init_counts_usable_frames)
{
	init_pc();
	expect_free(PC_USABLE_FRAMES);
	ck_assert_msg(frames_total() == PC_USABLE_FRAMES, "frames_total() = %llu, want %llu",
		      (unsigned long long)frames_total(), PC_USABLE_FRAMES);
	for (paddr_t pa = 0; pa < TOP; pa += KB4)
		ck_assert_msg(frame_in_use(pa) == !usable(pa),
			      "frame %#llx: in use %d after init, want %d",
			      (unsigned long long)pa, frame_in_use(pa), !usable(pa));
}
END_TEST

START_TEST(init_rounds_unaligned_usable_inward)
{
	/* An unsanitized range [0x1800, 0x5800) holds whole frames 2..4 only. */
	static const struct boot_mem_range map[] = {
		{ 0x1800, 0x4000, BOOT_MEM_USABLE, 0 },
	};
	u64 bm[1];
	ck_assert_int_eq(frame_init(map, 1, bm, 0x6000), 0);
	expect_free(3);
	ck_assert_msg(frame_in_use(0x1000) && !frame_in_use(0x2000) &&
			      !frame_in_use(0x4000) && frame_in_use(0x5000),
		      "in use 0x1000:%d 0x2000:%d 0x4000:%d 0x5000:%d, want 1 0 0 1",
		      frame_in_use(0x1000), frame_in_use(0x2000), frame_in_use(0x4000),
		      frame_in_use(0x5000));
}
END_TEST

START_TEST(init_without_usable_ram_enomem)
{
	static const struct boot_mem_range map[] = {
		{ 0x0, 0x100000, BOOT_MEM_RESERVED, 0 },
		{ 0x100000, 0x100000, BOOT_MEM_ACPI, 0 },
	};
	int rc = frame_init(map, ARRAY_SIZE(map), bitmap, 0x200000);
	ck_assert_msg(rc == -ENOMEM, "frame_init of a map without RAM: rc %d, want %d",
		      rc, -ENOMEM);
	expect_free(0);
	ck_assert_msg(frame_alloc() == 0, "frame_alloc succeeded with no RAM");
}
END_TEST

START_TEST(alloc_top_down_distinct_usable_then_exhausted)
{
	setup();
	u64 n = drain(got, NR_FRAMES);
	ck_assert_msg(n == FREE_AFTER_SETUP, "%llu frames handed out, want %llu",
		      (unsigned long long)n, FREE_AFTER_SETUP);
	ck_assert_msg(got[0] == TOP - KB4, "first frame %#llx, want the top one %#llx",
		      (unsigned long long)got[0], TOP - KB4);
	for (u64 i = 0; i < n; i++) {
		/* Strictly descending also proves they are distinct. */
		ck_assert_msg(i == 0 || got[i] < got[i - 1],
			      "frame %llu = %#llx after %#llx: not top-down",
			      (unsigned long long)i, (unsigned long long)got[i],
			      (unsigned long long)got[i - 1]);
		ck_assert_msg(usable(got[i]) && (got[i] & (KB4 - 1)) == 0,
			      "handed out %#llx, which is not a usable frame",
			      (unsigned long long)got[i]);
		ck_assert_msg(frame_in_use(got[i]), "allocated %#llx not in use",
			      (unsigned long long)got[i]);
	}
	expect_free(0);
	ck_assert_msg(frame_alloc() == 0, "frame_alloc on an empty allocator: %#llx, want 0",
		      (unsigned long long)frame_alloc());
	ck_assert_msg(frame_alloc_contig(1, KB4) == 0, "frame_alloc_contig on an empty allocator succeeded");
}
END_TEST

START_TEST(reserve_rounds_outward_and_excludes)
{
	setup();
	/* [0x100800, 0x101800) touches frames 0x100000 and 0x101000. */
	frame_reserve(0x100800, 0x1000);
	expect_free(FREE_AFTER_SETUP - 2);
	ck_assert_msg(frame_in_use(0x100000) && frame_in_use(0x101000) && !frame_in_use(0x102000),
		      "in use 0x100000:%d 0x101000:%d 0x102000:%d, want 1 1 0",
		      frame_in_use(0x100000), frame_in_use(0x101000), frame_in_use(0x102000));

	/* Reserving what is already reserved (ACPI, the same frames again) or
	 * above the top changes nothing. */
	frame_reserve(0x800000, 0x10000);
	frame_reserve(0x100000, 0x2000);
	frame_reserve(TOP, 0x100000);
	expect_free(FREE_AFTER_SETUP - 2);

	u64 n = drain(got, NR_FRAMES);
	ck_assert_uint_eq(n, FREE_AFTER_SETUP - 2);
	for (u64 i = 0; i < n; i++)
		ck_assert_msg(got[i] != 0x100000 && got[i] != 0x101000,
			      "reserved frame %#llx handed out", (unsigned long long)got[i]);
}
END_TEST

START_TEST(free_makes_frame_allocatable_again)
{
	setup();
	u64 n = drain(got, NR_FRAMES);
	ck_assert_uint_eq(n, FREE_AFTER_SETUP);

	/* A low frame: the allocator's search hint is far below the top now. */
	frame_free(0x5000);
	expect_free(1);
	ck_assert_msg(!frame_in_use(0x5000), "freed frame 0x5000 still in use");
	paddr_t pa = frame_alloc();
	ck_assert_msg(pa == 0x5000, "after freeing 0x5000, frame_alloc gave %#llx",
		      (unsigned long long)pa);

	/* A high one, above the hint. */
	frame_free(TOP - KB4);
	pa = frame_alloc();
	ck_assert_msg(pa == TOP - KB4, "after freeing %#llx, frame_alloc gave %#llx",
		      TOP - KB4, (unsigned long long)pa);
	expect_free(0);
}
END_TEST

/* frame_free(pa) must stop at a BUG_ON (the panic stub jumps back). */
static void expect_free_panics(paddr_t pa)
{
	panic_msg[0] = 0;
	panic_expected = true;
	if (setjmp(panic_jmp) == 0) {
		frame_free(pa);
		ck_abort_msg("frame_free(%#llx) returned; want a panic",
			     (unsigned long long)pa);
	}
	panic_expected = false;
	ck_assert_msg(strstr(panic_msg, "BUG") != NULL,
		      "frame_free(%#llx): panic message \"%s\", want a BUG_ON",
		      (unsigned long long)pa, panic_msg);
}

START_TEST(double_free_panics)
{
	setup();
	paddr_t pa = frame_alloc();
	frame_free(pa);
	expect_free_panics(pa);
	expect_free(FREE_AFTER_SETUP);
}
END_TEST

/* (Freeing a reserved frame cannot be caught: the bitmap does not tell
 * reserved from allocated, and the contract does not promise it.) */
START_TEST(free_past_top_or_unaligned_panics)
{
	setup();
	paddr_t pa = frame_alloc();
	expect_free_panics(TOP);
	expect_free_panics(0x100000000ULL);
	expect_free_panics(pa + 0x10);
	expect_free(FREE_AFTER_SETUP - 1);
	ck_assert_msg(frame_in_use(pa), "frame %#llx freed by a rejected unaligned free",
		      (unsigned long long)pa);
}
END_TEST

START_TEST(contig_aligned_and_contiguous)
{
	setup();
	paddr_t pa = frame_alloc_contig(16, 0x10000);
	ck_assert_msg(pa != 0 && (pa & 0xffff) == 0, "contig(16, 64K) = %#llx: not 64K aligned",
		      (unsigned long long)pa);
	for (u64 i = 0; i < 16; i++)
		ck_assert_msg(usable(pa + i * KB4) && frame_in_use(pa + i * KB4),
			      "contig frame %#llx: usable %d in use %d",
			      (unsigned long long)(pa + i * KB4), usable(pa + i * KB4),
			      frame_in_use(pa + i * KB4));
	ck_assert_msg(pa == TOP - 0x10000, "contig(16, 64K) = %#llx, want the top %#llx",
		      (unsigned long long)pa, TOP - 0x10000);
	expect_free(FREE_AFTER_SETUP - 16);

	/* 2 MiB with the topmost frame taken: the block below it. */
	frame_reserve(TOP - 0x200000, KB4);
	paddr_t big = frame_alloc_contig(512, 0x200000);
	ck_assert_msg(big == TOP - 0x400000, "contig(512, 2M) = %#llx, want %#llx",
		      (unsigned long long)big, TOP - 0x400000);

	/* 8 MiB contiguous does not exist in this map (ACPI at 8 MiB). */
	u64 before = frames_free();
	paddr_t none = frame_alloc_contig(2048, KB4);
	ck_assert_msg(none == 0, "contig(2048 frames) = %#llx across a hole, want 0",
		      (unsigned long long)none);
	expect_free(before);

	frame_free_contig(pa, 16);
	expect_free(before + 16);
	ck_assert_msg(frame_alloc_contig(16, 0x10000) == pa,
		      "freed contig block not handed out again");
}
END_TEST

START_TEST(contig_skips_reserved_holes)
{
	setup();
	/* [0x7f8000, 0x800000) + ACPI at 0x800000: 16 frames aligned to 32 KiB
	 * must not straddle the ACPI table area. Fill the top first. */
	frame_reserve(0x810000, TOP - 0x810000);
	paddr_t pa = frame_alloc_contig(16, 0x8000);
	ck_assert_msg(pa == 0x7f0000, "contig(16, 32K) under the ACPI hole = %#llx, want 0x7f0000",
		      (unsigned long long)pa);
}
END_TEST

START_TEST(contig_rejects_bad_arguments)
{
	setup();
	ck_assert_msg(frame_alloc_contig(0, KB4) == 0, "contig(0 frames) succeeded");
	ck_assert_msg(frame_alloc_contig(4, 3 * KB4) == 0, "contig with align 12K succeeded");
	ck_assert_msg(frame_alloc_contig(4, 0x800) == 0, "contig with align 2K succeeded");
	ck_assert_msg(frame_alloc_contig(NR_FRAMES + 1, KB4) == 0, "contig larger than RAM succeeded");
	expect_free(FREE_AFTER_SETUP);
}
END_TEST

START_TEST(in_use_past_top)
{
	setup();
	ck_assert_msg(frame_in_use(TOP), "frame at top %#llx reported free", TOP);
	ck_assert_msg(frame_in_use(0x100000000ULL), "frame at 4 GiB reported free");
	ck_assert_msg(!frame_in_use(0x100fff), "usable 0x100fff reported in use");
}
END_TEST

/* What frame_alloc and frame_alloc_contig hand out is zeroed, exactly that
 * and once; freeing, reserving and a failed allocation zero nothing. */
START_TEST(alloc_zeroes_what_it_hands_out)
{
	setup();
	paddr_t a = frame_alloc();
	ck_assert_msg(a != 0, "frame_alloc failed");
	ck_assert_msg(nr_zero_calls == 1 && zero_calls[0].pa == a && zero_calls[0].n == 1,
		      "frame_alloc -> %#llx: %u zero calls, first (%#llx, %llu), want (%#llx, 1)",
		      (unsigned long long)a, nr_zero_calls, (unsigned long long)zero_calls[0].pa,
		      (unsigned long long)zero_calls[0].n, (unsigned long long)a);
	paddr_t c = frame_alloc_contig(4, 4 * KB4);
	ck_assert_msg(c != 0, "frame_alloc_contig failed");
	ck_assert_msg(nr_zero_calls == 2 && zero_calls[1].pa == c && zero_calls[1].n == 4,
		      "frame_alloc_contig -> %#llx: %u zero calls, second (%#llx, %llu), want (%#llx, 4)",
		      (unsigned long long)c, nr_zero_calls, (unsigned long long)zero_calls[1].pa,
		      (unsigned long long)zero_calls[1].n, (unsigned long long)c);
	frame_free(a);
	frame_free_contig(c, 4);
	frame_reserve(0x200000, 2 * KB4);
	ck_assert_msg(frame_alloc_contig(NR_FRAMES + 1, KB4) == 0, "contig larger than RAM succeeded");
	ck_assert_msg(nr_zero_calls == 2, "free/reserve/failed alloc zeroed: %u calls, want 2",
		      nr_zero_calls);
	u64 n = drain(got, NR_FRAMES);
	ck_assert_msg(nr_zero_calls == 2 + n, "%llu frames drained, %u zero calls, want %llu",
		      (unsigned long long)n, nr_zero_calls, (unsigned long long)(2 + n));
}
END_TEST

START_TEST(free_run_and_reserve_by_words)
{
	setup();
	/* Holes inside and at the edges of whole words. */
	frame_reserve(0x140000, KB4);
	frame_reserve(0x17f000, 2 * KB4);
	frame_reserve(0x200000, KB4);
	for (paddr_t pa = 0x100000; pa < 0x300000; pa += 0x3000) {
		u64 want = 0;
		while (want < 0x90 && pa + want * KB4 < TOP && !frame_in_use(pa + want * KB4))
			want++;
		u64 run = frame_free_run(pa, 0x90);
		ck_assert_msg(run == want, "frame_free_run(%#llx) = %llu, want %llu",
			      (unsigned long long)pa, (unsigned long long)run,
			      (unsigned long long)want);
	}
	u64 before = frames_free(), was_free = 0;
	for (paddr_t pa = 0x101000; pa < 0x2c3000; pa += KB4)
		was_free += !frame_in_use(pa);
	frame_reserve(0x101000, 0x2c3000 - 0x101000);
	expect_free(before - was_free);
	for (paddr_t pa = 0x100000; pa < 0x2c4000; pa += KB4)
		ck_assert_msg(frame_in_use(pa) == (pa != 0x100000 && pa != 0x2c3000 ? 1 : !usable(pa)),
			      "frame %#llx: in use %d after the reserve", (unsigned long long)pa,
			      frame_in_use(pa));
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "frames-init-counts-usable-frames", &init_counts_usable_frames_ttest },
	{ "frames-init-rounds-unaligned-usable-inward", &init_rounds_unaligned_usable_inward_ttest },
	{ "frames-init-without-usable-ram-enomem", &init_without_usable_ram_enomem_ttest },
	{ "frames-alloc-top-down-distinct-usable-then-exhausted",
	  &alloc_top_down_distinct_usable_then_exhausted_ttest },
	{ "frames-reserve-rounds-outward-and-excludes", &reserve_rounds_outward_and_excludes_ttest },
	{ "frames-free-makes-frame-allocatable-again", &free_makes_frame_allocatable_again_ttest },
	{ "frames-double-free-panics", &double_free_panics_ttest },
	{ "frames-free-past-top-or-unaligned-panics", &free_past_top_or_unaligned_panics_ttest },
	{ "frames-contig-aligned-and-contiguous", &contig_aligned_and_contiguous_ttest },
	{ "frames-contig-skips-reserved-holes", &contig_skips_reserved_holes_ttest },
	{ "frames-contig-rejects-bad-arguments", &contig_rejects_bad_arguments_ttest },
	{ "frames-in-use-past-top", &in_use_past_top_ttest },
	{ "frames-alloc-zeroes-what-it-hands-out", &alloc_zeroes_what_it_hands_out_ttest },
	{ "frames-free-run-and-reserve-by-words", &free_run_and_reserve_by_words_ttest },
	{ 0 },
};
