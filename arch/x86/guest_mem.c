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

void vcpu_paging(struct vcpu *v, struct guest_paging *gp)
{
	if (vendor->get_paging) {
		vendor->get_paging(v, gp);
		return;
	}
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
 *
 * A decoding exit asks this five times (four guest page-table levels and
 * the code page) and a p2m walk plus a RAM-range scan cost about 150
 * instructions each, so the last answers for whole RAM pages are kept in
 * a small direct-mapped cache, stamped with d->mem_gen: every p2m change
 * and every RAM removal bumps it, so a stamp that still matches means
 * neither the mapping nor the page's RAM status can have changed. Only
 * whole RAM pages are cached (a range ending inside a page takes the slow
 * path every time); misses and refusals are not cached.
 */
static void *gpa_ptr(struct domain *d, gpa_t gpa, size_t len, unsigned need)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	struct gpa_cache_entry *c = &d->arch.gpa_cache[gfn % GPA_CACHE_SLOTS];
	paddr_t hpa;
	unsigned perms;

	if (!(c->page && c->gen == d->mem_gen && c->gfn == gfn)) {
		if (!gpa_is_ram(d, gpa, len) || p2m_lookup(d, gpa, &hpa, &perms))
			return NULL;
		if ((perms & need) != need)
			return NULL;
		if (!gpa_is_ram(d, gpa & PAGE_MASK, PAGE_SIZE))
			return phys_to_virt(hpa);
		*c = (struct gpa_cache_entry){ .gen = d->mem_gen, .gfn = gfn,
					       .page = phys_to_virt(hpa & PAGE_MASK),
					       .perms = perms };
	}
	if ((c->perms & need) != need)
		return NULL;
	return c->page + (gpa & ~PAGE_MASK);
}

const void *gpa_read_ptr(struct domain *d, gpa_t gpa, size_t len)
{
	return gpa_ptr(d, gpa, len, PT_R);
}

/* guest_read_fn's context: the domain, and the entries read (their host
 * addresses and values), for the walk cache. */
struct walk_ctx {
	struct domain *d;
	unsigned n, esize;
	const volatile void *at[4];
	u64 val[4];
};

/* guest_read_fn over a domain's p2m. An entry is read with one load. */
static int read_guest_entry(void *ctx, gpa_t gpa, unsigned size, u64 *val)
{
	struct walk_ctx *w = ctx;
	const volatile void *p = gpa_ptr(w->d, gpa, size, PT_R);

	if (!p)
		return -EFAULT;
	*val = size == 8 ? *(const volatile u64 *)p : *(const volatile u32 *)p;
	if (w->n < 4) {
		w->at[w->n] = p;
		w->val[w->n] = *val;
	}
	w->n++;
	w->esize = size;
	return 0;
}

/* The cached walk still holds: same registers, same page, same access,
 * same p2m, and every entry it read still has the value it had. */
static bool walk_cached(const struct gva_cache_entry *c, const struct domain *d,
			const struct guest_paging *gp, gva_t page, unsigned access)
{
	if (!c->n || c->gen != d->mem_gen || c->va != page || c->access != access ||
	    c->cr3 != gp->cr3 || c->cr0 != gp->cr0 || c->cr4 != gp->cr4 ||
	    c->efer != gp->efer || c->cpl != gp->cpl)
		return false;
	for (unsigned i = 0; i < c->n; i++) {
		u64 now = c->esize == 8 ? *(const volatile u64 *)c->at[i]
					: *(const volatile u32 *)c->at[i];
		if (now != c->val[i])
			return false;
	}
	return true;
}

/*
 * guest_walk with a small cache per vCPU: one entry for instruction
 * fetches, GVA_DATA_SLOTS for data (replaced round-robin). A decoding exit walks the page of RIP every time, and RIP's page
 * rarely changes between exits. The guest may rewrite its page tables
 * without exiting (and need not INVLPG before the hypervisor's next
 * access), so a cached walk is never trusted by its registers alone: it
 * keeps the host address and value of each entry it read, and is reused
 * only if each of them still reads the same. guest_walk is a function of
 * the paging registers, the address, the access and the entries it reads;
 * the entries' gpa -> host mapping is pinned by d->mem_gen (gpa_ptr), so
 * equal inputs give the walk's own answer. Failed walks are not cached.
 */
static int walk(struct vcpu *v, const struct guest_paging *gp, gva_t va,
		unsigned access, gpa_t *gpa)
{
	struct gva_cache_entry *c = &v->arch.gva_cache[0];
	struct walk_ctx w;
	gva_t page = va & PAGE_MASK;
	int rc;

	if (access != PT_X) {
		for (unsigned i = 1; i <= GVA_DATA_SLOTS; i++)
			if (walk_cached(&v->arch.gva_cache[i], v->dom, gp, page, access)) {
				*gpa = v->arch.gva_cache[i].gpa | (va & ~PAGE_MASK);
				return 0;
			}
		c = &v->arch.gva_cache[1 + v->arch.gva_data_next];
		v->arch.gva_data_next = (u8)((v->arch.gva_data_next + 1) % GVA_DATA_SLOTS);
	} else if (walk_cached(c, v->dom, gp, page, access)) {
		*gpa = c->gpa | (va & ~PAGE_MASK);
		return 0;
	}
	w.d = v->dom;
	w.n = 0;
	w.esize = 0;
	rc = guest_walk(gp, va, access, read_guest_entry, &w, gpa);
	if (rc || w.n > 4) {
		c->n = 0;
		return rc;
	}
	*c = (struct gva_cache_entry){
		.cr0 = gp->cr0, .cr3 = gp->cr3, .cr4 = gp->cr4, .efer = gp->efer,
		.cpl = gp->cpl, .access = access, .va = page, .gpa = *gpa & PAGE_MASK,
		.gen = v->dom->mem_gen, .n = w.n, .esize = w.esize,
	};
	for (unsigned i = 0; i < w.n; i++) {
		c->at[i] = w.at[i];
		c->val[i] = w.val[i];
	}
	return 0;
}

bool gva_fetch_cached(struct vcpu *v, const struct guest_paging *gp, gva_t va, gpa_t *gpa)
{
	const struct gva_cache_entry *c = &v->arch.gva_cache[0];

	if (!walk_cached(c, v->dom, gp, va & PAGE_MASK, PT_X))
		return false;
	*gpa = c->gpa | (va & ~PAGE_MASK);
	return true;
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

int clear_gpa(struct domain *d, gpa_t dst, size_t len)
{
	while (len) {
		size_t n = page_chunk(dst, len);
		void *p = gpa_ptr(d, dst, n, PT_W);

		if (!p)
			return -EFAULT;
		memset(p, 0, n);
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

static int copy_to_guest_as(struct vcpu *v, struct guest_paging *gp, gva_t dst,
			    const void *src, size_t len)
{
	while (len) {
		size_t n = page_chunk(dst, len);
		gpa_t gpa;

		if (walk(v, gp, dst, PT_W, &gpa) || copy_to_gpa(v->dom, gpa, src, n))
			return -EFAULT;
		src = (const u8 *)src + n;
		dst += n;
		len -= n;
	}
	return 0;
}

int guest_check_writable(struct vcpu *v, gva_t dst, size_t len)
{
	struct guest_paging gp;

	vcpu_paging(v, &gp);
	while (len) {
		size_t n = page_chunk(dst, len);
		gpa_t gpa;

		if (walk(v, &gp, dst, PT_W, &gpa) || !gpa_ptr(v->dom, gpa, n, PT_W))
			return -EFAULT;
		dst += n;
		len -= n;
	}
	return 0;
}

int copy_to_guest(struct vcpu *v, gva_t dst, const void *src, size_t len)
{
	struct guest_paging gp;

	vcpu_paging(v, &gp);
	return copy_to_guest_as(v, &gp, dst, src, len);
}

/* Xen writes these areas with a supervisor access whatever mode the vCPU
 * is in (copy_to_user_hvm passes no PFEC_user_mode): the guest registered
 * a kernel address, and an update that happens while it runs user code
 * must still land. */
int copy_to_guest_kernel(struct vcpu *v, gva_t dst, const void *src, size_t len)
{
	struct guest_paging gp;

	vcpu_paging(v, &gp);
	gp.cpl = 0;
	return copy_to_guest_as(v, &gp, dst, src, len);
}


/*
 * The fault a CPU raises for the access its page tables refuse, checked
 * page by page in the order the CPU touches them (the first byte's page,
 * then the page the last byte is on): #PF with CR2 = the first refused
 * byte, or #GP(0) for a non-canonical address (SDM vol. 3 4.7, 6.15).
 */
bool guest_inject_access_fault(struct vcpu *v, gva_t va, size_t len, unsigned access)
{
	struct guest_paging gp;
	gva_t at[2] = { va, (va + len - 1) & PAGE_MASK };
	gpa_t gpa;

	vcpu_paging(v, &gp);
	for (unsigned i = 0; i < (at[1] > va ? 2u : 1u); i++) {
		int rc = walk(v, &gp, at[i], access, &gpa);
		struct vevent ev = { .type = VEVENT_EXCEPTION, .has_error = true };

		if (!rc)
			continue;
		if (rc == -EINVAL) {
			ev.vector = X86_EXC_GP;
		} else {
			ev.vector = X86_EXC_PF;
			ev.error_code = guest_walk_pfec(&gp, access, rc);
			vendor->set_reg(v, VREG_CR2, at[i]);
		}
		vendor->inject(v, &ev);
		return true;
	}
	return false;
}
