/*
 * The shared-ring wire formats of include/public/io/ (ring.h and
 * console.h) against Xen's numbers: every offset a peer relies on, the
 * ring sizes Xen's own frontends compute for a 4 KiB page (blkif 32
 * slots, netif 256), and the index arithmetic of the macros (hold-off
 * notification, overflow detection of a hostile peer).
 *
 * unit-sources:
 */
#include <string.h>
#include <public/io/console.h>
#include <public/io/ring.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* Stand-ins with the sizes of Xen's blkif and netif messages (blkif.h:
 * a request with 11 segments is 112 bytes, a response 12; netif.h: a TX
 * request 12 bytes, a TX response 4, RX request and response 8). */
struct blk_req { u8 b[112]; };
struct blk_rsp { u8 b[12]; };
struct tx_req { u8 b[12]; };
struct tx_rsp { u8 b[4]; };
struct rx_req { u8 b[8]; };
struct rx_rsp { u8 b[8]; };

DEFINE_RING_TYPES(tblk, struct blk_req, struct blk_rsp);
DEFINE_RING_TYPES(ttx, struct tx_req, struct tx_rsp);
DEFINE_RING_TYPES(trx, struct rx_req, struct rx_rsp);

START_TEST(ring_layout_matches_xen)
{
	ck_assert_uint_eq(offsetof(struct tblk_sring, req_prod), 0);
	ck_assert_uint_eq(offsetof(struct tblk_sring, req_event), 4);
	ck_assert_uint_eq(offsetof(struct tblk_sring, rsp_prod), 8);
	ck_assert_uint_eq(offsetof(struct tblk_sring, rsp_event), 12);
	ck_assert_uint_eq(offsetof(struct tblk_sring, pvt), 16);
	ck_assert_uint_eq(sizeof(((struct tblk_sring *)0)->pvt), 4);
	ck_assert_uint_eq(offsetof(struct tblk_sring, __pad), 20);
	ck_assert_uint_eq(offsetof(struct tblk_sring, ring), 64);
	ck_assert_uint_eq(offsetof(struct ttx_sring, ring), 64);
	ck_assert_uint_eq(sizeof(union tblk_sring_entry), 112);
}
END_TEST

START_TEST(ring_size_for_a_page_matches_xen)
{
	/* (4096 - 64) / 112 = 36 -> 32: Xen's BLK_RING_SIZE for 4 KiB. */
	ck_assert_uint_eq(__CONST_RING_SIZE(tblk, 4096), 32);
	/* (4096 - 64) / 12 = 336 -> 256: NET_TX_RING_SIZE. */
	ck_assert_uint_eq(__CONST_RING_SIZE(ttx, 4096), 256);
	/* 4032 / 8 = 504 -> 256: NET_RX_RING_SIZE. */
	ck_assert_uint_eq(__CONST_RING_SIZE(trx, 4096), 256);
	/* Two pages (multi-page rings): 8128 / 112 = 72 -> 64. */
	ck_assert_uint_eq(__CONST_RING_SIZE(tblk, 8192), 64);

	static u8 page[4096] __attribute__((aligned(4096)));
	struct tblk_sring *s = (struct tblk_sring *)page;
	struct tblk_front_ring f;
	struct tblk_back_ring b;
	memset(page, 0xaa, sizeof(page));
	SHARED_RING_INIT(s);
	ck_assert_uint_eq(s->req_prod, 0);
	ck_assert_uint_eq(s->rsp_prod, 0);
	ck_assert_uint_eq(s->req_event, 1);
	ck_assert_uint_eq(s->rsp_event, 1);
	for (unsigned i = 0; i < 44; i++)
		ck_assert_uint_eq(s->__pad[i], 0);
	FRONT_RING_INIT(&f, s, 4096);
	BACK_RING_INIT(&b, s, 4096);
	ck_assert_uint_eq(RING_SIZE(&f), 32);
	ck_assert_uint_eq(RING_SIZE(&b), 32);
	ck_assert_uint_eq(RING_FREE_REQUESTS(&f), 32);
	/* The last slot ends inside the page. */
	ck_assert((u8 *)RING_GET_REQUEST(&f, 31) + 112 <= page + 4096);
	ck_assert_ptr_eq(RING_GET_REQUEST(&f, 32), RING_GET_REQUEST(&f, 0));
}
END_TEST

START_TEST(ring_push_notifies_only_past_the_event_index)
{
	static u8 page[4096] __attribute__((aligned(4096)));
	struct ttx_sring *s = (struct ttx_sring *)page;
	struct ttx_front_ring f;
	struct ttx_back_ring b;
	int notify, more;

	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f, s, 4096);
	BACK_RING_INIT(&b, s, 4096);
	/* First request: req_event is 1, so the back is notified. */
	f.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);
	ck_assert_int_eq(notify, 1);
	/* The back has not re-armed: a second request does not notify. */
	f.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);
	ck_assert_int_eq(notify, 0);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_REQUESTS(&b), 2);
	/* The back consumes both, re-arms, finds nothing more. */
	b.req_cons += 2;
	RING_FINAL_CHECK_FOR_REQUESTS(&b, more);
	ck_assert_int_eq(more, 0);
	ck_assert_uint_eq(s->req_event, 3);
	/* The next request crosses req_event: notify again. */
	f.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);
	ck_assert_int_eq(notify, 1);
	/* The same across the 32-bit wrap of the free-running indices. */
	SHARED_RING_INIT(s);
	FRONT_RING_ATTACH(&f, s, 0xfffffffeu, 4096);
	BACK_RING_ATTACH(&b, s, 0xfffffffeu, 4096);
	s->req_prod = 0xfffffffeu;
	s->req_event = 0xffffffffu;
	f.req_prod_pvt += 3; /* wraps to 1 */
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);
	ck_assert_int_eq(notify, 1);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_REQUESTS(&b), 3);
}
END_TEST

START_TEST(ring_overflow_detects_hostile_peer)
{
	static u8 page[4096] __attribute__((aligned(4096)));
	struct tblk_sring *s = (struct tblk_sring *)page;
	struct tblk_back_ring b;
	struct tblk_front_ring f;

	SHARED_RING_INIT(s);
	BACK_RING_INIT(&b, s, 4096);
	FRONT_RING_INIT(&f, s, 4096);
	/* A full ring of requests is legal, one more is not. */
	ck_assert(!RING_REQUEST_PROD_OVERFLOW(&b, 32));
	ck_assert(RING_REQUEST_PROD_OVERFLOW(&b, 33));
	ck_assert(RING_REQUEST_PROD_OVERFLOW(&b, 0x80000000u));
	/* Whatever req_prod claims, the back never sees more than a ring. */
	s->req_prod = 1000;
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_REQUESTS(&b), 32);
	ck_assert(RING_REQUEST_CONS_OVERFLOW(&b, 32));
	ck_assert(!RING_REQUEST_CONS_OVERFLOW(&b, 31));
	ck_assert(RING_RESPONSE_PROD_OVERFLOW(&f, 33));
	ck_assert(!RING_RESPONSE_PROD_OVERFLOW(&f, 32));
}
END_TEST

START_TEST(console_layout_matches_xen)
{
	struct xencons_interface c;
	ck_assert_uint_eq(sizeof(c.in), 1024);
	ck_assert_uint_eq(sizeof(c.out), 2048);
	ck_assert_uint_eq(offsetof(struct xencons_interface, in), 0);
	ck_assert_uint_eq(offsetof(struct xencons_interface, out), 1024);
	ck_assert_uint_eq(offsetof(struct xencons_interface, in_cons), 3072);
	ck_assert_uint_eq(offsetof(struct xencons_interface, in_prod), 3076);
	ck_assert_uint_eq(offsetof(struct xencons_interface, out_cons), 3080);
	ck_assert_uint_eq(offsetof(struct xencons_interface, out_prod), 3084);
	ck_assert_uint_eq(offsetof(struct xencons_interface, connection), 3088);
	ck_assert_uint_le(sizeof(c), 4096);
	ck_assert_uint_eq(sizeof(XENCONS_RING_IDX), 4);
	ck_assert_uint_eq(MASK_XENCONS_IDX(2048u + 5, c.out), 5);
	ck_assert_uint_eq(MASK_XENCONS_IDX(1024u + 7, c.in), 7);
	ck_assert_uint_eq(MASK_XENCONS_IDX(0xffffffffu, c.out), 2047);
	ck_assert_int_eq(XENCONSOLE_CONNECTED, 0);
	ck_assert_int_eq(XENCONSOLE_DISCONNECTED, 1);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "console-ring-layout-matches-xen", &console_layout_matches_xen_ttest },
	{ "io-ring-layout-matches-xen", &ring_layout_matches_xen_ttest },
	{ "io-ring-size-for-a-page-matches-xen", &ring_size_for_a_page_matches_xen_ttest },
	{ "io-ring-push-notifies-only-past-the-event-index",
	  &ring_push_notifies_only_past_the_event_index_ttest },
	{ "io-ring-overflow-detects-hostile-peer", &ring_overflow_detects_hostile_peer_ttest },
	{ 0 },
};
