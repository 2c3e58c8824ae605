/*
 * The shared 4-level page-table walker (contract in asm/paging.h) and the
 * long-mode entry format used by the hypervisor's own tables and by AMD NPT.
 *
 * The walker never looks at entry bits itself: everything goes through the
 * struct pt_format, so Intel EPT (vmx/ept.c) runs through the same code.
 * Each operation is a recursion over the tables, one table per call, in
 * address order; an operation that fails half-way (-ENOMEM, -ENOENT) leaves
 * the part before the failure done, as the contract says.
 *
 * TLBs: the walker changes memory only. Callers flush (p2m_flush, or a CR3
 * reload / INVLPG for host tables) before the changed translations are used.
 * Tables freed during an operation may be handed out again within the same
 * operation, before that flush. That is harmless while only one CPU exists
 * and the guest using a p2m is not running while it changes; with SMP, freed
 * tables will have to wait for the flush (Xen defers them the same way).
 */
#include <lib/errno.h>
#include <lib/types.h>
#include <asm/paging.h>

#define PT_LEVELS 4
#define PT_ENTRIES 512
/* The walker covers bits 0..47 of an address (4 levels x 9 bits + 12). */
#define PT_VA_LIMIT (1ULL << 48)

/* Bytes one entry at `level` covers: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static inline u64 level_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static inline unsigned level_index(u64 va, unsigned level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static inline u64 *table_at(paddr_t pa)
{
	return pt_table_ptr(pa);
}

/* A present entry at `level` maps a page (rather than a table). */
/* Table frames are counted per page table so that a domain's p2m can be
 * held to a quota (pt->max_tables): a guest that scatters mappings over
 * its address space must not drain the hypervisor's frames. */
static paddr_t table_alloc(struct pt *pt)
{
	if (pt->max_tables && pt->nr_tables >= pt->max_tables)
		return 0;
	paddr_t t = pt_alloc_table();
	if (t)
		pt->nr_tables++;
	return t;
}

static void table_free(struct pt *pt, paddr_t t)
{
	pt_free_table(t);
	pt->nr_tables--;
}

static bool is_leaf(const struct pt *pt, u64 e, unsigned level)
{
	return level == 1 || (level <= 3 && pt->fmt->is_large(e));
}

/* Frees the table at `table` (level `level`) and every table below it. */
static void free_tree(struct pt *pt, paddr_t table, unsigned level)
{
	u64 *t = table_at(table);

	if (level > 1) {
		for (unsigned i = 0; i < PT_ENTRIES; i++) {
			u64 e = t[i];
			if (pt->fmt->present(e) && !is_leaf(pt, e, level))
				free_tree(pt, pt->fmt->addr(e, level), level - 1);
		}
	}
	table_free(pt, table);
}

/*
 * Replaces the large leaf *entry (level 2 or 3) by a table of the next
 * level down mapping the same memory with the same permissions and type,
 * so part of it can then be changed. The translation of every address stays
 * the same, which is what Intel SDM vol. 3 4.10.2.3 asks of a page-size
 * change made before the TLB is invalidated.
 */
static int split_large(struct pt *pt, u64 *entry, unsigned level)
{
	const struct pt_format *fmt = pt->fmt;
	u64 e = *entry;
	paddr_t base = fmt->addr(e, level);
	unsigned perms = fmt->perms(e);
	enum memtype mt = fmt->memtype(e);
	u64 step = level_size(level - 1);
	paddr_t child = table_alloc(pt);

	if (!child)
		return -ENOMEM;
	u64 *t = table_at(child);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = fmt->leaf(base + i * step, level - 1, perms, mt);
	*entry = fmt->table(child);
	return 0;
}

/* Makes *entry (level >= 2) point at a table, allocating an empty one or
 * splitting a large page; returns the table's address in *child. */
static int need_table(struct pt *pt, u64 *entry, unsigned level,
		      paddr_t *child)
{
	const struct pt_format *fmt = pt->fmt;

	if (!fmt->present(*entry)) {
		paddr_t t = table_alloc(pt);
		if (!t)
			return -ENOMEM;
		*entry = fmt->table(t);
	} else if (is_leaf(pt, *entry, level)) {
		int rc = split_large(pt, entry, level);
		if (rc)
			return rc;
	}
	*child = fmt->addr(*entry, level);
	return 0;
}

/* Frees the table *entry points at if nothing in it is present any more. */
static void drop_if_empty(struct pt *pt, u64 *entry, unsigned level)
{
	paddr_t child = pt->fmt->addr(*entry, level);
	u64 *t = table_at(child);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (pt->fmt->present(t[i]))
			return;
	*entry = 0;
	table_free(pt, child);
}

/* Checks a range against what the walker covers; false if it wraps or
 * leaves the lower 2^48 bytes. */
static bool range_ok(u64 va, u64 size)
{
	return va < PT_VA_LIMIT && size <= PT_VA_LIMIT - va;
}

int pt_init(struct pt *pt, const struct pt_format *fmt, unsigned max_leaf_level)
{
	if (max_leaf_level < 1 || max_leaf_level > 3)
		return -EINVAL;
	pt->fmt = fmt;
	pt->max_leaf_level = max_leaf_level;
	pt->nr_tables = 0;
	pt->max_tables = 0;
	pt->root = table_alloc(pt);
	return pt->root ? 0 : -ENOMEM;
}

/*
 * Maps [va, end) within the table at `table` (level `level`), starting at
 * physical `pa`. An entry whose whole span is covered, with va and pa
 * aligned to it and the level allowed as a leaf, becomes a leaf (freeing
 * any tables under what it replaces); otherwise we go one level down.
 */
static int map_range(struct pt *pt, paddr_t table, unsigned level,
		     u64 va, u64 end, paddr_t pa, unsigned perms,
		     enum memtype mt)
{
	const struct pt_format *fmt = pt->fmt;
	u64 *t = table_at(table);
	u64 span = level_size(level);

	while (va < end) {
		u64 *entry = &t[level_index(va, level)];
		u64 next = ALIGN_DOWN(va, span) + span;
		u64 stop = MIN(next, end);

		if (level == 1 ||
		    (level <= pt->max_leaf_level && IS_ALIGNED(va, span) &&
		     stop == next && IS_ALIGNED(pa, span))) {
			u64 old = *entry;
			*entry = fmt->leaf(pa, level, perms, mt);
			if (level > 1 && fmt->present(old) && !is_leaf(pt, old, level))
				free_tree(pt, fmt->addr(old, level), level - 1);
		} else {
			paddr_t child;
			int rc = need_table(pt, entry, level, &child);
			if (rc)
				return rc;
			rc = map_range(pt, child, level - 1, va, stop, pa, perms, mt);
			if (rc) {
				/* Don't leave a fresh table with nothing in it. */
				drop_if_empty(pt, entry, level);
				return rc;
			}
		}
		pa += stop - va;
		va = stop;
	}
	return 0;
}

int pt_map(struct pt *pt, u64 va, paddr_t pa, u64 size, unsigned perms,
	   enum memtype mt)
{
	if (!pt->root || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE) || !range_ok(va, size))
		return -EINVAL;
	return map_range(pt, pt->root, PT_LEVELS, va, va + size, pa, perms, mt);
}

/* Clears [va, end) within `table`; tables left empty are freed. */
static int unmap_range(struct pt *pt, paddr_t table, unsigned level,
		       u64 va, u64 end)
{
	const struct pt_format *fmt = pt->fmt;
	u64 *t = table_at(table);
	u64 span = level_size(level);

	while (va < end) {
		u64 *entry = &t[level_index(va, level)];
		u64 next = ALIGN_DOWN(va, span) + span;
		u64 stop = MIN(next, end);
		bool whole = IS_ALIGNED(va, span) && stop == next;
		u64 e = *entry;

		if (!fmt->present(e)) {
			/* A hole: nothing to do. */
		} else if (is_leaf(pt, e, level) && whole) {
			*entry = 0;
		} else if (whole) {
			*entry = 0;
			free_tree(pt, fmt->addr(e, level), level - 1);
		} else {
			/* Part of the span: split a large page first so the
			 * rest of it stays mapped. */
			paddr_t child;
			int rc = need_table(pt, entry, level, &child);
			if (rc)
				return rc;
			rc = unmap_range(pt, child, level - 1, va, stop);
			drop_if_empty(pt, entry, level);
			if (rc)
				return rc;
		}
		va = stop;
	}
	return 0;
}

int pt_unmap(struct pt *pt, u64 va, u64 size)
{
	if (!pt->root || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) ||
	    !range_ok(va, size))
		return -EINVAL;
	return unmap_range(pt, pt->root, PT_LEVELS, va, va + size);
}

/* Re-encodes the leaves in [va, end) with `perms`; -ENOENT at a hole. */
static int protect_range(struct pt *pt, paddr_t table, unsigned level,
			 u64 va, u64 end, unsigned perms)
{
	const struct pt_format *fmt = pt->fmt;
	u64 *t = table_at(table);
	u64 span = level_size(level);

	while (va < end) {
		u64 *entry = &t[level_index(va, level)];
		u64 next = ALIGN_DOWN(va, span) + span;
		u64 stop = MIN(next, end);
		bool whole = IS_ALIGNED(va, span) && stop == next;
		u64 e = *entry;

		if (!fmt->present(e))
			return -ENOENT;
		if (is_leaf(pt, e, level) && whole) {
			/* What the entry holds is not a permission: kept. */
			*entry = fmt->leaf(fmt->addr(e, level), level,
					   (perms & ~PT_HELD) | (fmt->perms(e) & PT_HELD),
					   fmt->memtype(e));
		} else {
			paddr_t child;
			int rc = need_table(pt, entry, level, &child);
			if (rc)
				return rc;
			rc = protect_range(pt, child, level - 1, va, stop, perms);
			if (rc)
				return rc;
		}
		va = stop;
	}
	return 0;
}

int pt_protect(struct pt *pt, u64 va, u64 size, unsigned perms)
{
	if (!pt->root || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) ||
	    !range_ok(va, size))
		return -EINVAL;
	return protect_range(pt, pt->root, PT_LEVELS, va, va + size, perms);
}

static int x86_lookup(const struct pt *pt, u64 va, paddr_t *pa, unsigned *perms,
		      unsigned *level);

int pt_lookup(const struct pt *pt, u64 va, paddr_t *pa, unsigned *perms,
	      unsigned *level)
{
	const struct pt_format *fmt = pt->fmt;
	paddr_t table = pt->root;

	if (!table || va >= PT_VA_LIMIT)
		return -ENOENT;
	if (fmt == &x86_pt_format || fmt == &x86_pt_format_user)
		return x86_lookup(pt, va, pa, perms, level);
	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		u64 e = table_at(table)[level_index(va, l)];

		if (!fmt->present(e))
			return -ENOENT;
		if (is_leaf(pt, e, l)) {
			if (pa)
				*pa = fmt->addr(e, l) + (va & (level_size(l) - 1));
			if (perms)
				*perms = fmt->perms(e);
			if (level)
				*level = l;
			return 0;
		}
		table = fmt->addr(e, l);
	}
	return -ENOENT; /* not reached: level 1 entries are leaves */
}

static int walk_range(const struct pt *pt, paddr_t table, unsigned level, u64 va, u64 end,
		      int (*fn)(u64, paddr_t, unsigned, unsigned, void *), void *arg)
{
	const struct pt_format *fmt = pt->fmt;
	const u64 *t = table_at(table);
	u64 span = level_size(level);

	while (va < end) {
		u64 e = t[level_index(va, level)];
		u64 start = ALIGN_DOWN(va, span), stop = MIN(start + span, end);
		int rc = 0;

		if (!fmt->present(e))
			; /* a hole of the whole span */
		else if (is_leaf(pt, e, level))
			rc = fn(start, fmt->addr(e, level), fmt->perms(e), level, arg);
		else
			rc = walk_range(pt, fmt->addr(e, level), level - 1, va, stop, fn, arg);
		if (rc)
			return rc;
		va = stop;
	}
	return 0;
}

int pt_walk(const struct pt *pt, u64 va, u64 size,
	    int (*fn)(u64 va, paddr_t pa, unsigned perms, unsigned level, void *arg),
	    void *arg)
{
	if (!range_ok(va, size))
		return -EINVAL;
	if (!pt->root || !size)
		return 0;
	return walk_range(pt, pt->root, PT_LEVELS, va, va + size, fn, arg);
}

void pt_destroy(struct pt *pt)
{
	if (pt->root)
		free_tree(pt, pt->root, PT_LEVELS);
	pt->root = 0;
}

/* ---- the long-mode entry format -------------------------------------------
 *
 * Intel SDM vol. 3 4.5 (tables 4-14 to 4-20), AMD APM vol. 2 5.3.3 and 5.4:
 *   bit 0 P, 1 R/W, 2 U/S, 3 PWT, 4 PCD, 5 A, 6 D (leaves), 7 PS (PDPTE/PDE:
 *   maps a 1 GiB / 2 MiB page; in a PTE it is the PAT bit), 8 G, 63 XD/NX;
 *   bits 12..51 the table or 4 KiB page address. In a large-page entry bit 12
 *   is the PAT bit and the address starts at bit 21 (2 MiB) or 30 (1 GiB).
 * Access rights are the AND of all levels (SDM 4.6), so table entries grant
 * everything (P|RW|US, no NX) and only leaves restrict. U/S must be set in
 * tables because a user page needs it at every level.
 */
#define X86_PTE_P (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_US (1ULL << 2)
#define X86_PTE_PWT (1ULL << 3)
#define X86_PTE_PCD (1ULL << 4)
#define X86_PTE_A (1ULL << 5)
#define X86_PTE_D (1ULL << 6)
#define X86_PTE_PS (1ULL << 7)
#define X86_PTE_G (1ULL << 8)
#define X86_PTE_NX (1ULL << 63)
/* Bits 52-58 are ignored by the MMU (SDM vol. 3 table 4-19, APM vol. 2
 * 5.4.1 "available to software"): what the entry holds (PT_HELD_*). */
#define X86_PTE_HELD_FOREIGN (1ULL << 52)
#define X86_PTE_HELD_GRANT (1ULL << 53)
#define X86_PTE_ADDR 0x000ffffffffff000ULL

/* Address bits of a leaf at `level`: a large page's low address bits are
 * zero by alignment, and bit 12 there is PAT, so it must not leak in. */
static u64 x86_leaf_addr_mask(unsigned level)
{
	return X86_PTE_ADDR & ~(level_size(level) - 1);
}

/*
 * A and D are set in advance (as Linux does for its kernel mappings): the
 * CPU would otherwise write them with a locked update on first use, into
 * the hypervisor's tables or, for NPT, into the nested tables. D on a
 * read-only page is harmless. Caching: with the power-on PAT (SDM 11.12.2,
 * APM 7.8.2), PAT index = PAT:PCD:PWT, and index 0 is WB, index 3 UC, so
 * UC is PCD|PWT with the PAT bit clear. Without PT_R there is no present
 * entry: x86 cannot express write- or execute-only, and we never grant
 * more than was asked. NX requires EFER.NXE on the host (nested walks use
 * the host's EFER.NXE too, APM 15.25); Keel enables it at boot.
 */
static u64 x86_leaf(paddr_t pa, unsigned level, unsigned perms, enum memtype mt)
{
	u64 e;

	if (!(perms & PT_R))
		return 0;
	e = X86_PTE_P | X86_PTE_A | X86_PTE_D | (pa & x86_leaf_addr_mask(level));
	if (perms & PT_W)
		e |= X86_PTE_RW;
	if (perms & PT_U)
		e |= X86_PTE_US;
	if (!(perms & PT_X))
		e |= X86_PTE_NX;
	if (mt == MT_UC)
		e |= X86_PTE_PCD | X86_PTE_PWT;
	if (level > 1)
		e |= X86_PTE_PS;
	if (perms & PT_HELD_FOREIGN)
		e |= X86_PTE_HELD_FOREIGN;
	if (perms & PT_HELD_GRANT)
		e |= X86_PTE_HELD_GRANT;
	return e;
}

static u64 x86_table(paddr_t pa)
{
	return X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_A | (pa & X86_PTE_ADDR);
}

static bool x86_present(u64 e)
{
	return e & X86_PTE_P;
}

static bool x86_is_large(u64 e)
{
	return e & X86_PTE_PS;
}

static paddr_t x86_addr(u64 e, unsigned level)
{
	/* Bit 7 of a level-1 entry is PAT, not PS; level 4 has no large pages. */
	if (level >= 2 && level <= 3 && (e & X86_PTE_PS))
		return e & x86_leaf_addr_mask(level);
	return e & X86_PTE_ADDR;
}

static unsigned x86_perms(u64 e)
{
	unsigned p;

	if (!(e & X86_PTE_P))
		return 0;
	p = PT_R;
	if (e & X86_PTE_RW)
		p |= PT_W;
	if (!(e & X86_PTE_NX))
		p |= PT_X;
	if (e & X86_PTE_US)
		p |= PT_U;
	if (e & X86_PTE_HELD_FOREIGN)
		p |= PT_HELD_FOREIGN;
	if (e & X86_PTE_HELD_GRANT)
		p |= PT_HELD_GRANT;
	return p;
}

static enum memtype x86_memtype(u64 e)
{
	return (e & X86_PTE_PCD) ? MT_UC : MT_WB;
}

const struct pt_format x86_pt_format = {
	.name = "x86-64",
	.leaf = x86_leaf,
	.table = x86_table,
	.present = x86_present,
	.is_large = x86_is_large,
	.addr = x86_addr,
	.perms = x86_perms,
	.memtype = x86_memtype,
};

/*
 * AMD nested page tables: the same encoding, but the nested walk treats
 * every access as a user access (APM vol. 2 15.25.5), so a leaf without U/S
 * would fault. U is therefore no permission here: it is always set and
 * never reported.
 */
static u64 x86_leaf_user(paddr_t pa, unsigned level, unsigned perms,
			 enum memtype mt)
{
	return x86_leaf(pa, level, perms | PT_U, mt);
}

static unsigned x86_perms_user(u64 e)
{
	return x86_perms(e) & ~PT_U;
}

const struct pt_format x86_pt_format_user = {
	.name = "x86-64-user",
	.leaf = x86_leaf_user,
	.table = x86_table,
	.present = x86_present,
	.is_large = x86_is_large,
	.addr = x86_addr,
	.perms = x86_perms_user,
	.memtype = x86_memtype,
};

/*
 * pt_lookup for the two x86 formats (the host's tables, AMD's nested
 * ones), with the entry helpers inlined instead of called through the
 * format: an exit that fetches the guest's instruction makes five p2m
 * look-ups, and the indirect calls were two thirds of their cost
 * (docs/PERFORMANCE.md). The same steps and results as the generic loop;
 * pt->root and va were checked by the caller.
 */
static int x86_lookup(const struct pt *pt, u64 va, paddr_t *pa, unsigned *perms,
		      unsigned *level)
{
	paddr_t table = pt->root;

	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		u64 e = table_at(table)[level_index(va, l)];

		if (!x86_present(e))
			return -ENOENT;
		if (l == 1 || (l <= 3 && x86_is_large(e))) {
			if (pa)
				*pa = x86_addr(e, l) + (va & (level_size(l) - 1));
			if (perms)
				*perms = pt->fmt == &x86_pt_format_user ? x86_perms_user(e)
									 : x86_perms(e);
			if (level)
				*level = l;
			return 0;
		}
		table = x86_addr(e, l);
	}
	return -ENOENT; /* not reached: level 1 entries are leaves */
}
