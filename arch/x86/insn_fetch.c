/*
 * Fetching an intercepted instruction from the guest to learn its length
 * (asm/insn.h). Apart from insn.c, the pure decoder, because it reads the
 * vCPU's registers and guest memory: the unit tests and fuzzers compile
 * insn.c alone on the host (tests/unit/test_insn.c, tests/fuzz/fuzz_insn.c).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/domain.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/guest_walk.h>
#include <asm/insn.h>
#include <asm/paging.h>
#include <asm/vendor.h>

#define SEG_ATTR_L (1u << 9) /* CS.L: 64-bit code (struct vseg attr) */

/*
 * Fetches up to the end of RIP's page first and decodes; only if the
 * instruction runs on does it fetch from the next page, so an instruction
 * ending just before an unmapped page still decodes. Outside 64-bit mode
 * the linear address is CS.base + EIP, wrapping at 4 GiB; in 64-bit mode
 * the CS base is ignored (SDM vol. 3 3.4.4).
 */
int insn_fetch_decode(struct vcpu *v, u64 rip, insn_decode_fn decode, void *ctx)
{
	u8 buf[INSN_MAX_LEN];
	struct vseg cs;
	bool l64;
	u64 va;
	size_t have = 0;
	int rc = -EAGAIN;

	vendor->get_seg(v, VSEG_CS, &cs);
	l64 = (vendor->get_reg(v, VREG_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	va = l64 ? rip : (cs.base + rip) & 0xffffffffULL;

	while (rc == -EAGAIN && have < INSN_MAX_LEN) {
		u64 at = l64 ? va + have : (va + have) & 0xffffffffULL;
		size_t n = MIN(INSN_MAX_LEN - have, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
		gpa_t gpa;

		if (gva_to_gpa(v, at, PT_X, &gpa) || copy_from_gpa(v->dom, buf + have, gpa, n))
			return -EFAULT;
		have += n;
		rc = decode(buf, have, l64, ctx);
	}
	return rc == -EAGAIN ? -EINVAL : rc;
}

struct length_ctx {
	u8 bytes[INSN_MAX_LEN];
};

/* The length, and the bytes it was decoded from (for the cache). */
static int length_of(const u8 *bytes, size_t avail, bool l64, void *ctx)
{
	struct length_ctx *c = ctx;
	int rc = insn_length(bytes, avail, l64);

	if (rc > 0)
		memcpy(c->bytes, bytes, (size_t)rc);
	return rc;
}

/*
 * An instruction's length is a function of its bytes and of the code size
 * alone, so the last few decoded are kept (v->arch.insn_cache) and a
 * length reused when the bytes at RIP, read through the guest's current
 * translation, are the same: a loop of CPUIDs or hypercalls exits at the
 * same bytes every time. The translation is the cached fetch walk,
 * re-validated entry by entry (guest_mem.c); the host pointer to the bytes
 * is reused while the page's guest-physical address and the p2m
 * generation are unchanged. Instructions that cross a page are not
 * cached.
 */
bool insn_len_cached(struct vcpu *v, const struct guest_paging *gp, u64 va, bool l64,
		     u8 *len)
{
	struct insn_len_cache *ic = &v->arch.insn_cache[v->arch.insn_cache_hit];
	gpa_t gpa;

	/* The slot that answered last first: a loop of one exiting
	 * instruction finds it at once. */
	if (!ic->len || ic->va != va) {
		ic = NULL;
		for (unsigned i = 0; i < INSN_CACHE_SLOTS; i++)
			if (v->arch.insn_cache[i].len && v->arch.insn_cache[i].va == va) {
				ic = &v->arch.insn_cache[i];
				v->arch.insn_cache_hit = (u8)i;
				break;
			}
	}
	if (!ic || ic->l64 != l64 || ic->gen != v->dom->mem_gen ||
	    !gva_fetch_cached(v, gp, va, &gpa) || gpa != ic->gpa)
		return false;
	for (unsigned i = 0; i < ic->len; i++)
		if (((const volatile u8 *)ic->host)[i] != ic->bytes[i])
			return false;
	*len = ic->len;
	return true;
}

/* The entry an unused walk slot of struct insn_deps points at. */
static const u64 no_entry;

/*
 * The hit just confirmed used the slot insn_cache_hit names and the fetch
 * walk in gva_cache[0] (insn_len_cached: gva_fetch_cached re-validated
 * it for this page under the same registers). Both are copied out as
 * they are; nothing new is trusted: the tight re-check compares exactly
 * what insn_len_cached compared (the entries, the generation, the bytes),
 * and the back end the registers walk_cached compared, so a tight hit
 * implies a hit here and gives the same length.
 *
 * 16 bytes are read at the instruction, not `len`, so the compare is two
 * masked loads: they must lie in the same page, and that page must be
 * wholly RAM (gpa_read_ptr of the whole page), so the extra bytes are
 * the guest's own memory with no side effect on reading. 4-byte entries
 * (32-bit paging without PAE) are left to the generic check; with paging
 * off the walk read none and all four slots are padding.
 */
bool insn_len_cached_deps(struct vcpu *v, struct insn_deps *d)
{
	const struct insn_len_cache *ic = &v->arch.insn_cache[v->arch.insn_cache_hit];
	const struct gva_cache_entry *c = &v->arch.gva_cache[0];
	unsigned off = ic->gpa & (PAGE_SIZE - 1);

	d->len = 0;
	if (!ic->len || (c->n && c->esize != 8) || c->n > 4 || off > PAGE_SIZE - 16 ||
	    ic->gen != v->dom->mem_gen || c->gen != v->dom->mem_gen ||
	    !gpa_read_ptr(v->dom, ic->gpa & PAGE_MASK, PAGE_SIZE))
		return false;
	d->gen = v->dom->mem_gen;
	for (unsigned i = 0; i < 4; i++) {
		d->pte[i] = i < c->n ? (const volatile u64 *)c->at[i] : &no_entry;
		d->val[i] = i < c->n ? c->val[i] : 0;
	}
	d->host = (const volatile u64_unaligned *)ic->host;
	d->bytes[0] = d->bytes[1] = 0;
	memcpy(d->bytes, ic->bytes, ic->len);
	d->mask[0] = ic->len >= 8 ? ~0ULL : (1ULL << (8 * ic->len)) - 1;
	d->mask[1] = ic->len <= 8 ? 0 : (1ULL << (8 * (ic->len - 8))) - 1;
	d->len = ic->len;
	return true;
}

static bool code_64bit(const struct guest_paging *gp, const struct vseg *cs)
{
	return (gp->efer & EFER_LMA) && (cs->attr & SEG_ATTR_L);
}

int insn_fetch_and_length(struct vcpu *v, u64 rip, u8 *len)
{
	struct insn_len_cache *ic;
	struct guest_paging gp;
	struct length_ctx ctx;
	struct vseg cs;
	bool l64;
	gpa_t gpa;
	const u8 *p;
	u64 va;
	int rc;

	vendor->get_seg(v, VSEG_CS, &cs);
	vcpu_paging(v, &gp);
	l64 = code_64bit(&gp, &cs);
	va = l64 ? rip : (cs.base + rip) & 0xffffffffULL;
	if (insn_len_cached(v, &gp, va, l64, len))
		return 0;
	rc = insn_fetch_decode(v, rip, length_of, &ctx);
	if (rc < 0)
		return rc;
	*len = (u8)rc;
	/* The slot for this address if it has one (its bytes changed),
	 * else the next round-robin. */
	ic = NULL;
	for (unsigned i = 0; i < INSN_CACHE_SLOTS; i++)
		if (v->arch.insn_cache[i].len && v->arch.insn_cache[i].va == va)
			ic = &v->arch.insn_cache[i];
	if (!ic) {
		ic = &v->arch.insn_cache[v->arch.insn_cache_next];
		v->arch.insn_cache_next = (u8)((v->arch.insn_cache_next + 1) % INSN_CACHE_SLOTS);
	}
	ic->len = 0;
	if (!gva_to_gpa(v, va, PT_X, &gpa) && (gpa & (PAGE_SIZE - 1)) + (u64)rc <= PAGE_SIZE &&
	    (p = gpa_read_ptr(v->dom, gpa, (size_t)rc))) {
		memcpy(ic->bytes, ctx.bytes, (size_t)rc);
		ic->len = (u8)rc;
		ic->l64 = l64;
		ic->va = va;
		ic->gpa = gpa;
		ic->gen = v->dom->mem_gen;
		ic->host = p;
	}
	return 0;
}
