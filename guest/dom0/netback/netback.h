/*
 * dom0's network backend (guest/dom0/netback/, docs/pvnet.md): serves
 * every guest vif, Xen's netback protocol (include/public/io/netif.h)
 * as Linux's xen-netfront expects it, and joins each vif to a bridge
 * (bridge/bridge.h) as port "vif<domid>.<devid>".
 *
 * It watches /local/domain/0/backend/vif in dom0's xenstored
 * (in-process, its own connection). A vif appears when the toolstack
 * (domain/launch_vif.c) writes its backend directory
 * (backend/vif/<domid>/<devid>/{frontend,frontend-id,online,state,mac,
 * bridge,handle}); netback then advertises its features and goes to
 * InitWait; when the frontend is Initialised or Connected it maps the
 * frontend's tx and rx rings (grant refs), binds its event channel(s),
 * joins the bridge and goes Connected. Frontend Closing/Closed, or the
 * backend directory disappearing, takes the vif down: off the bridge,
 * rings unmapped, channels closed, the slot freed.
 *
 * Every slot the frontend writes is validated (netif_check.h); a
 * violation takes that vif to Closing with one line
 * "dom0: netback: vifD.N: <rule>: disconnected". Work per ring per pass
 * is bounded (NB_TX_BUDGET packets, NB_RX_BUDGET frames); the rest is
 * done on the next loop iteration, after the other services.
 *
 * Requires gnttab_init (dom0's mapping window) and xsd_init first.
 */
#ifndef GUEST_DOM0_NETBACK_H
#define GUEST_DOM0_NETBACK_H

#include <lib/types.h>
#include <public/xen.h>

#define NB_MAX_VIFS  8
#define NB_TX_BUDGET 64  /* tx packets per ring per pass */
#define NB_RX_BUDGET 64  /* rx frames per ring per pass */
/*
 * Frames from the bridge wait in a per-vif queue until the frontend posts
 * rx buffers (Linux netback's rx queue, bounded by rx_queue_max bytes): at
 * most NB_RXQ frames and NB_RXQ_BYTES bytes of frame data, whichever comes
 * first. A frame that would pass either bound is dropped and counted
 * (rx_dropped; the bridge counts it as the port's tx drop). The storage is
 * fixed per vif, so a frontend that never posts a buffer holds no more
 * than this and delays nobody else.
 */
#define NB_RXQ       256
#define NB_RXQ_BYTES (256u * 1024)

/* Starts the service (watch on backend/vif). Idempotent; 0 or -errno. */
int netback_init(void);

struct netback_vif_stats {
	bool exists, connected, violated;
	int state;                 /* the backend's XenbusState */
	u64 tx_packets, tx_bytes;  /* from the guest into the bridge */
	u64 rx_packets, rx_bytes;  /* from the bridge into the guest */
	u64 rx_dropped;            /* queue full or vif not connected */
	u32 rxq_frames, rxq_bytes; /* waiting now for an rx buffer */
	bool rx_csum_v4, rx_csum_v6; /* the frontend takes blank checksums on rx
				      * (not feature-no-csum-offload;
				      * feature-ipv6-csum-offload) */
	u64 events;
};
/* -ENOENT if vif <dom>.<devid> is not served. */
int netback_vif_stats(domid_t dom, unsigned devid, struct netback_vif_stats *s);

/* Vifs served right now, ring pages mapped and channels bound (leak
 * checks: all back to 0 after every guest is gone). */
unsigned netback_nr_vifs(void);
unsigned netback_nr_mapped(void);
unsigned netback_nr_channels(void);

/* Takes vif <dom>.<devid> down at once (the toolstack's detach and
 * destroy, before removing its nodes): off the bridge, rings unmapped,
 * channels closed, slot freed. 0 or -ENOENT. */
int netback_vif_remove(domid_t dom, unsigned devid);

/* Runs a rescan of backend/vif now (the watch does it from the loop). */
void netback_rescan(void);

#endif
