/*
 * Access to a guest's memory from the hypervisor (asm/guest_mem.h).
 *
 * Guest-virtual addresses are translated by walking the guest's own page
 * tables the way the vCPU would (guest_walk, a pure function so the unit
 * tests can drive it); guest-physical addresses then go through the
 * domain's p2m to host frames, which the hypervisor reaches by its direct
 * map. Every page is translated and checked on its own.
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

#ifndef UNIT_TEST
#include <keel/domain.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <asm/guest_mem.h>
#include <asm/p2m.h>
#include <asm/vendor.h>
#endif

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
			return -EFAULT;
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
		return -EFAULT;
	if ((access & PT_W) && !write_ok && (gp->cpl == 3 || (gp->cr0 & CR0_WP)))
		return -EFAULT;
	if ((access & PT_X) && !exec_ok)
		return -EFAULT;
	return 0;
}

#ifndef UNIT_TEST

/*
 * The CPL is SS.DPL (Intel SDM vol. 3 5.5 and 26.3.1.2; AMD APM vol. 2
 * 15.5.1 keeps it in the VMCB CPL field, which the SVM back end reports as
 * SS.DPL). Real mode runs at 0, virtual-8086 mode at 3.
 */
static unsigned vcpu_cpl(struct vcpu *v, u64 cr0)
{
	struct vseg ss;

	if (!(cr0 & CR0_PE))
		return 0;
	if (vendor->get_reg(v, VREG_RFLAGS) & RFLAGS_VM)
		return 3;
	vendor->get_seg(v, VSEG_SS, &ss);
	return (ss.attr >> 5) & 3;
}

static void vcpu_paging(struct vcpu *v, struct guest_paging *gp)
{
	gp->cr0 = vendor->get_reg(v, VREG_CR0);
	gp->cr3 = vendor->get_reg(v, VREG_CR3);
	gp->cr4 = vendor->get_reg(v, VREG_CR4);
	gp->efer = vendor->get_reg(v, VREG_EFER);
	gp->cpl = vcpu_cpl(v, gp->cr0);
}

/* [gpa, gpa+len) lies in one of d's RAM ranges. */
static bool gpa_is_ram(const struct domain *d, gpa_t gpa, u64 len)
{
	for (unsigned i = 0; i < d->nr_ram; i++) {
		const struct mem_range *r = &d->ram[i];
		if (gpa >= r->gpa && len <= r->len && gpa - r->gpa <= r->len - len)
			return true;
	}
	return false;
}

/*
 * The hypervisor's pointer to [gpa, gpa+len), which must not cross a page:
 * the range must be the domain's RAM (never device memory, where a read
 * can have side effects) and mapped in its p2m with all of `need`.
 */
static void *gpa_ptr(struct domain *d, gpa_t gpa, size_t len, unsigned need)
{
	paddr_t hpa;
	unsigned perms;

	if (!gpa_is_ram(d, gpa, len) || p2m_lookup(d, gpa, &hpa, &perms) ||
	    (perms & need) != need)
		return NULL;
	return phys_to_virt(hpa);
}

/* guest_read_fn over a domain's p2m. An entry is read with one load. */
static int read_guest_entry(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	const void *p = gpa_ptr(ctx, gpa, size, PT_R);

	if (!p)
		return -EFAULT;
	*val = size == 8 ? *(const volatile u64 *)p : *(const volatile u32 *)p;
	return 0;
}

static int walk(struct vcpu *v, const struct guest_paging *gp, gva_t va,
		unsigned access, gpa_t *gpa)
{
	return guest_walk(gp, va, access, read_guest_entry, v->dom, gpa);
}

int gva_to_gpa(struct vcpu *v, gva_t va, unsigned access, gpa_t *gpa)
{
	struct guest_paging gp;

	vcpu_paging(v, &gp);
	return walk(v, &gp, va, access, gpa);
}

/* Bytes from addr to the end of its 4 KiB page, at most len. */
static size_t page_chunk(u64 addr, size_t len)
{
	return MIN(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
}

int copy_from_gpa(struct domain *d, void *dst, gpa_t src, size_t len)
{
	while (len) {
		size_t n = page_chunk(src, len);
		const void *p = gpa_ptr(d, src, n, PT_R);

		if (!p)
			return -EFAULT;
		memcpy(dst, p, n);
		dst = (u8 *)dst + n;
		src += n;
		len -= n;
	}
	return 0;
}

int copy_to_gpa(struct domain *d, gpa_t dst, const void *src, size_t len)
{
	while (len) {
		size_t n = page_chunk(dst, len);
		void *p = gpa_ptr(d, dst, n, PT_W);

		if (!p)
			return -EFAULT;
		memcpy(p, src, n);
		src = (const u8 *)src + n;
		dst += n;
		len -= n;
	}
	return 0;
}

/* The paging registers are read once per copy (a VMREAD each on VMX);
 * each guest page is then walked and checked separately. */
int copy_from_guest(struct vcpu *v, void *dst, gva_t src, size_t len)
{
	struct guest_paging gp;

	vcpu_paging(v, &gp);
	while (len) {
		size_t n = page_chunk(src, len);
		gpa_t gpa;

		if (walk(v, &gp, src, PT_R, &gpa) || copy_from_gpa(v->dom, dst, gpa, n))
			return -EFAULT;
		dst = (u8 *)dst + n;
		src += n;
		len -= n;
	}
	return 0;
}

int copy_to_guest(struct vcpu *v, gva_t dst, const void *src, size_t len)
{
	struct guest_paging gp;

	vcpu_paging(v, &gp);
	while (len) {
		size_t n = page_chunk(dst, len);
		gpa_t gpa;

		if (walk(v, &gp, dst, PT_W, &gpa) || copy_to_gpa(v->dom, gpa, src, n))
			return -EFAULT;
		src = (const u8 *)src + n;
		dst += n;
		len -= n;
	}
	return 0;
}

#endif /* !UNIT_TEST */
