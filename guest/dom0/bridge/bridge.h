/*
 * dom0's learning Ethernet bridge (guest/dom0/bridge/): joins the
 * physical NICs (drivers/net), every guest vif (netback) and dom0's own
 * address into one layer-2 segment, as Linux's bridge does for Xen's
 * `xenbr0`.
 *
 * The core (bridge.c) is pure: no hypercalls, no driver calls, time
 * passed in, so the host unit tests drive it as is. A port is anything
 * that can send a frame out (its xmit); the bridge learns source MACs per
 * port (ageing BRIDGE_AGEING_NS after the last frame seen from that MAC),
 * forwards a known unicast to its one port, floods broadcast, multicast
 * and unknown unicast to every other port, and never sends a frame back
 * out of the port it came in on. Frames shorter than 14 bytes or longer
 * than BRIDGE_MAX_FRAME, and frames whose source MAC is multicast or
 * all-zero (no station has it, 802.1D 7.9.1), are counted as rx_errors and
 * dropped.
 *
 * A full FDB (BRIDGE_FDB_SIZE live entries) evicts nothing: a new source
 * MAC is then not learned (bridge_stats.fdb_full), its frames are still
 * forwarded, and replies to it are flooded until entries age out. So a
 * guest sending from many MACs cannot push other stations out of the table.
 *
 * An xmit may call bridge_input (dom0's endpoint answering inline); the
 * bridge allows that a few levels deep and drops deeper frames (too_deep).
 *
 * Ports are owned by their caller (a struct inside the NIC's, the vif's or
 * dom0's endpoint state) and must stay alive until bridge_port_remove.
 * Single-threaded: everything runs from dom0's event loop.
 */
#ifndef GUEST_DOM0_BRIDGE_H
#define GUEST_DOM0_BRIDGE_H

#include <lib/types.h>

#define BRIDGE_MAX_PORTS  32
#define BRIDGE_MAX_FRAME  1514              /* MTU 1500 + Ethernet header, no FCS */
#define BRIDGE_FDB_SIZE   256               /* learned MACs */
#define BRIDGE_AGEING_NS  (300ULL * 1000000000ULL) /* Linux's default 300 s */

struct bridge_port {
	/* Set by the owner before bridge_port_add. */
	char name[16];   /* "eth0", "vif3.0", "dom0" */
	/* Sends `frame` out of this port; must copy what it keeps (the
	 * buffer is the bridge's caller's). 0, or -errno if dropped
	 * (counted in tx_dropped). */
	int (*xmit)(struct bridge_port *p, const u8 *frame, size_t len);
	void *owner;     /* the owner's state, for xmit */
	/* Counters, kept by the bridge. rx: frames that came in from this
	 * port; tx: frames sent out of it. */
	u64 rx_frames, rx_bytes, rx_errors;
	u64 tx_frames, tx_bytes, tx_dropped;
	/* The bridge's. */
	struct bridge *br;
	unsigned index;
};

struct bridge;

/* The bridge named `name` ("xenbr0"), creating it if needed; NULL when
 * none is left (-ENOSPC) or the name is empty or too long. */
struct bridge *bridge_get(const char *name);
/* The bridge named `name`, or NULL. */
struct bridge *bridge_find(const char *name);
const char *bridge_name(const struct bridge *br);
/* Deletes br (its slot and name are free again): 0, or -EBUSY while it
 * still has ports. */
int bridge_destroy(struct bridge *br);

/* Joins p to br: 0, -ENOSPC (BRIDGE_MAX_PORTS), -EBUSY (already on a
 * bridge), -EINVAL (no xmit). */
int bridge_port_add(struct bridge *br, struct bridge_port *p);
/* Takes p off its bridge and forgets every MAC learned on it. */
void bridge_port_remove(struct bridge_port *p);

/* A frame that arrived on port `from` at time now_ns: learns its source,
 * forwards or floods it. */
void bridge_input(struct bridge_port *from, const u8 *frame, size_t len, u64 now_ns);

/* The port `mac` was last seen on (and not aged out at now_ns), or NULL. */
struct bridge_port *bridge_lookup(struct bridge *br, const u8 mac[6], u64 now_ns);
/* Ports on br right now, and learned entries (aged ones not counted). */
unsigned bridge_nr_ports(const struct bridge *br);
unsigned bridge_nr_fdb(const struct bridge *br, u64 now_ns);
/* The i-th port slot of br (0 <= i < BRIDGE_MAX_PORTS), NULL when empty:
 * for reports. */
struct bridge_port *bridge_port_at(const struct bridge *br, unsigned i);

/* Bridge-wide counters (the per-port ones live in struct bridge_port). */
struct bridge_stats {
	u64 forwarded;   /* known unicast sent to its one port */
	u64 flooded;     /* broadcast, multicast or unknown unicast frames flooded */
	u64 filtered;    /* known unicast whose port is the one it came in on: dropped */
	u64 learned;     /* FDB entries created (a MAC moving counts as a move) */
	u64 moved;       /* a learned MAC seen on another port */
	u64 fdb_full;    /* source MACs not learned because the FDB was full */
	u64 too_deep;    /* frames dropped because an xmit re-entered bridge_input too deeply */
};
void bridge_get_stats(const struct bridge *br, struct bridge_stats *out);

#endif
