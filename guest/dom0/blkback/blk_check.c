/*
 * blkback's request validation (blk_check.h). What each rule protects:
 * Xen's public/io/blkif.h defines a segment as sectors first_sect..
 * last_sect (inclusive) of one 4 KiB page, so last_sect <= 7 and
 * first_sect <= last_sect; a direct request carries 1..11 segments
 * (BLKIF_MAX_SEGMENTS_PER_REQUEST), an indirect one at most what the
 * backend put in feature-max-indirect-segments, in ceil(n / 512) pages.
 * Ranges are checked with the subtraction form so that a sector_number
 * near 2^64 cannot wrap past the capacity.
 */
#include <lib/errno.h>
#include "blk_check.h"

static const char *const rule_names[BLK_RULE__COUNT] = {
	[BLK_OK] = "ok",
	[BLK_RULE_RING_PROD] = "req_prod beyond the ring or moved back",
	[BLK_RULE_OP] = "operation not advertised",
	[BLK_RULE_NSEG_ZERO] = "read/write without segments",
	[BLK_RULE_NSEG_MAX] = "segment count over the limit",
	[BLK_RULE_SECT_RANGE] = "segment first_sect/last_sect out of the page",
	[BLK_RULE_BEYOND_END] = "sectors beyond the end of the disk",
	[BLK_RULE_ALIGN] = "start or length not a whole device sector",
	[BLK_RULE_INDIRECT_OP] = "indirect_op not read or write",
	[BLK_RULE_INDIRECT_OFF] = "indirect request not advertised",
	[BLK_RULE_DISCARD_LEN] = "discard of zero sectors",
	[BLK_RULE_DISCARD_FLAG] = "unknown discard flag",
	[BLK_RULE_GREF] = "reserved grant reference",
	[BLK_RULE_ID_BUSY] = "request id already in flight",
	[BLK_RULE_FLUSH_DATA] = "flush carrying data segments",
};

const char *blk_rule_name(enum blk_rule r)
{
	if ((unsigned)r >= BLK_RULE__COUNT)
		return "unknown rule";
	return rule_names[r];
}

enum blk_rule blk_check_prod(RING_IDX req_prod, RING_IDX req_cons, RING_IDX rsp_prod_pvt,
			     unsigned ring_size)
{
	/* RING_REQUEST_PROD_OVERFLOW: unanswered requests never exceed the
	 * slots, however the 32-bit indices wrap; and rsp_prod_pvt <=
	 * req_cons <= req_prod in that same modular order. */
	RING_IDX ahead = req_prod - rsp_prod_pvt;

	if (ahead > ring_size || (RING_IDX)(req_cons - rsp_prod_pvt) > ahead)
		return BLK_RULE_RING_PROD;
	return BLK_OK;
}

/* [sector, sector + n) inside the capacity and whole device sectors. */
static enum blk_rule check_range(u64 sector, u64 n, const struct blk_limits *lim)
{
	if (n > lim->sectors || sector > lim->sectors - n)
		return BLK_RULE_BEYOND_END;
	if (sector % lim->sector_ratio || n % lim->sector_ratio)
		return BLK_RULE_ALIGN;
	return BLK_OK;
}

enum blk_rule blk_check_segs(const struct blkif_request_segment *segs,
			     const struct blk_limits *lim, struct blk_req_checked *out)
{
	u64 total = 0;

	for (unsigned i = 0; i < out->nr_segs; i++) {
		struct blkif_request_segment s = segs[i];

		if (s.last_sect >= BLKIF_SECTORS_PER_PAGE || s.first_sect > s.last_sect)
			return BLK_RULE_SECT_RANGE;
		if (s.gref < GNTTAB_NR_RESERVED_ENTRIES)
			return BLK_RULE_GREF;
		out->seg[i].gref = s.gref;
		out->seg[i].first = s.first_sect;
		out->seg[i].count = (u8)(s.last_sect - s.first_sect + 1);
		total += out->seg[i].count;
	}
	out->nr_sectors = total;
	return check_range(out->sector, total, lim);
}

static enum blk_rule check_direct(const struct blkif_request *req, const struct blk_limits *lim,
				  struct blk_req_checked *out)
{
	if (req->nr_segments == 0)
		return BLK_RULE_NSEG_ZERO;
	if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLK_RULE_NSEG_MAX;
	out->nr_segs = req->nr_segments;
	return blk_check_segs(req->seg, lim, out);
}

static enum blk_rule check_indirect(const struct blkif_request_indirect *ind,
				    const struct blk_limits *lim, struct blk_req_checked *out)
{
	if (!lim->max_segs)
		return BLK_RULE_INDIRECT_OFF;
	if (ind->indirect_op != BLKIF_OP_READ && ind->indirect_op != BLKIF_OP_WRITE)
		return BLK_RULE_INDIRECT_OP;
	if (ind->nr_segments == 0)
		return BLK_RULE_NSEG_ZERO;
	if (ind->nr_segments > lim->max_segs || ind->nr_segments > BLK_MAX_SEGS)
		return BLK_RULE_NSEG_MAX;
	out->op = ind->indirect_op;
	/* The response carries the operation carried out, READ or WRITE,
	 * not INDIRECT: Linux's blkfront compares it with the shadow
	 * request's indirect_op and disables the disk otherwise ("response
	 * has wrong operation"), and Linux's blkback answers so. */
	out->wire_op = ind->indirect_op;
	out->indirect = true;
	out->sector = ind->sector_number;
	out->nr_segs = ind->nr_segments;
	out->nr_indirect_pages = (ind->nr_segments + BLKIF_SEGS_PER_INDIRECT_FRAME - 1) /
				 BLKIF_SEGS_PER_INDIRECT_FRAME;
	for (unsigned i = 0; i < out->nr_indirect_pages; i++) {
		if (ind->indirect_grefs[i] < GNTTAB_NR_RESERVED_ENTRIES)
			return BLK_RULE_GREF;
		out->indirect_gref[i] = ind->indirect_grefs[i];
	}
	/* The sectors are known once the segments are read: at least one
	 * per segment, so a start already past the end is refused now. */
	if (out->sector >= lim->sectors || out->nr_segs > lim->sectors - out->sector)
		return BLK_RULE_BEYOND_END;
	return BLK_OK;
}

static enum blk_rule check_discard(const struct blkif_request_discard *d,
				   const struct blk_limits *lim, struct blk_req_checked *out)
{
	if (!lim->discard)
		return BLK_RULE_OP;
	if (d->flag & ~BLKIF_DISCARD_SECURE)
		return BLK_RULE_DISCARD_FLAG;
	if (d->nr_sectors == 0)
		return BLK_RULE_DISCARD_LEN;
	out->sector = d->sector_number;
	out->nr_sectors = d->nr_sectors;
	return check_range(d->sector_number, d->nr_sectors, lim);
}

enum blk_rule blk_check_request(const struct blkif_request *req, const struct blk_limits *lim,
				struct blk_req_checked *out)
{
	*out = (struct blk_req_checked){
		.id = req->id,
		.op = req->operation,
		.wire_op = req->operation,
		.sector = req->sector_number,
	};

	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		return check_direct(req, lim, out);
	case BLKIF_OP_FLUSH_DISKCACHE:
		/* Linux blkfront sends flushes with nr_segments 0 (with
		 * feature-flush-cache and no feature-barrier it never has
		 * FUA writes to fold into one). Data in a flush would have
		 * to be written after it (Linux blkback: a PREFLUSH write);
		 * Keel refuses it rather than drop the data silently. */
		if (!lim->flush)
			return BLK_RULE_OP;
		if (req->nr_segments)
			return BLK_RULE_FLUSH_DATA;
		out->sector = 0;
		return BLK_OK;
	case BLKIF_OP_DISCARD: {
		/* The other layouts overlay the same slot (Xen's blkif.h casts);
		 * copied, not cast, so no aliasing question arises. */
		struct blkif_request_discard d;
		__builtin_memcpy(&d, req, sizeof(d));
		return check_discard(&d, lim, out);
	}
	case BLKIF_OP_INDIRECT: {
		struct blkif_request_indirect ind;
		__builtin_memcpy(&ind, req, sizeof(ind));
		return check_indirect(&ind, lim, out);
	}
	default:
		/* WRITE_BARRIER (not advertised), RESERVED_1, anything else. */
		return BLK_RULE_OP;
	}
}
