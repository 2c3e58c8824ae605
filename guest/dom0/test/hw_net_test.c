/*
 * The network self-test (test=net ip=A.B.C.D [nic=ethN]): a minimal
 * responder for dom0's own address on one NIC, driven by the host test
 * (tests/hw/test_hw.py) from a network namespace:
 *
 *  - ARP (RFC 826): requests for our address get a reply with our MAC;
 *  - ICMP echo (RFC 792) to our address gets an echo reply;
 *  - burst frames (EtherType 0x88b5, IEEE 802 local experimental):
 *    payload "KEEL", u32 sequence number, u32 total (big-endian), u8 last.
 *    dom0 records which sequence numbers arrived; the frame with `last`
 *    set ends the test: dom0 prints how many of `total` it received and
 *    powers off (missing ones are a FAIL).
 * It prints `dom0: net-test: ready ...` once the NIC is set up, and gives
 * up after NET_TEST_TIMEOUT_US without the last burst frame.
 */
#include <lib/string.h>
#include "guest.h"
#include "selftests.h"
#include "hw/hw.h"
#include "net/netdev.h"

#define NET_TEST_TIMEOUT_US (120ULL * 1000 * 1000)
#define ETH_P_ARP 0x0806
#define ETH_P_IP 0x0800
#define ETH_P_BURST 0x88b5
#define BURST_MAX 65536

struct responder {
	struct netdev *nd;
	u8 ip[4];
	u64 arp_replies, echo_replies, other;
	u32 burst_total, burst_got, burst_dups;
	u64 wakeups;
	bool burst_done;
	u8 seen[BURST_MAX / 8];
};

static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static u32 get32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static void put16(u8 *p, u16 v) { p[0] = v >> 8; p[1] = (u8)v; }

/* The Internet checksum (RFC 1071) of len bytes. */
static u16 inet_csum(const u8 *p, size_t len)
{
	u32 sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

static void send(struct responder *r, const u8 *frame, size_t len)
{
	int rc;
	/* Transmit completions are reaped by poll; a full ring drains fast. */
	for (int tries = 0; (rc = netdev_xmit(r->nd, frame, len)) == -EBUSY && tries < 100000; tries++)
		netdev_poll(r->nd);
	if (rc)
		printf("dom0: net-test: transmit failed: %d\n", rc);
}

static void handle_arp(struct responder *r, const u8 *f, size_t len)
{
	const u8 *a = f + 14;
	u8 out[42];

	/* Ethernet/IPv4 request (htype 1, ptype 0x0800, op 1) for our IP. */
	if (len < 42 || get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4 ||
	    get16(a + 6) != 1 || memcmp(a + 24, r->ip, 4))
		return;
	memcpy(out, f + 6, 6);            /* to the asker */
	memcpy(out + 6, r->nd->mac, 6);
	put16(out + 12, ETH_P_ARP);
	u8 *o = out + 14;
	put16(o, 1);
	put16(o + 2, ETH_P_IP);
	o[4] = 6;
	o[5] = 4;
	put16(o + 6, 2);                  /* reply */
	memcpy(o + 8, r->nd->mac, 6);     /* sender: us */
	memcpy(o + 14, r->ip, 4);
	memcpy(o + 18, a + 8, 10);        /* target: the asker's MAC and IP */
	send(r, out, sizeof(out));
	r->arp_replies++;
}

static void handle_ip(struct responder *r, const u8 *f, size_t len)
{
	static u8 out[NETDEV_MAX_FRAME];
	const u8 *ip = f + 14;

	if (len < 14 + 20 || (ip[0] >> 4) != 4)
		return;
	size_t ihl = (ip[0] & 0xf) * 4u, tot = get16(ip + 2);
	if (ihl < 20 || tot < ihl + 8 || 14 + tot > len || memcmp(ip + 16, r->ip, 4) ||
	    ip[9] != 1 /* ICMP */ || (get16(ip + 6) & 0x3fff) /* fragment */)
		return;
	const u8 *icmp = ip + ihl;
	if (icmp[0] != 8 || inet_csum(icmp, tot - ihl) != 0)
		return; /* not an echo request, or corrupt */
	memcpy(out, f + 6, 6);
	memcpy(out + 6, r->nd->mac, 6);
	put16(out + 12, ETH_P_IP);
	u8 *oip = out + 14;
	memcpy(oip, ip, tot);
	oip[8] = 64;                      /* TTL */
	memcpy(oip + 12, ip + 16, 4);     /* from us */
	memcpy(oip + 16, ip + 12, 4);     /* to the sender */
	put16(oip + 10, 0);
	put16(oip + 10, inet_csum(oip, ihl));
	u8 *oicmp = oip + ihl;
	oicmp[0] = 0;                     /* echo reply; id, sequence, data kept */
	put16(oicmp + 2, 0);
	put16(oicmp + 2, inet_csum(oicmp, tot - ihl));
	send(r, out, 14 + tot);
	r->echo_replies++;
}

static void handle_burst(struct responder *r, const u8 *f, size_t len)
{
	const u8 *p = f + 14;
	if (len < 14 + 13 || memcmp(p, "KEEL", 4))
		return;
	u32 seq = get32(p + 4), total = get32(p + 8);
	if (p[12]) {
		r->burst_total = total;
		r->burst_done = true;
		return;
	}
	if (seq >= BURST_MAX)
		return;
	if (r->seen[seq / 8] & (1u << (seq % 8))) {
		r->burst_dups++;
		return;
	}
	r->seen[seq / 8] |= 1u << (seq % 8);
	r->burst_got++;
}

static void rx(struct netdev *nd, const u8 *f, size_t len, void *arg)
{
	struct responder *r = arg;
	(void)nd;
	switch (get16(f + 12)) {
	case ETH_P_ARP: handle_arp(r, f, len); break;
	case ETH_P_IP: handle_ip(r, f, len); break;
	case ETH_P_BURST: handle_burst(r, f, len); break;
	default: r->other++; break;
	}
}

static bool parse_ip(const char *s, u8 ip[4])
{
	for (unsigned i = 0; i < 4; i++) {
		u64 v;
		const char *end;
		if (parse_u64(s, &end, &v) < 0 || v > 255 || (i < 3 ? *end != '.' : *end != 0))
			return false;
		ip[i] = (u8)v;
		s = end + 1;
	}
	return true;
}

int hw_net_test(const char *cl)
{
	static struct responder r;
	char ipstr[20], nic[8] = "eth0";

	if (!cmdline_get(cl, "ip", ipstr, sizeof(ipstr)) || !parse_ip(ipstr, r.ip)) {
		puts("dom0: net-test: FAIL no valid ip=A.B.C.D on the command line");
		return 1;
	}
	cmdline_get(cl, "nic", nic, sizeof(nic));
	for (unsigned i = 0; i < netdev_count(); i++)
		if (!strcmp(netdev_get(i)->name, nic))
			r.nd = netdev_get(i);
	if (!r.nd) {
		printf("dom0: net-test: configured NIC %s absent: skipped\n", nic);
		return 0;
	}
	netdev_set_rx(r.nd, rx, &r);
	const u8 *m = r.nd->mac;
	printf("dom0: net-test: ready ip %s on %s (%s) MAC %02x:%02x:%02x:%02x:%02x:%02x link %s\n",
	       ipstr, r.nd->name, r.nd->driver, m[0], m[1], m[2], m[3], m[4], m[5],
	       r.nd->link_up ? "up" : "down");

	u64 end = drv_now_us() + NET_TEST_TIMEOUT_US;
	while (!r.burst_done && drv_now_us() < end)
		if (!netdev_poll(r.nd) && netdev_wait(r.nd, 100000))
			r.wakeups++;
	/* Late replies in flight go out before the report. */
	for (int i = 0; i < 1000; i++)
		netdev_poll(r.nd);

	printf("dom0: net-test: answered %lu ARP requests and %lu echo requests; %lu other frames\n",
	       r.arp_replies, r.echo_replies, r.other);
	printf("dom0: net-test: %s: %lu interrupts (%s), %lu sleeps ended by one\n", r.nd->name,
	       drv_irq_count(r.nd->irq), drv_irq_name(r.nd->irq), r.wakeups);
	bool ok = r.burst_done && r.burst_got == r.burst_total && r.arp_replies && r.echo_replies;
	printf("dom0: net-test: %s burst: received %u of %u frames (%u duplicates)%s; "
	       "%s: rx %lu frames, tx %lu frames, rx errors %lu\n",
	       ok ? "PASS" : "FAIL", r.burst_got, r.burst_total, r.burst_dups,
	       r.burst_done ? "" : ", no end-of-burst frame (time-out)", r.nd->name,
	       r.nd->rx_frames, r.nd->tx_frames, r.nd->rx_errors);
	return ok ? 0 : 1;
}
