/*
 * A netfront for Keel's own guests (guest/lib/netfront.c; docs/pvnet.md):
 * the frontend half of Xen's netif protocol (public/io/netif.h) with the
 * handshake Linux's xen-netfront does, so that what works against dom0's
 * netback here works for Linux too.
 *
 *   netfront_connect: reads device/vif/<devid>/{backend,backend-id,mac},
 *     waits for the backend's InitWait, grants its tx and rx ring pages,
 *     allocates one event channel for the backend, writes tx-ring-ref,
 *     rx-ring-ref, event-channel, request-rx-copy=1, feature-rx-notify=1,
 *     feature-sg=1, feature-no-csum-offload=1 (it cannot finish a blank
 *     checksum on receive), posts NF_RX buffers, switches to Connected and waits
 *     for the backend's Connected.
 *   netfront_send / netfront_poll: one frame per tx slot (a page granted
 *     read-only once, reused); received frames are handed to a callback and
 *     their buffers posted again. Notifications follow ring.h's rules
 *     (RING_PUSH_*_AND_CHECK_NOTIFY, RING_FINAL_CHECK_FOR_RESPONSES).
 *   netfront_close: Closing, waits (bounded) for the backend to close,
 *     Closed, then ends every grant (counted if the backend still holds
 *     one) and frees the pages.
 *
 * The backend is not trusted: a response id out of range or a length
 * beyond its buffer is counted in bad_rsp and ignored.
 * Single vCPU, polled (the port stays masked): the caller serialises.
 */
#ifndef GUEST_NETFRONT_H
#define GUEST_NETFRONT_H

#include <lib/types.h>
#include <public/event_channel.h>
#include <public/io/netif.h>
#include <public/start_info.h>

#define NF_TX 64 /* frames in flight: a stream waits (one exit) once per NF_TX / 2 or so */
#define NF_RX 64 /* receive buffers posted */

struct netfront {
	unsigned devid;
	domid_t backend_id;
	char fe[48], be[64];
	u8 mac[6];
	struct netif_tx_front_ring tx;
	struct netif_rx_front_ring rx;
	int tx_ring_ref, rx_ring_ref;
	evtchn_port_t port;
	u8 *tx_buf[NF_TX], *rx_buf[NF_RX];
	int tx_ref[NF_TX], rx_ref[NF_RX];
	bool tx_busy[NF_TX];
	bool connected;
	bool rx_held; /* connected with no rx buffer posted yet */
	u64 tx_frames, rx_frames, tx_errors, bad_rsp, grants_kept;
};

/* Connects device vif <devid>, waiting at most timeout_ns for each
 * backend state. 0, or -errno (-ETIMEDOUT, -ENOENT: no such device, the
 * store's or grant table's errors); nothing is left granted on failure.
 * Needs xenbus_init and gnttab_init first. */
int netfront_connect(struct netfront *nf, unsigned devid, u64 timeout_ns);

/* The same, but no rx buffer is posted until netfront_rx_release: the
 * backend must hold (or drop and count) what arrives meanwhile (tests of
 * a slow frontend). */
int netfront_connect_rx_held(struct netfront *nf, unsigned devid, u64 timeout_ns);
/* Posts every rx buffer held back by netfront_connect_rx_held and
 * notifies the backend (nothing if none is held). */
void netfront_rx_release(struct netfront *nf);

/* Queues one frame (14..1514 bytes). 0, -EBUSY (all NF_TX slots in
 * flight: poll), -EINVAL, -EIO (not connected). */
int netfront_send(struct netfront *nf, const void *frame, size_t len);
/* The same with the slot's NETTXF_* flags: NETTXF_csum_blank says the
 * transport checksum holds only the pseudo-header's sum (the backend
 * finishes it); NETTXF_more_data and NETTXF_extra_info are not for this
 * one-slot path. */
int netfront_send_flags(struct netfront *nf, const void *frame, size_t len, u16 flags);

typedef void (*netfront_rx_fn)(const u8 *frame, size_t len, void *arg);
/* Reaps tx responses, hands each received frame to fn, reposts its
 * buffer. Returns the frames received. */
unsigned netfront_poll(struct netfront *nf, netfront_rx_fn fn, void *arg);

/* Sleeps until the backend notifies or timeout_ns passes. */
void netfront_wait(struct netfront *nf, u64 timeout_ns);

/* Pushes n raw tx slots as they are (tests of a hostile frontend: any
 * gref, offset, flags, id, size) and notifies the backend. */
void netfront_push_raw(struct netfront *nf, const struct netif_tx_request *slots, unsigned n);

/* The backend's state (XenbusState), or -errno. */
int netfront_backend_state(struct netfront *nf);

void netfront_close(struct netfront *nf, u64 timeout_ns);

#endif
