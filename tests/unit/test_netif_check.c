/*
 * netback's ring validation (guest/dom0/netback/netif_check.c): the
 * netif.h layouts against Xen's numbers, tx packets of one and many slots
 * with extra-info, every rule a hostile frontend can break (each named),
 * the incomplete-packet wait, rx request ids, and the checksum a frontend
 * leaves blank.
 *
 * unit-sources: guest/dom0/netback/netif_check.c
 */
#include <stdlib.h>
#include <string.h>
#include <lib/errno.h>
#include "../../guest/dom0/netback/netif_check.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct netif_tx_sring *tx;
static const unsigned SZ = NETIF_TX_RING_SIZE;

static void ring_reset(void)
{
	if (!tx)
		tx = aligned_alloc(4096, 4096);
	memset(tx, 0, 4096);
}

static void put(RING_IDX i, grant_ref_t gref, u16 off, u16 flags, u16 id, u16 size)
{
	tx->ring[i & (SZ - 1)].req = (struct netif_tx_request){ gref, off, flags, id, size };
}

static void put_extra(RING_IDX i, u8 type, u8 flags)
{
	struct netif_extra_info e = { .type = type, .flags = flags };
	memset(&tx->ring[i & (SZ - 1)], 0, sizeof(tx->ring[0]));
	memcpy(&tx->ring[i & (SZ - 1)].req, &e, sizeof(e));
}

START_TEST(netif_layout_matches_xen)
{
	ck_assert_uint_eq(sizeof(struct netif_tx_request), 12);
	ck_assert_uint_eq(sizeof(struct netif_tx_response), 4);
	ck_assert_uint_eq(sizeof(struct netif_rx_request), 8);
	ck_assert_uint_eq(sizeof(struct netif_rx_response), 8);
	ck_assert_uint_eq(sizeof(struct netif_extra_info), 8);
	ck_assert_uint_eq(NETIF_TX_RING_SIZE, 256);
	ck_assert_uint_eq(NETIF_RX_RING_SIZE, 256);
	ck_assert_uint_eq(offsetof(struct netif_tx_sring, ring), 64);
	ck_assert_uint_eq(NETTXF_csum_blank, 1);
	ck_assert_uint_eq(NETTXF_data_validated, 2);
	ck_assert_uint_eq(NETTXF_more_data, 4);
	ck_assert_uint_eq(NETTXF_extra_info, 8);
	ck_assert_uint_eq(NETRXF_data_validated, 1);
	ck_assert_uint_eq(NETRXF_csum_blank, 2);
	ck_assert_uint_eq(NETRXF_more_data, 4);
	ck_assert_uint_eq(NETRXF_extra_info, 8);
	ck_assert_uint_eq(NETRXF_gso_prefix, 16);
	ck_assert_int_eq(XEN_NETIF_RSP_DROPPED, -2);
	ck_assert_int_eq(XEN_NETIF_RSP_ERROR, -1);
	ck_assert_int_eq(XEN_NETIF_RSP_NULL, 1);
	ck_assert_uint_eq(XEN_NETIF_EXTRA_TYPE_GSO, 1);
	ck_assert_uint_eq(XEN_NETIF_EXTRA_TYPE_MAX, 6);
}
END_TEST

START_TEST(netif_tx_one_and_many_slots)
{
	struct nb_tx_packet p;
	const char *rule = NULL;

	ring_reset();
	put(0, 9, 100, 0, 3, 60);
	ck_assert_int_eq(nb_tx_parse(tx, SZ, 0, 1, 0, &p, &rule), 0);
	ck_assert_uint_eq(p.slots, 1);
	ck_assert_uint_eq(p.nr_frags, 1);
	ck_assert_uint_eq(p.len, 60);
	ck_assert_uint_eq(p.frag[0].gref, 9);
	ck_assert_uint_eq(p.frag[0].offset, 100);
	ck_assert_uint_eq(p.frag[0].len, 60);

	/* 1514 bytes in three slots, with two extra-info slots (mcast, hash)
	 * after the first, wrapping around the end of the ring. */
	RING_IDX c = SZ - 2;
	put(c, 1, 4000, NETTXF_more_data | NETTXF_extra_info | NETTXF_csum_blank, 0, 1514);
	put_extra(c + 1, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_FLAG_MORE);
	put_extra(c + 2, XEN_NETIF_EXTRA_TYPE_HASH, 0);
	put(c + 3, 2, 0, NETTXF_more_data, 1, 1000);
	put(c + 4, 3, 96, 0, 2, 418);
	ck_assert_int_eq(nb_tx_parse(tx, SZ, c, c + 5, c, &p, &rule), 0);
	ck_assert_uint_eq(p.slots, 5);
	ck_assert_uint_eq(p.nr_extras, 2);
	ck_assert_uint_eq(p.nr_frags, 3);
	ck_assert_uint_eq(p.frag[0].len, 96);
	ck_assert_uint_eq(p.frag[1].len, 1000);
	ck_assert_uint_eq(p.frag[2].len, 418);
	ck_assert_uint_eq(p.frag[2].offset, 96);
	ck_assert(p.flags & NETTXF_csum_blank);

	/* Incomplete: each prefix waits, consuming nothing. */
	for (RING_IDX prod = c; prod < c + 5; prod++)
		ck_assert_int_eq(nb_tx_parse(tx, SZ, c, prod, c, &p, &rule), -EAGAIN);
}
END_TEST

static void expect_rule(RING_IDX prod, const char *needle)
{
	struct nb_tx_packet p;
	const char *rule = NULL;

	ck_assert_int_eq(nb_tx_parse(tx, SZ, 0, prod, 0, &p, &rule), -EIO);
	ck_assert_ptr_nonnull(rule);
	ck_assert_msg(strstr(rule, needle), "rule '%s' lacks '%s'", rule, needle);
}

START_TEST(netif_tx_each_rule_named)
{
	ring_reset();
	put(0, 1, 0, 0, 0, 60);
	expect_rule(SZ + 1, "req_prod");

	put(0, 1, 4090, 0, 0, 60);
	expect_rule(1, "cross its page");

	put(0, 1, 0, NETTXF_more_data, 0, 100);
	put(1, 1, 4000, 0, 1, 97);
	expect_rule(2, "cross its page");

	put(0, 1, 0, 0, 0, 13);
	expect_rule(1, "shorter");

	put(0, 1, 0, 0, 0, 1515);
	expect_rule(1, "longer than the MTU");

	put(0, 1, 0, NETTXF_more_data, 0, 100);
	put(1, 1, 0, 0, 1, 101);
	expect_rule(2, "add up to more");

	for (unsigned i = 0; i < 19; i++)
		put(i, 1, 0, NETTXF_more_data, (u16)i, i ? 10 : 1000);
	expect_rule(19, "more than 18");

	put(0, 1, 0, NETTXF_extra_info, 0, 100);
	put_extra(1, XEN_NETIF_EXTRA_TYPE_NONE, 0);
	expect_rule(2, "unknown type");
	put_extra(1, XEN_NETIF_EXTRA_TYPE_MAX, 0);
	expect_rule(2, "unknown type");
	put_extra(1, XEN_NETIF_EXTRA_TYPE_GSO, 0);
	expect_rule(2, "GSO");
	put_extra(1, XEN_NETIF_EXTRA_TYPE_XDP, 0);
	expect_rule(2, "XDP");
	for (unsigned i = 1; i <= 6; i++)
		put_extra(i, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_FLAG_MORE);
	expect_rule(7, "more extra-info slots");

	put(0, 1, 0, 0, (u16)SZ, 60);
	expect_rule(1, "id out of range");

	put(0, 1, 0, NETTXF_more_data, 5, 100);
	put(1, 1, 0, 0, 5, 50);
	expect_rule(2, "repeated");
}
END_TEST

START_TEST(netif_rx_take_checks_id)
{
	struct netif_rx_sring *rx = aligned_alloc(4096, 4096);
	struct netif_rx_request r;
	const char *rule = NULL;

	memset(rx, 0, 4096);
	rx->ring[3].req = (struct netif_rx_request){ .id = 7, .gref = 0x1234 };
	ck_assert_int_eq(nb_rx_take(rx, NETIF_RX_RING_SIZE, 3 + NETIF_RX_RING_SIZE, &r, &rule), 0);
	ck_assert_uint_eq(r.id, 7);
	ck_assert_uint_eq(r.gref, 0x1234);
	rx->ring[3].req.id = NETIF_RX_RING_SIZE;
	ck_assert_int_eq(nb_rx_take(rx, NETIF_RX_RING_SIZE, 3, &r, &rule), -EIO);
	ck_assert_ptr_nonnull(strstr(rule, "rx request id"));
	ck_assert_int_eq(nb_prod_check(100 + NETIF_RX_RING_SIZE, 100, NETIF_RX_RING_SIZE, &rule), 0);
	ck_assert_int_eq(nb_prod_check(101 + NETIF_RX_RING_SIZE, 100, NETIF_RX_RING_SIZE, &rule),
			 -EIO);
	free(rx);
}
END_TEST

/* A UDP/IPv4 frame with a known checksum: 10.0.0.1:1000 -> 10.0.0.2:2000,
 * payload "keel", computed independently (by hand, RFC 768):
 * pseudo 0a00+0001+0a00+0002+0011+000c, header 03e8+07d0+000c,
 * data 6b65+656c = sum; checksum = ~fold(sum). */
START_TEST(netif_csum_fill_udp_tcp)
{
	u8 f[64] = { 0 };
	f[12] = 0x08;
	u8 *ip = f + 14;
	ip[0] = 0x45;
	ip[3] = 20 + 12;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	u8 *u = ip + 20;
	u[0] = 0x03, u[1] = 0xe8, u[2] = 0x07, u[3] = 0xd0, u[5] = 12;
	memcpy(u + 8, "keel", 4);
	u32 s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x000c + 0x03e8 + 0x07d0 + 0x000c +
		0x6b65 + 0x656c;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	u16 want = (u16)~s;
	u[6] = 0xaa, u[7] = 0x55; /* whatever the frontend left there */
	ck_assert_int_eq(nb_csum_fill(f, 14 + 32), 0);
	ck_assert_uint_eq((u16)(u[6] << 8 | u[7]), want);
	/* The receiver's check: the whole segment plus pseudo folds to 0xffff. */
	u32 v = nb_csum_add(0, ip + 12, 8) + 17 + 12;
	ck_assert_uint_eq(nb_csum_fold(nb_csum_add(v, u, 12)), 0xffff);

	/* Truncated, not IPv4, fragment: refused, frame untouched. */
	ck_assert_int_eq(nb_csum_fill(f, 14 + 31), -EINVAL);
	f[13] = 0xdd;
	ck_assert_int_eq(nb_csum_fill(f, 64), -EINVAL);
	f[13] = 0;
	ip[6] = 0x20;
	ck_assert_int_eq(nb_csum_fill(f, 64), -EINVAL);
	ip[6] = 0;

	/* TCP: the checksum field at 16. */
	ip[9] = 6;
	ip[3] = 20 + 20;
	memset(u, 0, 20);
	u[12] = 0x50;
	ck_assert_int_eq(nb_csum_fill(f, 14 + 40), 0);
	v = nb_csum_add(0, ip + 12, 8) + 6 + 20;
	ck_assert_uint_eq(nb_csum_fold(nb_csum_add(v, u, 20)), 0xffff);
}
END_TEST

/* UDP/IPv6 fe80::1:1000 -> fe80::2:2000, payload "keel", checksum by
 * hand (RFC 8200 8.1): pseudo fe80+0001+fe80+0002 + length 000c + next
 * header 0011, header 03e8+07d0+000c, data 6b65+656c. Then the same behind
 * an 8-byte hop-by-hop header, a fragment header (refused) and TCP. */
START_TEST(netif_csum_fill_ipv6)
{
	u8 f[128] = { 0 };
	f[12] = 0x86, f[13] = 0xdd;
	u8 *ip = f + 14;
	ip[0] = 0x60;
	ip[5] = 12;   /* payload length */
	ip[6] = 17;   /* next header: UDP */
	ip[7] = 64;
	ip[8] = 0xfe, ip[9] = 0x80, ip[23] = 1;
	ip[24] = 0xfe, ip[25] = 0x80, ip[39] = 2;
	u8 *u = ip + 40;
	u[0] = 0x03, u[1] = 0xe8, u[2] = 0x07, u[3] = 0xd0, u[5] = 12;
	memcpy(u + 8, "keel", 4);
	u32 s = 0xfe80 + 0x0001 + 0xfe80 + 0x0002 + 0x000c + 0x0011 + 0x03e8 + 0x07d0 + 0x000c +
		0x6b65 + 0x656c;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	u16 want = (u16)~s;
	u[6] = 0x12, u[7] = 0x34;
	ck_assert_int_eq(nb_csum_fill(f, 14 + 40 + 12), 0);
	ck_assert_uint_eq((u16)(u[6] << 8 | u[7]), want);
	/* Truncated: the payload length runs past the frame. */
	ck_assert_int_eq(nb_csum_fill(f, 14 + 40 + 11), -EINVAL);

	/* Behind a hop-by-hop header (8 bytes, next UDP): same checksum, the
	 * pseudo-header's length is the UDP length only. */
	memmove(ip + 48, ip + 40, 12);
	memset(ip + 40, 0, 8);
	ip[40] = 17;  /* its next header */
	ip[41] = 0;   /* (0 + 1) * 8 bytes */
	ip[6] = 0;
	ip[5] = 20;
	u = ip + 48;
	u[6] = 0, u[7] = 0;
	ck_assert_int_eq(nb_csum_fill(f, 14 + 40 + 20), 0);
	ck_assert_uint_eq((u16)(u[6] << 8 | u[7]), want);
	/* A fragment header instead: not ours to finish. */
	ip[6] = 44;
	ck_assert_int_eq(nb_csum_fill(f, 14 + 40 + 20), -EINVAL);

	/* TCP straight after the header: the receiver's check holds. */
	ip[6] = 6;
	ip[5] = 20;
	u = ip + 40;
	memset(u, 0, 20);
	u[12] = 0x50;
	ck_assert_int_eq(nb_csum_fill(f, 14 + 60), 0);
	u32 v = nb_csum_add(0, ip + 8, 32) + 20 + 6;
	ck_assert_uint_eq(nb_csum_fold(nb_csum_add(v, u, 20)), 0xffff);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pvnet-netif-layout-matches-xen", &netif_layout_matches_xen_ttest },
	{ "pvnet-netif-tx-one-and-many-slots", &netif_tx_one_and_many_slots_ttest },
	{ "pvnet-netif-tx-each-rule-named", &netif_tx_each_rule_named_ttest },
	{ "pvnet-netif-rx-take-checks-id", &netif_rx_take_checks_id_ttest },
	{ "pvnet-netif-csum-fill-udp-tcp", &netif_csum_fill_udp_tcp_ttest },
	{ "pvnet-netif-csum-fill-ipv6", &netif_csum_fill_ipv6_ttest },
	{ 0 },
};
