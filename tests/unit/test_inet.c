/*
 * The minimal IPv4 endpoint (guest/lib/inet.c, inet.h): ARP, ICMP echo,
 * the counted UDP port, the builders, and hostile frames. Two endpoints
 * talk to each other through frames in memory; checksums are checked
 * against an independent vector (RFC 1071's arithmetic on a well-known
 * IPv4 header) and recomputed here byte by byte.
 *
 * unit-sources: guest/lib/inet.c
 */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include "../../guest/lib/inet.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static const u8 mac_a[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const u8 mac_b[6] = { 0x02, 0, 0, 0, 0, 0xbb };
#define ADDR_A INET_ADDR(10, 99, 0, 2)
#define ADDR_B INET_ADDR(10, 99, 0, 1)

static struct inet a, b;
static u8 f[INET_MAX_FRAME], r[INET_MAX_FRAME];

static void setup(void)
{
	inet_init(&a, mac_a, ADDR_A, 24);
	inet_init(&b, mac_b, ADDR_B, 24);
}

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

/* A plain reference sum, 16 bits at a time (RFC 1071 section 1). */
static u16 ref_sum(const u8 *p, size_t len, u32 s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (u32)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)s;
}

/* Gets b's MAC into a and a's into b, by ARP. */
static void arp_both(void)
{
	int n = inet_build_arp_request(&b, ADDR_A, f, sizeof(f));
	ck_assert_int_eq(n, 60);
	int m = inet_input(&a, f, (size_t)n, r, sizeof(r));
	ck_assert_int_gt(m, 0);
	ck_assert_int_eq(inet_input(&b, r, (size_t)m, f, sizeof(f)), 0);
}

START_TEST(inet_checksum_vector)
{
	/* The IPv4 header of a UDP datagram 192.168.0.1 -> 192.168.0.199,
	 * whose correct checksum is 0xb861 (the example used by many
	 * references, e.g. Wikipedia's "IPv4 header checksum"). */
	u8 h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	ck_assert_uint_eq((u16)~inet_csum(h, 20, 0), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	ck_assert_uint_eq(inet_csum(h, 20, 0), 0xffff);
	/* Odd lengths pad with a zero byte; a partial sum carries over. */
	const u8 odd[3] = { 0x12, 0x34, 0x56 };
	ck_assert_uint_eq(inet_csum(odd, 3, 0), 0x1234 + 0x5600);
	ck_assert_uint_eq(inet_csum(odd, 3, 0xffff), ref_sum(odd, 3, 0xffff));
}
END_TEST

START_TEST(inet_answers_arp)
{
	u8 mac[6];

	setup();
	int n = inet_build_arp_request(&b, ADDR_A, f, sizeof(f));
	ck_assert_int_eq(n, 60);
	ck_assert_mem_eq(f, "\xff\xff\xff\xff\xff\xff", 6);
	ck_assert_uint_eq(be16(f + 12), 0x0806);
	ck_assert_uint_eq(be16(f + 20), 1); /* request */
	int m = inet_input(&a, f, (size_t)n, r, sizeof(r));
	ck_assert_int_eq(m, 60);
	ck_assert_mem_eq(r, mac_b, 6);        /* to the asker */
	ck_assert_mem_eq(r + 6, mac_a, 6);
	ck_assert_uint_eq(be16(r + 14), 1);  /* Ethernet */
	ck_assert_uint_eq(be16(r + 16), 0x0800);
	ck_assert_uint_eq(r[18], 6);
	ck_assert_uint_eq(r[19], 4);
	ck_assert_uint_eq(be16(r + 20), 2);  /* reply */
	ck_assert_mem_eq(r + 22, mac_a, 6);  /* sender: us */
	ck_assert_mem_eq(r + 28, "\x0a\x63\x00\x02", 4);
	ck_assert_mem_eq(r + 32, mac_b, 6);  /* target: the asker */
	ck_assert_mem_eq(r + 38, "\x0a\x63\x00\x01", 4);
	ck_assert_uint_eq(a.st.arp_requests, 1);
	ck_assert(inet_neigh_lookup(&a, ADDR_B, mac)); /* learned from the request */
	ck_assert_mem_eq(mac, mac_b, 6);
	/* The reply teaches b a's MAC. */
	ck_assert(!inet_neigh_lookup(&b, ADDR_A, mac));
	ck_assert_int_eq(inet_input(&b, r, (size_t)m, f, sizeof(f)), 0);
	ck_assert_uint_eq(b.st.arp_replies, 1);
	ck_assert(inet_neigh_lookup(&b, ADDR_A, mac));
	ck_assert_mem_eq(mac, mac_a, 6);
	/* A request for another address: no answer. */
	n = inet_build_arp_request(&b, INET_ADDR(10, 99, 0, 3), f, sizeof(f));
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.arp_requests, 1);
	ck_assert_uint_eq(a.st.rx_ignored, 1);
	/* A request claiming our own address, or from a broadcast MAC: error. */
	n = inet_build_arp_request(&b, ADDR_A, f, sizeof(f));
	f[28 + 3] = 2; /* sender protocol address := 10.99.0.2 */
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL);
	n = inet_build_arp_request(&b, ADDR_A, f, sizeof(f));
	f[22] = 0xff;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL);
	/* Truncated ARP. */
	n = inet_build_arp_request(&b, ADDR_A, f, sizeof(f));
	ck_assert_int_eq(inet_input(&a, f, 14 + 27, r, sizeof(r)), -EINVAL);
	ck_assert_uint_eq(a.st.rx_errors, 3);
	/* No room for the reply. */
	n = inet_build_arp_request(&b, ADDR_A, f, sizeof(f));
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, 59), -ENOSPC);
}
END_TEST

START_TEST(inet_answers_ping)
{
	setup();
	ck_assert_int_eq(inet_build_ping(&b, ADDR_A, 0x1234, 7, 56, f, sizeof(f)), -ENOENT);
	arp_both();
	int n = inet_build_ping(&b, ADDR_A, 0x1234, 7, 56, f, sizeof(f));
	ck_assert_int_eq(n, 14 + 20 + 8 + 56);
	ck_assert_uint_eq(ref_sum(f + 14, 20, 0), 0xffff);
	ck_assert_uint_eq(ref_sum(f + 34, 64, 0), 0xffff);
	int m = inet_input(&a, f, (size_t)n, r, sizeof(r));
	ck_assert_int_eq(m, n);
	ck_assert_uint_eq(a.st.echo_requests, 1);
	ck_assert_mem_eq(r, mac_b, 6);
	ck_assert_mem_eq(r + 6, mac_a, 6);
	ck_assert_uint_eq(r[14], 0x45);
	ck_assert_uint_eq(be16(r + 16), 20 + 64);
	ck_assert_uint_eq(r[23], 1);                 /* ICMP */
	ck_assert_mem_eq(r + 26, f + 30, 4);         /* src := request's dst */
	ck_assert_mem_eq(r + 30, f + 26, 4);         /* dst := request's src */
	ck_assert_uint_eq(ref_sum(r + 14, 20, 0), 0xffff);
	ck_assert_uint_eq(r[34], 0);                 /* echo reply */
	ck_assert_uint_eq(be16(r + 38), 0x1234);     /* id, seq, data echoed */
	ck_assert_uint_eq(be16(r + 40), 7);
	ck_assert_mem_eq(r + 42, f + 42, 56);
	ck_assert_uint_eq(ref_sum(r + 34, 64, 0), 0xffff);
	ck_assert_int_eq(inet_input(&b, r, (size_t)m, f, sizeof(f)), 0);
	ck_assert_uint_eq(b.st.echo_replies, 1);
	/* Odd payload, and an empty one (the reply is padded to 60). */
	n = inet_build_ping(&b, ADDR_A, 1, 8, 1, f, sizeof(f));
	m = inet_input(&a, f, (size_t)n, r, sizeof(r));
	ck_assert_int_eq(m, 60);
	ck_assert_uint_eq(ref_sum(r + 34, 9, 0), 0xffff);
	/* The largest: 1514 bytes. */
	n = inet_build_ping(&b, ADDR_A, 1, 9, 1472, f, sizeof(f));
	ck_assert_int_eq(n, 1514);
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 1514);
	ck_assert_int_eq(inet_build_ping(&b, ADDR_A, 1, 9, 1473, f, sizeof(f)), -EINVAL);
	ck_assert_int_eq(inet_build_ping(&b, ADDR_A, 1, 9, 100, f, 100), -EINVAL);
	ck_assert_uint_eq(a.st.echo_requests, 3);
	/* A corrupted ICMP checksum: error, no reply. */
	n = inet_build_ping(&b, ADDR_A, 1, 10, 20, f, sizeof(f));
	f[40] ^= 1;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL);
	ck_assert_uint_eq(a.st.echo_requests, 3);
	/* A request to another IPv4 address: ignored. */
	inet_neigh_add(&b, INET_ADDR(10, 99, 0, 9), mac_a);
	n = inet_build_ping(&b, INET_ADDR(10, 99, 0, 9), 1, 11, 20, f, sizeof(f));
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	/* A frame to another MAC: ignored. */
	n = inet_build_ping(&b, ADDR_A, 1, 12, 20, f, sizeof(f));
	f[5] = 0xcc;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.echo_requests, 3);
	ck_assert_uint_eq(a.st.rx_ignored, 2);
}
END_TEST

static unsigned udp_calls;
static u8 udp_last[64];

static void on_udp(struct inet *in, u32 src, u16 sport, const u8 *data, size_t len)
{
	ck_assert_ptr_eq(in, &a);
	ck_assert_uint_eq(src, ADDR_B);
	ck_assert_uint_eq(sport, 40000);
	udp_calls++;
	memcpy(udp_last, data, len < sizeof(udp_last) ? len : sizeof(udp_last));
}

START_TEST(inet_counts_udp)
{
	setup();
	arp_both();
	a.udp_port = 5001;
	a.udp_rx = on_udp;
	int n = inet_build_udp(&b, ADDR_A, 40000, 5001, "hello", 5, f, sizeof(f));
	ck_assert_int_eq(n, 60); /* 47 bytes, padded */
	ck_assert_uint_eq(be16(f + 16), 20 + 13);   /* IP total length, not the padding */
	u32 pseudo = (ADDR_B >> 16) + (ADDR_B & 0xffff) + (ADDR_A >> 16) + (ADDR_A & 0xffff) + 17 + 13;
	ck_assert_uint_eq(ref_sum(f + 34, 13, pseudo), 0xffff);
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.udp_datagrams, 1);
	ck_assert_uint_eq(a.st.udp_bytes, 5);
	ck_assert_uint_eq(udp_calls, 1);
	ck_assert_mem_eq(udp_last, "hello", 5);
	/* Another port: counted apart. */
	n = inet_build_udp(&b, ADDR_A, 40000, 5002, "x", 1, f, sizeof(f));
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.udp_datagrams, 1);
	ck_assert_uint_eq(a.st.udp_other, 1);
	/* No checksum (0) is allowed in IPv4. */
	n = inet_build_udp(&b, ADDR_A, 40000, 5001, "abc", 3, f, sizeof(f));
	f[40] = f[41] = 0;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.udp_datagrams, 2);
	/* A wrong checksum, a UDP length past the IP payload, or under 8. */
	n = inet_build_udp(&b, ADDR_A, 40000, 5001, "abc", 3, f, sizeof(f));
	f[42] ^= 0x40;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL);
	n = inet_build_udp(&b, ADDR_A, 40000, 5001, "abc", 3, f, sizeof(f));
	f[38] = 0;
	f[39] = 12;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL);
	f[39] = 7;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL);
	ck_assert_uint_eq(a.st.udp_datagrams, 2);
	ck_assert_uint_eq(a.st.rx_errors, 3);
	/* The largest datagram. */
	static u8 big[1472];
	memset(big, 0x5a, sizeof(big));
	n = inet_build_udp(&b, ADDR_A, 40000, 5001, big, 1472, f, sizeof(f));
	ck_assert_int_eq(n, 1514);
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.udp_bytes, 5 + 3 + 1472);
	ck_assert_int_eq(inet_build_udp(&b, ADDR_A, 1, 2, big, 1473, f, sizeof(f)), -EINVAL);
}
END_TEST

START_TEST(inet_rejects_bad_ip_headers)
{
	int n;

	setup();
	arp_both();
	a.udp_port = 5001;
#define FRESH() (n = inet_build_ping(&b, ADDR_A, 1, 1, 32, f, sizeof(f)))
#define FIXSUM() do { f[24] = f[25] = 0; u16 s_ = (u16)~ref_sum(f + 14, (size_t)(f[14] & 15) * 4, 0); \
		f[24] = (u8)(s_ >> 8); f[25] = (u8)s_; } while (0)
	u64 errs = 0;
	/* IHL 4 (< 5 words). */
	FRESH(); f[14] = 0x44; FIXSUM();
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	/* IHL 15: 60 bytes of header in a 60-byte total length... too long for total */
	FRESH(); f[14] = 0x4f; f[16] = 0; f[17] = 40;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	/* Version 6. */
	FRESH(); f[14] = 0x65; FIXSUM();
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	/* Total length past the frame, and under the header. */
	FRESH(); f[16] = 0x05; f[17] = 0xdc; FIXSUM();
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	FRESH(); f[16] = 0; f[17] = 19; FIXSUM();
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	/* Header checksum wrong. */
	FRESH(); f[25] ^= 1;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	/* Frame cut inside the IP header, and inside ICMP. */
	FRESH();
	ck_assert_int_eq(inet_input(&a, f, 14 + 19, r, sizeof(r)), -EINVAL); errs++;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n - 1, r, sizeof(r)), -EINVAL); errs++;
	/* Ethernet header short, and over-long frames. */
	ck_assert_int_eq(inet_input(&a, f, 13, r, sizeof(r)), -EINVAL); errs++;
	ck_assert_int_eq(inet_input(&a, f, INET_MAX_FRAME + 1, r, sizeof(r)), -EINVAL); errs++;
	FRESH(); f[6] = 0x01; /* multicast source MAC */
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), -EINVAL); errs++;
	ck_assert_int_eq(inet_input(&a, NULL, 0, r, sizeof(r)), -EINVAL); errs++;
	ck_assert_uint_eq(a.st.rx_errors, errs);
	ck_assert_uint_eq(a.st.echo_requests, 0);
	/* Fragments are ignored, not answered. */
	FRESH(); f[20] = 0x20; FIXSUM(); /* MF */
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	FRESH(); f[20] = 0; f[21] = 1; FIXSUM(); /* offset 8 */
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.echo_requests, 0);
	/* IP options (IHL 6) are skipped; the reply has none. */
	FRESH();
	memmove(f + 38, f + 34, (size_t)n - 34);
	memset(f + 34, 1, 4); /* four NOPs */
	f[14] = 0x46; f[17] += 4; FIXSUM();
	int m = inet_input(&a, f, (size_t)n + 4, r, sizeof(r));
	ck_assert_int_eq(m, n);
	ck_assert_uint_eq(r[14], 0x45);
	ck_assert_uint_eq(ref_sum(r + 34, 40, 0), 0xffff);
	/* Ethernet padding after the IP datagram is not part of it. */
	FRESH();
	memset(f + n, 0xee, 100);
	ck_assert_int_eq(inet_input(&a, f, (size_t)n + 100, r, sizeof(r)), n);
	ck_assert_uint_eq(a.st.echo_requests, 2);
	ck_assert_uint_eq(a.st.rx_errors, errs);
	/* Unknown EtherTypes (IPv6, VLAN) and protocols (TCP): ignored. */
	FRESH(); f[12] = 0x86; f[13] = 0xdd;
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	FRESH(); f[23] = 6; FIXSUM();
	ck_assert_int_eq(inet_input(&a, f, (size_t)n, r, sizeof(r)), 0);
	ck_assert_uint_eq(a.st.rx_errors, errs);
}
END_TEST

START_TEST(inet_parses_and_formats_addresses)
{
	u32 addr = 0;
	unsigned pfx = 99;
	char buf[16];

	ck_assert_int_eq(inet_parse_cidr("10.99.0.2/24", &addr, &pfx), 0);
	ck_assert_uint_eq(addr, INET_ADDR(10, 99, 0, 2));
	ck_assert_uint_eq(pfx, 24);
	pfx = 16;
	ck_assert_int_eq(inet_parse_cidr("192.168.1.255 rest", &addr, &pfx), 0);
	ck_assert_uint_eq(addr, INET_ADDR(192, 168, 1, 255));
	ck_assert_uint_eq(pfx, 16); /* left alone */
	ck_assert_int_eq(inet_parse_cidr("0.0.0.0/0", &addr, &pfx), 0);
	ck_assert_uint_eq(pfx, 0);
	const char *bad[] = { "", "10.99.0", "10.99.0.2.", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/",
			      "1..2.3", "1.2.3.4x", "1.2.3.0004", "a.b.c.d", "1.2.3.4/240", "-1.2.3.4" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		addr = 7;
		pfx = 7;
		ck_assert_msg(inet_parse_cidr(bad[i], &addr, &pfx) == -EINVAL, "%s", bad[i]);
		ck_assert_uint_eq(addr, 7);
		ck_assert_uint_eq(pfx, 7);
	}
	ck_assert_int_eq(inet_parse_cidr(NULL, &addr, &pfx), -EINVAL);
	inet_format_addr(INET_ADDR(10, 99, 0, 2), buf);
	ck_assert_str_eq(buf, "10.99.0.2");
	inet_format_addr(INET_ADDR(255, 255, 100, 0), buf);
	ck_assert_str_eq(buf, "255.255.100.0");
}
END_TEST

START_TEST(inet_neighbour_table_replaces_oldest)
{
	u8 mac[6] = { 2, 0, 0, 0, 0, 0 };

	setup();
	for (unsigned i = 0; i < INET_NEIGH + 2; i++) {
		mac[5] = (u8)i;
		inet_neigh_add(&a, INET_ADDR(10, 0, 0, i), mac);
	}
	ck_assert(!inet_neigh_lookup(&a, INET_ADDR(10, 0, 0, 0), mac));
	ck_assert(!inet_neigh_lookup(&a, INET_ADDR(10, 0, 0, 1), mac));
	ck_assert(inet_neigh_lookup(&a, INET_ADDR(10, 0, 0, INET_NEIGH + 1), mac));
	ck_assert_uint_eq(mac[5], INET_NEIGH + 1);
	/* Re-adding updates in place. */
	mac[5] = 0x77;
	inet_neigh_add(&a, INET_ADDR(10, 0, 0, 5), mac);
	ck_assert(inet_neigh_lookup(&a, INET_ADDR(10, 0, 0, 5), mac));
	ck_assert_uint_eq(mac[5], 0x77);
	ck_assert(inet_neigh_lookup(&a, INET_ADDR(10, 0, 0, 2), mac));
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pvnet-inet-checksum-vector", &inet_checksum_vector_ttest },
	{ "pvnet-inet-answers-arp", &inet_answers_arp_ttest },
	{ "pvnet-inet-answers-ping", &inet_answers_ping_ttest },
	{ "pvnet-inet-counts-udp", &inet_counts_udp_ttest },
	{ "pvnet-inet-rejects-bad-ip-headers", &inet_rejects_bad_ip_headers_ttest },
	{ "pvnet-inet-parses-and-formats-addresses", &inet_parses_and_formats_addresses_ttest },
	{ "pvnet-inet-neighbour-table-replaces-oldest", &inet_neighbour_table_replaces_oldest_ttest },
	{ 0 },
};
