/*
 * The guest page-table walker (asm/guest_walk.h): translates a
 * guest-virtual address by walking the guest's own page tables the way the
 * vCPU would. A pure function, apart from guest_mem.c (which feeds it the
 * vCPU's registers and guest memory) so that the unit tests and fuzzers
 * compile it alone on the host (tests/unit/test_guest_walk.c,
 * tests/fuzz/fuzz_guest_walk.c).
 *
 * What the walk leaves out, and why:
 * - Accessed/dirty bits are not set. The CPU sets them when the guest
 *   itself uses a translation, and Xen's walker (guest_walk_tables) sets
 *   them for the hypervisor's accesses too; we copy hypercall buffers the
 *   guest has just handed us, so nothing in the guest depends on them, and
 *   the hypervisor then never writes to guest page tables.
 * - Reserved-bit checks, SMEP/SMAP and protection keys: they protect the
 *   guest kernel from its own mistakes, the hypervisor reads nothing it
 *   would not be allowed to; at worst a malformed guest table lets a copy
 *   succeed that the CPU would have faulted, which only affects that guest.
 * - PAE PDPTEs are read from memory, not from the copies the CPU loaded at
 *   the last CR3 write (Intel SDM vol. 3 4.4.1); they differ only if the
 *   guest changed its PDPT without reloading CR3.
 * - One CPU, no concurrent changes: a guest table or the p2m cannot change
 *   while we walk or copy. With SMP (another vCPU of the guest running),
 *   entries must be read once each (they are: volatile loads) and the p2m
 *   lookup and copy will need protection against a concurrent unmap.
 */
#include <lib/errno.h>
#include <lib/types.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include <asm/paging.h>

#define CR4_LA57 (1UL << 12) /* 5-level paging (SDM vol. 3 4.1.1) */

/* Entry bits the three paging modes share (SDM vol. 3 4.3-4.5). XD exists
 * only in 8-byte entries, and only with EFER.NXE (else it is reserved). */
#define GPTE_P (1ULL << 0)
#define GPTE_RW (1ULL << 1)
#define GPTE_US (1ULL << 2)
#define GPTE_PS (1ULL << 7)
#define GPTE_XD (1ULL << 63)
#define GPTE_ADDR64 0x000ffffffffff000ULL /* bits 51:12 of 8-byte entries */
#define GPTE_ADDR32 0xfffff000ULL         /* bits 31:12 of 4-byte entries */

/* Bits 63:47 all equal (SDM vol. 1 3.3.7.1); else the CPU raises #GP. */
static bool is_canonical(u64 va)
{
	return (u64)((s64)(va << 16) >> 16) == va;
}

u32 guest_walk_pfec(const struct guest_paging *gp, unsigned access, int rc)
{
	/* SDM vol. 3 4.7: P = the fault was a protection violation (every
	 * entry present), W/R = a write, U/S = a user-mode access, I/D = an
	 * instruction fetch (reported when NX or SMEP could apply; Keel's
	 * walks check NX only, so with EFER.NXE). */
	u32 ec = 0;

	if (rc == -EACCES)
		ec |= PFEC_P;
	if (access & PT_W)
		ec |= PFEC_W;
	if (gp->cpl == 3)
		ec |= PFEC_U;
	if ((access & PT_X) && (gp->efer & EFER_NXE))
		ec |= PFEC_I;
	return ec;
}

int guest_walk(const struct guest_paging *gp, gva_t va, unsigned access,
	       guest_read_fn read, void *ctx, gpa_t *gpa)
{
	unsigned levels, esize, bits, level;
	gpa_t table;
	bool nx_on, user_ok = true, write_ok = true, exec_ok = true;

	if (!(gp->cr0 & CR0_PG)) {
		/* Linear = physical; outside long mode addresses are 32-bit. */
		*gpa = va & 0xffffffffULL;
		return 0;
	}
	if (gp->efer & EFER_LMA) {
		/* 4-level paging (SDM 4.5). CR3 bits 11:0 are PCID/flags. */
		if ((gp->cr4 & CR4_LA57) || !is_canonical(va))
			return -EINVAL;
		levels = 4, esize = 8, bits = 9;
		table = gp->cr3 & GPTE_ADDR64;
	} else if (gp->cr4 & CR4_PAE) {
		/* PAE (SDM 4.4): a 4-entry PDPT, 32-byte aligned, at CR3[31:5]. */
		va &= 0xffffffffULL;
		levels = 3, esize = 8, bits = 9;
		table = gp->cr3 & 0xffffffe0ULL;
	} else {
		/* 32-bit paging (SDM 4.3): 1024 4-byte entries per table. */
		va &= 0xffffffffULL;
		levels = 2, esize = 4, bits = 10;
		table = gp->cr3 & GPTE_ADDR32;
	}
	nx_on = esize == 8 && (gp->efer & EFER_NXE);

	for (level = levels;; level--) {
		unsigned shift = PAGE_SHIFT + bits * (level - 1);
		u64 idx = (va >> shift) & ((1ULL << bits) - 1);
		u64 e;
		bool large;

		if (read(ctx, table + idx * esize, esize, &e) || !(e & GPTE_P))
			return -EFAULT;
		/* Access rights are the AND over all levels (SDM 4.6), except
		 * that PAE PDPTEs have no R/W, U/S or XD bits. */
		if (!(levels == 3 && level == 3)) {
			write_ok = write_ok && (e & GPTE_RW);
			user_ok = user_ok && (e & GPTE_US);
			if (nx_on && (e & GPTE_XD))
				exec_ok = false;
		}
		/* PS: a 4 MiB page in a 32-bit PDE only with CR4.PSE (else bit
		 * 7 is ignored); a 2 MiB page in a PAE/4-level PDE; a 1 GiB
		 * page in a 4-level PDPTE. */
		if (level == 2)
			large = (e & GPTE_PS) && (esize == 8 || (gp->cr4 & CR4_PSE));
		else
			large = level == 3 && levels == 4 && (e & GPTE_PS);

		if (level == 1 || large) {
			u64 size = 1ULL << shift;
			gpa_t page;

			if (esize == 4 && level == 2)
				/* PSE-36: PDE bits 20:13 are address bits 39:32
				 * (SDM table 4-4). */
				page = (e & 0xffc00000ULL) | (((e >> 13) & 0xff) << 32);
			else if (esize == 4)
				page = e & GPTE_ADDR32;
			else
				/* Bit 12 of a large page is PAT: masked off. */
				page = e & GPTE_ADDR64 & ~(size - 1);
			*gpa = page | (va & (size - 1));
			break;
		}
		table = e & (esize == 4 ? GPTE_ADDR32 : GPTE_ADDR64);
	}

	/* SDM 4.6.1: user accesses need U/S everywhere and honour R/W
	 * always; supervisor writes honour R/W only with CR0.WP. */
	if (gp->cpl == 3 && !user_ok)
		return -EACCES;
	if ((access & PT_W) && !write_ok && (gp->cpl == 3 || (gp->cr0 & CR0_WP)))
		return -EACCES;
	if ((access & PT_X) && !exec_ok)
		return -EACCES;
	return 0;
}
