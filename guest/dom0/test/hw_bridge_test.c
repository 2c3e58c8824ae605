/*
 * The bridge self-test (test=bridge ip=A.B.C.D[/N] [udp=PORT]): dom0's
 * network service (bridge/netsvc.h) as it runs normally, xenbr0 over
 * every NIC plus dom0's endpoint, driven by the host test
 * (tests/pvnet/test_pvnet_bridge.py) from a Linux network namespace:
 * ARP, ICMP echo, then a UDP stream to PORT (default 5001) counted here,
 * ended by one datagram to PORT + 1.
 *
 * Prints `dom0: bridge-test: ready ...` once the ports are up, runs the
 * event loop (the NICs' interrupts drive everything) until the end
 * datagram or BRIDGE_TEST_TIMEOUT_NS, then the per-port counters
 * (netsvc_report) and a PASS/FAIL line.
 */
#include <lib/string.h>
#include "guest.h"
#include "inet.h"
#include "pvclock.h"
#include "selftests.h"
#include "bridge/bridge.h"
#include "bridge/netsvc.h"
#include "hw/hw.h"
#include "loop/loop.h"
#include "net/netdev.h"

#define BRIDGE_TEST_TIMEOUT_NS (150ULL * 1000000000ULL)

static bool end_seen(void *arg)
{
	const struct inet *in = arg;
	return in->st.udp_other > 0;
}

int hw_bridge_test(const char *cl)
{
	int rc = netsvc_start(cl);
	struct inet *in = netsvc_inet();

	if (rc || !in) {
		printf("dom0: bridge-test: FAIL network service: %d%s\n", rc,
		       in ? "" : " (no valid ip=A.B.C.D[/N] on the command line)");
		return 1;
	}
	struct bridge *br = netsvc_bridge();
	const u8 *m = in->mac;
	printf("dom0: bridge-test: ready ip %u.%u.%u.%u/%u on %s MAC "
	       "%02x:%02x:%02x:%02x:%02x:%02x, %u ports, udp port %u\n",
	       in->addr >> 24, (in->addr >> 16) & 0xff, (in->addr >> 8) & 0xff, in->addr & 0xff,
	       in->prefix, bridge_name(br), m[0], m[1], m[2], m[3], m[4], m[5],
	       bridge_nr_ports(br), in->udp_port);

	bool ended = loop_run_until(end_seen, in, pvclock_now_ns() + BRIDGE_TEST_TIMEOUT_NS);
	/* Replies still in the NICs' rings go out before the report. */
	for (int i = 0; i < 100; i++)
		netsvc_poll();

	netsvc_report();
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_get(i);
		printf("dom0: bridge-test: %s (%s): %lu interrupts (%s); rx %lu tx %lu frames\n",
		       nd->name, nd->driver, drv_irq_count(nd->irq), drv_irq_name(nd->irq),
		       nd->rx_frames, nd->tx_frames);
	}
	bool ok = ended && in->st.arp_requests && in->st.echo_requests;
	printf("dom0: bridge-test: %s: %s; udp port %u: %lu datagrams\n", ok ? "PASS" : "FAIL",
	       ended ? "end of stream seen" : "no end-of-stream datagram (time-out)", in->udp_port,
	       in->st.udp_datagrams);
	return ok ? 0 : 1;
}
