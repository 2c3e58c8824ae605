/*
 * dom0's learning bridge (guest/dom0/bridge/bridge.c) driven by frames
 * from many ports, with ports leaving and joining and time jumping.
 *
 * Input: a sequence of operations (fuzz.h). Each op byte picks: a frame
 * in from a port (destination and source MACs from a small alphabet so
 * that learning, moves and forwarding all happen; a length that may be
 * out of range), a port leaving or rejoining, or the clock moving on.
 *
 * Invariants: no frame goes back out of the port it came in on; a
 * forwarded known unicast reaches exactly one port; bridge_lookup only
 * ever names a port that is on the bridge; the FDB never holds more than
 * BRIDGE_FDB_SIZE entries; per-port tx counters equal what the xmits saw.
 *
 * unit-sources: guest/dom0/bridge/bridge.c
 */
#include <lib/errno.h>
#include "../../guest/dom0/bridge/bridge.h"
#include "fuzz.h"

size_t strlcpy(char *dst, const char *src, size_t size);
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

#define NPORTS 6

static struct bridge_port ports[NPORTS];
static u64 seen[NPORTS];
static struct bridge_port *cur_from;
static unsigned cur_sends;

static int f_xmit(struct bridge_port *p, const u8 *frame, size_t len)
{
	fuzz_check(p != cur_from, "frame reflected to its source port %u", p->index);
	fuzz_check(len >= 14 && len <= BRIDGE_MAX_FRAME, "len %zu sent", len);
	(void)frame;
	cur_sends++;
	unsigned i = (unsigned)(p - ports);
	seen[i]++;
	return (frame[len - 1] & 0x0f) == 0x0f ? -EBUSY : 0; /* some drops */
}

static void mac_of(u8 *m, u8 sel)
{
	static const u8 base[6] = { 0x02, 0, 0, 0, 0, 0 };

	memcpy(m, base, 6);
	switch (sel >> 5) {
	case 0: memset(m, 0xff, 6); break;      /* broadcast */
	case 1: m[0] = 0x01; m[5] = sel; break; /* multicast */
	case 2: memset(m, 0, 6); break;         /* zero */
	default: m[5] = sel & 0x1f; break;      /* one of 32 stations */
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 frame[BRIDGE_MAX_FRAME + 16];
	struct fuzz_in in = { data, size };
	struct bridge *br = bridge_get("xenbr0");
	u64 now = 0;

	fuzz_check(br, "no bridge");
	memset(ports, 0, sizeof(ports));
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < NPORTS; i++) {
		ports[i].xmit = f_xmit;
		fuzz_check(bridge_port_add(br, &ports[i]) == 0, "add %u", i);
	}
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);
		struct bridge_port *p = &ports[op % NPORTS];

		switch ((op >> 4) & 7) {
		case 0:
			if (p->br)
				bridge_port_remove(p);
			else
				fuzz_check(bridge_port_add(br, p) == 0, "re-add");
			break;
		case 1:
			now += (u64)fuzz_u16(&in) << (fuzz_u8(&in) & 31);
			break;
		default: {
			u8 d = fuzz_u8(&in), s = fuzz_u8(&in);
			size_t len = fuzz_u16(&in) % (BRIDGE_MAX_FRAME + 16);
			u8 dm[6];

			memset(frame, op, sizeof(frame));
			mac_of(frame, d);
			mac_of(frame + 6, s);
			memcpy(dm, frame, 6);
			if (len > 14)
				frame[len - 1] = fuzz_u8(&in);
			struct bridge_port *known = (dm[0] & 1) ? NULL : bridge_lookup(br, dm, now);
			cur_from = p;
			cur_sends = 0;
			bridge_input(p, frame, len, now);
			cur_from = NULL;
			/* (A frame from a MAC to itself moves that MAC to the
			 * ingress port first, and is then filtered.) */
			if (known && known != p && p->br && len >= 14 && len <= BRIDGE_MAX_FRAME &&
			    !(frame[6] & 1) && (frame[6] | frame[11]) && memcmp(frame, frame + 6, 6))
				fuzz_check(cur_sends == 1, "known unicast sent %u times", cur_sends);
			break;
		}
		}
		unsigned live = bridge_nr_fdb(br, now);
		fuzz_check(live <= BRIDGE_FDB_SIZE, "%u entries", live);
		for (unsigned m = 0; m < 32; m++) {
			u8 mac[6];
			mac_of(mac, 0x60 | m);
			struct bridge_port *q = bridge_lookup(br, mac, now);
			fuzz_check(!q || (q->br == br && bridge_port_at(br, q->index) == q),
				   "lookup names a port off the bridge");
		}
	}
	for (unsigned i = 0; i < NPORTS; i++) {
		fuzz_check(ports[i].tx_frames + ports[i].tx_dropped == seen[i],
			   "port %u: tx %llu + dropped %llu != %llu xmits", i,
			   (unsigned long long)ports[i].tx_frames,
			   (unsigned long long)ports[i].tx_dropped, (unsigned long long)seen[i]);
		bridge_port_remove(&ports[i]);
	}
	fuzz_check(bridge_nr_fdb(br, now) == 0, "entries outlive their ports");
	fuzz_check(bridge_destroy(br) == 0, "destroy");
	return 0;
}
