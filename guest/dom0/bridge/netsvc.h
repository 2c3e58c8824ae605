/*
 * dom0's network service (netsvc.c, docs/bridge.md): the bridge `xenbr0`
 * joining every NIC dom0 drives (drivers/net) and dom0's own IPv4
 * endpoint (guest/lib/inet.h), run from dom0's event loop. netback adds
 * each vif as another port (bridge_get("xenbr0"), bridge_port_add).
 *
 * NIC ports: a received frame goes to bridge_input from the NIC's
 * interrupt handler (drv_irq_set_handler) or, for a NIC without an
 * interrupt, a 1 ms poll timer; a frame the bridge sends out of the port
 * goes to netdev_xmit (a full transmit ring drops it: tx_dropped).
 *
 * dom0's port ("dom0") has the first NIC's MAC (as a Linux bridge takes
 * its lowest port's, so the NIC's own receive filter never matters for
 * dom0's traffic) or 02:4b:45:45:4c:00 without a NIC, and the address of
 * the cmdline's `ip=A.B.C.D[/N]` (prefix 24 when absent); without ip=
 * dom0 has no port on the bridge. It answers ARP and ICMP echo and counts
 * UDP datagrams to port `udp=N` (NETSVC_UDP_PORT by default).
 */
#ifndef GUEST_DOM0_NETSVC_H
#define GUEST_DOM0_NETSVC_H

#include <lib/types.h>

#define NETSVC_BRIDGE "xenbr0"
#define NETSVC_UDP_PORT 5001

struct bridge;
struct inet;

/* Creates xenbr0, joins every registered NIC and, with ip=, dom0's
 * endpoint; needs the event loop (loop_init) and dom0_hw_init done.
 * Idempotent. 0, or -errno (bad ip=, no event loop). */
int netsvc_start(const char *cmdline);

/* The bridge and dom0's endpoint (NULL before netsvc_start / without
 * ip=). */
struct bridge *netsvc_bridge(void);
struct inet *netsvc_inet(void);

/* Polls every NIC once (frames into the bridge): for callers that wait
 * outside the loop. Returns the frames received. */
unsigned netsvc_poll(void);

/* Prints one line per port: `dom0: bridge xenbr0: port eth0 (virtio-net)
 * rx F frames B bytes E errors, tx F frames B bytes D dropped`, a
 * bridge-wide line and dom0's endpoint counters. */
void netsvc_report(void);

#endif
