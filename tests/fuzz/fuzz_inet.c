/*
 * The minimal IPv4 endpoint (guest/lib/inet.c) fed hostile frames.
 *
 * Input: byte 0 picks the start: a raw frame (the rest of the input), or
 * a valid ARP request / ICMP echo request / UDP datagram to the endpoint
 * (built by a second endpoint) that the following bytes then corrupt
 * (pairs of offset, xor value) and cut short, so that the fuzzer gets
 * past the checksums into the code behind them. Byte 1 sizes the reply
 * buffer. The frame sits in a heap block of exactly its length, so ASan
 * flags any read past it.
 *
 * Invariants: inet_input returns a length within the reply buffer, at
 * least Ethernet's minimum when positive; a reply goes to the frame's
 * source MAC from ours, and an IPv4 reply carries correct IP and ICMP
 * checksums.
 *
 * unit-sources: guest/lib/inet.c
 */
#include <lib/errno.h>
#include "../../guest/lib/inet.h"
#include "fuzz.h"

static u16 sum(const u8 *p, size_t len)
{
	u32 s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (u32)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)s;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const u8 mac_a[6] = { 2, 0, 0, 0, 0, 0xaa }, mac_b[6] = { 2, 0, 0, 0, 0, 0xbb };
	static u8 buf[INET_MAX_FRAME + 64], out[INET_MAX_FRAME];
	struct fuzz_in in = { data, size };
	struct inet a, b;
	size_t len;

	inet_init(&a, mac_a, INET_ADDR(10, 99, 0, 2), 24);
	inet_init(&b, mac_b, INET_ADDR(10, 99, 0, 1), 24);
	inet_neigh_add(&b, a.addr, mac_a);
	a.udp_port = 5001;
	u8 mode = fuzz_u8(&in);
	size_t out_size = (size_t)fuzz_u16(&in) % (INET_MAX_FRAME + 1);
	int n;

	switch (mode % 4) {
	case 0:
		len = in.n < sizeof(buf) ? in.n : sizeof(buf);
		memcpy(buf, in.p, len);
		in.n = 0;
		break;
	default:
		if (mode % 4 == 1)
			n = inet_build_arp_request(&b, a.addr, buf, sizeof(buf));
		else if (mode % 4 == 2)
			n = inet_build_ping(&b, a.addr, 1, 2, fuzz_u16(&in) % 1500, buf, sizeof(buf));
		else
			n = inet_build_udp(&b, a.addr, 4000, fuzz_u8(&in) & 1 ? 5001 : 5002, in.p,
					   in.n % 1500, buf, sizeof(buf));
		if (n < 0)
			return 0;
		len = (size_t)n;
		while (fuzz_more(&in)) {
			u16 off = fuzz_u16(&in);
			u8 x = fuzz_u8(&in);
			if (off == 0xffff)
				len = x < len ? x + 14 : len;
			else
				buf[off % len] ^= x;
		}
		if (len > sizeof(buf))
			len = sizeof(buf);
	}
	u8 *frame = malloc(len ? len : 1);
	memcpy(frame, buf, len);
	n = inet_input(&a, frame, len, out, out_size);
	fuzz_check(n <= (int)out_size, "reply %d past out_size %zu", n, out_size);
	fuzz_check(n <= 0 || n >= INET_MIN_FRAME, "short reply %d", n);
	fuzz_check(n == 0 || n == -EINVAL || n == -ENOSPC || n > 0, "rc %d", n);
	if (n > 0) {
		/* ARP replies go to the ARP sender's address, IP ones to the
		 * frame's source. */
		const u8 *to = out[12] == 0x08 && out[13] == 0x06 ? frame + 22 : frame + 6;
		fuzz_check(!memcmp(out, to, 6) && !memcmp(out + 6, mac_a, 6), "reply MACs");
		fuzz_check(!(out[0] & 1), "reply to a group address");
		if (out[12] == 0x08 && out[13] == 0x00) {
			size_t total = (size_t)(out[16] << 8 | out[17]);
			fuzz_check(out[14] == 0x45 && total >= 28 && 14 + total <= (size_t)n,
				   "reply IP header");
			fuzz_check(sum(out + 14, 20) == 0xffff, "reply IP checksum");
			fuzz_check(sum(out + 34, total - 20) == 0xffff, "reply ICMP checksum");
		}
	}
	fuzz_check(a.st.rx_frames == 1, "counted once");
	free(frame);
	return 0;
}
