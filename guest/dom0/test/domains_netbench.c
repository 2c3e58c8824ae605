/*
 * pvnet_mode=bench (tests/pvnet/test_pvnet_bench.py, `make bench`;
 * docs/PERFORMANCE.md "PV net"): 1514-byte frames per second on three
 * paths, timed with pvclock (wall clock under TCG: the figures vary with
 * the host's load, hence three runs), in one boot:
 *
 *   native  dom0 sends `frames` frames straight out of its first NIC
 *           (netdev_xmit; a full transmit ring is reaped with netdev_poll
 *           and the frame retried): dom0's own NIC path, the reference.
 *   nic     a role=net-burst domU sends as many to a MAC no port has:
 *           netfront, netback (grant copy), xenbr0 (flooded to its one
 *           other port, the NIC), the NIC. Its time is the domU's, from
 *           the first send to the last tx response; the frames that left
 *           are the NIC's transmit count (a full NIC ring drops a frame
 *           the bridge forwards: counted as the port's tx dropped).
 *   domu    the same sender to a role=net-sink domU: netback's rx path
 *           into the sink's posted buffers. Its time and count are the
 *           sink's (first to last data frame received).
 *
 * For each domU path it prints the sender's VM exits by reason during
 * the stream (KEEL_DOMCTL_get_exit_counts before "go" and after "sent":
 * the reads bracket the stream and a few of the sender's store polls
 * around it), the receiver's and dom0's. The frame is net-burst's: dom0
 * builds its own the same size.
 */
#include <lib/string.h>
#include <public/sched.h>
#include "bridge/bridge.h"
#include "bridge/netsvc.h"
#include "domain/launch.h"
#include "domains.h"
#include "domctl.h"
#include "guest.h"
#include "loop/loop.h"
#include "net/netdev.h"
#include "netback/netback.h"
#include "pvclock.h"

#define FRAME_LEN 1514
#define NS_PER_US 1000ULL
/* A MAC no port has: the bridge floods it to every port but the sender's. */
#define NOWHERE "02:00:00:00:00:ee"

#define EXIT_NAME_ENTRY_(name, num, str, what) [KEEL_EXIT_##name] = str,
static const char *const exit_names[KEEL_EXIT_NR] = { KEEL_EXIT_REASONS(EXIT_NAME_ENTRY_) };
#undef EXIT_NAME_ENTRY_

struct exits {
	u64 c[KEEL_EXIT_NR];
};

static void exits_read(domid_t id, struct exits *e)
{
	memset(e, 0, sizeof(*e));
	domains_check("netbench-exit-counts", domctl_exit_counts(id, e->c, KEEL_EXIT_NR, NULL), 0);
}

/* "dom0: pvnet-bench: PATH: WHO dN exits T per-frame X.XXX (reason=n ...)" */
static void exits_print(const char *path, const char *who, domid_t id, const struct exits *a,
			const struct exits *b, unsigned frames)
{
	char buf[320];
	size_t n = 0;
	u64 total = 0;

	for (unsigned i = 0; i < KEEL_EXIT_NR && n < sizeof(buf); i++) {
		u64 d = b->c[i] - a->c[i];
		total += d;
		if (d)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%lu", exit_names[i], d);
	}
	u64 milli = frames ? total * 1000 / frames : 0;
	printf("dom0: pvnet-bench: %s: %s d%u exits %lu per-frame %lu.%03lu (%s)\n", path, who, id,
	       total, milli / 1000, milli % 1000, n ? buf + 1 : "none");
}

static struct netdev *nic(void)
{
	for (unsigned i = 0; i < netdev_count(); i++)
		if (netdev_get(i)->link_up)
			return netdev_get(i);
	domains_finish(false, "pvnet-bench: FAIL no NIC with its link up");
}

static void native(struct netdev *nd, unsigned frames)
{
	static u8 f[FRAME_LEN];
	static const u8 dst[6] = { 0x02, 0, 0, 0, 0, 0xee };
	struct exits a, b;
	u64 retries = 0, tx0 = nd->tx_frames;

	memcpy(f, dst, 6);
	memcpy(f + 6, nd->mac, 6);
	f[12] = 0x88; /* net-burst's ethertype and layout */
	f[13] = 0xb5;
	f[14] = 2;
	exits_read(0, &a);
	u64 t0 = pvclock_now_ns(), deadline = t0 + DOMAINS_WAIT_NS;
	for (u32 s = 0; s < frames; s++) {
		memcpy(f + 15, &s, 4);
		for (size_t i = 19; i < FRAME_LEN; i++)
			f[i] = (u8)(s * 11u + i * 5u + 3);
		while (netdev_xmit(nd, f, FRAME_LEN) == -EBUSY) {
			retries++;
			netdev_poll(nd);
			if (pvclock_now_ns() > deadline)
				domains_finish(false, "pvnet-bench: FAIL native: %s's transmit ring "
					       "stuck after %u frames", nd->name, s);
		}
	}
	u64 us = (pvclock_now_ns() - t0) / NS_PER_US;
	exits_read(0, &b);
	printf("dom0: pvnet-bench: native: %u frames of %u bytes out of %s (%s) in %lu us, "
	       "left %lu, ring full %lu times\n", frames, FRAME_LEN, nd->name, nd->driver, us,
	       nd->tx_frames - tx0, retries);
	exits_print("native", "dom0", 0, &a, &b, frames);
}

static bool both_down(void *arg)
{
	const struct launch_domain *d = arg;

	return domains_is_shut_down(d[0].id) && (!d[1].id || domains_is_shut_down(d[1].id));
}

/* One domU path: the sender d[0] to `peer` (and the sink d[1] when
 * d[1].id is set, already launched and ready). */
static void stream(const char *path, struct launch_domain *d, const char *peer, u8 last,
		   unsigned frames, struct netdev *nd)
{
	struct exits s0, s1, r0, r1, z0, z1;
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "role=net-burst peer=%s phases=%ux%u", peer, frames, FRAME_LEN);
	pvnet_launch(&d[0], path, cmd, last);
	domains_check("netbench-sender-ready", pvnet_wait_node(d[0].id, "sent", 0), 1);
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;
	u64 tx0 = nd->tx_frames;
	exits_read(d[0].id, &s0);
	if (d[1].id)
		exits_read(d[1].id, &r0);
	exits_read(0, &z0);
	pvnet_put_node(d[0].id, "go", 1);
	domains_check("netbench-sent", pvnet_wait_node(d[0].id, "sent", 1), 1);
	exits_read(d[0].id, &s1);
	if (d[1].id)
		exits_read(d[1].id, &r1);
	exits_read(0, &z1);
	printf("dom0: pvnet-bench: %s: %lu frames left %s during the stream\n", path,
	       nd->tx_frames - tx0, nd->name);
	exits_print(path, "sender", d[0].id, &s0, &s1, frames);
	if (d[1].id)
		exits_print(path, "sink", d[1].id, &r0, &r1, frames);
	exits_print(path, "dom0", 0, &z0, &z1, frames);
	pvnet_put_node(d[0].id, "end", 1);
	bool down = loop_run_until(both_down, d, pvclock_now_ns() + DOMAINS_WAIT_NS);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("netbench-domUs-finished", down, 1);
	for (unsigned i = 0; i < 2; i++) {
		if (!d[i].id)
			continue;
		domains_check("netbench-poweroff", domains_shutdown_code(d[i].id), SHUTDOWN_poweroff);
		domains_check("launch-destroy", launch_destroy(&d[i]), 0);
	}
}

void pvnet_bench(unsigned frames)
{
	struct launch_domain d[2];
	struct netdev *nd = nic();

	native(nd, frames);

	memset(d, 0, sizeof(d));
	stream("nic", d, NOWHERE, 0x0b, frames, nd);

	memset(d, 0, sizeof(d));
	pvnet_launch(&d[1], "sink", "role=net-sink peer=02:00:00:00:00:0b", 0x0a);
	domains_check("netbench-sink-ready", pvnet_wait_node(d[1].id, "ready", 1), 1);
	stream("domu", d, "02:00:00:00:00:0a", 0x0b, frames, nd);
	if (netsvc_bridge())
		netsvc_report();
}
