/*
 * dom0's learning bridge, the pure core (contract: bridge.h; design:
 * docs/bridge.md).
 *
 * The model is IEEE 802.1D's transparent bridge without spanning tree, as
 * Linux's net/bridge does it for Xen's xenbr0: learn the source MAC of
 * every valid frame on the port it came in on, forward a frame whose
 * destination is a learned unicast MAC to that one port, flood everything
 * else (broadcast, multicast, unknown unicast) to every port but the
 * source, and never send a frame back where it came from.
 *
 * The FDB is a flat array scanned linearly: BRIDGE_FDB_SIZE (256) entries
 * of 16 bytes fit in a few cache lines' worth of compares per frame, no
 * tombstones or rehashing to get wrong, and ageing is a compare of the
 * entry's last-seen time against `now`, so no timer is needed: an aged
 * entry is simply ignored and reused.
 */
#include <lib/errno.h>
#include <lib/string.h>

#include "bridge.h"

#define BRIDGE_MAX_BRIDGES 4
#define BRIDGE_MAX_NESTING 4

struct fdb_entry {
	u8 mac[6];
	struct bridge_port *port; /* NULL: free */
	u64 seen_ns;              /* last frame from mac */
};

struct bridge {
	char name[16]; /* "" = free slot */
	struct bridge_port *ports[BRIDGE_MAX_PORTS];
	unsigned nr_ports;
	struct fdb_entry fdb[BRIDGE_FDB_SIZE];
	unsigned nesting; /* bridge_input calls in progress (a port's xmit may reply) */
	struct bridge_stats stats;
};

static struct bridge bridges[BRIDGE_MAX_BRIDGES];

static bool name_ok(const char *name)
{
	size_t n = name ? strnlen(name, sizeof(bridges[0].name)) : 0;
	return n > 0 && n < sizeof(bridges[0].name);
}

struct bridge *bridge_find(const char *name)
{
	if (!name_ok(name))
		return NULL;
	for (unsigned i = 0; i < BRIDGE_MAX_BRIDGES; i++)
		if (bridges[i].name[0] && strcmp(bridges[i].name, name) == 0)
			return &bridges[i];
	return NULL;
}

struct bridge *bridge_get(const char *name)
{
	struct bridge *br = bridge_find(name);

	if (br || !name_ok(name))
		return br;
	for (unsigned i = 0; i < BRIDGE_MAX_BRIDGES; i++)
		if (!bridges[i].name[0]) {
			br = &bridges[i];
			memset(br, 0, sizeof(*br));
			memcpy(br->name, name, strlen(name) + 1);
			return br;
		}
	return NULL;
}

const char *bridge_name(const struct bridge *br)
{
	return br->name;
}

int bridge_destroy(struct bridge *br)
{
	if (!br)
		return -EINVAL;
	if (br->nr_ports)
		return -EBUSY;
	memset(br, 0, sizeof(*br));
	return 0;
}

int bridge_port_add(struct bridge *br, struct bridge_port *p)
{
	if (!br || !p || !p->xmit)
		return -EINVAL;
	if (p->br)
		return -EBUSY;
	for (unsigned i = 0; i < BRIDGE_MAX_PORTS; i++)
		if (!br->ports[i]) {
			br->ports[i] = p;
			br->nr_ports++;
			p->br = br;
			p->index = i; /* counters left as the owner set them */
			return 0;
		}
	return -ENOSPC;
}

void bridge_port_remove(struct bridge_port *p)
{
	struct bridge *br = p ? p->br : NULL;

	if (!br || p->index >= BRIDGE_MAX_PORTS || br->ports[p->index] != p)
		return;
	/* Forgotten at once, not left to age: a frame to one of its MACs is
	 * flooded (and so reaches it if it reappears elsewhere) rather than
	 * sent to a port that no longer exists. */
	for (unsigned i = 0; i < BRIDGE_FDB_SIZE; i++)
		if (br->fdb[i].port == p)
			br->fdb[i].port = NULL;
	br->ports[p->index] = NULL;
	br->nr_ports--;
	p->br = NULL;
}

static bool fresh(const struct fdb_entry *e, u64 now_ns)
{
	/* A clock that went backwards (it must not) keeps the entry. */
	return e->port && (now_ns < e->seen_ns || now_ns - e->seen_ns < BRIDGE_AGEING_NS);
}

static struct fdb_entry *fdb_find(struct bridge *br, const u8 mac[6])
{
	for (unsigned i = 0; i < BRIDGE_FDB_SIZE; i++)
		if (br->fdb[i].port && memcmp(br->fdb[i].mac, mac, 6) == 0)
			return &br->fdb[i];
	return NULL;
}

/* Learns that `mac` is behind `p` (802.1D 7.8). A MAC that moves to
 * another port follows it at once (a guest migrated, a cable moved). When
 * every entry is live, the MAC is not learned (counted in fdb_full) and
 * frames to it are flooded: evicting a live entry instead would let a
 * source-MAC flood from one port push everyone else's entries out. */
static void fdb_learn(struct bridge *br, struct bridge_port *p, const u8 mac[6], u64 now_ns)
{
	struct fdb_entry *e = fdb_find(br, mac);

	if (!e) {
		for (unsigned i = 0; i < BRIDGE_FDB_SIZE && !e; i++)
			if (!fresh(&br->fdb[i], now_ns))
				e = &br->fdb[i];
		if (!e) {
			br->stats.fdb_full++;
			return;
		}
		memcpy(e->mac, mac, 6);
		br->stats.learned++;
	} else if (e->port != p) {
		br->stats.moved++;
	}
	e->port = p;
	e->seen_ns = now_ns;
}

struct bridge_port *bridge_lookup(struct bridge *br, const u8 mac[6], u64 now_ns)
{
	struct fdb_entry *e = fdb_find(br, mac);

	return e && fresh(e, now_ns) ? e->port : NULL;
}

static void port_send(struct bridge_port *p, const u8 *frame, size_t len)
{
	if (p->xmit(p, frame, len) == 0) {
		p->tx_frames++;
		p->tx_bytes += len;
	} else {
		p->tx_dropped++;
	}
}

void bridge_input(struct bridge_port *from, const u8 *frame, size_t len, u64 now_ns)
{
	struct bridge *br = from ? from->br : NULL;

	if (!br)
		return;
	/* Shorter than a header, longer than the MTU allows, or a source
	 * that no station can have (multicast, or all zeroes: Linux's
	 * br_handle_frame drops those too, is_valid_ether_addr). */
	static const u8 zero[6];
	if (!frame || len < 14 || len > BRIDGE_MAX_FRAME || (frame[6] & 1) ||
	    memcmp(frame + 6, zero, 6) == 0) {
		from->rx_errors++;
		return;
	}
	from->rx_frames++;
	from->rx_bytes += len;
	/* A port's xmit may answer at once (dom0's endpoint replies to a
	 * ping from inside its xmit), which re-enters here; each answer is
	 * to a different frame, so the depth is small, but a pair of ports
	 * that echo everything would recurse without end: bound it. */
	if (br->nesting >= BRIDGE_MAX_NESTING) {
		br->stats.too_deep++;
		return;
	}
	br->nesting++;
	fdb_learn(br, from, frame + 6, now_ns);

	struct bridge_port *to = (frame[0] & 1) ? NULL : bridge_lookup(br, frame, now_ns);
	if (to) {
		if (to != from) {
			br->stats.forwarded++;
			port_send(to, frame, len);
		} else
			br->stats.filtered++; /* the destination is on the source's side */
	} else {
		br->stats.flooded++;
		for (unsigned i = 0; i < BRIDGE_MAX_PORTS; i++) {
			struct bridge_port *p = br->ports[i];
			/* Re-read each time: an xmit may have removed a port. */
			if (p && p != from)
				port_send(p, frame, len);
		}
	}
	br->nesting--;
}

unsigned bridge_nr_ports(const struct bridge *br)
{
	return br->nr_ports;
}

unsigned bridge_nr_fdb(const struct bridge *br, u64 now_ns)
{
	unsigned n = 0;

	for (unsigned i = 0; i < BRIDGE_FDB_SIZE; i++)
		n += fresh(&br->fdb[i], now_ns);
	return n;
}

struct bridge_port *bridge_port_at(const struct bridge *br, unsigned i)
{
	return i < BRIDGE_MAX_PORTS ? br->ports[i] : NULL;
}

void bridge_get_stats(const struct bridge *br, struct bridge_stats *out)
{
	*out = br->stats;
}
