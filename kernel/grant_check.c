/*
 * The pure rules of grant tables v1 (contracts in include/keel/gnttab.h):
 * what an entry must say before another domain may use it, how the
 * in-use flags follow the pins, and the maptrack handle allocator.
 * Nothing here touches domains, page tables or guest memory, so the host
 * unit tests (tests/unit/test_grant.c) compile it as it is.
 */
#include <lib/errno.h>
#include <keel/gnttab.h>
#include <lib/string.h>

/*
 * Xen bounds the compare-and-exchange retries on an entry the guest keeps
 * rewriting (some races are legitimate, e.g. the guest toggling
 * GTF_readonly), then gives up with GNTST_general_error rather than let a
 * guest livelock the hypervisor (_set_status_v1: five tries).
 */
#define GRANT_CMPXCHG_TRIES 5

/*
 * flags (low 16 bits) and domid (high 16 bits) are read and updated as one
 * 32-bit word, so a check of both and the update are a single atomic step
 * (Xen's union grant_combo). x86 is little-endian: flags is at offset 0.
 */
static u32 *entry_combo(struct grant_entry_v1 *e)
{
	return (u32 *)(void *)e;
}

static u16 combo_flags(u32 c) { return (u16)c; }
static domid_t combo_domid(u32 c) { return (domid_t)(c >> 16); }

bool grant_ref_in_range(grant_ref_t ref, unsigned nr_frames)
{
	return (u64)ref < (u64)nr_frames * GNTTAB_ENTRIES_PER_FRAME;
}

s16 grant_map_flags_check(u32 flags)
{
	if (!(flags & (GNTMAP_host_map | GNTMAP_device_map)))
		return GNTST_bad_gntref; /* Xen: no pin kind requested */
	/* An auto-translated (HVM/PVH) caller has no device mappings and no
	 * PTE-level mappings: only host_map [| readonly] goes into its p2m. */
	if (flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte))
		return GNTST_general_error;
	return GNTST_okay;
}

s16 grant_acquire(struct grant_entry_v1 *e, const struct grant_active *act,
		  domid_t ldom, bool readonly, bool mapping)
{
	u16 type_mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
	bool pinned = grant_pinned(act);
	u32 *word = entry_combo(e);
	u32 old;

	if (pinned) {
		/* One domain at a time: the entry was checked against the
		 * pin holder only. */
		if (act->domid != ldom)
			return GNTST_general_error;
		if ((readonly ? act->pin_ro : act->pin_rw) == GNTTAB_PIN_MAX)
			return GNTST_general_error;
		/* Already marked for this kind of use. */
		if (readonly || act->pin_rw)
			return GNTST_okay;
	}

	old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	for (int tries = 0;; tries++) {
		u16 flags = combo_flags(old);
		u32 new;

		/* A pinned entry is not re-checked (Xen): the granter may
		 * legitimately change it while it is in use, and the frame
		 * was fixed at the first pin. Only GTF_readonly matters for
		 * a first writable pin. */
		if (!pinned && ((flags & type_mask) != GTF_permit_access ||
				combo_domid(old) != ldom))
			return GNTST_general_error;
		if (!readonly && (flags & GTF_readonly))
			return GNTST_general_error;

		new = old | GTF_reading | (readonly ? 0 : GTF_writing);
		if (__atomic_compare_exchange_n(word, &old, new, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return GNTST_okay;
		/* `old` now holds what the guest wrote meanwhile. */
		if (tries + 1 == GRANT_CMPXCHG_TRIES)
			return GNTST_general_error;
	}
}

void grant_pin(struct grant_active *act, domid_t ldom, paddr_t hpa, bool readonly)
{
	if (!grant_pinned(act)) {
		act->domid = ldom;
		act->hpa = hpa;
	}
	if (readonly)
		act->pin_ro++;
	else
		act->pin_rw++;
}

void grant_unpin(struct grant_active *act, bool readonly)
{
	if (readonly)
		act->pin_ro--;
	else
		act->pin_rw--;
}

void grant_reduce_status(struct grant_entry_v1 *e, const struct grant_active *act,
			 bool readonly)
{
	u16 clear = grant_pinned(act) ? 0 : GTF_reading;

	if (!readonly && !act->pin_rw)
		clear |= GTF_writing;
	/* An atomic AND: the granter may be changing other bits (or
	 * domid) of the same word right now. */
	if (clear)
		__atomic_fetch_and(&e->flags, (u16)~clear, __ATOMIC_ACQ_REL);
}

s16 grant_copy_range_check(u16 src_offset, u16 dst_offset, u16 len)
{
	/* u16 + u16 cannot overflow in int. */
	if ((u32)src_offset + len > PAGE_SIZE || (u32)dst_offset + len > PAGE_SIZE)
		return GNTST_bad_copy_arg;
	return GNTST_okay;
}

/* ---- maptrack ------------------------------------------------------------ */

void maptrack_init(struct maptrack *mt)
{
	memset(mt, 0, sizeof(*mt));
	mt->free_head = MAPTRACK_NONE;
}

struct grant_mapping *maptrack_entry(const struct maptrack *mt, u32 h)
{
	if (h >= mt->nr_frames * MAPTRACK_PER_FRAME)
		return NULL;
	return &mt->frame[h / MAPTRACK_PER_FRAME][h % MAPTRACK_PER_FRAME];
}

u32 maptrack_get(struct maptrack *mt)
{
	u32 h = mt->free_head;

	if (h == MAPTRACK_NONE)
		return MAPTRACK_NONE;
	mt->free_head = maptrack_entry(mt, h)->next_free;
	mt->nr_used++;
	return h;
}

int maptrack_add_frame(struct maptrack *mt, void *page)
{
	struct grant_mapping *m = page;
	u32 base = mt->nr_frames * MAPTRACK_PER_FRAME;

	if (mt->nr_frames == MAPTRACK_MAX_FRAMES)
		return -ENOSPC;
	/* Linked so that the lowest new handle comes out first. */
	for (u32 i = MAPTRACK_PER_FRAME; i-- > 0;) {
		m[i].flags = 0;
		m[i].next_free = mt->free_head;
		mt->free_head = base + i;
	}
	mt->frame[mt->nr_frames++] = m;
	return 0;
}

void maptrack_put(struct maptrack *mt, u32 h)
{
	struct grant_mapping *m = maptrack_entry(mt, h);

	m->flags = 0;
	m->next_free = mt->free_head;
	mt->free_head = h;
	mt->nr_used--;
}
