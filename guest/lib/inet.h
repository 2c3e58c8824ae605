/*
 * A minimal IPv4 endpoint on raw Ethernet frames (inet.c), shared by dom0
 * (its address on the bridge, guest/dom0/bridge/) and pvtest (netfront
 * tests). Pure: no driver, no clock, no allocation; the caller hands in
 * each received frame and sends whatever reply it gets back.
 *
 * One MAC, one IPv4 address with its prefix. It answers ARP requests for
 * its address (RFC 826) and ICMP echo requests to it (RFC 792), counts
 * UDP datagrams to one port (RFC 768), learns peers' MACs from ARP
 * requests and replies aimed at it, and builds ARP requests, ICMP echo
 * requests and UDP datagrams for tests that originate traffic.
 *
 * Every received byte is hostile: lengths, IHL, total length, header and
 * ICMP/UDP checksums are checked before use, and nothing is read past
 * `len`. Frames that fail are counted in rx_errors; well-formed frames
 * that are not for this endpoint (another MAC or address, another
 * protocol, IP fragments, VLAN tags, IP options in the way are fine) in
 * rx_ignored.
 *
 * Addresses are host-order u32 (10.99.0.2 is 0x0a630002); ports host-order.
 */
#ifndef GUEST_LIB_INET_H
#define GUEST_LIB_INET_H

#include <lib/types.h>

#define INET_MAX_FRAME 1514 /* what any built frame fits in */
#define INET_MIN_FRAME 60   /* built frames are padded to Ethernet's minimum (no FCS) */
#define INET_NEIGH     8    /* peers remembered (IPv4 -> MAC), oldest replaced */
#define INET_ADDR(a, b, c, d) (((u32)(a) << 24) | ((u32)(b) << 16) | ((u32)(c) << 8) | (u32)(d))

struct inet_stats {
	u64 rx_frames;     /* frames handed to inet_input */
	u64 rx_errors;     /* malformed: too short, bad IHL or length, bad checksum */
	u64 rx_ignored;    /* well-formed, not for us or not handled */
	u64 arp_requests;  /* ARP requests for our address (each answered) */
	u64 arp_replies;   /* ARP replies to us (their sender learned) */
	u64 echo_requests; /* ICMP echo requests to us (each answered) */
	u64 echo_replies;  /* ICMP echo replies to us */
	u64 udp_datagrams; /* UDP datagrams to udp_port */
	u64 udp_bytes;     /* their payload bytes */
	u64 udp_other;     /* UDP datagrams to other ports (dropped) */
	u64 tx_frames;     /* frames built: replies and inet_build_* */
};

struct inet_neigh {
	u32 addr;
	u8 mac[6];
	bool valid;
};

struct inet;
/* Called for each UDP datagram to udp_port (optional): src/sport are the
 * sender's, data/len the payload, valid only during the call. */
typedef void (*inet_udp_fn)(struct inet *in, u32 src, u16 sport, const u8 *data, size_t len);

struct inet {
	u8 mac[6];
	u32 addr;
	unsigned prefix;     /* 0..32 */
	u16 udp_port;        /* the counted UDP port; 0: none */
	inet_udp_fn udp_rx;  /* optional */
	void *owner;         /* the caller's, for udp_rx */
	u16 ip_id;           /* next IPv4 identification */
	struct inet_neigh neigh[INET_NEIGH];
	unsigned neigh_next; /* the slot replaced next when all are valid */
	struct inet_stats st;
};

/* Sets in up (zeroing everything else). prefix > 32 is taken as 32. */
void inet_init(struct inet *in, const u8 mac[6], u32 addr, unsigned prefix);

/* Parses "A.B.C.D" or "A.B.C.D/N" (N 0..32) ending at NUL or a space:
 * 0, or -EINVAL (nothing written). Without "/N", *prefix is left as the
 * caller set it (its default). */
int inet_parse_cidr(const char *s, u32 *addr, unsigned *prefix);
/* Writes "A.B.C.D" into buf (at least 16 bytes). */
void inet_format_addr(u32 addr, char buf[16]);

/* One received frame. Returns the length (> 0) of a reply built in
 * out[0..out_size) that the caller should send, 0 when there is none,
 * -EINVAL when the frame was malformed (counted in rx_errors), -ENOSPC
 * when a reply would not fit in out_size (the request is still counted).
 * out may not overlap frame. */
int inet_input(struct inet *in, const u8 *frame, size_t len, u8 *out, size_t out_size);

/* The MAC learned for addr: true and *mac filled, or false. */
bool inet_neigh_lookup(const struct inet *in, u32 addr, u8 mac[6]);
/* Records addr -> mac (what ARP does; tests and static setups too). */
void inet_neigh_add(struct inet *in, u32 addr, const u8 mac[6]);

/* Builders: the frame's length, or -EINVAL (size too small, payload too
 * big for one frame), -ENOENT (dst's MAC not known yet: send an ARP
 * request, feed the reply to inet_input, retry). */
int inet_build_arp_request(struct inet *in, u32 target, u8 *out, size_t size);
/* An ICMP echo request with `payload_len` bytes of pattern (byte i = i). */
int inet_build_ping(struct inet *in, u32 dst, u16 id, u16 seq, size_t payload_len,
		    u8 *out, size_t size);
int inet_build_udp(struct inet *in, u32 dst, u16 sport, u16 dport, const void *data,
		   size_t len, u8 *out, size_t size);

/* The Internet checksum (RFC 1071) of data, folded, not inverted, added
 * to `sum` (a previous partial result, or 0). ~result is what goes in a
 * header; a correct header sums to 0xffff. */
u16 inet_csum(const void *data, size_t len, u32 sum);

#endif
