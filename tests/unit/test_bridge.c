/*
 * dom0's learning bridge (guest/dom0/bridge/bridge.c): learning, ageing,
 * flooding, no reflection, port removal, a full FDB and bad frames, with
 * ports whose xmit records what they were sent.
 *
 * unit-sources: guest/dom0/bridge/bridge.c
 */
#include <stdio.h>
#include <string.h>
#include <lib/errno.h>
#include "../../guest/dom0/bridge/bridge.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define NS_PER_S 1000000000ULL

struct tport {
	struct bridge_port p;
	unsigned got;        /* frames its xmit was handed */
	u8 last[BRIDGE_MAX_FRAME];
	size_t last_len;
	int fail;            /* xmit's return value */
};

static int t_xmit(struct bridge_port *p, const u8 *frame, size_t len)
{
	struct tport *t = p->owner;
	t->got++;
	memcpy(t->last, frame, len);
	t->last_len = len;
	return t->fail;
}

static struct tport ports[BRIDGE_MAX_PORTS + 1];

/* A bridge with n fresh ports eth0..; the bridge is new to each test
 * (each case runs in its own process), its name unique anyway. */
static struct bridge *setup(const char *name, unsigned n)
{
	struct bridge *br = bridge_get(name);
	ck_assert_ptr_nonnull(br);
	memset(ports, 0, sizeof(ports));
	for (unsigned i = 0; i < n; i++) {
		snprintf(ports[i].p.name, sizeof(ports[i].p.name), "eth%u", i);
		ports[i].p.xmit = t_xmit;
		ports[i].p.owner = &ports[i];
		ck_assert_int_eq(bridge_port_add(br, &ports[i].p), 0);
	}
	return br;
}

static void clear_got(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ports); i++)
		ports[i].got = 0;
}

/* A 60-byte frame from MAC ..:src to MAC dst (6 bytes). */
static size_t frame(u8 *f, const u8 dst[6], u8 src)
{
	memset(f, 0, 60);
	memcpy(f, dst, 6);
	const u8 s[6] = { 0x02, 0, 0, 0, 0, src };
	memcpy(f + 6, s, 6);
	f[12] = 0x08;
	f[14] = src;
	return 60;
}

static void mac(u8 m[6], u8 last)
{
	const u8 s[6] = { 0x02, 0, 0, 0, 0, last };
	memcpy(m, s, 6);
}

static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

START_TEST(bridge_learns_and_forwards_known_unicast)
{
	struct bridge *br = setup("xenbr0", 3);
	u8 f[64], m1[6], m2[6];
	mac(m1, 1);
	mac(m2, 2);
	/* Station 1 behind port 0 speaks first: unknown destination, flooded. */
	size_t n = frame(f, m2, 1);
	bridge_input(&ports[0].p, f, n, 10);
	ck_assert_uint_eq(ports[0].got, 0);
	ck_assert_uint_eq(ports[1].got, 1);
	ck_assert_uint_eq(ports[2].got, 1);
	ck_assert_ptr_eq(bridge_lookup(br, m1, 10), &ports[0].p);
	ck_assert_ptr_null(bridge_lookup(br, m2, 10));
	/* Station 2 answers from port 2: known now, goes to port 0 only. */
	clear_got();
	n = frame(f, m1, 2);
	bridge_input(&ports[2].p, f, n, 20);
	ck_assert_uint_eq(ports[0].got, 1);
	ck_assert_uint_eq(ports[1].got, 0);
	ck_assert_uint_eq(ports[2].got, 0);
	ck_assert_int_eq(memcmp(ports[0].last, f, n), 0);
	ck_assert_uint_eq(ports[0].last_len, n);
	/* And 1 -> 2 now goes to port 2 only. */
	clear_got();
	n = frame(f, m2, 1);
	bridge_input(&ports[0].p, f, n, 30);
	ck_assert_uint_eq(ports[1].got, 0);
	ck_assert_uint_eq(ports[2].got, 1);
	ck_assert_uint_eq(bridge_nr_fdb(br, 30), 2);
	/* Counters. */
	ck_assert_uint_eq(ports[0].p.rx_frames, 2);
	ck_assert_uint_eq(ports[0].p.rx_bytes, 120);
	ck_assert_uint_eq(ports[0].p.tx_frames, 1);
	ck_assert_uint_eq(ports[2].p.tx_frames, 2);
	ck_assert_uint_eq(ports[1].p.tx_frames, 1);
	struct bridge_stats st;
	bridge_get_stats(br, &st);
	ck_assert_uint_eq(st.flooded, 1);
	ck_assert_uint_eq(st.forwarded, 2);
	ck_assert_uint_eq(st.learned, 2);
}
END_TEST

START_TEST(bridge_floods_broadcast_multicast_and_unknown)
{
	struct bridge *br = setup("xenbr0", 4);
	u8 f[64], m9[6];
	mac(m9, 9);
	const u8 mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	/* Learn 9 behind port 3; then a multicast destination is flooded even
	 * though... nothing can be learned for it, and broadcast likewise. */
	bridge_input(&ports[3].p, f, frame(f, bcast, 9), 1);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(ports[i].got, 1);
	ck_assert_uint_eq(ports[3].got, 0);
	clear_got();
	bridge_input(&ports[1].p, f, frame(f, mcast, 5), 2);
	ck_assert_uint_eq(ports[0].got + ports[2].got + ports[3].got, 3);
	ck_assert_uint_eq(ports[1].got, 0);
	clear_got();
	u8 unknown[6];
	mac(unknown, 77);
	bridge_input(&ports[2].p, f, frame(f, unknown, 6), 3);
	ck_assert_uint_eq(ports[0].got + ports[1].got + ports[3].got, 3);
	ck_assert_uint_eq(ports[2].got, 0);
	/* A multicast MAC is never a source, so never in the FDB. */
	ck_assert_ptr_null(bridge_lookup(br, mcast, 3));
	ck_assert_ptr_eq(bridge_lookup(br, m9, 3), &ports[3].p);
	struct bridge_stats st;
	bridge_get_stats(br, &st);
	ck_assert_uint_eq(st.flooded, 3);
}
END_TEST

START_TEST(bridge_never_reflects_to_the_source_port)
{
	struct bridge *br = setup("xenbr0", 2);
	u8 f[64], m1[6];
	mac(m1, 1);
	/* 1 and 2 are both behind port 0 (a switch behind the NIC). */
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), 1);
	bridge_input(&ports[0].p, f, frame(f, bcast, 2), 2);
	clear_got();
	bridge_input(&ports[0].p, f, frame(f, m1, 2), 3);
	ck_assert_uint_eq(ports[0].got, 0);
	ck_assert_uint_eq(ports[1].got, 0);
	struct bridge_stats st;
	bridge_get_stats(br, &st);
	ck_assert_uint_eq(st.filtered, 1);
	/* Flooding from a one-port bridge sends nothing at all. */
	bridge_port_remove(&ports[1].p);
	clear_got();
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), 4);
	ck_assert_uint_eq(ports[0].got, 0);
	ck_assert_uint_eq(ports[0].p.tx_frames, 0);
}
END_TEST

START_TEST(bridge_ages_entries_out)
{
	struct bridge *br = setup("xenbr0", 3);
	u8 f[64], m1[6];
	mac(m1, 1);
	u64 t0 = 5 * NS_PER_S;
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), t0);
	ck_assert_ptr_eq(bridge_lookup(br, m1, t0 + BRIDGE_AGEING_NS - 1), &ports[0].p);
	ck_assert_ptr_null(bridge_lookup(br, m1, t0 + BRIDGE_AGEING_NS));
	ck_assert_uint_eq(bridge_nr_fdb(br, t0 + BRIDGE_AGEING_NS - 1), 1);
	ck_assert_uint_eq(bridge_nr_fdb(br, t0 + BRIDGE_AGEING_NS), 0);
	/* Once aged, a frame to it is flooded again. */
	clear_got();
	bridge_input(&ports[2].p, f, frame(f, m1, 2), t0 + BRIDGE_AGEING_NS);
	ck_assert_uint_eq(ports[0].got, 1);
	ck_assert_uint_eq(ports[1].got, 1);
	/* Traffic from a station refreshes it: seen again at t1, alive until
	 * t1 + ageing. */
	u64 t1 = t0 + BRIDGE_AGEING_NS + 7;
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), t1);
	ck_assert_ptr_eq(bridge_lookup(br, m1, t1 + BRIDGE_AGEING_NS - 1), &ports[0].p);
	/* Sending *to* a station does not refresh it. */
	bridge_input(&ports[2].p, f, frame(f, m1, 2), t1 + BRIDGE_AGEING_NS - 2);
	ck_assert_ptr_null(bridge_lookup(br, m1, t1 + BRIDGE_AGEING_NS));
}
END_TEST

START_TEST(bridge_follows_a_moved_mac)
{
	struct bridge *br = setup("xenbr0", 3);
	u8 f[64], m1[6];
	mac(m1, 1);
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), 1);
	bridge_input(&ports[1].p, f, frame(f, bcast, 1), 2); /* station 1 moved */
	ck_assert_ptr_eq(bridge_lookup(br, m1, 2), &ports[1].p);
	clear_got();
	bridge_input(&ports[2].p, f, frame(f, m1, 2), 3);
	ck_assert_uint_eq(ports[0].got, 0);
	ck_assert_uint_eq(ports[1].got, 1);
	ck_assert_uint_eq(bridge_nr_fdb(br, 3), 2);
	struct bridge_stats st;
	bridge_get_stats(br, &st);
	ck_assert_uint_eq(st.moved, 1);
	ck_assert_uint_eq(st.learned, 2);
}
END_TEST

START_TEST(bridge_port_removal_forgets_its_macs)
{
	struct bridge *br = setup("xenbr0", 3);
	u8 f[64], m1[6], m2[6];
	mac(m1, 1);
	mac(m2, 2);
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), 1);
	bridge_input(&ports[1].p, f, frame(f, bcast, 2), 1);
	ck_assert_uint_eq(bridge_nr_ports(br), 3);
	bridge_port_remove(&ports[1].p);
	ck_assert_uint_eq(bridge_nr_ports(br), 2);
	ck_assert_ptr_null(ports[1].p.br);
	ck_assert_ptr_null(bridge_lookup(br, m2, 2));
	ck_assert_ptr_eq(bridge_lookup(br, m1, 2), &ports[0].p);
	ck_assert_uint_eq(bridge_nr_fdb(br, 2), 1);
	/* Nothing goes to the removed port any more, flooded or not. */
	clear_got();
	bridge_input(&ports[0].p, f, frame(f, m2, 1), 3);
	bridge_input(&ports[0].p, f, frame(f, bcast, 1), 3);
	ck_assert_uint_eq(ports[1].got, 0);
	ck_assert_uint_eq(ports[2].got, 2);
	/* A frame "from" the removed port is ignored. */
	bridge_input(&ports[1].p, f, frame(f, m1, 2), 4);
	ck_assert_uint_eq(ports[0].got, 0);
	/* Removing twice is harmless; it can join again. */
	bridge_port_remove(&ports[1].p);
	ck_assert_uint_eq(bridge_nr_ports(br), 2);
	ck_assert_int_eq(bridge_port_add(br, &ports[1].p), 0);
	ck_assert_uint_eq(bridge_nr_ports(br), 3);
	/* A bridge with ports cannot be destroyed; an empty one can. */
	ck_assert_int_eq(bridge_destroy(br), -EBUSY);
	for (unsigned i = 0; i < 3; i++)
		bridge_port_remove(&ports[i].p);
	ck_assert_int_eq(bridge_destroy(br), 0);
	ck_assert_ptr_null(bridge_find("xenbr0"));
}
END_TEST

START_TEST(bridge_port_add_checks)
{
	struct bridge *br = setup("xenbr0", BRIDGE_MAX_PORTS);
	struct bridge *br1 = bridge_get("xenbr1");
	ck_assert_ptr_nonnull(br1);
	ck_assert_ptr_ne(br, br1);
	ck_assert_ptr_eq(bridge_get("xenbr0"), br);
	ck_assert_ptr_eq(bridge_find("xenbr1"), br1);
	ck_assert_str_eq(bridge_name(br1), "xenbr1");
	ck_assert_ptr_null(bridge_find("nope"));
	ck_assert_ptr_null(bridge_get(""));
	ck_assert_ptr_null(bridge_get("a-name-that-is-far-too-long"));
	struct tport *x = &ports[BRIDGE_MAX_PORTS];
	x->p.xmit = t_xmit;
	x->p.owner = x;
	ck_assert_int_eq(bridge_port_add(br, x ? &x->p : NULL), -ENOSPC);
	ck_assert_int_eq(bridge_port_add(br1, &ports[0].p), -EBUSY);
	x->p.xmit = NULL;
	ck_assert_int_eq(bridge_port_add(br1, &x->p), -EINVAL);
	ck_assert_uint_eq(bridge_nr_ports(br), BRIDGE_MAX_PORTS);
	ck_assert_uint_eq(bridge_nr_ports(br1), 0);
	/* A broadcast on a full bridge reaches the 31 others. */
	u8 f[64];
	bridge_input(&ports[5].p, f, frame(f, bcast, 1), 1);
	unsigned total = 0;
	for (unsigned i = 0; i < BRIDGE_MAX_PORTS; i++)
		total += ports[i].got;
	ck_assert_uint_eq(total, BRIDGE_MAX_PORTS - 1);
	/* Bridges run out. */
	unsigned made = 0;
	char name[16];
	for (unsigned i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "br%u", i);
		made += bridge_get(name) != NULL;
	}
	ck_assert_uint_lt(made, 64);
}
END_TEST

START_TEST(bridge_full_fdb_keeps_live_entries)
{
	struct bridge *br = setup("xenbr0", 3);
	u8 f[64];
	/* BRIDGE_FDB_SIZE stations behind port 0 (MACs 02:00:00:00:hi:lo). */
	for (unsigned i = 0; i < BRIDGE_FDB_SIZE; i++) {
		frame(f, bcast, 0);
		f[10] = (u8)(i >> 8);
		f[11] = (u8)i;
		bridge_input(&ports[0].p, f, 60, 100 + i);
	}
	ck_assert_uint_eq(bridge_nr_fdb(br, 1000), BRIDGE_FDB_SIZE);
	/* One more, from port 1: not learned, still forwarded (flooded). */
	clear_got();
	u8 newmac[6] = { 0x02, 0, 0, 0, 0x7f, 0x7f };
	frame(f, bcast, 0);
	memcpy(f + 6, newmac, 6);
	bridge_input(&ports[1].p, f, 60, 1000);
	ck_assert_uint_eq(ports[0].got, 1);
	ck_assert_uint_eq(ports[2].got, 1);
	ck_assert_ptr_null(bridge_lookup(br, newmac, 1000));
	struct bridge_stats st;
	bridge_get_stats(br, &st);
	ck_assert_uint_eq(st.fdb_full, 1);
	/* The old entries still forward: to station 0x0005, port 0 only. */
	clear_got();
	u8 old[6] = { 0x02, 0, 0, 0, 0, 5 };
	bridge_input(&ports[2].p, f, frame(f, old, 0x33), 1001);
	ck_assert_uint_eq(ports[0].got, 1);
	ck_assert_uint_eq(ports[1].got, 0);
	/* Once the first entries have aged (station i was seen at 100 + i),
	 * the new MAC takes one of their places. */
	u64 later = 100 + BRIDGE_AGEING_NS + 3; /* stations 0..3 aged */
	frame(f, bcast, 0);
	memcpy(f + 6, newmac, 6);
	bridge_input(&ports[1].p, f, 60, later);
	ck_assert_ptr_eq(bridge_lookup(br, newmac, later), &ports[1].p);
	ck_assert_uint_eq(bridge_nr_fdb(br, later), BRIDGE_FDB_SIZE - 4 + 1);
}
END_TEST

START_TEST(bridge_drops_bad_frames)
{
	struct bridge *br = setup("xenbr0", 2);
	u8 f[BRIDGE_MAX_FRAME + 1];
	memset(f, 0, sizeof(f));
	frame(f, bcast, 1);
	bridge_input(&ports[0].p, f, 13, 1);                   /* runt */
	bridge_input(&ports[0].p, f, BRIDGE_MAX_FRAME + 1, 1); /* giant */
	bridge_input(&ports[0].p, NULL, 60, 1);
	u8 g[64];
	frame(g, bcast, 1);
	g[6] |= 1; /* multicast source */
	bridge_input(&ports[0].p, g, 60, 1);
	memset(g + 6, 0, 6); /* all-zero source */
	bridge_input(&ports[0].p, g, 60, 1);
	ck_assert_uint_eq(ports[0].p.rx_errors, 5);
	ck_assert_uint_eq(ports[0].p.rx_frames, 0);
	ck_assert_uint_eq(ports[1].got, 0);
	ck_assert_uint_eq(bridge_nr_fdb(br, 1), 0);
	/* The extremes that are valid pass: 14 bytes and the full 1514. */
	bridge_input(&ports[0].p, f, 14, 1);
	bridge_input(&ports[0].p, f, BRIDGE_MAX_FRAME, 1);
	ck_assert_uint_eq(ports[1].got, 2);
	ck_assert_uint_eq(ports[1].last_len, BRIDGE_MAX_FRAME);
	ck_assert_uint_eq(ports[0].p.rx_frames, 2);
	/* An xmit that fails counts tx_dropped, not tx_frames. */
	ports[1].fail = -EBUSY;
	bridge_input(&ports[0].p, f, 60, 2);
	ck_assert_uint_eq(ports[1].p.tx_dropped, 1);
	ck_assert_uint_eq(ports[1].p.tx_frames, 2);
	/* A port not on a bridge, and a NULL port, are ignored. */
	struct bridge_port lone = { .xmit = t_xmit };
	bridge_input(&lone, f, 60, 3);
	bridge_input(NULL, f, 60, 3);
	ck_assert_uint_eq(lone.rx_frames + lone.rx_errors, 0);
}
END_TEST

/* A port whose xmit sends a frame back into the bridge, as dom0's
 * endpoint does with a reply; two of them echo each other forever. */
static int echo_xmit(struct bridge_port *p, const u8 *frame, size_t len)
{
	struct tport *t = p->owner;
	u8 r[64];
	t->got++;
	memcpy(r, frame + 6, 6); /* to the sender, from "me" */
	memcpy(r + 6, frame, 6);
	r[6] = 0x02;
	r[11] = (u8)(0x40 + p->index);
	memset(r + 12, 0, sizeof(r) - 12);
	bridge_input(p, r, len < 64 ? len : 64, 1);
	return 0;
}

START_TEST(bridge_bounds_reentrant_xmit)
{
	struct bridge *br = setup("xenbr0", 2);
	ports[0].p.xmit = echo_xmit;
	ports[1].p.xmit = echo_xmit;
	u8 f[64];
	u8 m[6] = { 0x02, 0, 0, 0, 0, 0x41 };
	bridge_input(&ports[0].p, f, frame(f, m, 1), 1);
	struct bridge_stats st;
	bridge_get_stats(br, &st);
	ck_assert_uint_eq(st.too_deep, 1);
	ck_assert_uint_le(ports[0].got + ports[1].got, 8);
	ck_assert_uint_ge(ports[1].got, 1);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pvnet-bridge-learns-and-forwards-known-unicast",
	  &bridge_learns_and_forwards_known_unicast_ttest },
	{ "pvnet-bridge-floods-broadcast-multicast-and-unknown",
	  &bridge_floods_broadcast_multicast_and_unknown_ttest },
	{ "pvnet-bridge-never-reflects-to-the-source-port",
	  &bridge_never_reflects_to_the_source_port_ttest },
	{ "pvnet-bridge-ages-entries-out", &bridge_ages_entries_out_ttest },
	{ "pvnet-bridge-follows-a-moved-mac", &bridge_follows_a_moved_mac_ttest },
	{ "pvnet-bridge-port-removal-forgets-its-macs",
	  &bridge_port_removal_forgets_its_macs_ttest },
	{ "pvnet-bridge-port-add-checks", &bridge_port_add_checks_ttest },
	{ "pvnet-bridge-full-fdb-keeps-live-entries", &bridge_full_fdb_keeps_live_entries_ttest },
	{ "pvnet-bridge-drops-bad-frames", &bridge_drops_bad_frames_ttest },
	{ "pvnet-bridge-bounds-reentrant-xmit", &bridge_bounds_reentrant_xmit_ttest },
	{ 0 },
};
