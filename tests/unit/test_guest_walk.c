/*
 * The guest page-table walk (guest_walk, asm/guest_walk.h) on hand-built
 * guest page tables in a fake guest-physical memory.
 *
 * unit-sources: arch/x86/guest_walk.c
 *
 * Entry bits are spelled out here from Intel SDM vol. 3 4.3-4.5.
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include <asm/paging.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

#define P (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define PS (1ULL << 7)
#define PAT_LARGE (1ULL << 12)
#define XD (1ULL << 63)

/* Guest RAM: gpa 0 .. MEM_SIZE. Tables are carved from it; mapped pages
 * may point anywhere (they are never read). */
#define MEM_PAGES 64
#define MEM_SIZE (MEM_PAGES * 4096ULL)
static u8 mem[MEM_SIZE] __attribute__((aligned(4096)));
static gpa_t next_page;
static unsigned reads;

static int read_mem(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	ck_assert_ptr_eq(ctx, mem);
	ck_assert_msg(size == 4 || size == 8, "read of %u bytes", size);
	ck_assert_msg(gpa % size == 0, "unaligned %u-byte read at %#llx", size,
		      (unsigned long long)gpa);
	reads++;
	if (gpa >= MEM_SIZE || MEM_SIZE - gpa < size)
		return -EFAULT;
	u64 v = 0;
	memcpy(&v, mem + gpa, size);
	*val = v;
	return 0;
}

static gpa_t new_table(void)
{
	ck_assert_uint_lt(next_page, MEM_SIZE);
	gpa_t t = next_page;
	next_page += 4096;
	return t;
}

static void put64(gpa_t gpa, u64 v) { memcpy(mem + gpa, &v, 8); }
static u64 get64(gpa_t gpa) { u64 v; memcpy(&v, mem + gpa, 8); return v; }
static void put32(gpa_t gpa, u32 v) { memcpy(mem + gpa, &v, 4); }

static struct guest_paging gp;

static void reset(void)
{
	memset(mem, 0, sizeof(mem));
	next_page = 0x1000;
	reads = 0;
	memset(&gp, 0, sizeof(gp));
}

/* Long mode with a fresh PML4; WP and NXE on, CPL 0. */
static void setup_4level(void)
{
	reset();
	gp.cr0 = CR0_PE | CR0_PG | CR0_WP;
	gp.cr4 = CR4_PAE;
	gp.efer = EFER_LME | EFER_LMA | EFER_NXE;
	gp.cr3 = new_table();
}

/*
 * 4-level: maps va at `level` (1: 4K, 2: 2M, 3: 1G) with the leaf entry
 * `leaf` (address and flags), making tables with `table_flags` as needed.
 */
static void map4(u64 va, unsigned level, u64 leaf, u64 table_flags)
{
	gpa_t t = gp.cr3 & 0x000ffffffffff000ULL;
	for (unsigned l = 4; l > level; l--) {
		gpa_t slot = t + ((va >> (12 + 9 * (l - 1))) & 511) * 8;
		u64 e = get64(slot);
		if (!(e & P)) {
			e = new_table() | table_flags;
			put64(slot, e);
		}
		t = e & 0x000ffffffffff000ULL;
	}
	put64(t + ((va >> (12 + 9 * (level - 1))) & 511) * 8, leaf);
}

/* Asserts the walk of va for `access` gives want (WALK_OK), or fails with
 * want_rc and the #PF error code want_ec (WALK_FAULT; want_ec ignored
 * for -EINVAL, which is #GP). */
#define WALK_OK(va, access, want)                                                \
	do {                                                                     \
		gpa_t g_ = 0xdeadbeef;                                           \
		int rc_ = guest_walk(&gp, (va), (access), read_mem, mem, &g_);   \
		ck_assert_msg(rc_ == 0 && g_ == (gpa_t)(want),                   \
			      "walk %#llx access %#x: rc %d gpa %#llx, want gpa " \
			      "%#llx", (unsigned long long)(va), (unsigned)(access), \
			      rc_, (unsigned long long)g_,                       \
			      (unsigned long long)(want));                       \
	} while (0)

#define WALK_FAULT(va, access, want_rc, want_ec)                                 \
	do {                                                                     \
		gpa_t g_ = 0;                                                    \
		int rc_ = guest_walk(&gp, (va), (access), read_mem, mem, &g_);   \
		ck_assert_msg(rc_ == (want_rc), "walk %#llx access %#x: rc %d gpa " \
			      "%#llx, want %d", (unsigned long long)(va),         \
			      (unsigned)(access), rc_, (unsigned long long)g_,   \
			      (int)(want_rc));                                   \
		u32 ec_ = guest_walk_pfec(&gp, (access), rc_);                   \
		ck_assert_msg((want_rc) == -EINVAL || ec_ == (u32)(want_ec),     \
			      "walk %#llx access %#x: #PF error code %#x, want %#x", \
			      (unsigned long long)(va), (unsigned)(access), ec_, \
			      (unsigned)(want_ec));                              \
	} while (0)

START_TEST(paging_off)
{
	reset();
	gp.cr0 = CR0_PE;
	WALK_OK(0x12345678, PT_R | PT_W | PT_X, 0x12345678);
	/* Linear addresses are 32 bits wide without paging. */
	WALK_OK(0x100001000ULL, PT_R, 0x1000);
	ck_assert_uint_eq(reads, 0);
}
END_TEST

START_TEST(walk_4level_4k)
{
	setup_4level();
	u64 va = 0x00007fff12345000ULL;
	map4(va, 1, 0xabc000 | P | RW, P | RW | US);
	WALK_OK(va + 0x678, PT_R, 0xabc678);
	WALK_OK(va, PT_W, 0xabc000);
	WALK_FAULT(va + 0x1000, PT_R, -EFAULT, 0);  /* next PTE empty */
	WALK_FAULT(va + 0x200000, PT_R, -EFAULT, 0); /* next PDE empty */
	/* Upper half: canonical works, non-canonical faults. */
	u64 hi = 0xffff800000001000ULL;
	map4(hi, 1, 0x5000 | P, P | RW | US);
	WALK_OK(hi + 4, PT_R, 0x5004);
	WALK_FAULT(0x0000800000001000ULL, PT_R, -EINVAL, 0);
	/* CR3's low 12 bits (PCID) don't move the PML4. */
	gp.cr3 |= 0x123;
	WALK_OK(va + 0x678, PT_R, 0xabc678);
	/* The walk never writes guest memory (no accessed/dirty bits). */
	static u8 before[MEM_SIZE];
	memcpy(before, mem, MEM_SIZE);
	WALK_OK(va, PT_W, 0xabc000);
	WALK_OK(hi, PT_R, 0x5000);
	ck_assert_msg(memcmp(before, mem, MEM_SIZE) == 0, "guest memory changed by a walk");
}
END_TEST

START_TEST(walk_2m)
{
	setup_4level();
	/* Bit 12 of a large leaf is PAT, not an address bit. */
	map4(0x40200000, 2, 0x80000000ULL | PAT_LARGE | PS | P | RW, P | RW | US);
	WALK_OK(0x40200000, PT_R, 0x80000000ULL);
	WALK_OK(0x403fffff, PT_W, 0x801fffffULL);
	WALK_FAULT(0x40400000, PT_R, -EFAULT, 0);
}
END_TEST

START_TEST(walk_1g)
{
	setup_4level();
	map4(0x0000004080000000ULL, 3, 0x1c0000000ULL | PAT_LARGE | PS | P, P | RW | US);
	WALK_OK(0x0000004080000000ULL, PT_R, 0x1c0000000ULL);
	WALK_OK(0x00000040bfffffffULL, PT_X, 0x1ffffffffULL);
	WALK_FAULT(0x00000040c0000000ULL, PT_R, -EFAULT, 0);
	WALK_FAULT(0x0000004080000000ULL, PT_W, -EACCES, PFEC_P | PFEC_W); /* read-only, WP on */
}
END_TEST

START_TEST(walk_nx)
{
	setup_4level();
	map4(0x1000, 1, 0x9000 | XD | P | RW, P | RW | US);
	WALK_OK(0x1000, PT_R, 0x9000);
	WALK_OK(0x1000, PT_W, 0x9000);
	WALK_FAULT(0x1000, PT_X, -EACCES, PFEC_P | PFEC_I);
	/* XD in a table entry covers everything below it. */
	map4(0x40000000000ULL, 1, 0xa000 | P, P | RW | US | XD);
	WALK_OK(0x40000000000ULL, PT_R, 0xa000);
	WALK_FAULT(0x40000000000ULL, PT_X, -EACCES, PFEC_P | PFEC_I);
	/* Without EFER.NXE there is no XD in force. */
	gp.efer &= ~EFER_NXE;
	WALK_OK(0x1000, PT_X, 0x9000);
}
END_TEST

START_TEST(walk_readonly_write_faults)
{
	setup_4level();
	map4(0x2000, 1, 0x7000 | P | US, P | RW | US); /* read-only user page */
	WALK_OK(0x2000, PT_R, 0x7000);
	WALK_FAULT(0x2000, PT_W, -EACCES, PFEC_P | PFEC_W); /* supervisor, CR0.WP = 1 */
	gp.cr0 &= ~CR0_WP;
	WALK_OK(0x2000, PT_W, 0x7000);      /* supervisor may, WP = 0 */
	gp.cpl = 3;
	WALK_FAULT(0x2000, PT_W, -EACCES, PFEC_P | PFEC_W | PFEC_U); /* user writes always honour R/W */
	WALK_OK(0x2000, PT_R, 0x7000);
	/* Read-only in a table entry makes the whole subtree read-only. */
	gp.cr0 |= CR0_WP;
	gp.cpl = 0;
	map4(0x80000000000ULL, 1, 0x8000 | P | RW, P | US);
	WALK_OK(0x80000000000ULL, PT_R, 0x8000);
	WALK_FAULT(0x80000000000ULL, PT_W, -EACCES, PFEC_P | PFEC_W);
}
END_TEST

START_TEST(walk_user_needs_us)
{
	setup_4level();
	map4(0x3000, 1, 0x3000 | P | RW, P | RW | US);       /* supervisor page */
	map4(0x4000000000ULL, 1, 0x4000 | P | RW | US, P | RW); /* table lacks US */
	map4(0x5000, 1, 0x5000 | P | RW | US, P | RW | US);  /* user page */
	WALK_OK(0x3000, PT_R, 0x3000);
	WALK_OK(0x4000000000ULL, PT_R, 0x4000);
	WALK_OK(0x5000, PT_W, 0x5000); /* supervisor may touch user pages */
	gp.cpl = 3;
	WALK_FAULT(0x3000, PT_R, -EACCES, PFEC_P | PFEC_U);
	WALK_FAULT(0x4000000000ULL, PT_R, -EACCES, PFEC_P | PFEC_U);
	WALK_OK(0x5000, PT_W, 0x5000);
}
END_TEST

START_TEST(walk_crossing_unmapped)
{
	setup_4level();
	/* A buffer from 0x10ff0 to 0x11010 crosses into an unmapped page:
	 * its first page translates, its second does not. */
	map4(0x10000, 1, 0x20000 | P | RW, P | RW | US);
	WALK_OK(0x10ff0, PT_R, 0x20ff0);
	WALK_FAULT(0x11000, PT_R, -EFAULT, 0);
	/* A guest table outside guest RAM fails the walk the same way. */
	put64(gp.cr3 + 8 * 5, (MEM_SIZE + 0x10000) | P | RW | US);
	WALK_FAULT(5ULL << 39, PT_R, -EFAULT, 0);
	/* And so does a CR3 that points outside guest RAM. */
	gp.cr3 = MEM_SIZE;
	WALK_FAULT(0x10000, PT_R, -EFAULT, 0);
}
END_TEST

START_TEST(walk_32bit)
{
	reset();
	gp.cr0 = CR0_PE | CR0_PG | CR0_WP;
	gp.cr3 = new_table();
	gpa_t pt = new_table();
	/* 4 KiB page at 0x00401000 through a PT. */
	put32(gp.cr3 + 1 * 4, (u32)pt | P | RW | US);
	put32(pt + 1 * 4, 0x00777000 | P | RW);
	WALK_OK(0x00401abc, PT_W, 0x00777abc);
	WALK_OK(0x00401abc, PT_X, 0x00777abc); /* no XD in 4-byte entries */
	/* A 4 MiB page at 0xc0000000 with PSE-36 bits 39:32 = 0x12. */
	put32(gp.cr3 + 0x300 * 4, 0x01000000 | (0x12u << 13) | PS | P | RW);
	gp.cr4 = CR4_PSE;
	WALK_OK(0xc0123456, PT_R, 0x1201123456ULL);
	/* Without CR4.PSE bit 7 is ignored: the PDE points at a table. */
	gp.cr4 = 0;
	put32(gp.cr3 + 0x301 * 4, (u32)pt | PS | P | RW);
	WALK_OK(0xc0401000, PT_R, 0x00777000);
	/* 32-bit linear addresses: bits above 31 are dropped. */
	WALK_OK(0x100401000ULL, PT_R, 0x00777000);
	WALK_FAULT(0x00402000, PT_R, -EFAULT, 0);
}
END_TEST

START_TEST(walk_pae)
{
	reset();
	gp.cr0 = CR0_PE | CR0_PG | CR0_WP;
	gp.cr4 = CR4_PAE;
	gp.efer = EFER_NXE;
	gpa_t pdpt_page = new_table();
	gp.cr3 = pdpt_page + 0x40; /* PDPT is 32-byte aligned, not 4K */
	gpa_t pd = new_table();
	gpa_t pt = new_table();
	/* PDPTE 3 (0xc0000000-): P only; R/W, U/S and XD don't exist there. */
	put64(gp.cr3 + 3 * 8, pd | P);
	put64(pd + 1 * 8, 0x1e00000ULL | PAT_LARGE | PS | P | RW | XD); /* 2M */
	put64(pd + 2 * 8, pt | P | RW);
	put64(pt + 3 * 8, 0x123456000ULL | P); /* above 4 GiB */
	WALK_OK(0xc0212345, PT_W, 0x1e12345);
	WALK_FAULT(0xc0212345, PT_X, -EACCES, PFEC_P | PFEC_I);
	WALK_OK(0xc0403010, PT_X, 0x123456010ULL);
	WALK_FAULT(0xc0403010, PT_W, -EACCES, PFEC_P | PFEC_W);
	WALK_FAULT(0x00403010, PT_R, -EFAULT, 0); /* PDPTE 0 not present */
}
END_TEST

START_TEST(walk_la57_refused)
{
	setup_4level();
	map4(0x1000, 1, 0x1000 | P, P | RW | US);
	gp.cr4 |= 1UL << 12; /* CR4.LA57 */
	WALK_FAULT(0x1000, PT_R, -EINVAL, 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "guest-walk-paging-off", &paging_off_ttest },
	{ "guest-walk-4level-4k", &walk_4level_4k_ttest },
	{ "guest-walk-2m", &walk_2m_ttest },
	{ "guest-walk-1g", &walk_1g_ttest },
	{ "guest-walk-nx", &walk_nx_ttest },
	{ "guest-walk-readonly-write-faults", &walk_readonly_write_faults_ttest },
	{ "guest-walk-user-needs-us", &walk_user_needs_us_ttest },
	{ "guest-walk-crossing-unmapped", &walk_crossing_unmapped_ttest },
	{ "guest-walk-32bit-4m", &walk_32bit_ttest },
	{ "guest-walk-pae", &walk_pae_ttest },
	{ "guest-walk-la57-refused", &walk_la57_refused_ttest },
	{ 0 },
};
