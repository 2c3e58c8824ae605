/*
 * blkback's request validation (guest/dom0/blkback/blk_check.c): each
 * named rule is hit by the smallest request that breaks it, and the
 * requests a well-behaved frontend (Linux's xen-blkfront) sends pass with
 * the right internal form.
 *
 * unit-sources: guest/dom0/blkback/blk_check.c
 */
#include <string.h>
#include <lib/errno.h>
#include "../../guest/dom0/blkback/blk_check.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static const struct blk_limits lim512 = {
	.sectors = 1000, .sector_ratio = 1, .max_segs = 32,
	.discard = true, .discard_gran = 8, .flush = true,
};

static struct blkif_request rw(u8 op, u64 sector, unsigned nseg)
{
	struct blkif_request r;
	memset(&r, 0, sizeof(r));
	r.operation = op;
	r.nr_segments = (u8)nseg;
	r.id = 0x1234567890abcdefULL;
	r.sector_number = sector;
	for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.seg[i] = (struct blkif_request_segment){ .gref = 100 + i, .first_sect = 0,
							   .last_sect = 7 };
	return r;
}

START_TEST(blk_check_accepts_good_requests)
{
	struct blk_req_checked c;
	struct blkif_request r = rw(BLKIF_OP_WRITE, 8, 11);
	r.seg[0].first_sect = 3; /* a partial first page, as blkfront sends */

	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_OK);
	ck_assert_uint_eq(c.op, BLKIF_OP_WRITE);
	ck_assert_uint_eq(c.id, 0x1234567890abcdefULL);
	ck_assert_uint_eq(c.nr_segs, 11);
	ck_assert_uint_eq(c.nr_sectors, 5 + 10 * 8);
	ck_assert_uint_eq(c.seg[0].first, 3);
	ck_assert_uint_eq(c.seg[0].count, 5);
	ck_assert_uint_eq(c.seg[10].gref, 110);

	/* The last sectors of the disk exactly. */
	r = rw(BLKIF_OP_READ, 1000 - 16, 2);
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_OK);
	ck_assert_uint_eq(c.nr_sectors, 16);

	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_OK);
	ck_assert_uint_eq(c.op, BLKIF_OP_FLUSH_DISKCACHE);
}
END_TEST

START_TEST(blk_check_segment_rules)
{
	struct blk_req_checked c;
	struct blkif_request r;

	r = rw(BLKIF_OP_READ, 0, 0);
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_NSEG_ZERO);
	r = rw(BLKIF_OP_READ, 0, 11);
	r.nr_segments = 12;
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_NSEG_MAX);
	r.nr_segments = 255;
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_NSEG_MAX);
	r = rw(BLKIF_OP_READ, 0, 2);
	r.seg[1].last_sect = 8;
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_SECT_RANGE);
	r = rw(BLKIF_OP_READ, 0, 2);
	r.seg[1].first_sect = 5;
	r.seg[1].last_sect = 4;
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_SECT_RANGE);
	r = rw(BLKIF_OP_READ, 0, 2);
	r.seg[1].gref = 7;
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_GREF);
}
END_TEST

START_TEST(blk_check_range_rules)
{
	struct blk_req_checked c;
	struct blkif_request r;
	struct blk_limits l4k = lim512;
	l4k.sector_ratio = 8;

	r = rw(BLKIF_OP_WRITE, 1000 - 15, 2); /* one sector past the end */
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_BEYOND_END);
	r = rw(BLKIF_OP_WRITE, ~0ULL - 3, 1); /* would wrap */
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_BEYOND_END);
	r = rw(BLKIF_OP_WRITE, 1000, 1);
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_BEYOND_END);

	/* A 4 KiB-sector device: whole pages only. */
	r = rw(BLKIF_OP_READ, 8, 1);
	ck_assert_int_eq(blk_check_request(&r, &l4k, &c), BLK_OK);
	r = rw(BLKIF_OP_READ, 4, 1);
	ck_assert_int_eq(blk_check_request(&r, &l4k, &c), BLK_RULE_ALIGN);
	r = rw(BLKIF_OP_READ, 8, 1);
	r.seg[0].last_sect = 3;
	ck_assert_int_eq(blk_check_request(&r, &l4k, &c), BLK_RULE_ALIGN);
}
END_TEST

START_TEST(blk_check_op_rules)
{
	struct blk_req_checked c;
	struct blkif_request r;
	struct blk_limits bare = lim512;
	bare.discard = false;
	bare.flush = false;
	bare.max_segs = 0;

	const u8 bad_ops[] = { BLKIF_OP_WRITE_BARRIER, BLKIF_OP_RESERVED_1, 7, 0x80, 0xff };
	for (unsigned i = 0; i < sizeof(bad_ops); i++) {
		r = rw(bad_ops[i], 0, 1);
		ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_OP);
	}
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	ck_assert_int_eq(blk_check_request(&r, &bare, &c), BLK_RULE_OP);
	r.operation = BLKIF_OP_DISCARD;
	ck_assert_int_eq(blk_check_request(&r, &bare, &c), BLK_RULE_OP);
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 1); /* a flush with data: never dropped silently */
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_FLUSH_DATA);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_INDIRECT;
	ck_assert_int_eq(blk_check_request(&r, &bare, &c), BLK_RULE_INDIRECT_OFF);
}
END_TEST

START_TEST(blk_check_discard_rules)
{
	struct blk_req_checked c;
	struct blkif_request_discard d = { .operation = BLKIF_OP_DISCARD, .id = 9,
					   .sector_number = 16, .nr_sectors = 64 };
	struct blkif_request r;

	memcpy(&r, &d, sizeof(d));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_OK);
	ck_assert_uint_eq(c.op, BLKIF_OP_DISCARD);
	ck_assert_uint_eq(c.sector, 16);
	ck_assert_uint_eq(c.nr_sectors, 64);
	ck_assert_uint_eq(c.id, 9);

	d.nr_sectors = 0;
	memcpy(&r, &d, sizeof(d));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_DISCARD_LEN);
	d.nr_sectors = ~0ULL;
	memcpy(&r, &d, sizeof(d));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_BEYOND_END);
	d.nr_sectors = 8;
	d.flag = 2;
	memcpy(&r, &d, sizeof(d));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_DISCARD_FLAG);
}
END_TEST

START_TEST(blk_check_indirect_rules)
{
	struct blk_req_checked c;
	struct blkif_request_indirect ind = {
		.operation = BLKIF_OP_INDIRECT, .indirect_op = BLKIF_OP_WRITE, .nr_segments = 32,
		.id = 5, .sector_number = 0, .indirect_grefs = { 200 },
	};
	struct blkif_request r;
	struct blkif_request_segment segs[32];

	for (unsigned i = 0; i < 32; i++)
		segs[i] = (struct blkif_request_segment){ .gref = 300 + i, .last_sect = 7 };

	memcpy(&r, &ind, sizeof(ind));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_OK);
	ck_assert(c.indirect);
	ck_assert_uint_eq(c.op, BLKIF_OP_WRITE);
	ck_assert_uint_eq(c.wire_op, BLKIF_OP_WRITE); /* answered as the op done (Linux blkfront) */
	ck_assert_uint_eq(c.nr_indirect_pages, 1);
	ck_assert_uint_eq(c.indirect_gref[0], 200);
	ck_assert_int_eq(blk_check_segs(segs, &lim512, &c), BLK_OK);
	ck_assert_uint_eq(c.nr_sectors, 256);
	ck_assert_uint_eq(c.seg[31].gref, 331);

	/* The segments from the indirect page are checked like direct ones. */
	segs[17].first_sect = 9;
	segs[17].last_sect = 9;
	ck_assert_int_eq(blk_check_segs(segs, &lim512, &c), BLK_RULE_SECT_RANGE);
	segs[17].first_sect = 0;
	segs[17].last_sect = 7;
	c.sector = 1000 - 255; /* 256 sectors from here pass the end */
	ck_assert_int_eq(blk_check_segs(segs, &lim512, &c), BLK_RULE_BEYOND_END);

	ind.nr_segments = 33;
	memcpy(&r, &ind, sizeof(ind));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_NSEG_MAX);
	ind.nr_segments = 0;
	memcpy(&r, &ind, sizeof(ind));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_NSEG_ZERO);
	ind.nr_segments = 4;
	ind.indirect_op = BLKIF_OP_INDIRECT;
	memcpy(&r, &ind, sizeof(ind));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_INDIRECT_OP);
	ind.indirect_op = BLKIF_OP_READ;
	ind.indirect_grefs[0] = 0;
	memcpy(&r, &ind, sizeof(ind));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_GREF);
	ind.indirect_grefs[0] = 200;
	ind.sector_number = 1000;
	memcpy(&r, &ind, sizeof(ind));
	ck_assert_int_eq(blk_check_request(&r, &lim512, &c), BLK_RULE_BEYOND_END);
}
END_TEST

START_TEST(blk_check_ring_prod)
{
	ck_assert_int_eq(blk_check_prod(32, 0, 0, 32), BLK_OK);
	ck_assert_int_eq(blk_check_prod(33, 0, 0, 32), BLK_RULE_RING_PROD);
	ck_assert_int_eq(blk_check_prod(5, 0xfffffff8u, 0xfffffff0u, 32), BLK_OK); /* wrap */
	ck_assert_int_eq(blk_check_prod(0xfffffff0u, 5, 5, 32), BLK_RULE_RING_PROD); /* behind */
	/* Moved back below what was already taken (10 taken, 0 answered). */
	ck_assert_int_eq(blk_check_prod(10, 10, 0, 32), BLK_OK);
	ck_assert_int_eq(blk_check_prod(5, 10, 0, 32), BLK_RULE_RING_PROD);
	ck_assert_int_eq(blk_check_prod(3, 0xfffffffeu, 0xfffffff0u, 32), BLK_OK);
	ck_assert_int_eq(blk_check_prod(0xfffffffdu, 0xfffffffeu, 0xfffffff0u, 32),
			 BLK_RULE_RING_PROD);
	for (int r = 0; r <= BLK_RULE__COUNT; r++)
		ck_assert_ptr_nonnull(blk_rule_name((enum blk_rule)r));
	ck_assert_str_eq(blk_rule_name(BLK_RULE_BEYOND_END), "sectors beyond the end of the disk");
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "blk-check-accepts-good-requests", &blk_check_accepts_good_requests_ttest },
	{ "blk-check-segment-rules", &blk_check_segment_rules_ttest },
	{ "blk-check-range-rules", &blk_check_range_rules_ttest },
	{ "blk-check-op-rules", &blk_check_op_rules_ttest },
	{ "blk-check-discard-rules", &blk_check_discard_rules_ttest },
	{ "blk-check-indirect-rules", &blk_check_indirect_rules_ttest },
	{ "blk-check-ring-prod", &blk_check_ring_prod_ttest },
	{ 0 },
};
