/*
 * A slow frontend and a sender for it (pvtest.h; docs/pvnet.md, "rx
 * queue"): netback must hold the frames that come for a frontend that has
 * posted no rx buffer yet, up to its queue's bounds, and drop and count
 * only past them. dom0's scenario pvnet_mode=slowrx
 * (guest/dom0/test/domains_netslow.c) runs the phases through the store,
 * writing into each guest's data/ directory:
 *
 * role=net-slowrx peer=MAC phases=K
 *     per phase k = 1..K: connects vif 0 with no rx buffer posted
 *     (netfront_connect_rx_held), writes data/ready=k, waits for
 *     data/post=k, posts its buffers, receives the peer's frames until the
 *     peer's end frame, checking every frame's number (0, 1, ... in
 *     order), length and bytes; prints
 *       "net-slowrx: phase k: received N frames, bad B"
 *     and closes the vif. PASS when no frame was bad.
 * role=net-burst peer=MAC phases=N1xL1,N2xL2,...
 *     per phase k: waits for data/go=k, sends Nk frames of Lk bytes to the
 *     peer as fast as its ring takes them, waits until netback has taken
 *     every one (all tx responses back), writes data/sent=k; waits for
 *     data/end=k and sends one end frame. Its phase line gives the time
 *     from the first send to the last response ("in T us").
 * role=net-sink peer=MAC
 *     `make bench`'s receiver (tests/pvnet/test_pvnet_bench.py): connects
 *     vif 0, sends the peer one end frame (so that the bridge learns its
 *     MAC, as any real host's first frame would teach it, and does not
 *     flood the stream to every port), writes data/ready=1, counts the peer's data frames (numbers
 *     and lengths checked, not every byte: it is to cost what a receiver
 *     costs) until the peer's end frame or 120 s, and prints
 *       "net-sink: received N frames B bytes lost L bad X in T us"
 *     (T: from the first data frame to the last; L: numbers skipped).
 *     PASS when it received at least one and none was bad.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "gnttab.h"
#include "guest.h"
#include "netfront.h"
#include "pages.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define NS 1000000000ULL
#define ETHERTYPE_KEEL 0x88b5
enum { T_DATA = 2, T_END = 4 };

static struct netfront nf;
static u8 peer[6];
static u8 frame[1514];
static u32 rx_next, rx_bad;
static bool end_seen;

static u8 pattern(u32 seq, unsigned i)
{
	return (u8)(seq * 11u + i * 5u + 3);
}

static size_t build(u8 type, u32 seq, size_t len)
{
	memcpy(frame, peer, 6);
	memcpy(frame + 6, nf.mac, 6);
	frame[12] = ETHERTYPE_KEEL >> 8;
	frame[13] = ETHERTYPE_KEEL & 0xff;
	frame[14] = type;
	memcpy(frame + 15, &seq, 4);
	for (size_t i = 19; i < len; i++)
		frame[i] = pattern(seq, (unsigned)i);
	return len;
}

static int parse_mac(const char *s, u8 *mac)
{
	for (unsigned i = 0; i < 6; i++) {
		u64 b = 0;
		for (unsigned k = 0; k < 2; k++, s++) {
			char c = (char)(*s | 32);
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
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
	char mac[24];
	int rc;

	if (!cmdline_get(si_cmdline(si), "peer", mac, sizeof(mac)) || parse_mac(mac, peer))
		fail("peer=MAC missing or bad");
	if (!pages_init(si))
		fail("no page pool");
	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);
}

/* Waits (at most 120 s) until data/<key> reads as the number k. */
static void wait_node(const char *key, u64 k)
{
	char path[32], buf[24];
	const char *end;
	u64 deadline = pvclock_now_ns() + 120 * NS, v;

	snprintf(path, sizeof(path), "data/%s", key);
	for (;;) {
		if (xb_read(xenbus(), 0, path, buf, sizeof(buf)) >= 0 && !parse_u64(buf, &end, &v) &&
		    !*end && v == k)
			return;
		if (pvclock_now_ns() > deadline)
			fail("no data/%s=%lu from dom0", key, k);
		if (nf.connected)
			netfront_poll(&nf, NULL, NULL);
		pvclock_sleep_ns(NS / 100);
	}
}

static void put_node(const char *key, u64 k)
{
	char path[32], val[24];
	int rc;

	snprintf(path, sizeof(path), "data/%s", key);
	snprintf(val, sizeof(val), "%lu", k);
	if ((rc = xb_write(xenbus(), 0, path, val)))
		fail("write %s: %d", path, rc);
}

static void on_rx(const u8 *f, size_t len, void *arg)
{
	u32 seq;

	(void)arg;
	if (len < 60 || memcmp(f + 6, peer, 6) || f[12] != (ETHERTYPE_KEEL >> 8) ||
	    f[13] != (ETHERTYPE_KEEL & 0xff))
		return;
	memcpy(&seq, f + 15, 4);
	if (f[14] == T_END) {
		end_seen = true;
		return;
	}
	bool ok = f[14] == T_DATA && seq == rx_next;
	for (size_t i = 19; ok && i < len; i++)
		ok = f[i] == pattern(seq, (unsigned)i);
	if (!ok) {
		if (rx_bad++ < 5)
			printf("net-slowrx: bad frame seq %u (want %u) len %lu\n", seq, rx_next,
			       (unsigned long)len);
		return;
	}
	rx_next++;
}

void role_net_slowrx(const struct hvm_start_info *si)
{
	u64 phases = arg_u64("phases");
	u32 bad = 0;
	int rc;

	setup(si);
	put_node("post", 0); /* ours first, so that dom0's writes keep our perms */
	for (u64 k = 1; k <= phases; k++) {
		if ((rc = netfront_connect_rx_held(&nf, 0, 30 * NS)))
			fail("netfront_connect_rx_held: %d", rc);
		rx_next = rx_bad = 0;
		end_seen = false;
		put_node("ready", k);
		wait_node("post", k);
		netfront_rx_release(&nf);
		u64 deadline = pvclock_now_ns() + 120 * NS;
		while (!end_seen) {
			if (pvclock_now_ns() > deadline)
				fail("phase %lu: no end frame (received %u)", k, rx_next);
			if (!netfront_poll(&nf, on_rx, NULL))
				netfront_wait(&nf, NS / 100);
		}
		printf("net-slowrx: phase %lu: received %u frames, bad %u\n", k, rx_next, rx_bad);
		bad += rx_bad;
		netfront_close(&nf, 5 * NS);
		if (nf.grants_kept || nf.bad_rsp)
			fail("grants kept %lu, bad responses %lu", nf.grants_kept, nf.bad_rsp);
	}
	if (bad)
		fail("%u bad frames", bad);
	printf("pvtest: net-slowrx: PASS\n");
}

static bool tx_idle(void)
{
	for (unsigned i = 0; i < NF_TX; i++)
		if (nf.tx_busy[i])
			return false;
	return true;
}

static void send_one(size_t len, u64 deadline)
{
	while (netfront_send(&nf, frame, len) == -EBUSY) {
		if (pvclock_now_ns() > deadline)
			fail("tx ring stuck");
		netfront_wait(&nf, NS / 100);
		netfront_poll(&nf, NULL, NULL);
	}
}

void role_net_burst(const struct hvm_start_info *si)
{
	char list[128];
	int rc;

	if (!cmdline_get(si_cmdline(si), "phases", list, sizeof(list)))
		fail("phases=NxL,... missing");
	setup(si);
	if ((rc = netfront_connect(&nf, 0, 30 * NS)))
		fail("netfront_connect: %d", rc);
	/* Ours first, so that dom0's writes keep our perms; sent=0 last says
	 * we are ready. */
	put_node("go", 0);
	put_node("end", 0);
	put_node("sent", 0);
	u64 k = 0;
	for (const char *p = list; *p; ) {
		u64 n, len;
		const char *end;
		if (parse_u64(p, &end, &n) || *end != 'x' || parse_u64(end + 1, &end, &len) ||
		    (*end && *end != ',') || len < 60 || len > 1514)
			fail("phases: bad entry at \"%s\"", p);
		p = *end ? end + 1 : end;
		k++;
		wait_node("go", k);
		u64 t0 = pvclock_now_ns(), deadline = t0 + 60 * NS;
		for (u64 s = 0; s < n; s++)
			send_one(build(T_DATA, (u32)s, len), deadline);
		/* Every frame taken by netback (and so handed to the bridge). */
		while (!tx_idle()) {
			if (pvclock_now_ns() > deadline)
				fail("phase %lu: tx responses missing", k);
			netfront_wait(&nf, NS / 100);
			netfront_poll(&nf, NULL, NULL);
		}
		printf("net-burst: phase %lu: sent %lu frames of %lu bytes in %lu us\n", k, n, len,
		       (pvclock_now_ns() - t0) / 1000);
		put_node("sent", k);
		wait_node("end", k);
		send_one(build(T_END, 0, 60), pvclock_now_ns() + 60 * NS);
	}
	/* The last end frame taken before closing. */
	u64 deadline = pvclock_now_ns() + 10 * NS;
	while (!tx_idle() && pvclock_now_ns() < deadline) {
		netfront_wait(&nf, NS / 100);
		netfront_poll(&nf, NULL, NULL);
	}
	netfront_close(&nf, 5 * NS);
	if (nf.grants_kept || nf.bad_rsp || nf.tx_errors)
		fail("grants kept %lu, bad responses %lu, tx errors %lu", nf.grants_kept,
		     nf.bad_rsp, nf.tx_errors);
	printf("pvtest: net-burst: PASS\n");
}

static u64 sink_frames, sink_bytes, sink_lost, sink_first, sink_last;

static void on_sink(const u8 *f, size_t len, void *arg)
{
	u32 seq;

	(void)arg;
	if (len < 60 || memcmp(f + 6, peer, 6) || f[12] != (ETHERTYPE_KEEL >> 8) ||
	    f[13] != (ETHERTYPE_KEEL & 0xff))
		return;
	memcpy(&seq, f + 15, 4);
	if (f[14] == T_END) {
		end_seen = true;
		return;
	}
	if (f[14] != T_DATA || seq < rx_next) {
		rx_bad++;
		return;
	}
	sink_last = pvclock_now_ns();
	if (!sink_frames)
		sink_first = sink_last;
	sink_lost += seq - rx_next;
	rx_next = seq + 1;
	sink_frames++;
	sink_bytes += len;
}

void role_net_sink(const struct hvm_start_info *si)
{
	int rc;

	setup(si);
	if ((rc = netfront_connect(&nf, 0, 30 * NS)))
		fail("netfront_connect: %d", rc);
	send_one(build(T_END, 0, 60), pvclock_now_ns() + 10 * NS);
	put_node("ready", 1);
	u64 deadline = pvclock_now_ns() + 120 * NS;
	while (!end_seen && pvclock_now_ns() < deadline)
		if (!netfront_poll(&nf, on_sink, NULL))
			netfront_wait(&nf, NS / 100);
	printf("net-sink: received %lu frames %lu bytes lost %lu bad %u in %lu us%s\n",
	       sink_frames, sink_bytes, sink_lost, rx_bad, (sink_last - sink_first) / 1000,
	       end_seen ? "" : " (no end frame)");
	netfront_close(&nf, 5 * NS);
	if (!sink_frames || rx_bad || nf.grants_kept || nf.bad_rsp)
		fail("received %lu, bad %u, grants kept %lu, bad responses %lu", sink_frames,
		     rx_bad, nf.grants_kept, nf.bad_rsp);
	printf("pvtest: net-sink: PASS\n");
}
