/*
 * The paravirtual network interface (Xen public/io/netif.h): the wire
 * format between a netfront (Linux xen-netfront, Keel's guest/lib/netfront)
 * and a netback (dom0's guest/dom0/netback/). Keel's own header with Xen's
 * names, numbers and layouts (checked below for x86-64), so a Linux
 * frontend and a Keel backend agree byte for byte.
 *
 * Two rings, each one shared page (ring.h), and one or two event channels:
 *
 *   tx ring (guest -> backend): netif_tx_request slots. A packet is one
 *     first slot (gref, offset, flags, id, size = the WHOLE packet's
 *     length), followed by netif_extra_info slots while the previous slot
 *     said NETTXF_extra_info / XEN_NETIF_EXTRA_FLAG_MORE, then one slot per
 *     further fragment while the previous data slot said NETTXF_more_data
 *     (there size is that fragment's length). Each data slot's bytes lie in
 *     one granted page: offset + size <= 4096. The backend answers every
 *     data slot (not the extra ones) with a netif_tx_response carrying the
 *     slot's id (extra-info slots get XEN_NETIF_RSP_NULL responses, which
 *     keeps the ring indices in step, as Linux's netback does).
 *
 *   rx ring (backend -> guest): the frontend posts netif_rx_request slots
 *     (id, gref of an empty page it grants writable); the backend copies a
 *     frame into one or more of them and answers each with a
 *     netif_rx_response (id, offset of the data in the page, flags, status
 *     = bytes, or a negative XEN_NETIF_RSP_*). NETRXF_more_data says the
 *     frame goes on in the next response.
 *
 * The xenstore keys of the handshake are documented in docs/pvnet.md.
 */
#ifndef KEEL_PUBLIC_IO_NETIF_H
#define KEEL_PUBLIC_IO_NETIF_H

#include <lib/types.h>
#include <public/grant_table.h>
#include <public/io/ring.h>

/* Slots of a packet a backend must always accept (Xen's
 * XEN_NETIF_NR_SLOTS_MIN; Linux netback's XEN_NETBK_LEGACY_SLOTS_MAX). */
#define XEN_NETIF_NR_SLOTS_MIN 18

/* The largest packet a tx request may describe (its size is a u16). */
#define XEN_NETIF_MAX_TX_SIZE 0xFFFF

/* ---- tx (guest -> backend) ---- */

/* Protocol checksum field is blank in the packet (hardware offload). */
#define _NETTXF_csum_blank     (0)
#define NETTXF_csum_blank      (1U << _NETTXF_csum_blank)
/* Packet data has been validated against the protocol checksum. */
#define _NETTXF_data_validated (1)
#define NETTXF_data_validated  (1U << _NETTXF_data_validated)
/* Packet continues in the next request descriptor. */
#define _NETTXF_more_data      (2)
#define NETTXF_more_data       (1U << _NETTXF_more_data)
/* Packet to be followed by extra descriptor(s). */
#define _NETTXF_extra_info     (3)
#define NETTXF_extra_info      (1U << _NETTXF_extra_info)

struct netif_tx_request {
	grant_ref_t gref;  /* the page holding this slot's bytes */
	uint16_t offset;   /* of the bytes in that page */
	uint16_t flags;    /* NETTXF_* */
	uint16_t id;       /* echoed in the response */
	uint16_t size;     /* first slot: the packet's length; others: the slot's */
};
_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request size");
_Static_assert(offsetof(struct netif_tx_request, offset) == 4, "tx_request offset");
_Static_assert(offsetof(struct netif_tx_request, flags) == 6, "tx_request flags");
_Static_assert(offsetof(struct netif_tx_request, id) == 8, "tx_request id");
_Static_assert(offsetof(struct netif_tx_request, size) == 10, "tx_request size");

/* Types of netif_extra_info descriptors. */
#define XEN_NETIF_EXTRA_TYPE_NONE      (0) /* never used; a bad type */
#define XEN_NETIF_EXTRA_TYPE_GSO       (1) /* u.gso */
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD (2) /* u.mcast */
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL (3) /* u.mcast */
#define XEN_NETIF_EXTRA_TYPE_HASH      (4) /* u.hash */
#define XEN_NETIF_EXTRA_TYPE_XDP       (5) /* u.xdp */
#define XEN_NETIF_EXTRA_TYPE_MAX       (6)

/* netif_extra_info.flags: another extra descriptor follows. */
#define _XEN_NETIF_EXTRA_FLAG_MORE (0)
#define XEN_NETIF_EXTRA_FLAG_MORE  (1U << _XEN_NETIF_EXTRA_FLAG_MORE)

/* GSO types (u.gso.type). */
#define XEN_NETIF_GSO_TYPE_NONE  (0)
#define XEN_NETIF_GSO_TYPE_TCPV4 (1)
#define XEN_NETIF_GSO_TYPE_TCPV6 (2)

struct netif_extra_info {
	uint8_t type;  /* XEN_NETIF_EXTRA_TYPE_* */
	uint8_t flags; /* XEN_NETIF_EXTRA_FLAG_* */
	union {
		struct {
			uint16_t size;     /* maximum payload per segment */
			uint8_t type;      /* XEN_NETIF_GSO_TYPE_* */
			uint8_t pad;
			uint16_t features; /* XEN_NETIF_GSO_FEAT_* */
		} gso;
		struct {
			uint8_t addr[6];
		} mcast;
		struct {
			uint8_t type;
			uint8_t algorithm;
			uint8_t value[4];
		} hash;
		struct {
			uint16_t headroom;
			uint16_t pad[2];
		} xdp;
		uint16_t pad[3];
	} u;
};
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info size");
_Static_assert(offsetof(struct netif_extra_info, u) == 2, "extra_info u");
_Static_assert(offsetof(struct netif_extra_info, u.gso.type) == 4, "extra_info gso.type");
_Static_assert(offsetof(struct netif_extra_info, u.gso.features) == 6, "extra_info gso.features");
/* An extra-info slot sits in a tx request slot. */
_Static_assert(sizeof(struct netif_extra_info) <= sizeof(struct netif_tx_request),
	       "extra info fits a tx slot");

struct netif_tx_response {
	uint16_t id;
	int16_t status; /* XEN_NETIF_RSP_* */
};
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response size");

/* ---- rx (backend -> guest) ---- */

struct netif_rx_request {
	uint16_t id;       /* echoed in the response */
	uint16_t pad;
	grant_ref_t gref;  /* the page to copy into (granted writable) */
};
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request size");
_Static_assert(offsetof(struct netif_rx_request, gref) == 4, "rx_request gref");

/* Packet data has been validated against the protocol checksum. */
#define _NETRXF_data_validated (0)
#define NETRXF_data_validated  (1U << _NETRXF_data_validated)
/* Protocol checksum field is blank in the packet. */
#define _NETRXF_csum_blank     (1)
#define NETRXF_csum_blank      (1U << _NETRXF_csum_blank)
/* Packet continues in the next response. */
#define _NETRXF_more_data      (2)
#define NETRXF_more_data       (1U << _NETRXF_more_data)
/* Packet followed by extra response slot(s). */
#define _NETRXF_extra_info     (3)
#define NETRXF_extra_info      (1U << _NETRXF_extra_info)
/* Packet has a GSO prefix (old protocol, unused by Keel). */
#define _NETRXF_gso_prefix     (4)
#define NETRXF_gso_prefix      (1U << _NETRXF_gso_prefix)

struct netif_rx_response {
	uint16_t id;
	uint16_t offset; /* of the data in the page */
	uint16_t flags;  /* NETRXF_* */
	int16_t status;  /* bytes (>= 0), or XEN_NETIF_RSP_* (< 0) */
};
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response size");

DEFINE_RING_TYPES(netif_tx, struct netif_tx_request, struct netif_tx_response);
DEFINE_RING_TYPES(netif_rx, struct netif_rx_request, struct netif_rx_response);

/* Response status values. */
#define XEN_NETIF_RSP_DROPPED (-2)
#define XEN_NETIF_RSP_ERROR   (-1)
#define XEN_NETIF_RSP_OKAY    (0)
/* No response: used for auxiliary requests (extra-info slots). */
#define XEN_NETIF_RSP_NULL    (1)

/* Slots per one-page ring: 256 each (Xen's NET_TX_RING_SIZE and
 * NET_RX_RING_SIZE for a 4 KiB page). */
#define NETIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, 4096)
#define NETIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, 4096)
_Static_assert(NETIF_TX_RING_SIZE == 256, "tx ring slots");
_Static_assert(NETIF_RX_RING_SIZE == 256, "rx ring slots");

#endif
