/*
 * role=disknet (pvtest.h): a domU that uses a disk and a vif, for the
 * teardown cycles of dom0's scenario `teardown` (guest/dom0/test/
 * domains_teardown.c): both devices connected, used and closed by the
 * guest, then the domain destroyed by dom0.
 *
 * role=disknet devid=N ip=A.B.C.D[/P] peer=A.B.C.D [sectors=S] [pings=K]
 *              [tag=T]
 *     connects vbd N, writes S sectors (default 64) at sector 0 with a
 *     pattern of tag T's (dom0 gives each cycle its own), reads them back
 *     and compares; then, with the disk still connected, connects vif 0,
 *     resolves `peer` (dom0's address on xenbr0) by ARP and pings it K
 *     times (default 3), every one answered. Closes both and prints
 *     "pvtest: disknet: PASS S sectors written and read back, K/K echo
 *     replies".
 */
#include <lib/string.h>
#include "blkfront.h"
#include "gnttab.h"
#include "guest.h"
#include "pages.h"
#include "pvtest.h"
#include "xenbus.h"

static struct blkfront bf;

static u32 word(u32 i, u32 tag)
{
	return (i * 2654435761u) ^ (tag << 16) ^ 0x4b45454c;
}

void role_disknet(const struct hvm_start_info *si)
{
	unsigned prefix = 24, pp = 32;
	u32 addr = pvinet_arg_ip(si, "ip", &prefix), peer = pvinet_arg_ip(si, "peer", &pp);
	u64 devid = arg_u64("devid"), sectors = arg_u64_or("sectors", 64);
	u64 pings = arg_u64_or("pings", 3);
	/* dom0 gives each cycle its own tag, so a write that never reached
	 * the disk cannot pass as the last cycle's pattern. */
	u32 tag = (u32)arg_u64_or("tag", 0);
	int rc;

	if (!sectors || sectors > 256)
		fail("sectors=1..256");
	if (!pages_init(si))
		fail("no page pool");
	if ((rc = gnttab_init(si, 4)))
		fail("gnttab_init: %d", rc);
	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);

	if ((rc = blkfront_connect(&bf, (u32)devid, 1)))
		fail("blkfront_connect: %d", rc);
	size_t bytes = (size_t)sectors * 512, pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	u32 *buf = pages_alloc(pages, PAGE_SIZE);
	if (!buf)
		fail("no memory for %lu pages", (u64)pages);
	for (u32 i = 0; i < bytes / 4; i++)
		buf[i] = word(i, tag);
	u32 per = blkfront_max_sectors(&bf);
	for (u64 s = 0; s < sectors; s += per) {
		u32 n = (u32)(sectors - s < per ? sectors - s : per);
		if ((rc = blkfront_io(&bf, BLKIF_OP_WRITE, s, n, (u8 *)buf + s * 512)) != 0)
			fail("write at sector %lu: %d", s, rc);
	}
	memset(buf, 0, bytes);
	for (u64 s = 0; s < sectors; s += per) {
		u32 n = (u32)(sectors - s < per ? sectors - s : per);
		if ((rc = blkfront_io(&bf, BLKIF_OP_READ, s, n, (u8 *)buf + s * 512)) != 0)
			fail("read at sector %lu: %d", s, rc);
	}
	for (u32 i = 0; i < bytes / 4; i++)
		if (buf[i] != word(i, tag))
			fail("read back word %u: 0x%x, wrote 0x%x", i, buf[i], word(i, tag));

	pvinet_up(addr, prefix, 5001);
	pvinet_resolve(peer);
	u64 replies = pvinet_ping(peer, pings);
	pvinet_down();
	if ((rc = blkfront_close(&bf)))
		fail("blkfront_close: %d", rc);
	if (replies != pings)
		fail("%lu of %lu echo requests answered", replies, pings);
	printf("pvtest: disknet: PASS %lu sectors written and read back, %lu/%lu echo replies\n",
	       sectors, replies, pings);
}
