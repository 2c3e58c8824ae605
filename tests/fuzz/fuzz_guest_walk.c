/*
 * The guest page-table walker (arch/x86/guest_walk.c): the
 * hypervisor walks tables the guest wrote, with paging registers the
 * guest chose, for every hypercall buffer it copies.
 *
 * unit-sources: arch/x86/guest_walk.c
 *
 * Input: mode byte (paging on, PAE, LMA, PSE, LA57, WP, NXE), CPL, CR3,
 * the linear address, then up to 16 pages of guest-physical memory from
 * gpa 0 (tables point anywhere; reads outside it are -EFAULT).
 *
 * Checks asm/guest_walk.h: only aligned 4- or 8-byte reads, at most one
 * per level; a translation keeps the page offset; permissions only ever
 * refuse, never change the translation: whatever succeeds for a user
 * write+execute succeeds, at the same address, for a supervisor read,
 * and the same for each single permission; 5-level paging and
 * non-canonical addresses are refused in long mode.
 */
#include <lib/errno.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include <asm/paging.h>

#include "fuzz.h"

#define MEM_SIZE (16 * 4096)

static u8 mem[MEM_SIZE];
static unsigned reads;

static int read_mem(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	fuzz_check(ctx == mem, "context");
	fuzz_check((size == 4 || size == 8) && gpa % size == 0, "%u-byte read at 0x%lx", size,
		   (unsigned long)gpa);
	reads++;
	if (gpa >= MEM_SIZE || MEM_SIZE - gpa < size)
		return -EFAULT;
	u64 v = 0;
	memcpy(&v, mem + gpa, size);
	*val = v;
	return 0;
}

static int walk(const struct guest_paging *gp, gva_t va, unsigned access, gpa_t *gpa)
{
	reads = 0;
	*gpa = 0xdeadbeef;
	int rc = guest_walk(gp, va, access, read_mem, mem, gpa);
	fuzz_check(rc == 0 || rc == -EFAULT || rc == -EACCES || rc == -EINVAL, "rc %d", rc);
	fuzz_check(reads <= 4, "%u table reads", reads);
	return rc;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 mode = fuzz_u8(&in);
	struct guest_paging gp = {
		.cr0 = CR0_PE | (mode & 1 ? CR0_PG : 0) | (mode & 2 ? CR0_WP : 0),
		.cr4 = (mode & 4 ? CR4_PAE : 0) | (mode & 8 ? CR4_PSE : 0) |
		       (mode & 0x80 ? 1UL << 12 : 0),
		.efer = (mode & 0x10 ? EFER_LMA : 0) | (mode & 0x20 ? EFER_NXE : 0),
	};
	unsigned cpl = fuzz_u8(&in) & 3;
	gp.cr3 = fuzz_u32(&in) % MEM_SIZE | (mode & 0x40 ? (u64)fuzz_u32(&in) << 32 : 0);
	gva_t va = fuzz_u64(&in);

	memset(mem, 0, sizeof(mem));
	memcpy(mem, in.p, in.n < MEM_SIZE ? in.n : MEM_SIZE);

	gpa_t base, g;
	gp.cpl = 0;
	int rc = walk(&gp, va, PT_R, &base);
	if (rc == 0) {
		fuzz_check((base & 0xfff) == (va & 0xfff), "va 0x%lx -> 0x%lx: offset changed",
			   (unsigned long)va, (unsigned long)base);
		if (!(gp.cr0 & CR0_PG))
			fuzz_check(base == (va & 0xffffffffULL), "paging off: 0x%lx -> 0x%lx",
				   (unsigned long)va, (unsigned long)base);
		if ((gp.cr0 & CR0_PG) && (gp.efer & EFER_LMA))
			fuzz_check((u64)((s64)(va << 16) >> 16) == va && !(gp.cr4 & (1UL << 12)),
				   "long mode: 0x%lx accepted", (unsigned long)va);
	}
	static const unsigned accesses[] = { PT_R, PT_W, PT_X, PT_W | PT_X };
	for (unsigned c = 0; c < 4; c += 3) {
		gp.cpl = c ? cpl | 1 : 0; /* cpl 0, and the input's (1-3 count as user only at 3) */
		for (unsigned a = 0; a < ARRAY_SIZE(accesses); a++) {
			if (walk(&gp, va, accesses[a], &g))
				continue;
			fuzz_check(rc == 0 && g == base,
				   "access %u at cpl %u gives 0x%lx, a supervisor read %s 0x%lx",
				   accesses[a], gp.cpl, (unsigned long)g, rc ? "fails" : "gives",
				   (unsigned long)base);
		}
	}
	/* Write+execute implies each alone. */
	gp.cpl = cpl;
	if (walk(&gp, va, PT_W | PT_X, &g) == 0) {
		gpa_t w, x;
		fuzz_check(walk(&gp, va, PT_W, &w) == 0 && walk(&gp, va, PT_X, &x) == 0 && w == g && x == g,
			   "W|X allowed but W or X alone not");
	}
	return 0;
}
