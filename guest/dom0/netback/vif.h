/*
 * netback's per-vif state, shared by its files (xenbus.c: the handshake;
 * rings.c: the tx and rx rings). Internal to guest/dom0/netback/.
 */
#ifndef GUEST_DOM0_NETBACK_VIF_H
#define GUEST_DOM0_NETBACK_VIF_H

#include <public/event_channel.h>
#include <public/io/netif.h>
#include "bridge/bridge.h"
#include "netback.h"
#include "rxq.h"

struct nb_vif {
	bool used;
	domid_t dom;
	unsigned devid;
	char be[64];          /* /local/domain/0/backend/vif/D/N */
	char fe[64];          /* the frontend's directory */
	char bridge[16];
	int state;            /* ours (XenbusState) */
	bool violated;        /* a rule broken: Closing, rings released */
	/* Rings (mapped from the frontend's grants). */
	bool tx_mapped, rx_mapped;
	grant_handle_t tx_handle, rx_handle;
	unsigned tx_slot, rx_slot;   /* slots of dom0's mapping window */
	struct netif_tx_back_ring tx;
	struct netif_rx_back_ring rx;
	evtchn_port_t port_tx, port_rx; /* equal unless split channels */
	bool rx_notify;       /* frontend said feature-rx-notify */
	bool rx_csum_v4;      /* it takes blank IPv4 checksums (no feature-no-csum-offload) */
	bool rx_csum_v6;      /* it said feature-ipv6-csum-offload */
	/* Bridge. */
	struct bridge_port port;
	bool on_bridge;
	/* Frames for the guest waiting for an rx buffer. */
	struct nb_rxq rxq;
	struct netback_vif_stats st;
};

extern struct nb_vif nb_vifs[NB_MAX_VIFS];

/* rings.c */
/* Maps the rings, binds the channels, joins the bridge: 0 or -errno
 * (everything undone). */
int nb_rings_connect(struct nb_vif *v, grant_ref_t tx_ref, grant_ref_t rx_ref,
		     evtchn_port_t remote_tx, evtchn_port_t remote_rx);
/* Undoes nb_rings_connect (safe on a partial one). */
void nb_rings_disconnect(struct nb_vif *v);
/* The bridge port's xmit. */
int nb_vif_xmit(struct bridge_port *p, const u8 *frame, size_t len);

/* xenbus.c: a violation (one line; Closing; rings released). */
void nb_vif_violation(struct nb_vif *v, const char *rule);
void nb_write_state(struct nb_vif *v, int state);

#endif
