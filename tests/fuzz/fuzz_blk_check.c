/*
 * blkback's request validation (guest/dom0/blkback/blk_check.c) against
 * any bytes a hostile frontend can put in a ring slot and an indirect
 * page, under any limits the backend could have negotiated.
 *
 * unit-sources: guest/dom0/blkback/blk_check.c
 *
 * Input: limits (capacity, sector ratio, indirect segments, discard,
 * flush), then one ring slot (112 bytes), then up to BLK_MAX_SEGS
 * segments of an indirect page. Invariants: whatever passes is inside
 * the disk and the page: 1..11 direct or 1..max_segs indirect segments,
 * each 1..8 sectors starting below 8 and ending in its page,
 * nr_sectors their sum, sector + nr_sectors <= capacity and both whole
 * device sectors; a discard or flush only when advertised.
 */
#include <lib/errno.h>
#include "../../guest/dom0/blkback/blk_check.h"

#include "fuzz.h"

static void check_rw_ok(const struct blk_req_checked *c, const struct blk_limits *lim)
{
	u64 sum = 0;

	fuzz_check(c->op == BLKIF_OP_READ || c->op == BLKIF_OP_WRITE, "op %u", c->op);
	fuzz_check(c->nr_segs >= 1, "no segments");
	fuzz_check(c->nr_segs <= (c->indirect ? lim->max_segs : BLKIF_MAX_SEGMENTS_PER_REQUEST),
		   "%u segments", c->nr_segs);
	fuzz_check(c->nr_segs <= BLK_MAX_SEGS, "%u segments", c->nr_segs);
	for (unsigned i = 0; i < c->nr_segs; i++) {
		fuzz_check(c->seg[i].count >= 1 && c->seg[i].first + c->seg[i].count <= 8,
			   "segment %u: first %u count %u", i, c->seg[i].first, c->seg[i].count);
		fuzz_check(c->seg[i].gref >= GNTTAB_NR_RESERVED_ENTRIES, "gref %u", c->seg[i].gref);
		sum += c->seg[i].count;
	}
	fuzz_check(sum == c->nr_sectors, "sum %llu vs %llu", (unsigned long long)sum,
		   (unsigned long long)c->nr_sectors);
}

static void check_range_ok(const struct blk_req_checked *c, const struct blk_limits *lim)
{
	fuzz_check(c->nr_sectors <= lim->sectors && c->sector <= lim->sectors - c->nr_sectors,
		   "range %llu+%llu past %llu", (unsigned long long)c->sector,
		   (unsigned long long)c->nr_sectors, (unsigned long long)lim->sectors);
	fuzz_check(c->sector % lim->sector_ratio == 0 && c->nr_sectors % lim->sector_ratio == 0,
		   "unaligned");
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct blk_limits lim;
	struct blkif_request req;
	struct blkif_request_segment segs[BLK_MAX_SEGS];
	struct blk_req_checked c;
	u8 flags = fuzz_u8(&in);

	lim.sectors = fuzz_u64(&in) >> (flags & 63);
	lim.sector_ratio = (flags & 64) ? 8 : 1;
	lim.max_segs = fuzz_u8(&in) % (BLK_MAX_SEGS + 1);
	lim.discard = flags & 128;
	lim.discard_gran = 8;
	lim.flush = lim.sectors & 1;

	u8 *p = (u8 *)&req;
	for (size_t i = 0; i < sizeof(req); i++)
		p[i] = fuzz_u8(&in);
	p = (u8 *)segs;
	for (size_t i = 0; i < sizeof(segs); i++)
		p[i] = fuzz_u8(&in);

	enum blk_rule r = blk_check_request(&req, &lim, &c);
	fuzz_check((unsigned)r < BLK_RULE__COUNT, "rule %d", r);
	fuzz_check(blk_rule_name(r) != NULL, "no name");
	if (r != BLK_OK)
		return 0;
	/* The response carries the request's operation, or for an indirect
	 * request the one it carried out (what Linux's blkfront compares). */
	u8 want_op = req.operation;
	if (req.operation == BLKIF_OP_INDIRECT)
		want_op = ((const struct blkif_request_indirect *)&req)->indirect_op;
	fuzz_check(c.wire_op == want_op, "wire op %u, want %u", c.wire_op, want_op);
	switch (req.operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		fuzz_check(!c.indirect, "direct marked indirect");
		check_rw_ok(&c, &lim);
		check_range_ok(&c, &lim);
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
		fuzz_check(lim.flush, "flush not advertised");
		fuzz_check(req.nr_segments == 0, "flush with %u segments", req.nr_segments);
		break;
	case BLKIF_OP_DISCARD:
		fuzz_check(lim.discard, "discard not advertised");
		fuzz_check(c.nr_sectors > 0, "empty discard");
		check_range_ok(&c, &lim);
		break;
	case BLKIF_OP_INDIRECT:
		fuzz_check(lim.max_segs > 0, "indirect not advertised");
		fuzz_check(c.indirect && c.nr_indirect_pages == 1, "pages %u", c.nr_indirect_pages);
		fuzz_check(c.sector < lim.sectors, "start past the end");
		if (blk_check_segs(segs, &lim, &c) == BLK_OK) {
			check_rw_ok(&c, &lim);
			check_range_ok(&c, &lim);
		}
		break;
	default:
		fuzz_check(0, "operation %u accepted", req.operation);
	}
	return 0;
}
