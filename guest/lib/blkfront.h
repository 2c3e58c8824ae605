/*
 * A PV block frontend for Keel's guests (guest/lib/blkfront.c; the
 * protocol is Xen's public/io/blkif.h, docs/pvblk.md), written the way
 * Linux's xen-blkfront talks to a backend so that blkback is exercised
 * as Linux would exercise it:
 *
 *   blkfront_connect: reads device/vbd/<devid>/{backend,backend-id},
 *     waits for the backend's InitWait, reads its features (sectors,
 *     sector-size, info, feature-flush-cache, feature-discard,
 *     feature-max-indirect-segments, max-ring-page-order), allocates and
 *     grants a ring of 2^order pages (order = min(backend's, wanted)),
 *     an unbound port for the backend, writes ring-ref or
 *     ring-page-order + ring-ref%u, event-channel, protocol
 *     ("x86_64-abi"), switches Initialised and waits for Connected, then
 *     switches Connected.
 *   blkfront_submit / blkfront_poll: requests with a page-granted buffer
 *     (direct up to 11 segments, indirect beyond when offered), responses
 *     taken with rsp_event set (RING_FINAL_CHECK_FOR_RESPONSES) and the
 *     backend notified only when its req_event asks for it.
 *   blkfront_close: Closing, waits for the backend's Closing/Closed,
 *     Closed; grants ended, pages and port freed.
 *   Persistent grants (blkif.h feature-persistent, as Linux's blkfront):
 *     the frontend writes feature-persistent = 1 and reads the backend's
 *     at Connected; when both said 1, data goes through a pool of pages
 *     granted read-write once and reused (LIFO, so the same grefs come
 *     back), written into before a write and read out of after a read;
 *     each slot's indirect page is granted once too. A request that
 *     finds too few pool pages (BLKFRONT_PERSIST_PAGES, or no memory)
 *     grants the caller's buffer as without the feature.
 *
 * The port is kept masked: waiting is SCHEDOP_poll on it. Single vCPU,
 * one caller. Needs evtchn_init, gnttab_init (enough frames for the
 * ring's requests' grants) and xenbus_init.
 */
#ifndef GUEST_BLKFRONT_H
#define GUEST_BLKFRONT_H

#include <lib/types.h>
#include <public/io/blkif.h>
#include <public/event_channel.h>

#define BLKFRONT_MAX_RING_ORDER 2
#define BLKFRONT_MAX_SLOTS (32u << BLKFRONT_MAX_RING_ORDER)
/* Segments of one request: indirect up to this many (one indirect page). */
#define BLKFRONT_MAX_SEGS 256
/* Persistent grants: data pages in the pool at most (4 MiB). */
#define BLKFRONT_PERSIST_PAGES 1024

struct blkfront_slot {
	bool used, done;
	s16 status;        /* BLKIF_RSP_* once done */
	u8 op;
	u16 nr_grants;
	grant_ref_t grants[BLKFRONT_MAX_SEGS + 1]; /* segments, then the indirect page */
	struct blkif_request_segment *indirect;    /* page of segments (indirect requests) */
	/* Persistent grants: indirect's grant, kept (0: none yet); whether
	 * the data is in pool pages pidx[0..nr_pidx) and, for a read, where
	 * it goes when done. */
	grant_ref_t indirect_ref;
	bool persist;
	u16 nr_pidx;
	u16 pidx[BLKFRONT_MAX_SEGS];
	u8 *buf;
	u32 nsect;
};

/* A pool page and its read-write grant to the backend. */
struct blkfront_pgrant {
	void *page;
	grant_ref_t ref;
};

struct blkfront {
	u32 devid;
	char fe[64], be[96];
	domid_t be_id;
	/* The backend's features. */
	u64 sectors;       /* 512-byte units */
	u32 sector_size;
	u32 info;          /* VDISK_* */
	bool flush, discard;
	u32 max_indirect;  /* 0: none */
	unsigned ring_order;
	/* The ring. */
	struct blkif_front_ring ring;
	void *ring_pages;
	grant_ref_t ring_refs[1u << BLKFRONT_MAX_RING_ORDER];
	evtchn_port_t port;
	struct blkfront_slot *slots; /* RING_SIZE of them */
	unsigned inflight;
	u64 notifies, polls_empty;
	bool connected;
	/* Persistent grants: negotiated; the pool (nr_pool pages made so
	 * far, a stack of the free ones); requests that used it and those
	 * that could not. */
	bool persistent;
	struct blkfront_pgrant *pool;
	u16 *pool_free;
	unsigned nr_pool, nr_free;
	u64 persist_reqs, fallback_reqs;
};

/* Connects to device/vbd/<devid> (the handshake above), asking for a ring
 * of at most 2^want_order pages. 0, or -errno with everything undone
 * (-ETIMEDOUT: the backend did not reach InitWait/Connected in 10 s;
 * -ENODEV: no such device; -EIO: the backend went Closing). */
int blkfront_connect(struct blkfront *f, u32 devid, unsigned want_order);
/* The same, saying feature-persistent = persistent (blkfront_connect: 1). */
int blkfront_connect_opts(struct blkfront *f, u32 devid, unsigned want_order, bool persistent);

/* Largest number of 512-byte sectors one request may carry. */
u32 blkfront_max_sectors(const struct blkfront *f);

/*
 * Queues one request (op BLKIF_OP_READ/WRITE over nsect 512-byte sectors
 * at `sector` into/from buf, which is 512-aligned; FLUSH_DISKCACHE and
 * DISCARD take no buffer) and pushes it, notifying the backend if it
 * asks. Returns the slot (>= 0; its `done` goes true in blkfront_poll),
 * -EBUSY when the ring is full, -E2BIG beyond blkfront_max_sectors,
 * -ENOSPC without grant refs.
 */
int blkfront_submit(struct blkfront *f, u8 op, u64 sector, u32 nsect, void *buf);

/* Takes the responses there are, waiting up to timeout_ns for the first
 * when none is there. Returns how many completed, or -EIO for a
 * response the frontend never asked for (bad id), -ETIMEDOUT. */
int blkfront_poll(struct blkfront *f, u64 timeout_ns);

/* Frees a done slot (its status read). */
void blkfront_release(struct blkfront *f, int slot);

/* Submit, wait, release: the response's status (BLKIF_RSP_*) or -errno. */
int blkfront_io(struct blkfront *f, u8 op, u64 sector, u32 nsect, void *buf);

/* For the hostile role: puts *rq on the ring exactly as given (id and
 * all, no slot taken), publishes req_prod and, if notify, notifies. */
int blkfront_push_raw(struct blkfront *f, const struct blkif_request *rq, bool notify);

/* Closing -> Closed (waits up to 10 s for the backend), then frees. */
int blkfront_close(struct blkfront *f);

#endif
