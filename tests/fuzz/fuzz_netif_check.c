/*
 * netback's ring validation (guest/dom0/netback/netif_check.c) against a
 * hostile netfront: the input is the whole tx ring page, the indices and
 * an rx slot.
 *
 * unit-sources: guest/dom0/netback/netif_check.c
 *
 * The page is a heap buffer of exactly 4096 bytes, so a read outside it
 * is an ASan report. Invariants of an accepted packet: it takes at most
 * prod - cons slots, 1..18 data slots whose lengths add up to the
 * packet's length, each inside its page; length within an Ethernet frame;
 * ids in range and distinct. -EAGAIN only when its slots run past prod;
 * -EIO always names a rule. nb_csum_fill never writes outside the frame.
 */
#include <lib/errno.h>
#include "../../guest/dom0/netback/netif_check.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	const unsigned sz = NETIF_TX_RING_SIZE;
	struct netif_tx_sring *s = calloc(1, 4096);
	struct nb_tx_packet p;
	const char *rule;

	RING_IDX cons = fuzz_u32(&in);
	RING_IDX prod = cons + fuzz_u16(&in) % (sz + 2);
	RING_IDX rsp = cons - fuzz_u8(&in) % 4;
	/* The slots from cons on, the rest stays zero. */
	for (unsigned i = 0; i < sz && fuzz_more(&in); i++) {
		u8 *slot = (u8 *)&s->ring[(cons + i) & (sz - 1)];
		for (unsigned b = 0; b < sizeof(struct netif_tx_request); b++)
			slot[b] = fuzz_u8(&in);
	}

	rule = NULL;
	int rc = nb_tx_parse(s, sz, cons, prod, rsp, &p, &rule);
	fuzz_check(rc == 0 || rc == -EAGAIN || rc == -EIO, "rc %d", rc);
	if (rc == -EIO)
		fuzz_check(rule != NULL, "-EIO without a rule");
	if (rc == 0) {
		fuzz_check(p.slots >= 1 && p.slots <= prod - cons, "slots %u", p.slots);
		fuzz_check(p.nr_frags >= 1 && p.nr_frags <= NB_MAX_SLOTS, "frags %u", p.nr_frags);
		fuzz_check(p.slots == p.nr_frags + p.nr_extras, "slot count");
		fuzz_check(p.len >= NB_MIN_FRAME && p.len <= NB_MAX_FRAME, "len %u", p.len);
		u32 sum = 0;
		for (unsigned i = 0; i < p.nr_frags; i++) {
			sum += p.frag[i].len;
			fuzz_check((u32)p.frag[i].offset + p.frag[i].len <= 4096, "frag crosses page");
			fuzz_check(p.frag[i].id < sz, "id %u", p.frag[i].id);
			for (unsigned j = 0; j < i; j++)
				fuzz_check(p.frag[i].id != p.frag[j].id, "repeated id");
		}
		fuzz_check(sum == p.len, "frags add to %u, len %u", sum, p.len);

		/* The checksum finisher over a frame of exactly that length. */
		u8 *f = malloc(p.len);
		for (unsigned i = 0; i < p.len; i++)
			f[i] = fuzz_u8(&in);
		nb_csum_fill(f, p.len);
		free(f);
	}

	struct netif_rx_sring *rx = (struct netif_rx_sring *)s;
	struct netif_rx_request r;
	rc = nb_rx_take(rx, NETIF_RX_RING_SIZE, cons, &r, &rule);
	fuzz_check(rc == 0 ? r.id < NETIF_RX_RING_SIZE : rc == -EIO, "rx take %d", rc);
	free(s);
	return 0;
}
