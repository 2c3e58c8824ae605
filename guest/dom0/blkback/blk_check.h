/*
 * blkback's validation of what a frontend puts on its ring (pure
 * functions, no I/O, so the host tests them: tests/unit/test_blk_check.c,
 * tests/fuzz/fuzz_blk_check.c). Every frontend is hostile: each request
 * is copied out of the shared page once (RING_COPY_REQUEST) and checked
 * against what this backend negotiated; the checked internal form is all
 * the rest of blkback reads. A violation is a named rule (blk_rule_name)
 * that the caller logs in one line before taking the device to Closing.
 *
 * Units: sectors are always 512 bytes on the wire (Xen's blkif.h); the
 * limits give the exported capacity in those units and the device's own
 * sector size as a multiple of them, so that a request the device could
 * not express (a 4 KiB-sector disk given a 512-byte write) is refused
 * here, not at the device.
 */
#ifndef GUEST_DOM0_BLKBACK_BLK_CHECK_H
#define GUEST_DOM0_BLKBACK_BLK_CHECK_H

#include <lib/types.h>
#include <public/io/blkif.h>

/* The most segments one request may carry (direct or indirect); what
 * blkback advertises as feature-max-indirect-segments: 256 pages, a
 * 1 MiB request in one ring slot and one indirect page (Linux's
 * xen-blkback advertises the same). */
#define BLK_MAX_SEGS 256
#define BLK_MAX_INDIRECT_PAGES                                                          \
	((BLK_MAX_SEGS + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) / BLKIF_SEGS_PER_INDIRECT_FRAME)

/* What the backend negotiated for one device. */
struct blk_limits {
	u64 sectors;          /* exported capacity, 512-byte sectors */
	u32 sector_ratio;     /* device sector size / 512 (1 or 8), >= 1 */
	unsigned max_segs;    /* segments per indirect request (0: no indirect) */
	bool discard;         /* feature-discard advertised */
	u32 discard_gran;     /* its granularity in 512-byte sectors (>= 1) */
	bool flush;           /* feature-flush-cache advertised */
};

/* The named rules; BLK_OK (0) is not a violation. */
enum blk_rule {
	BLK_OK = 0,
	BLK_RULE_RING_PROD,      /* req_prod beyond the ring, or moved back */
	BLK_RULE_OP,             /* operation not one this backend advertised */
	BLK_RULE_NSEG_ZERO,      /* read/write with no segment */
	BLK_RULE_NSEG_MAX,       /* more segments than allowed (11 direct, max_segs indirect) */
	BLK_RULE_SECT_RANGE,     /* a segment's last_sect > 7 or first_sect > last_sect */
	BLK_RULE_BEYOND_END,     /* sector_number + length past the exported capacity */
	BLK_RULE_ALIGN,          /* start or length not a whole device sector */
	BLK_RULE_INDIRECT_OP,    /* indirect_op not READ or WRITE */
	BLK_RULE_INDIRECT_OFF,   /* indirect request when indirect was not advertised */
	BLK_RULE_DISCARD_LEN,    /* discard of zero sectors */
	BLK_RULE_DISCARD_FLAG,   /* discard flag other than 0 / BLKIF_DISCARD_SECURE */
	BLK_RULE_GREF,           /* grant ref in the reserved range (0..7) */
	BLK_RULE_ID_BUSY,        /* id already used by a request still in flight */
	BLK_RULE_FLUSH_DATA,     /* FLUSH_DISKCACHE carrying segments (data) */
	BLK_RULE__COUNT
};

/* A short phrase naming rule r ("segment count over the limit"). */
const char *blk_rule_name(enum blk_rule r);

struct blk_seg {
	grant_ref_t gref;
	u8 first;  /* first 512-byte sector in the page */
	u8 count;  /* sectors, 1..8 */
};

/* A checked request. For an indirect one, blk_check_request() fills
 * everything but seg[] (nr_segs is known, the segments are in the
 * frontend's pages): the caller copies those pages in and calls
 * blk_check_segs(). */
struct blk_req_checked {
	u64 id;
	u8 op;             /* BLKIF_OP_READ, _WRITE, _FLUSH_DISKCACHE, _DISCARD */
	u8 wire_op;        /* the response's operation: the request's, or indirect_op */
	bool indirect;
	u64 sector;        /* 512-byte sectors */
	u64 nr_sectors;    /* read/write: sum over segments; discard: its count */
	unsigned nr_segs;
	unsigned nr_indirect_pages;
	grant_ref_t indirect_gref[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct blk_seg seg[BLK_MAX_SEGS];
};

/*
 * Whether a frontend's req_prod is possible: it may be ahead of what the
 * backend has answered (rsp_prod_pvt) by at most the ring's size, and
 * never behind what the backend already took (req_cons; a producer
 * index that moved back would have the backend read slots the frontend
 * never filled). BLK_OK or BLK_RULE_RING_PROD.
 */
enum blk_rule blk_check_prod(RING_IDX req_prod, RING_IDX req_cons, RING_IDX rsp_prod_pvt,
			     unsigned ring_size);

/*
 * Checks *req (the backend's private copy) against lim and fills *out.
 * Direct read/write: segments checked and the range too. Indirect: op,
 * count and indirect grefs checked; call blk_check_segs() with the
 * segments from the indirect pages before using out->seg.
 */
enum blk_rule blk_check_request(const struct blkif_request *req, const struct blk_limits *lim,
				struct blk_req_checked *out);

/*
 * Checks the n = out->nr_segs segments in segs[] (a private copy), fills
 * out->seg and out->nr_sectors, and checks the range against lim.
 */
enum blk_rule blk_check_segs(const struct blkif_request_segment *segs,
			     const struct blk_limits *lim, struct blk_req_checked *out);

#endif
