/*
 * The network self-test (test=net ip=A.B.C.D [nic=ethN]): a minimal
 * responder for dom0's own address on one NIC, driven by the host test
 * (tests/hw/test_hw.py) from a network namespace:
 *
 *  - ARP (RFC 826): requests for our address get a reply with our MAC;
 *  - ICMP echo (RFC 792) to our address gets an echo reply
 *    (both by guest/lib/inet.c, the endpoint of dom0's bridge address);
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
#include "inet.h"
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
	struct inet in;
	u64 other;
	u32 burst_total, burst_got, burst_dups;
	u64 wakeups;
	bool burst_done;
	u8 seen[BURST_MAX / 8];
};

static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static u32 get32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }

static void send(struct responder *r, const u8 *frame, size_t len)
{
	int rc;
	/* Transmit completions are reaped by poll; a full ring drains fast. */
	for (int tries = 0; (rc = netdev_xmit(r->nd, frame, len)) == -EBUSY && tries < 100000; tries++)
		netdev_poll(r->nd);
	if (rc)
		printf("dom0: net-test: transmit failed: %d\n", rc);
}

/* ARP and IPv4: the endpoint dom0's bridge address uses too (inet.h). */
static void handle_inet(struct responder *r, const u8 *f, size_t len)
{
	static u8 out[NETDEV_MAX_FRAME];
	int n = inet_input(&r->in, f, len, out, sizeof(out));

	if (n > 0)
		send(r, out, (size_t)n);
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
	case ETH_P_ARP:
	case ETH_P_IP: handle_inet(r, f, len); break;
	case ETH_P_BURST: handle_burst(r, f, len); break;
	default: r->other++; break;
	}
}

int hw_net_test(const char *cl)
{
	static struct responder r;
	char ipstr[20], nic[8] = "eth0";

	u32 addr;
	unsigned prefix = 24;
	if (!cmdline_get(cl, "ip", ipstr, sizeof(ipstr)) || inet_parse_cidr(ipstr, &addr, &prefix)) {
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
	inet_init(&r.in, r.nd->mac, addr, prefix);
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
	       r.in.st.arp_requests, r.in.st.echo_requests, r.other);
	printf("dom0: net-test: %s: %lu interrupts (%s), %lu sleeps ended by one\n", r.nd->name,
	       drv_irq_count(r.nd->irq), drv_irq_name(r.nd->irq), r.wakeups);
	bool ok = r.burst_done && r.burst_got == r.burst_total && r.in.st.arp_requests &&
		  r.in.st.echo_requests;
	printf("dom0: net-test: %s burst: received %u of %u frames (%u duplicates)%s; "
	       "%s: rx %lu frames, tx %lu frames, rx errors %lu\n",
	       ok ? "PASS" : "FAIL", r.burst_got, r.burst_total, r.burst_dups,
	       r.burst_done ? "" : ", no end-of-burst frame (time-out)", r.nd->name,
	       r.nd->rx_frames, r.nd->tx_frames, r.nd->rx_errors);
	return ok ? 0 : 1;
}
