/*
 * The two halves of the ping-pong test (roles pong and ping, pvtest.h).
 *
 * Set-up, done by dom0 before either runs: an unbound port P in the pong
 * domain offered to the ping domain; both told P, the other's id, the
 * grant ref R and the number of round trips N.
 *
 *   pong                               ping
 *   fills page, grants it as ref R
 *   waits on P                         binds to (pong, P) -> local port L
 *                                      sends ping 1 on L, waits on L
 *   gets ping 1, sends pong on P ...
 *                                      after pong 1: maps grant R, checks
 *                                      the first half, fills the second
 *   ... N round trips ...
 *                                      unmaps, sends "done" on L
 *   gets "done": checks the second
 *   half, revokes the grant
 *
 * Ports stay masked: each side sleeps in SCHEDOP_poll on its one port
 * and clears the pending bit itself, so no upcall is involved.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "pvclock.h"
#include "pvtest.h"

#define WAIT_NS (20ULL * 1000000000ULL)
#define HALF 2048u

static u8 shared_page[PAGE_SIZE] __aligned(PAGE_SIZE);

static u8 pong_byte(unsigned i)
{
	return (u8)(i * 31 + 7);
}

static u8 ping_byte(unsigned i)
{
	return (u8)(i * 17 + 3);
}

void role_pong(const struct hvm_start_info *si)
{
	domid_t peer = (domid_t)arg_u64("peer");
	u32 port = (u32)arg_u64("port");
	grant_ref_t ref = (grant_ref_t)arg_u64("gref");
	u64 count = arg_u64("count");
	int rc;

	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= gnttab_nr_refs())
		fail("gref %u outside this table (8..%u)", ref, gnttab_nr_refs() - 1);
	for (unsigned i = 0; i < HALF; i++)
		shared_page[i] = pong_byte(i);
	gnttab_grant_access_ref(ref, peer, virt_to_gfn(shared_page), false);
	printf("pvtest: pong: page granted to d%u as ref %u; answering on port %u\n", peer, ref,
	       port);

	u64 t0 = pvclock_now_ns();
	for (u64 n = 1; n <= count; n++) {
		wait_port(port, WAIT_NS, "a ping");
		if ((rc = evtchn_send(port)))
			fail("send pong %lu: %d", n, rc);
		if (n % 2500 == 0)
			printf("pvtest: pong: %lu pongs sent\n", n);
	}
	u64 t1 = pvclock_now_ns();
	wait_port(port, WAIT_NS, "the peer's done");

	for (unsigned i = 0; i < HALF; i++)
		if (shared_page[HALF + i] != ping_byte(i))
			fail("granted page byte %u is 0x%x, the peer should have written 0x%x",
			     HALF + i, shared_page[HALF + i], ping_byte(i));
	if (!gnttab_end_access(ref))
		fail("cannot revoke ref %u: flags 0x%x (still mapped?)", ref, gnttab_flags(ref));
	printf("pvtest: pong: PASS %lu pings answered in %lu ms; peer's half of the page "
	       "verified, grant revoked\n",
	       count, (t1 - t0) / 1000000);
}

void role_ping(const struct hvm_start_info *si)
{
	domid_t peer = (domid_t)arg_u64("peer");
	u32 rport = (u32)arg_u64("rport");
	grant_ref_t ref = (grant_ref_t)arg_u64("gref");
	u64 count = arg_u64("count");
	evtchn_port_t port;
	int rc;

	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	if ((rc = evtchn_bind_interdomain(peer, rport, &port)))
		fail("bind_interdomain(d%u, port %u): %d", peer, rport, rc);
	/* The hypervisor marks a freshly bound port pending (Xen does, for
	 * notifications lost while it was unbound): not a pong. */
	evtchn_clear_pending(port);
	printf("pvtest: ping: bound to d%u port %u as port %u\n", peer, rport, port);

	u64 t0 = pvclock_now_ns();
	u8 *page = NULL;
	struct gnttab_map_grant_ref map;
	for (u64 n = 1; n <= count; n++) {
		if ((rc = evtchn_send(port)))
			fail("send ping %lu: %d", n, rc);
		wait_port(port, WAIT_NS, "a pong");
		if (n == 1) {
			/* The first pong proves the peer granted its page. */
			gnttab_set_map_op(&map, gnttab_slot_gpa(0), GNTMAP_host_map, ref, peer);
			long hrc = gnttab_map_refs(&map, 1);
			if (hrc || map.status != GNTST_okay)
				fail("map grant %u of d%u: rc %ld status %d (%s)", ref, peer, hrc,
				     map.status, gntst_name(map.status));
			page = gnttab_slot_va(0);
			for (unsigned i = 0; i < HALF; i++)
				if (page[i] != pong_byte(i))
					fail("granted page byte %u is 0x%x, expected 0x%x", i,
					     page[i], pong_byte(i));
			for (unsigned i = 0; i < HALF; i++)
				page[HALF + i] = ping_byte(i);
			printf("pvtest: ping: mapped d%u's grant %u: first half verified, "
			       "second half written\n", peer, ref);
		}
		if (n % 2500 == 0)
			printf("pvtest: ping: %lu round trips\n", n);
	}
	u64 t1 = pvclock_now_ns();
	if (page) {
		struct gnttab_unmap_grant_ref unmap;
		gnttab_set_unmap_op(&unmap, gnttab_slot_gpa(0), map.handle);
		long hrc = gnttab_unmap_refs(&unmap, 1);
		if (hrc || unmap.status != GNTST_okay)
			fail("unmap grant: rc %ld status %d", hrc, unmap.status);
	}
	if ((rc = evtchn_send(port)))
		fail("send done: %d", rc);
	u64 us = (t1 - t0) / 1000;
	printf("pvtest: ping: PASS %lu round trips in %lu ms (%lu us each)\n", count, us / 1000,
	       count ? us / count : 0);
}

/*
 * role=granter peer=D port=P gref=R: grants a page (filled with
 * pong_byte) to D as ref R, says so on port P (dom0 allocated it, unbound
 * for D, and D bound it), then sleeps until destroyed. For the test that
 * destroys a domain whose page another domain still maps.
 */
void role_granter(const struct hvm_start_info *si)
{
	domid_t peer = (domid_t)arg_u64("peer");
	u32 port = (u32)arg_u64("port");
	grant_ref_t ref = (grant_ref_t)arg_u64("gref");
	int rc;

	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		shared_page[i] = pong_byte(i);
	gnttab_grant_access_ref(ref, peer, virt_to_gfn(shared_page), true);
	/* The line first: once notified, the peer may destroy this domain
	 * before it runs again (domctl-destroy-keeps-page-another-domain-maps). */
	printf("pvtest: granter: page granted read-only to d%u as ref %u; sleeping\n", peer, ref);
	if ((rc = evtchn_send(port)))
		fail("send: %d", rc);
	for (;;)
		evtchn_poll(&port, 1, 0);
}
