/*
 * netback's validation of what a netfront puts on its rings
 * (include/public/io/netif.h), as pure functions over the shared pages so
 * the host unit tests (tests/unit/test_netif_check.c) and a libFuzzer
 * harness (tests/fuzz/fuzz_netif_check.c) drive them as they are.
 *
 * The rings are the guest's: it may rewrite any slot or index at any
 * time. Each slot is read ONCE (copied out, then only the copy is looked
 * at), every index is masked, and the producer index is checked against
 * what the ring holds before anything is consumed. A violation returns
 * -EIO with a constant string naming the rule (for the one log line
 * with which the vif is taken to Closing); nothing is consumed then.
 *
 * The rules (docs/pvnet.md "Bad input"), after Linux's netback
 * (xenvif_count_requests, xenvif_get_extras, xenvif_tx_build_gops):
 *   - req_prod more than the ring's size ahead of the backend's responses;
 *   - a data slot whose offset + its bytes cross the 4 KiB page;
 *   - a packet shorter than an Ethernet header or longer than
 *     NB_MAX_FRAME (MTU 1500, no GSO advertised);
 *   - fragment sizes adding up to more than the first slot's size;
 *   - more than XEN_NETIF_NR_SLOTS_MIN data slots in one packet;
 *   - an extra-info slot of type NONE or >= XEN_NETIF_EXTRA_TYPE_MAX, or
 *     GSO/XDP (not negotiated), or more extra slots than types;
 *   - an id >= the ring size, or repeated within one packet (tx), or an
 *     rx request id >= the ring size.
 */
#ifndef GUEST_DOM0_NETIF_CHECK_H
#define GUEST_DOM0_NETIF_CHECK_H

#include <lib/types.h>
#include <public/io/netif.h>

#define NB_PAGE_SIZE  4096u
#define NB_MIN_FRAME  14u     /* an Ethernet header */
#define NB_MAX_FRAME  1514u   /* MTU 1500 + header: the bridge's limit */
#define NB_MAX_SLOTS  XEN_NETIF_NR_SLOTS_MIN /* data slots per packet */
#define NB_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)

/* One data slot of a parsed packet: where its bytes are and how many. */
struct nb_tx_frag {
	grant_ref_t gref;
	u16 offset, len, id;
};

/* A parsed tx packet. */
struct nb_tx_packet {
	unsigned slots;         /* ring slots it takes: data + extra */
	unsigned nr_frags;      /* data slots */
	struct nb_tx_frag frag[NB_MAX_SLOTS];
	unsigned nr_extras;     /* extra-info slots (they follow the first) */
	u8 extra_type[NB_MAX_EXTRAS];
	u32 len;                /* the packet's bytes: the first slot's size */
	u16 flags;              /* the first slot's NETTXF_* */
};

/*
 * Reads the packet whose first slot is at index `cons` of ring `s`
 * (`size` slots, a power of two), with `prod` the producer index the
 * caller read (once) and `rsp_prod_pvt` its own response index.
 * Returns 0 with *pkt filled (consume pkt->slots), -EAGAIN when the
 * packet is not complete yet (its slots run past prod: wait for more),
 * or -EIO with *rule naming the broken rule.
 */
int nb_tx_parse(const struct netif_tx_sring *s, unsigned size, RING_IDX cons, RING_IDX prod,
		RING_IDX rsp_prod_pvt, struct nb_tx_packet *pkt, const char **rule);

/*
 * Copies rx request `idx` of ring `s` (`size` slots) into *req (one read
 * of the slot). 0, or -EIO with *rule when its id is out of range.
 */
int nb_rx_take(const struct netif_rx_sring *s, unsigned size, RING_IDX idx,
	       struct netif_rx_request *req, const char **rule);

/* The producer index `prod` the guest wrote against the backend's own
 * response index: 0, or -EIO with *rule if it claims more requests
 * than the ring holds. */
int nb_prod_check(RING_IDX prod, RING_IDX rsp_prod_pvt, unsigned size, const char **rule);

/*
 * Finishes a checksum a frontend left blank (NETTXF_csum_blank): for a
 * TCP or UDP frame of len bytes over IPv4 (not a fragment) or IPv6
 * (after any hop-by-hop, routing and destination-options headers),
 * computes the transport checksum over the pseudo-header and writes it.
 * 0, or -EINVAL for a frame that is neither or is truncated (then it is
 * left as it is: the bridge still carries it, the receiver's own check
 * decides).
 */
int nb_csum_fill(u8 *frame, size_t len);

/* The Internet checksum (RFC 1071) of n bytes, folded, not inverted,
 * starting from sum. */
u32 nb_csum_add(u32 sum, const u8 *p, size_t n);
u16 nb_csum_fold(u32 sum);

#endif
