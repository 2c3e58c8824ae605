/*
 * Access to a guest's memory from the hypervisor (asm/guest_mem.h).
 *
 * Guest-virtual addresses are translated by walking the guest's own page
 * tables the way the vCPU would (guest_walk.c, which also says what the
 * walk leaves out); guest-physical addresses then go through the domain's
 * p2m to host frames, which the hypervisor reaches by its direct map. Every
 * page is translated and checked on its own. One CPU, no concurrent
 * changes: the p2m cannot change while we copy; with SMP, the p2m lookup
 * and copy will need protection against a concurrent unmap.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <lib/types.h>
#include <keel/domain.h>
#include <keel/frame.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/guest_walk.h>
#include <asm/p2m.h>
#include <asm/paging.h>
#include <asm/vendor.h>

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

