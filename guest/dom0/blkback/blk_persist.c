/*
 * Persistent grants (blkback_int.h, docs/pvblk.md "Persistent grants"):
 * Xen's blkif.h `feature-persistent`. When both ends advertise it, the
 * frontend keeps a pool of granted pages and reuses their grefs for every
 * request; the backend maps each gref it meets once, read-write, keeps
 * the mapping until the ring is disconnected. A request whose pages are
 * one run of whole pages goes to a device that takes frames requests
 * (blkdev.h) as one: the device DMAs straight to the mapped pages, no
 * copy at all; any other is copied with a plain memcpy between dom0's
 * bounce buffers and the mapped pages. Either way a steady-state request
 * costs no grant hypercall (Linux's xen-blkback,
 * drivers/block/xen-blkback/blkback.c: get_persistent_gnt /
 * add_persistent_gnt).
 *
 * The table is bounded (blkb_persist_cap per export: BLKB_PERSIST_MAX,
 * Linux's default max_persistent_grants, or less by dom0's command line;
 * and the PGNT_SLOTS pages of dom0's grant window
 * shared by all exports). A request whose grefs do not all fit, or whose
 * map the hypervisor refuses (a read-only grant, a bad ref: the
 * frontend's business, not a violation yet), goes by the per-request path
 * (grant copy, or grant map), which judges the grant as before. Nothing
 * is ever evicted while the ring is up: a mapping is dropped only by
 * blkb_persist_fini, after the disk gave back every request of the ring,
 * so no request can hold a pointer into an unmapped page.
 *
 * Mappings are always read-write (as Linux's backend maps persistent
 * grants): the same gref may carry a write now and a read later, so a
 * read-only mapping could never be reused for a read. A frontend that
 * grants read-only gets the per-request path for that request.
 *
 * A frontend that re-points a mapped gref at another frame (writing its
 * grant entry while we hold the mapping) only changes what it sees: the
 * hypervisor pinned the frame we mapped, and we keep using that frame,
 * which stays the frontend's page until we unmap it.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "gnttab.h"
#include "guest.h"
#include "pages.h"
#include "blkback_int.h"

/* Grant-window slots for persistent mappings: after the grant-map
 * path's slots, below netback's 128 at the top. One pool, but room for
 * every export's whole table, so no export's mappings (a hostile
 * frontend inventing grefs on two disks) can leave another export
 * without: each is held to its own bound only. */
#define PGNT_SLOT_BASE BLKB_PERSIST_SLOT_BASE
#define PGNT_SLOTS (GNTTAB_MAP_SLOTS - 128 - PGNT_SLOT_BASE)
_Static_assert(PGNT_SLOTS >= BLKBACK_MAX_DEVS * BLKB_PERSIST_MAX,
	       "the window must hold every export's whole table");
_Static_assert(PGNT_SLOTS >= BLKB_PERSIST_MAX, "too few window slots for one export's table");
_Static_assert(PGNT_SLOTS < 0xffff, "slots are u16");

static u64 slot_free[(PGNT_SLOTS + 63) / 64];
static struct blkb_slots slots = { slot_free, PGNT_SLOT_BASE, PGNT_SLOTS, 0, false };

u64 blkb_persist_live, blkb_persist_peak, blkb_persist_fallbacks;
unsigned blkb_persist_cap = BLKB_PERSIST_MAX;

/* Open addressing, linear probing, no deletion (the table only grows
 * until blkb_persist_fini empties it): hash[h] is 1 + the entry's index,
 * 0 for empty. Twice the entries, so probes stay short. */
#define HASH_SIZE 4096
_Static_assert(HASH_SIZE >= 2 * BLKB_PERSIST_MAX, "hash too small");

static unsigned hash_of(grant_ref_t ref)
{
	return (u32)(ref * 2654435761u) >> (32 - 12);
}

static size_t table_pages(void)
{
	return (BLKB_PERSIST_MAX * sizeof(struct blkb_pgnt) + HASH_SIZE * sizeof(u16) +
		PAGE_SIZE - 1) / PAGE_SIZE;
}

int blkb_persist_init(struct blkb_dev *d)
{
	struct blkb_persist *pg = &d->pg;

	memset(pg, 0, sizeof(*pg));
	pg->ent = pages_alloc(table_pages(), PAGE_SIZE);
	if (!pg->ent)
		return -ENOMEM;
	pg->hash = (u16 *)(pg->ent + BLKB_PERSIST_MAX);
	memset(pg->ent, 0, table_pages() * PAGE_SIZE);
	return 0;
}

static struct blkb_pgnt *lookup(const struct blkb_persist *pg, grant_ref_t ref)
{
	for (unsigned h = hash_of(ref);; h = (h + 1) % HASH_SIZE) {
		u16 e = pg->hash[h];
		if (!e)
			return NULL;
		if (pg->ent[e - 1].gref == ref)
			return &pg->ent[e - 1];
	}
}

void *blkb_persist_va(const struct blkb_dev *d, grant_ref_t ref)
{
	const struct blkb_pgnt *e = d->pg.ent ? lookup(&d->pg, ref) : NULL;
	return e ? gnttab_slot_va(e->slot) : NULL;
}

u64 blkb_persist_bus(const struct blkb_dev *d, grant_ref_t ref)
{
	return lookup(&d->pg, ref)->bus;
}

/* One request's worth of new mappings at most: its segments and its
 * indirect pages. */
#define MAX_NEW (BLK_MAX_SEGS + BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)
static struct gnttab_map_grant_ref map_ops[MAX_NEW];
static grant_ref_t miss[MAX_NEW];
static u16 miss_slot[MAX_NEW];

bool blkb_persist_map(struct blkb_dev *d, const grant_ref_t *refs, unsigned n)
{
	struct blkb_persist *pg = &d->pg;
	unsigned nm = 0;
	bool all = true;

	if (!pg->ent)
		return false;
	for (unsigned i = 0; i < n && nm < MAX_NEW; i++) {
		if (lookup(pg, refs[i]))
			continue;
		bool dup = false; /* the same page in two segments */
		for (unsigned k = 0; k < nm && !dup; k++)
			dup = miss[k] == refs[i];
		if (!dup)
			miss[nm++] = refs[i];
	}
	if (!nm)
		return true;
	if (pg->nr + nm > blkb_persist_cap || nm > blkb_slots_nr_free(&slots)) {
		/* Full: this request (and any other with a new gref) goes
		 * the per-request way; said once per connection. */
		blkb_persist_fallbacks++;
		if (!pg->full_logged) {
			pg->full_logged = true;
			printf("dom0: blkback: d%u/%u: persistent grants: table full (%u of %u, %u "
			       "window slots free): new grants go per request\n", d->fe, d->devid,
			       pg->nr, blkb_persist_cap, blkb_slots_nr_free(&slots));
		}
		return false;
	}
	for (unsigned k = 0; k < nm; k++) {
		miss_slot[k] = blkb_slot_get(&slots);
		gnttab_set_map_op(&map_ops[k], gnttab_slot_gpa(miss_slot[k]), GNTMAP_host_map, miss[k],
				  d->fe);
	}
	int rc = gnttab_map_refs(map_ops, nm);
	for (unsigned k = 0; k < nm; k++) {
		if (rc || map_ops[k].status != GNTST_okay) {
			/* Refused (read-only, bad ref, ended): the per-request
			 * path will judge it. Nothing is kept of it. A slot
			 * whose op said okay while the call failed may hold a
			 * mapping: it is not handed out again. */
			if (map_ops[k].status == GNTST_okay)
				printf("dom0: blkback: d%u/%u: grant map call failed (%d) after "
				       "mapping gref %u: window slot %u retired\n",
				       d->fe, d->devid, rc, miss[k], miss_slot[k]);
			else
				blkb_slot_put(&slots, miss_slot[k]);
			all = false;
			continue;
		}
		struct blkb_pgnt *e = &pg->ent[pg->nr];
		e->gref = miss[k];
		e->slot = miss_slot[k];
		e->handle = map_ops[k].handle;
		e->bus = map_ops[k].dev_bus_addr & PAGE_MASK;
		unsigned h = hash_of(miss[k]);
		while (pg->hash[h])
			h = (h + 1) % HASH_SIZE;
		pg->hash[h] = (u16)(++pg->nr);
		blkb_persist_live++;
		if (pg->nr > blkb_persist_peak)
			blkb_persist_peak = pg->nr;
	}
	if (!all)
		blkb_persist_fallbacks++;
	return all;
}

void blkb_persist_fini(struct blkb_dev *d)
{
	static struct gnttab_unmap_grant_ref u[64];
	struct blkb_persist *pg = &d->pg;

	if (!pg->ent)
		return;
	for (unsigned i = 0; i < pg->nr;) {
		unsigned n = 0, first = i;
		for (; i < pg->nr && n < ARRAY_SIZE(u); i++, n++)
			gnttab_set_unmap_op(&u[n], gnttab_slot_gpa(pg->ent[i].slot), pg->ent[i].handle);
		int rc = gnttab_unmap_refs(u, n);
		for (unsigned k = 0; k < n; k++) {
			/* After the frontend's domain died the hypervisor still
			 * holds the mapping (orphaned) until this unmap. */
			if (rc || u[k].status != GNTST_okay)
				/* Still mapped, maybe: the slot is not reused. */
				printf("dom0: blkback: d%u/%u: unmapping a persistent grant: %d/%d: "
				       "window slot %u retired\n", d->fe, d->devid, rc, u[k].status,
				       pg->ent[first + k].slot);
			else
				blkb_slot_put(&slots, pg->ent[first + k].slot);
		}
	}
	blkb_persist_live -= pg->nr;
	pages_free(pg->ent, table_pages());
	memset(pg, 0, sizeof(*pg));
}
