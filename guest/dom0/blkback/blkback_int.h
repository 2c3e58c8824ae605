/*
 * blkback's internals, shared by blkback.c (xenbus side, device life)
 * and blk_ring.c (the data path). Not for other services.
 */
#ifndef GUEST_DOM0_BLKBACK_INT_H
#define GUEST_DOM0_BLKBACK_INT_H

#include <public/event_channel.h>
#include <public/io/blkif.h>
#include "block/blkdev.h"
#include "blk_check.h"
#include "blkback.h"

/* Largest ring: 2^BLKB_MAX_RING_ORDER pages ("max-ring-page-order"). */
#define BLKB_MAX_RING_ORDER 2
#define BLKB_MAX_RING_PAGES (1u << BLKB_MAX_RING_ORDER)
/* Device requests in flight per export, each with its bounce buffer: as
 * many as the device queues (bd->queue_depth), up to this. */
#define BLKB_CHUNKS 32
#define BLKB_CHUNK_BYTES (64u * 1024)
/* Requests taken off a ring per handler run (then loop_port_kick). */
#define BLKB_BUDGET 32
/* Guest pages one chunk spans at most on the grant-map path. */
#define BLKB_MAP_PAGES (BLKB_CHUNK_BYTES / PAGE_SIZE + 1)

struct blkb_dev;

/* Persistent grants (blk_persist.c): mappings one export keeps at most
 * (Linux's xen-blkback default max_persistent_grants: 32 requests of 32
 * segments and their indirect page); their grant-window slots start at
 * BLKB_PERSIST_SLOT_BASE (after the grant-map path's, blk_ring.c). */
#define BLKB_PERSIST_MAX 1056
#define BLKB_PERSIST_SLOT_BASE (128 + BLKB_MAX_RING_PAGES * BLKBACK_MAX_DEVS + 192)

/* A frontend's gref mapped read-write into dom0 until disconnect. */
struct blkb_pgnt {
	grant_ref_t gref;
	u16 slot;
	grant_handle_t handle;
	u64 bus;               /* its dev_bus_addr: where a device DMAs */
};

/*
 * A range of dom0's grant-window slots, [base, base + n), handed out one
 * at a time (blk_slots.c): the grant-map path's and the persistent
 * grants' pools. `free` holds a bit per slot (set: free); a static pool
 * needs only base, n and its bitmap, and is filled on first use.
 */
struct blkb_slots {
	u64 *free;
	unsigned base, n;
	unsigned nr_free;
	bool ready;
};

unsigned blkb_slots_nr_free(struct blkb_slots *s);
/* The lowest free slot; the caller has checked blkb_slots_nr_free(). */
u16 blkb_slot_get(struct blkb_slots *s);
/* Gives back a slot blkb_slot_get handed out. */
void blkb_slot_put(struct blkb_slots *s, u16 slot);

struct blkb_persist {
	struct blkb_pgnt *ent; /* BLKB_PERSIST_MAX, the first nr in use */
	u16 *hash;             /* gref -> 1 + index into ent (0: empty) */
	unsigned nr;
	bool full_logged;
};

/* A request taken off the ring, until its response is pushed. */
struct blkb_pending {
	bool used;
	bool failed;        /* a chunk failed: answer BLKIF_RSP_ERROR */
	u64 next;           /* 512-byte sectors of it handed to chunks so far */
	u32 chunks;         /* chunks in flight */
	bool mappable;      /* goes by grant map (blk_ring.c: map_shape) */
	bool persist;       /* every segment's gref is persistently mapped */
	bool persist_frames; /* and the device DMAs to those pages (no copy) */
	struct blk_req_checked c;
};

/* One device request and its bounce buffer. */
struct blkb_chunk {
	struct blk_req r;
	struct blkb_dev *dev;
	struct blkb_pending *p;
	void *buf;           /* BLKB_CHUNK_BYTES, contiguous */
	u64 off, n;          /* 512-byte sectors of p: [off, off + n) */
	bool used;
	/* Grant-map path: the guest pages the chunk covers, mapped (for
	 * their dev_bus_addr, which the device DMAs to) while it is on the
	 * disk; unmapped at its completion, before the response. */
	bool copied;         /* a staged write's data is in buf */
	bool map_tried;      /* staged: map_chunks ran for it */
	bool copy_back;      /* done: its read data goes to the guest */
	unsigned nr_maps;
	u16 map_slot[BLKB_MAP_PAGES];
	grant_handle_t map_handle[BLKB_MAP_PAGES];
	u64 frames[BLKB_MAP_PAGES];
};

struct blkb_dev {
	bool used;
	domid_t fe;
	u32 devid;
	unsigned index;            /* in devs[]: its mapping slots */
	char be[64], fe_path[64];  /* backend and frontend directories */
	struct blkdev *bd;
	struct blk_limits lim;
	bool ro;                   /* mode "r" or a read-only disk */
	int state;                 /* our xenbus state */
	bool watching;             /* watch on the frontend's state set */
	/* Connected. */
	bool connected;
	unsigned nr_ring_pages;
	grant_handle_t handles[BLKB_MAX_RING_PAGES];
	struct blkif_back_ring ring;
	evtchn_port_t port;        /* dom0's end */
	struct blkb_pending *pending; /* RING_SIZE entries */
	unsigned nr_pending;
	struct blkb_chunk chunks[BLKB_CHUNKS];
	unsigned nr_chunks;        /* of chunks[] with a buffer (connected) */
	unsigned chunks_used;
	struct blkb_chunk *staged[BLKB_CHUNKS]; /* taken, not yet submitted (blk_ring.c) */
	unsigned nr_staged;
	void *indirect_page;       /* copy of an indirect request's segment pages */
	bool broken;               /* violation seen: no more requests taken */
	/* feature-persistent: both ends said 1 (blkback.c reads the
	 * frontend's before blkb_ring_connect); the table, while connected. */
	bool persistent;
	struct blkb_persist pg;
	u64 requests;
	/* xentop's VBD_RD/VBD_WR/VBD_RSECT/VBD_WSECT (blkback_vbd_stats):
	 * requests taken off the ring and their 512-byte sectors. */
	u64 rd_req, wr_req, rd_sect, wr_sect;
};

/* blk_ring.c: maps the frontend's ring and binds its channel (0, or -errno
 * with nothing left mapped); the loop handler; whether requests are
 * outstanding on the device; undoing connect once none are. */
int blkb_ring_connect(struct blkb_dev *d, const grant_ref_t *refs, unsigned nr_pages,
		      evtchn_port_t fe_port);
bool blkb_ring_busy(const struct blkb_dev *d);
/* Unmaps the pages of every chunk completed since the last call (one
 * batch), copies read data to the guests (batched GNTTABOP_copy), and
 * answers what is done; after each blk_poll of a device blkback serves. */
void blkb_flush_done(void);
void blkb_ring_disconnect(struct blkb_dev *d);

/* blkback.c: the data path reports a violation (logs once, device goes
 * Closing on the next service run) and asks for the service to run. */
void blkb_violation(struct blkb_dev *d, enum blk_rule r, const char *detail);
void blkb_wake(void);
/* blkback.c: the device bd has room again: kicks the ring handler of
 * every connected export of bd that waits for it (chunks staged after
 * -EBUSY, requests not yet submitted), not only the export whose chunk
 * finished: another export may have filled the queue. */
void blkb_kick_waiters(struct blkdev *bd);

extern u64 blkb_total_requests, blkb_total_violations, blkb_total_errors;
/* blk_ring.c: the data path in use (blkback_set_data_path) and its
 * counts: guest pages mapped for a request now, chunks moved by map and by copy,
 * notifications sent to frontends. */
/* blk_persist.c (docs/pvblk.md, "Persistent grants"). init: the empty
 * table of a connecting export (0, -ENOMEM: the export runs without).
 * map: makes every ref of refs[0..n) persistently mapped, mapping the new
 * ones in one batch; false when some could not be (table or window full,
 * the hypervisor refused one): the request then goes the per-request way.
 * va: where ref is mapped, or NULL; bus: its bus address (ref mapped). fini: unmaps all (the ring's requests
 * all finished). live: mappings held by all exports; peak: the most one
 * export held; fallbacks: requests
 * that could not go persistent. */
int blkb_persist_init(struct blkb_dev *d);
bool blkb_persist_map(struct blkb_dev *d, const grant_ref_t *refs, unsigned n);
void *blkb_persist_va(const struct blkb_dev *d, grant_ref_t ref);
u64 blkb_persist_bus(const struct blkb_dev *d, grant_ref_t ref);
void blkb_persist_fini(struct blkb_dev *d);
extern u64 blkb_persist_live, blkb_persist_peak, blkb_persist_fallbacks;
/* Mappings one export may hold (blkback_set_persistent_max; 0: off). */
extern unsigned blkb_persist_cap;

extern bool blkb_use_map;
extern u64 blkb_maps_live, blkb_chunks_mapped, blkb_chunks_copied, blkb_notifies;
/* Chunks whose data moved through persistent mappings (not in the two
 * counts above). */
extern u64 blkb_chunks_persistent;

#endif
