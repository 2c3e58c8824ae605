/*
 * role=inet (pvtest.h): an IPv4 host on its vif, guest/lib/inet.h over
 * guest/lib/netfront.h, talking to a real stack (a Linux network
 * namespace behind dom0's NIC) or to another role=inet domU, all through
 * dom0's netback and bridge xenbr0 (docs/pvnet.md).
 *
 * role=inet ip=A.B.C.D[/N] peer=A.B.C.D [pings=N] [udp=N] [rate=R]
 *           [port=P] [wait_s=S]
 *     connects vif 0 and prints "inet: ready ip A.B.C.D mac M"; resolves
 *     the peer by ARP (retried), sends N ICMP echo requests (one at a
 *     time, each waited for), then a stream of `udp` datagrams to the
 *     peer's port P (default 5001) paced at R per second (default 250),
 *     each "KEEL" + big-endian u32 sequence + 60 pattern bytes (what
 *     tests/pvnet/bridgehelper.py sends and counts), then one "END"
 *     datagram to P + 1. All along it answers ARP and echo requests and
 *     counts datagrams that come to its own port P (sequence and bytes
 *     checked, duplicates counted), until one arrives on P + 1 (the
 *     peer's end marker) or wait_s (default 60) passes. Ends with
 *       "inet: pings N replies R; udp sent S; received D datagrams B bytes
 *        dup U bad X end seen|missing"
 *       "inet: arp answered A echo answered E errors X; tx-frames T
 *        rx-frames F"
 *     and PASS when every echo was answered, every datagram sent and the
 *     peer's end marker seen with nothing malformed.
 *     csum_blank=1: the stream's datagrams go with NETTXF_csum_blank and
 *     only the pseudo-header's sum in their UDP checksum, as Linux sends
 *     with checksum offload: netback must finish them (the peer's stack
 *     drops a datagram whose checksum is wrong).
 *     detach_wait=1: before closing, writes data/net-done and keeps
 *     serving until the backend goes Closing (dom0's hot unplug, at most
 *     60 s), prints "inet: backend Closing: closing", then closes.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "gnttab.h"
#include "guest.h"
#include "inet.h"
#include "netfront.h"
#include "pages.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define NS 1000000000ULL
#define UDP_PAYLOAD 68 /* "KEEL" + seq + 60 pattern bytes */
#define SEEN_MAX 8192  /* sequence numbers tracked for duplicates */
#define REPLY_Q 16     /* replies built on receive, sent after the poll */

static struct netfront nf;
static struct inet in;
static u8 out[INET_MAX_FRAME];
static u8 replyq[REPLY_Q][INET_MAX_FRAME];
static u16 replyq_len[REPLY_Q];
static unsigned replyq_n, replyq_lost;
static u8 seen[SEEN_MAX / 8];
static u64 rx_unique, rx_dup, rx_bad, rx_bytes;

static void on_udp(struct inet *i, u32 src, u16 sport, const u8 *data, size_t len)
{
	(void)i;
	(void)src;
	(void)sport;
	if (len != UDP_PAYLOAD || memcmp(data, "KEEL", 4)) {
		rx_bad++;
		return;
	}
	u32 seq = (u32)data[4] << 24 | (u32)data[5] << 16 | (u32)data[6] << 8 | data[7];
	for (unsigned k = 0; k < 60; k++)
		if (data[8 + k] != (u8)(seq + k)) {
			rx_bad++;
			return;
		}
	if (seq >= SEEN_MAX) {
		rx_bad++;
		return;
	}
	if (seen[seq / 8] & (1u << (seq % 8))) {
		rx_dup++;
		return;
	}
	seen[seq / 8] |= (u8)(1u << (seq % 8));
	rx_unique++;
	rx_bytes += len;
}

/* Replies are queued, not sent from inside netfront_poll: sending may
 * have to poll for a free tx slot. */
static void on_rx(const u8 *f, size_t len, void *arg)
{
	(void)arg;
	static u8 spill[INET_MAX_FRAME];
	bool full = replyq_n == REPLY_Q;
	int n = inet_input(&in, f, len, full ? spill : replyq[replyq_n], INET_MAX_FRAME);
	if (n <= 0)
		return;
	if (full) {
		replyq_lost++;
		return;
	}
	replyq_len[replyq_n++] = (u16)n;
}

static void send_frame_flags(const u8 *f, size_t len, u16 flags)
{
	u64 deadline = pvclock_now_ns() + 10 * NS;

	while (netfront_send_flags(&nf, f, len, flags) == -EBUSY) {
		if (pvclock_now_ns() > deadline)
			fail("tx ring stuck");
		netfront_wait(&nf, NS / 100);
		/* Received frames are taken (their replies queue behind). */
		netfront_poll(&nf, on_rx, NULL);
	}
}

static void send_frame(const u8 *f, size_t len)
{
	send_frame_flags(f, len, 0);
}

static void flush_replies(void)
{
	/* send_frame polls, which may queue more: take them all. */
	for (unsigned i = 0; i < replyq_n; i++)
		send_frame(replyq[i], replyq_len[i]);
	replyq_n = 0;
}

/* Polls and answers for up to `ns`, or until done(). */
static void serve(u64 ns, bool (*done)(void))
{
	u64 end = pvclock_now_ns() + ns;

	for (;;) {
		netfront_poll(&nf, on_rx, NULL);
		flush_replies();
		if ((done && done()) || pvclock_now_ns() >= end)
			return;
		netfront_wait(&nf, NS / 200);
	}
}

static u64 want_replies;
static u32 arp_target;

static bool arp_done(void)
{
	u8 mac[6];
	return inet_neigh_lookup(&in, arp_target, mac);
}

static bool reply_done(void)
{
	return in.st.echo_replies >= want_replies;
}

static bool end_seen(void)
{
	return in.st.udp_other > 0;
}

/* What a stack with checksum offload leaves in a UDP/IPv4 frame it built
 * (Ethernet, 20-byte IPv4 header): the pseudo-header's folded sum, not
 * inverted, in the checksum field (Linux's CHECKSUM_PARTIAL). */
static void blank_udp_csum(u8 *f)
{
	u8 *ip = f + 14, *udp = ip + 20;
	u32 sum = inet_csum(ip + 12, 8, 0) + 17 + ((u32)udp[4] << 8 | udp[5]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	udp[6] = (u8)(sum >> 8);
	udp[7] = (u8)sum;
}

u32 pvinet_arg_ip(const struct hvm_start_info *si, const char *key, unsigned *prefix)
{
	char buf[24];
	u32 a;

	if (!cmdline_get(si_cmdline(si), key, buf, sizeof(buf)) || inet_parse_cidr(buf, &a, prefix))
		fail("%s=A.B.C.D missing or bad", key);
	return a;
}

void pvinet_up(u32 addr, unsigned prefix, u16 port)
{
	char a[16];
	int rc;

	if ((rc = netfront_connect(&nf, 0, 30 * NS)))
		fail("netfront_connect: %d", rc);
	inet_init(&in, nf.mac, addr, prefix);
	in.udp_port = port;
	in.udp_rx = on_udp;
	replyq_n = 0;
	inet_format_addr(addr, a);
	printf("inet: ready ip %s mac %02x:%02x:%02x:%02x:%02x:%02x\n", a, nf.mac[0], nf.mac[1],
	       nf.mac[2], nf.mac[3], nf.mac[4], nf.mac[5]);
}

void pvinet_resolve(u32 peer)
{
	/* An ARP request every 200 ms, for up to 60 s (the peer may still
	 * be booting). */
	u8 mac[6];
	char a[16];
	u64 deadline = pvclock_now_ns() + 60 * NS;
	unsigned arps = 0;

	arp_target = peer;
	while (!inet_neigh_lookup(&in, peer, mac)) {
		if (pvclock_now_ns() > deadline)
			fail("no ARP reply from the peer after %u requests", arps);
		int n = inet_build_arp_request(&in, peer, out, sizeof(out));
		if (n < 0)
			fail("inet_build_arp_request: %d", n);
		send_frame(out, (size_t)n);
		arps++;
		serve(NS / 5, arp_done);
	}
	inet_format_addr(peer, a);
	printf("inet: peer %s is %02x:%02x:%02x:%02x:%02x:%02x (%u ARP requests)\n", a, mac[0],
	       mac[1], mac[2], mac[3], mac[4], mac[5], arps);
}

u64 pvinet_ping(u32 peer, u64 count)
{
	/* One at a time: each answered within 2 s. */
	u64 before = in.st.echo_replies;
	for (u64 s = 0; s < count; s++) {
		int n = inet_build_ping(&in, peer, 0x4b45, (u16)(s + 1), 56, out, sizeof(out));
		if (n < 0)
			fail("inet_build_ping: %d", n);
		want_replies = in.st.echo_replies + 1;
		send_frame(out, (size_t)n);
		serve(2 * NS, reply_done);
	}
	u64 replies = in.st.echo_replies - before;
	printf("inet: %lu echo requests, %lu replies\n", count, replies);
	return replies;
}

void pvinet_down(void)
{
	netfront_close(&nf, 5 * NS);
	if (replyq_lost || nf.bad_rsp || nf.grants_kept)
		fail("replies lost %u, bad responses %lu, grants kept %lu", replyq_lost, nf.bad_rsp,
		     nf.grants_kept);
}

void role_inet(const struct hvm_start_info *si)
{
	unsigned prefix = 24, pp = 32;
	u32 addr = pvinet_arg_ip(si, "ip", &prefix), peer = pvinet_arg_ip(si, "peer", &pp);
	u64 pings = arg_u64_or("pings", 5), count = arg_u64_or("udp", 1000);
	u64 rate = arg_u64_or("rate", 250), port = arg_u64_or("port", 5001);
	u64 wait_s = arg_u64_or("wait_s", 60);
	bool blank = arg_u64_or("csum_blank", 0);
	int rc;

	if (!rate || port == 0 || port > 65534 || count > SEEN_MAX)
		fail("rate, port or udp out of range");
	if (!pages_init(si))
		fail("no page pool");
	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);
	pvinet_up(addr, prefix, (u16)port);
	pvinet_resolve(peer);
	u64 replies = pvinet_ping(peer, pings);

	/* The stream, paced against its start time (a late wake-up catches
	 * up instead of slowing the whole stream). */
	u8 payload[UDP_PAYLOAD];
	u64 t0 = pvclock_now_ns(), sent = 0;
	for (u64 seq = 0; seq < count; seq++) {
		u64 due = t0 + seq * NS / rate;
		while (pvclock_now_ns() < due)
			serve(due - pvclock_now_ns(), NULL);
		memcpy(payload, "KEEL", 4);
		payload[4] = (u8)(seq >> 24);
		payload[5] = (u8)(seq >> 16);
		payload[6] = (u8)(seq >> 8);
		payload[7] = (u8)seq;
		for (unsigned k = 0; k < 60; k++)
			payload[8 + k] = (u8)(seq + k);
		int n = inet_build_udp(&in, peer, 40000, (u16)port, payload, sizeof(payload), out,
				       sizeof(out));
		if (n < 0)
			fail("inet_build_udp: %d", n);
		if (blank)
			blank_udp_csum(out);
		send_frame_flags(out, (size_t)n, blank ? NETTXF_csum_blank : 0);
		sent++;
	}
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	/* The end marker after the stream has been read, as bridgehelper. */
	serve(NS / 2, NULL);
	int n = inet_build_udp(&in, peer, 40000, (u16)(port + 1), "END", 3, out, sizeof(out));
	if (n < 0)
		fail("inet_build_udp: %d", n);
	send_frame(out, (size_t)n);
	printf("inet: udp sent %lu datagrams to port %lu in %lu ms\n", sent, port, ms);

	/* The peer's stream and end marker; then a moment more for its last
	 * requests to be answered. */
	serve(wait_s * NS, end_seen);
	bool ended = end_seen();
	serve(NS, NULL);
	/* Two lines: the console cuts one at 160 characters. */
	printf("inet: pings %lu replies %lu; udp sent %lu; received %lu datagrams %lu bytes dup %lu "
	       "bad %lu end %s\n", pings, replies, sent, rx_unique, rx_bytes, rx_dup, rx_bad,
	       ended ? "seen" : "missing");
	printf("inet: arp answered %lu echo answered %lu errors %lu; tx-frames %lu rx-frames %lu\n",
	       in.st.arp_requests, in.st.echo_requests, in.st.rx_errors, nf.tx_frames, nf.rx_frames);
	if (arg_u64_or("detach_wait", 0)) {
		if ((rc = xb_write(xenbus(), 0, "data/net-done", "1")))
			fail("write data/net-done: %d", rc);
		u64 until = pvclock_now_ns() + 60 * NS;
		int st;
		while ((st = netfront_backend_state(&nf)) != XenbusStateClosing) {
			if (pvclock_now_ns() > until)
				fail("backend did not go Closing (state %d)", st);
			serve(NS / 50, NULL);
		}
		printf("inet: backend Closing: closing\n");
	}
	pvinet_down();
	if (replies != pings || sent != count || !ended || rx_bad)
		fail("replies %lu of %lu, sent %lu of %lu, end %d, bad %lu", replies, pings, sent,
		     count, ended, rx_bad);
	printf("pvtest: inet: PASS\n");
}
