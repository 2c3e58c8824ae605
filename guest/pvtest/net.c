/*
 * The PV network from a domU (pvtest.h, guest/lib/netfront.h): two roles
 * for dom0's netback and bridge (docs/pvnet.md).
 *
 * role=net peer=MAC count=N
 *     connects vif 0, says hello to the peer's MAC until it hears from it,
 *     then sends N numbered frames (lengths 60..1514, a pattern per
 *     number) with a window of NET_WINDOW unacknowledged frames (the
 *     peer acknowledges every 8th), and receives the peer's N, checking
 *     order, length and every byte. Ends with
 *     "net: sent N received N in-order N bad 0 tx-frames T rx-frames R"
 *     (T, R: every frame its netfront sent and received, for dom0's
 *     counters) then "pvtest: net: PASS" when nothing was lost.
 *
 * role=net-hostile bad=CLASS[,CLASS...]
 *     for each class: connects, puts that kind of bad slot on its tx ring
 *     (size, bigsize, offset, id, gref, slots, extra, prod), waits for the
 *     backend to go to Closing and prints
 *     "net-hostile: CLASS: backend state S", then closes; bad=flood sends
 *     frames to its own MAC as fast as it can for 3 s (the bridge drops
 *     them; the backend must stay Connected and fair to the others).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "netfront.h"
#include "pages.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define NS 1000000000ULL
#define NET_WINDOW 16
#define ETHERTYPE_KEEL 0x88b5 /* IEEE local experimental */
enum { T_HELLO = 1, T_DATA = 2, T_ACK = 3 };

static struct netfront nf;
static u8 peer[6];
static u8 frame[1514];
static u32 rx_next, rx_bad, acked, hellos_heard, ack_due, expected;

static u16 data_len(u32 seq)
{
	return (u16)(60 + (seq * 97u) % 1455u);
}

static u8 data_byte(u32 seq, unsigned i)
{
	return (u8)(seq * 7u + i * 13u + 1);
}

static size_t build(u8 type, u32 seq, const u8 *dst)
{
	size_t len = type == T_DATA ? data_len(seq) : 60;

	memcpy(frame, dst, 6);
	memcpy(frame + 6, nf.mac, 6);
	frame[12] = ETHERTYPE_KEEL >> 8;
	frame[13] = ETHERTYPE_KEEL & 0xff;
	frame[14] = type;
	memcpy(frame + 15, &seq, 4);
	for (size_t i = 19; i < len; i++)
		frame[i] = type == T_DATA ? data_byte(seq, (unsigned)i) : 0;
	return len;
}

static void on_rx(const u8 *f, size_t len, void *arg);

static void on_rx(const u8 *f, size_t len, void *arg)
{
	u32 seq;

	(void)arg;
	if (len < 60 || memcmp(f + 6, peer, 6) || f[12] != (ETHERTYPE_KEEL >> 8) ||
	    f[13] != (ETHERTYPE_KEEL & 0xff))
		return; /* not the peer's (a flood elsewhere, ARP ...) */
	memcpy(&seq, f + 15, 4);
	switch (f[14]) {
	case T_HELLO:
		hellos_heard++;
		break;
	case T_ACK:
		if (seq > acked)
			acked = seq;
		break;
	case T_DATA: {
		bool ok = seq == rx_next && len == data_len(seq);
		for (size_t i = 19; ok && i < len; i++)
			ok = f[i] == data_byte(seq, (unsigned)i);
		if (!ok) {
			if (rx_bad++ < 5)
				printf("net: bad frame seq %u (want %u) len %lu\n", seq, rx_next,
				       (unsigned long)len);
			break;
		}
		rx_next++;
		/* Sent by the caller after the poll: not from inside it. */
		if (rx_next % 8 == 0 || rx_next == expected)
			ack_due = rx_next;
		break;
	}
	}
}

static void send_or_wait(u8 type, u32 seq, const u8 *dst, u64 deadline)
{
	size_t len = build(type, seq, dst);

	/* Never called from on_rx (acks are sent after the poll), so polling
	 * here may deliver frames: with on_rx, or they would be lost. */
	while (netfront_send(&nf, frame, len) == -EBUSY) {
		if (pvclock_now_ns() > deadline)
			fail("tx ring stuck (frame %u type %u)", seq, type);
		netfront_wait(&nf, NS / 100);
		netfront_poll(&nf, on_rx, NULL);
	}
}

static int parse_mac(const char *s, u8 *mac)
{
	for (unsigned i = 0; i < 6; i++) {
		u64 b = 0;
		for (unsigned k = 0; k < 2; k++, s++) {
			char c = *s;
			int d = c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
			if (d < 0)
				return -EINVAL;
			b = b * 16 + (u64)d;
		}
		mac[i] = (u8)b;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	return 0;
}

static void setup(const struct hvm_start_info *si)
{
	int rc;

	if (!pages_init(si))
		fail("no page pool");
	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);
}

void role_net(const struct hvm_start_info *si)
{
	char mac[24];
	u64 count = arg_u64("count");
	int rc;

	expected = (u32)count;
	if (!cmdline_get(si_cmdline(si), "peer", mac, sizeof(mac)) || parse_mac(mac, peer))
		fail("peer=MAC missing or bad");
	setup(si);
	if ((rc = netfront_connect(&nf, 0, 30 * NS)))
		fail("netfront_connect: %d", rc);
	printf("net: connected, mac %02x:%02x:%02x:%02x:%02x:%02x\n", nf.mac[0], nf.mac[1],
	       nf.mac[2], nf.mac[3], nf.mac[4], nf.mac[5]);

	/* Hello until the peer is heard: its vif is on the bridge then. */
	u64 deadline = pvclock_now_ns() + 60 * NS;
	while (!hellos_heard && !rx_next) {
		if (pvclock_now_ns() > deadline)
			fail("never heard the peer");
		send_or_wait(T_HELLO, 0, peer, deadline);
		netfront_wait(&nf, NS / 50);
		netfront_poll(&nf, on_rx, NULL);
	}
	/* Once more, so that the peer hears us even if it heard us first. */
	send_or_wait(T_HELLO, 0, peer, deadline);

	u64 t0 = pvclock_now_ns();
	deadline = t0 + 120 * NS;
	u32 sent = 0;
	while (sent < count || rx_next < count) {
		if (pvclock_now_ns() > deadline)
			fail("timed out: sent %u acked %u received %u of %lu", sent, acked, rx_next,
			     count);
		while (sent < count && sent - acked < NET_WINDOW) {
			send_or_wait(T_DATA, sent, peer, deadline);
			sent++;
		}
		if (!netfront_poll(&nf, on_rx, NULL))
			netfront_wait(&nf, NS / 100);
		if (ack_due) {
			send_or_wait(T_ACK, ack_due, peer, deadline);
			ack_due = 0;
		}
	}
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	/* Let the peer finish too: keep answering for a moment. */
	u64 linger = pvclock_now_ns() + 2 * NS;
	while (pvclock_now_ns() < linger) {
		netfront_poll(&nf, on_rx, NULL);
		if (ack_due) {
			send_or_wait(T_ACK, ack_due, peer, linger + NS);
			ack_due = 0;
		}
		netfront_wait(&nf, NS / 100);
	}
	printf("net: sent %u received %u in-order %u bad %u tx-frames %lu rx-frames %lu in %lu ms\n",
	       sent, rx_next, rx_next, rx_bad, nf.tx_frames, nf.rx_frames, ms);
	netfront_close(&nf, 5 * NS);
	printf("net: closed, grants kept %lu bad responses %lu\n", nf.grants_kept, nf.bad_rsp);
	if (rx_bad || rx_next != count || nf.grants_kept || nf.bad_rsp)
		fail("lost or bad frames");
	printf("pvtest: net: PASS\n");
}

static void attack(const char *cls)
{
	struct netif_tx_request s[20];
	grant_ref_t g = (grant_ref_t)nf.tx_ref[0];
	unsigned n = 1;

	memset(s, 0, sizeof(s));
	s[0] = (struct netif_tx_request){ .gref = g, .offset = 0, .id = 0, .size = 60 };
	if (!strcmp(cls, "size"))
		s[0].size = 10;
	else if (!strcmp(cls, "bigsize"))
		s[0].size = 9000;
	else if (!strcmp(cls, "offset"))
		s[0].offset = 4000, s[0].size = 200;
	else if (!strcmp(cls, "id"))
		s[0].id = 300;
	else if (!strcmp(cls, "gref"))
		s[0].gref = gnttab_nr_refs() + 100;
	else if (!strcmp(cls, "slots")) {
		n = 20;
		s[0].size = 1000;
		for (unsigned i = 0; i < n; i++) {
			s[i].gref = g;
			s[i].id = (u16)i;
			if (i)
				s[i].size = 10;
			s[i].flags = i + 1 < n ? NETTXF_more_data : 0;
		}
	} else if (!strcmp(cls, "extra")) {
		struct netif_extra_info e = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
		s[0].flags = NETTXF_extra_info;
		memcpy(&s[1], &e, sizeof(e));
		n = 2;
	} else if (!strcmp(cls, "prod")) {
		nf.tx.sring->req_prod = nf.tx.rsp_cons + 1000;
		evtchn_send(nf.port);
		return;
	}
	netfront_push_raw(&nf, s, n);
}

void role_net_hostile(const struct hvm_start_info *si)
{
	char list[160];

	if (!cmdline_get(si_cmdline(si), "bad", list, sizeof(list)))
		fail("bad=CLASS,... missing");
	setup(si);
	for (char *c = list; *c;) {
		char *e = strchr(c, ',');
		if (e)
			*e = 0;
		int rc = netfront_connect(&nf, 0, 30 * NS);
		if (rc)
			fail("netfront_connect before %s: %d", c, rc);
		int st = 0;
		if (!strcmp(c, "flood")) {
			u64 end = pvclock_now_ns() + 3 * NS;
			u64 n = 0;
			while (pvclock_now_ns() < end) {
				size_t len = build(T_DATA, (u32)n, nf.mac); /* to itself */
				if (!netfront_send(&nf, frame, len))
					n++;
				else
					netfront_poll(&nf, NULL, NULL);
			}
			netfront_poll(&nf, NULL, NULL);
			st = netfront_backend_state(&nf);
			printf("net-hostile: flood: %lu frames, backend state %d\n", n, st);
		} else {
			attack(c);
			u64 end = pvclock_now_ns() + 10 * NS;
			while ((st = netfront_backend_state(&nf)) == XenbusStateConnected &&
			       pvclock_now_ns() < end)
				pvclock_sleep_ns(NS / 100);
			printf("net-hostile: %s: backend state %d\n", c, st);
		}
		netfront_close(&nf, 5 * NS);
		if (!e)
			break;
		c = e + 1;
	}
	printf("pvtest: net-hostile: PASS\n");
}
