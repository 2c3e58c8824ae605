/*
 * netback's ring validation (netif_check.h). Pure: no hypercalls, so the
 * host tests and the fuzzer run it as dom0 does.
 *
 * Why one read per slot: the frontend shares the page and can change a
 * slot between two reads (a "double fetch", XSA-155): a size checked on
 * one read and used from another would be unchecked. Each slot is copied
 * through a volatile pointer into a local once; only the copy is used.
 */
#include <lib/errno.h>
#include "netif_check.h"

union nb_slot {
	struct netif_tx_request req;
	struct netif_extra_info extra;
};

static void read_tx_slot(const struct netif_tx_sring *s, unsigned size, RING_IDX i,
			 union nb_slot *out)
{
	const volatile struct netif_tx_request *v =
		(const volatile struct netif_tx_request *)&s->ring[i & (size - 1)].req;
	/* 12 bytes as three u32s: the extra-info view is the same bytes. */
	const volatile u32 *w = (const volatile u32 *)v;
	u32 *o = (u32 *)out;

	_Static_assert(sizeof(union nb_slot) == 12, "slot is three words");
	o[0] = w[0];
	o[1] = w[1];
	o[2] = w[2];
}

int nb_prod_check(RING_IDX prod, RING_IDX rsp_prod_pvt, unsigned size, const char **rule)
{
	/* ring.h RING_REQUEST_PROD_OVERFLOW: requests not yet answered can
	 * never be more than the ring's slots. */
	if ((RING_IDX)(prod - rsp_prod_pvt) > size) {
		*rule = "req_prod more than the ring's size ahead of the responses";
		return -EIO;
	}
	return 0;
}

static int bad(const char **rule, const char *why)
{
	*rule = why;
	return -EIO;
}

int nb_tx_parse(const struct netif_tx_sring *s, unsigned size, RING_IDX cons, RING_IDX prod,
		RING_IDX rsp_prod_pvt, struct nb_tx_packet *pkt, const char **rule)
{
	union nb_slot slot;
	RING_IDX avail, idx = 0;
	u32 rest = 0;
	u16 flags;

	if (nb_prod_check(prod, rsp_prod_pvt, size, rule))
		return -EIO;
	avail = prod - cons;
	if (avail > size)
		return bad(rule, "req_prod behind the backend's consumer index");
	if (!avail)
		return -EAGAIN;

	read_tx_slot(s, size, cons + idx++, &slot);
	struct netif_tx_request first = slot.req;

	pkt->flags = first.flags;
	pkt->len = first.size;
	pkt->nr_extras = 0;
	pkt->nr_frags = 1;
	pkt->frag[0] = (struct nb_tx_frag){ first.gref, first.offset, 0, first.id };

	/* Extra-info slots follow the first (netif.h "wire format"). */
	bool more_extra = first.flags & NETTXF_extra_info;
	while (more_extra) {
		if (idx >= avail)
			return -EAGAIN;
		if (pkt->nr_extras == NB_MAX_EXTRAS)
			return bad(rule, "more extra-info slots than extra types");
		read_tx_slot(s, size, cons + idx++, &slot);
		u8 type = slot.extra.type;
		if (type == XEN_NETIF_EXTRA_TYPE_NONE || type >= XEN_NETIF_EXTRA_TYPE_MAX)
			return bad(rule, "extra-info slot of an unknown type");
		/* Keel does not advertise feature-gso-tcpv4/6 nor XDP: a
		 * frontend may not send them. Multicast control and hash
		 * slots are harmless and skipped. */
		if (type == XEN_NETIF_EXTRA_TYPE_GSO)
			return bad(rule, "GSO extra-info but GSO was not negotiated");
		if (type == XEN_NETIF_EXTRA_TYPE_XDP)
			return bad(rule, "XDP extra-info on the tx ring");
		pkt->extra_type[pkt->nr_extras++] = type;
		more_extra = slot.extra.flags & XEN_NETIF_EXTRA_FLAG_MORE;
	}

	/* Further data slots while the previous one says more_data. */
	flags = first.flags;
	while (flags & NETTXF_more_data) {
		if (pkt->nr_frags == NB_MAX_SLOTS)
			return bad(rule, "more than 18 data slots in one packet");
		if (idx >= avail)
			return -EAGAIN;
		read_tx_slot(s, size, cons + idx++, &slot);
		struct netif_tx_request r = slot.req;
		if ((u32)r.offset + r.size > NB_PAGE_SIZE)
			return bad(rule, "tx slot's offset + size cross its page");
		rest += r.size;
		if (rest > pkt->len)
			return bad(rule, "fragment sizes add up to more than the packet's size");
		pkt->frag[pkt->nr_frags++] = (struct nb_tx_frag){ r.gref, r.offset, r.size, r.id };
		flags = r.flags;
	}

	if (pkt->len < NB_MIN_FRAME)
		return bad(rule, "packet shorter than an Ethernet header");
	if (pkt->len > NB_MAX_FRAME)
		return bad(rule, "packet longer than the MTU (no GSO negotiated)");
	pkt->frag[0].len = (u16)(pkt->len - rest);
	if ((u32)first.offset + pkt->frag[0].len > NB_PAGE_SIZE)
		return bad(rule, "tx slot's offset + size cross its page");

	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		if (pkt->frag[i].id >= size)
			return bad(rule, "tx request id out of range");
		for (unsigned j = 0; j < i; j++)
			if (pkt->frag[j].id == pkt->frag[i].id)
				return bad(rule, "tx request id repeated within a packet");
	}
	pkt->slots = idx;
	return 0;
}

int nb_rx_take(const struct netif_rx_sring *s, unsigned size, RING_IDX idx,
	       struct netif_rx_request *req, const char **rule)
{
	const volatile u32 *w = (const volatile u32 *)&s->ring[idx & (size - 1)].req;
	u32 word0 = w[0];

	req->id = (u16)word0;
	req->pad = (u16)(word0 >> 16);
	req->gref = w[1];
	if (req->id >= size)
		return bad(rule, "rx request id out of range");
	return 0;
}

u32 nb_csum_add(u32 sum, const u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (u32)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (u32)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

u16 nb_csum_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

/* Writes the TCP or UDP checksum of l4[0..l4len) whose pseudo-header
 * sums to `sum` (RFC 793, RFC 768; IPv6: RFC 8200 section 8.1). */
static int l4_fill(u8 *l4, size_t l4len, unsigned proto, u32 sum)
{
	unsigned at;

	if (proto == 6)
		at = 16;        /* TCP checksum */
	else if (proto == 17)
		at = 6;         /* UDP checksum */
	else
		return -EINVAL;
	if (l4len < at + 2)
		return -EINVAL;
	l4[at] = 0;
	l4[at + 1] = 0;
	sum = nb_csum_add(sum, l4, l4len);
	u16 c = (u16)~nb_csum_fold(sum);
	if (proto == 17 && c == 0)
		c = 0xffff; /* UDP: 0 means "no checksum" (and is not allowed over IPv6) */
	l4[at] = (u8)(c >> 8);
	l4[at + 1] = (u8)c;
	return 0;
}

static int fill_ipv4(u8 *ip, size_t avail)
{
	/* RFC 791: no fragment. */
	unsigned ihl = (ip[0] & 0xf) * 4u;
	unsigned tot = (unsigned)ip[2] << 8 | ip[3];
	if (avail < 20 || (ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || (size_t)tot > avail)
		return -EINVAL;
	if (((ip[6] & 0x3f) | ip[7]) != 0) /* MF or a fragment offset */
		return -EINVAL;
	unsigned l4len = tot - ihl;
	/* Pseudo-header: source, destination, protocol, L4 length. */
	u32 sum = nb_csum_add(0, ip + 12, 8) + ip[9] + l4len;
	return l4_fill(ip + ihl, l4len, ip[9], sum);
}

static int fill_ipv6(u8 *ip, size_t avail)
{
	/* RFC 8200: a 40-byte header, then extension headers up to TCP/UDP.
	 * Hop-by-hop (0), routing (43) and destination options (60) are
	 * skipped by their length; a fragment header (44) or anything else
	 * ends the search (a fragment's checksum is not ours to finish). */
	if (avail < 40 || (ip[0] >> 4) != 6)
		return -EINVAL;
	size_t plen = (size_t)ip[4] << 8 | ip[5];
	if (40 + plen > avail)
		return -EINVAL;
	unsigned next = ip[6];
	size_t off = 40;
	for (unsigned n = 0; n < 8 && (next == 0 || next == 43 || next == 60); n++) {
		if (off + 8 > 40 + plen)
			return -EINVAL;
		unsigned nh = ip[off];
		size_t hlen = ((size_t)ip[off + 1] + 1) * 8;
		if (off + hlen > 40 + plen)
			return -EINVAL;
		next = nh;
		off += hlen;
	}
	size_t l4len = 40 + plen - off;
	/* Pseudo-header: source, destination, upper-layer length (32 bits),
	 * next header. */
	u32 sum = nb_csum_add(0, ip + 8, 32) + (u32)(l4len >> 16) + (u32)(l4len & 0xffff) + next;
	return l4_fill(ip + off, l4len, next, sum);
}

int nb_csum_fill(u8 *f, size_t len)
{
	/* Ethernet II, no VLAN tag. */
	if (len < 14)
		return -EINVAL;
	if (f[12] == 0x08 && f[13] == 0x00)
		return fill_ipv4(f + 14, len - 14);
	if (f[12] == 0x86 && f[13] == 0xdd)
		return fill_ipv6(f + 14, len - 14);
	return -EINVAL;
}
