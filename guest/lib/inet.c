/*
 * The minimal IPv4 endpoint (contract in inet.h). Pure: the host unit
 * tests (tests/unit/test_inet.c) and the fuzzer (tests/fuzz/fuzz_inet.c)
 * run this very file.
 *
 * Wire formats: Ethernet II (type 0x0800 IPv4, 0x0806 ARP); ARP for
 * Ethernet/IPv4 (RFC 826: htype 1, ptype 0x0800, hlen 6, plen 4, op 1
 * request / 2 reply); IPv4 (RFC 791: version 4, IHL >= 5 words, total
 * length covering the header, header checksum); ICMP echo (RFC 792: type
 * 8 request / 0 reply, code 0, checksum over the whole ICMP message); UDP
 * (RFC 768: length >= 8, checksum over a pseudo-header, 0 meaning none).
 * Every field is read with explicit big-endian byte loads, so nothing
 * depends on alignment or host byte order.
 */
#include <lib/errno.h>
#include <lib/string.h>

#include "inet.h"

#define ETH_HLEN   14
#define ETH_P_IP   0x0800
#define ETH_P_ARP  0x0806
#define ARP_LEN    28
#define IP_HLEN    20
#define IPPROTO_ICMP 1
#define IPPROTO_UDP  17
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO      8
#define ICMP_HLEN  8
#define UDP_HLEN   8
#define IP_TTL     64

static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static void put32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

u16 inet_csum(const void *data, size_t len, u32 sum)
{
	const u8 *p = data;
	u64 s = sum;

	for (; len >= 2; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (u32)p[0] << 8; /* RFC 1071: an odd byte is padded with zero */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)s;
}

/* The UDP pseudo-header's sum (RFC 768): source, destination, protocol,
 * UDP length. */
static u32 pseudo_sum(u32 src, u32 dst, u16 udp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IPPROTO_UDP + udp_len;
}

void inet_init(struct inet *in, const u8 mac[6], u32 addr, unsigned prefix)
{
	memset(in, 0, sizeof(*in));
	memcpy(in->mac, mac, 6);
	in->addr = addr;
	in->prefix = prefix > 32 ? 32 : prefix;
	in->ip_id = 1;
}

int inet_parse_cidr(const char *s, u32 *addr, unsigned *prefix)
{
	u32 a = 0;
	unsigned pfx = *prefix;

	if (!s)
		return -EINVAL;
	for (unsigned part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || digits > 3 || v > 255)
			return -EINVAL;
		a = a << 8 | v;
		if (part < 3 && *s++ != '.')
			return -EINVAL;
	}
	if (*s == '/') {
		unsigned v = 0, digits = 0;

		s++;
		while (*s >= '0' && *s <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || digits > 2 || v > 32)
			return -EINVAL;
		pfx = v;
	}
	if (*s && *s != ' ')
		return -EINVAL;
	*addr = a;
	*prefix = pfx;
	return 0;
}

void inet_format_addr(u32 addr, char buf[16])
{
	char *p = buf;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned v = (addr >> shift) & 0xff;

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (shift)
			*p++ = '.';
	}
	*p = 0;
}

bool inet_neigh_lookup(const struct inet *in, u32 addr, u8 mac[6])
{
	for (unsigned i = 0; i < INET_NEIGH; i++)
		if (in->neigh[i].valid && in->neigh[i].addr == addr) {
			memcpy(mac, in->neigh[i].mac, 6);
			return true;
		}
	return false;
}

void inet_neigh_add(struct inet *in, u32 addr, const u8 mac[6])
{
	struct inet_neigh *n = NULL;

	for (unsigned i = 0; i < INET_NEIGH && !n; i++)
		if (in->neigh[i].valid && in->neigh[i].addr == addr)
			n = &in->neigh[i];
	for (unsigned i = 0; i < INET_NEIGH && !n; i++)
		if (!in->neigh[i].valid)
			n = &in->neigh[i];
	if (!n) {
		n = &in->neigh[in->neigh_next];
		in->neigh_next = (in->neigh_next + 1) % INET_NEIGH;
	}
	n->addr = addr;
	memcpy(n->mac, mac, 6);
	n->valid = true;
}

/* A MAC a station may have: not group (multicast/broadcast), not zero. */
static bool unicast_mac(const u8 *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

static void eth_header(const struct inet *in, u8 *out, const u8 *dst, u16 type)
{
	memcpy(out, dst, 6);
	memcpy(out + 6, in->mac, 6);
	put16(out + 12, type);
}

/* Pads a built frame to INET_MIN_FRAME (out has room: every caller checks
 * size >= INET_MIN_FRAME) and counts it. */
static int finish(struct inet *in, u8 *out, size_t len)
{
	if (len < INET_MIN_FRAME) {
		memset(out + len, 0, INET_MIN_FRAME - len);
		len = INET_MIN_FRAME;
	}
	in->st.tx_frames++;
	return (int)len;
}

static int arp_frame(struct inet *in, u8 *out, size_t size, u16 op, const u8 *dst_mac,
		     const u8 *target_mac, u32 target)
{
	u8 *a = out + ETH_HLEN;

	if (size < INET_MIN_FRAME)
		return -ENOSPC;
	eth_header(in, out, dst_mac, ETH_P_ARP);
	put16(a, 1);         /* htype: Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, in->mac, 6);
	put32(a + 14, in->addr);
	memcpy(a + 18, target_mac, 6);
	put32(a + 24, target);
	return finish(in, out, ETH_HLEN + ARP_LEN);
}

static int arp_input(struct inet *in, const u8 *f, size_t len, u8 *out, size_t out_size)
{
	const u8 *a = f + ETH_HLEN;
	u32 spa, tpa;
	u16 op;

	if (len < ETH_HLEN + ARP_LEN)
		return -EINVAL;
	if (get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return 1; /* not Ethernet/IPv4 ARP: not ours */
	op = get16(a + 6);
	spa = get32(a + 14);
	tpa = get32(a + 24);
	if (tpa != in->addr || !in->addr)
		return 1;
	/* A sender with a group or zero MAC, or claiming our own address,
	 * is bogus: learning it would misdirect our replies. */
	if (!unicast_mac(a + 8) || spa == in->addr || !spa)
		return -EINVAL;
	if (op == 1) {
		/* RFC 826: the target learns the sender before replying. */
		inet_neigh_add(in, spa, a + 8);
		in->st.arp_requests++;
		return arp_frame(in, out, out_size, 2, a + 8, a + 8, spa);
	}
	if (op == 2) {
		inet_neigh_add(in, spa, a + 8);
		in->st.arp_replies++;
		return 0;
	}
	return 1;
}

/* Writes an IPv4 header (no options) for `payload` bytes to dst. */
static void ip_header(struct inet *in, u8 *ip, u32 dst, u8 proto, size_t payload)
{
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (u16)(IP_HLEN + payload));
	put16(ip + 4, in->ip_id++);
	put16(ip + 6, 0x4000); /* DF: we never fragment */
	ip[8] = IP_TTL;
	ip[9] = proto;
	put32(ip + 12, in->addr);
	put32(ip + 16, dst);
	put16(ip + 10, (u16)~inet_csum(ip, IP_HLEN, 0));
}

static int icmp_input(struct inet *in, const u8 *f, const u8 *ip, const u8 *icmp,
		      size_t icmp_len, u8 *out, size_t out_size)
{
	if (icmp_len < ICMP_HLEN)
		return -EINVAL;
	if (inet_csum(icmp, icmp_len, 0) != 0xffff)
		return -EINVAL;
	if (icmp[0] == ICMP_ECHOREPLY && icmp[1] == 0) {
		in->st.echo_replies++;
		return 0;
	}
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0)
		return 1;
	in->st.echo_requests++;
	/* The reply goes back to the frame's source MAC (the next hop the
	 * request came through) without needing ARP, as stacks do. */
	size_t total = ETH_HLEN + IP_HLEN + icmp_len;
	if (total > out_size || out_size < INET_MIN_FRAME)
		return -ENOSPC;
	eth_header(in, out, f + 6, ETH_P_IP);
	u8 *rip = out + ETH_HLEN, *ricmp = rip + IP_HLEN;
	ip_header(in, rip, get32(ip + 12), IPPROTO_ICMP, icmp_len);
	memcpy(ricmp, icmp, icmp_len);
	ricmp[0] = ICMP_ECHOREPLY;
	put16(ricmp + 2, 0);
	put16(ricmp + 2, (u16)~inet_csum(ricmp, icmp_len, 0));
	return finish(in, out, total);
}

static int udp_input(struct inet *in, const u8 *ip, const u8 *udp, size_t ip_payload)
{
	u16 ulen, sum;

	if (ip_payload < UDP_HLEN)
		return -EINVAL;
	ulen = get16(udp + 4);
	if (ulen < UDP_HLEN || ulen > ip_payload)
		return -EINVAL;
	sum = get16(udp + 6);
	/* 0: the sender computed none (allowed for IPv4, RFC 768). */
	if (sum && inet_csum(udp, ulen, pseudo_sum(get32(ip + 12), get32(ip + 16), ulen)) != 0xffff)
		return -EINVAL;
	if (!in->udp_port || get16(udp + 2) != in->udp_port) {
		in->st.udp_other++;
		return 0;
	}
	in->st.udp_datagrams++;
	in->st.udp_bytes += ulen - UDP_HLEN;
	if (in->udp_rx)
		in->udp_rx(in, get32(ip + 12), get16(udp), udp + UDP_HLEN, ulen - UDP_HLEN);
	return 0;
}

static int ip_input(struct inet *in, const u8 *f, size_t len, u8 *out, size_t out_size)
{
	const u8 *ip = f + ETH_HLEN;
	size_t avail = len - ETH_HLEN, ihl, total;

	if (avail < IP_HLEN || (ip[0] >> 4) != 4)
		return -EINVAL;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	total = get16(ip + 2);
	/* Ethernet pads short frames to 60 bytes: trust total, not len. */
	if (ihl < IP_HLEN || total < ihl || total > avail)
		return -EINVAL;
	if (inet_csum(ip, ihl, 0) != 0xffff)
		return -EINVAL;
	if (get32(ip + 16) != in->addr || !in->addr)
		return 1;
	/* A fragment (MF set, or an offset): not reassembled. */
	if (get16(ip + 6) & 0x3fff)
		return 1;
	switch (ip[9]) {
	case IPPROTO_ICMP:
		return icmp_input(in, f, ip, ip + ihl, total - ihl, out, out_size);
	case IPPROTO_UDP:
		return udp_input(in, ip, ip + ihl, total - ihl);
	default:
		return 1;
	}
}

int inet_input(struct inet *in, const u8 *frame, size_t len, u8 *out, size_t out_size)
{
	int rc;

	in->st.rx_frames++;
	/* A group or zero source MAC belongs to no station (the bridge drops
	 * those too); an echo reply to it would be a multicast. */
	if (!frame || len < ETH_HLEN || len > INET_MAX_FRAME || !unicast_mac(frame + 6)) {
		in->st.rx_errors++;
		return -EINVAL;
	}
	if (memcmp(frame, in->mac, 6) && memcmp(frame, bcast, 6)) {
		in->st.rx_ignored++;
		return 0;
	}
	switch (get16(frame + 12)) {
	case ETH_P_ARP:
		rc = arp_input(in, frame, len, out, out_size);
		break;
	case ETH_P_IP:
		rc = ip_input(in, frame, len, out, out_size);
		break;
	default:
		rc = 1;
	}
	/* rc 1: well-formed but not ours; the helpers' internal code for it. */
	if (rc == 1) {
		in->st.rx_ignored++;
		return 0;
	}
	if (rc == -EINVAL)
		in->st.rx_errors++;
	return rc;
}

int inet_build_arp_request(struct inet *in, u32 target, u8 *out, size_t size)
{
	static const u8 zero[6];

	if (size < INET_MIN_FRAME)
		return -EINVAL;
	return arp_frame(in, out, size, 1, bcast, zero, target);
}

/* Ethernet + IPv4 headers for `payload` bytes to dst: the offset of the
 * payload, or -errno. */
static int ip_frame(struct inet *in, u32 dst, u8 proto, size_t payload, u8 *out, size_t size)
{
	u8 mac[6];

	if (payload > INET_MAX_FRAME - ETH_HLEN - IP_HLEN || size < INET_MIN_FRAME ||
	    size < ETH_HLEN + IP_HLEN + payload)
		return -EINVAL;
	if (!inet_neigh_lookup(in, dst, mac))
		return -ENOENT;
	eth_header(in, out, mac, ETH_P_IP);
	ip_header(in, out + ETH_HLEN, dst, proto, payload);
	return ETH_HLEN + IP_HLEN;
}

int inet_build_ping(struct inet *in, u32 dst, u16 id, u16 seq, size_t payload_len,
		    u8 *out, size_t size)
{
	if (payload_len > INET_MAX_FRAME)
		return -EINVAL;
	size_t icmp_len = ICMP_HLEN + payload_len;
	int off = ip_frame(in, dst, IPPROTO_ICMP, icmp_len, out, size);
	u8 *icmp;

	if (off < 0)
		return off;
	icmp = out + off;
	icmp[0] = ICMP_ECHO;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	for (size_t i = 0; i < payload_len; i++)
		icmp[ICMP_HLEN + i] = (u8)i;
	put16(icmp + 2, (u16)~inet_csum(icmp, icmp_len, 0));
	return finish(in, out, (size_t)off + icmp_len);
}

int inet_build_udp(struct inet *in, u32 dst, u16 sport, u16 dport, const void *data,
		   size_t len, u8 *out, size_t size)
{
	if (len > INET_MAX_FRAME)
		return -EINVAL;
	size_t ulen = UDP_HLEN + len;
	int off = ip_frame(in, dst, IPPROTO_UDP, ulen, out, size);
	u8 *udp;
	u16 sum;

	if (off < 0)
		return off;
	udp = out + off;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (u16)ulen);
	put16(udp + 6, 0);
	if (len)
		memcpy(udp + UDP_HLEN, data, len);
	sum = (u16)~inet_csum(udp, ulen, pseudo_sum(in->addr, dst, (u16)ulen));
	put16(udp + 6, sum ? sum : 0xffff); /* RFC 768: a computed 0 is sent as all ones */
	return finish(in, out, (size_t)off + ulen);
}
