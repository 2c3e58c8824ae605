/*
 * dom0's network service: xenbr0 over the NICs plus dom0's own endpoint
 * (contract: netsvc.h; design: docs/bridge.md).
 *
 * Everything runs from dom0's event loop, single-threaded: the NIC's
 * interrupt handler polls the NIC, each received frame goes through
 * bridge_input to its port(s) synchronously, and dom0's endpoint answers
 * inline (its reply re-enters bridge_input, which bounds the nesting).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "guest.h"
#include "inet.h"
#include "loop/loop.h"
#include "net/netdev.h"
#include "pages.h"
#include "pvclock.h"

#include "bridge.h"
#include "netsvc.h"

#define NIC_POLL_NS 1000000ULL /* NICs without an interrupt: every 1 ms */
#define NIC_POLL_BUDGET 8      /* polls per interrupt before yielding to the loop */

/*
 * Frames a NIC's transmit ring has no room for wait in a short backlog
 * (a qdisc's txqueuelen), in order, and go out as the device frees
 * slots: a burst from a domU no longer loses what the ring cannot take at
 * that instant (QEMU's device thread may be late to consume it). Only a
 * full backlog drops, counted in tx_dropped. It is drained before each new
 * frame, after each poll, and by a timer while frames wait (virtio-net
 * asks for no interrupt on transmissions). The frames come from dom0's
 * page pool when the NIC joins the bridge (not bss, which the boot
 * clears); without them a full ring drops at once, as before.
 */
#define NIC_BACKLOG 128
#define BACKLOG_PAGES (ALIGN_UP((u64)NIC_BACKLOG * BRIDGE_MAX_FRAME, PAGE_SIZE) >> PAGE_SHIFT)
#define NIC_BACKLOG_RETRY_NS 50000ULL
#define NIC_BACKLOG_RETRY_MAX_NS 1000000ULL

struct nic_port {
	struct bridge_port port;
	struct netdev *nd;
	struct loop_timer retry;
	u64 retry_ns;
	unsigned head, count;
	u16 len[NIC_BACKLOG];
	u8 (*frame)[BRIDGE_MAX_FRAME];
};

static struct {
	bool started;
	struct bridge *br;
	struct nic_port nics[NETDEV_MAX];
	unsigned nr_nics;
	bool have_self;
	struct bridge_port self_port;
	struct inet self;
	struct loop_timer poll_timer;
} ns;

/* Sends waiting frames while the ring takes them. A frame the device
 * refuses for another reason than a full ring is dropped: the bridge
 * counted it sent when it was queued, so it moves from tx_frames to
 * tx_dropped. */
static void nic_drain(struct nic_port *np)
{
	while (np->count) {
		int rc = netdev_xmit(np->nd, np->frame[np->head], np->len[np->head]);
		if (rc == -EBUSY)
			break;
		if (rc) {
			np->port.tx_frames--;
			np->port.tx_bytes -= np->len[np->head];
			np->port.tx_dropped++;
		}
		np->head = (np->head + 1) % NIC_BACKLOG;
		np->count--;
	}
}

static int nic_xmit(struct bridge_port *p, const u8 *frame, size_t len)
{
	struct nic_port *np = p->owner;

	/* Reaping the ring here would mean netdev_poll, which delivers
	 * received frames into the bridge from inside its own forwarding:
	 * a full ring puts the frame in the backlog instead. */
	nic_drain(np);
	if (!np->count) {
		int rc = netdev_xmit(np->nd, frame, len);
		if (rc != -EBUSY)
			return rc;
	}
	if (!np->frame || np->count == NIC_BACKLOG || len > BRIDGE_MAX_FRAME)
		return -EBUSY; /* the bridge counts the drop */
	unsigned tail = (np->head + np->count) % NIC_BACKLOG;
	memcpy(np->frame[tail], frame, len);
	np->len[tail] = (u16)len;
	np->count++;
	if (!np->retry.armed) {
		np->retry_ns = NIC_BACKLOG_RETRY_NS;
		loop_timer_arm(&np->retry, pvclock_now_ns() + np->retry_ns);
	}
	return 0;
}

static void nic_rx(struct netdev *nd, const u8 *frame, size_t len, void *arg)
{
	struct nic_port *np = arg;

	(void)nd;
	bridge_input(&np->port, frame, len, pvclock_now_ns());
}

static unsigned nic_poll(struct nic_port *np)
{
	unsigned got = 0, n;

	for (unsigned i = 0; i < NIC_POLL_BUDGET && (n = netdev_poll(np->nd)); i++)
		got += n;
	nic_drain(np); /* the poll reaped finished transmissions */
	return got;
}

/* While frames wait: a poll (which reaps the ring: some NICs free slots
 * only there), then the backlog. Every 50 us while it moves, backing off
 * to NIC_BACKLOG_RETRY_MAX_NS while the device takes nothing (a stalled
 * device must not wake dom0 20,000 times a second). */
static void nic_retry(void *arg)
{
	struct nic_port *np = arg;
	unsigned before = np->count;

	nic_poll(np);
	if (!np->count)
		return;
	if (np->count < before)
		np->retry_ns = NIC_BACKLOG_RETRY_NS;
	else
		np->retry_ns = MIN(2 * np->retry_ns, NIC_BACKLOG_RETRY_MAX_NS);
	loop_timer_arm(&np->retry, pvclock_now_ns() + np->retry_ns);
}

static void nic_irq(void *arg)
{
	nic_poll(arg);
}

unsigned netsvc_poll(void)
{
	unsigned got = 0;

	for (unsigned i = 0; i < ns.nr_nics; i++)
		got += nic_poll(&ns.nics[i]);
	return got;
}

/* NICs without an interrupt line, every NIC_POLL_NS. Only they are
 * polled, and the timer runs only while there is one: with none (no NIC
 * at all, or every NIC interrupt-driven) an idle dom0 sleeps until an
 * event, which console-dom0-shell-idle-exits counts on. */
static void poll_tick(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < ns.nr_nics; i++)
		if (!ns.nics[i].nd->irq)
			nic_poll(&ns.nics[i]);
	loop_timer_arm(&ns.poll_timer, pvclock_now_ns() + NIC_POLL_NS);
}

/* Frames the bridge sends to dom0: the endpoint answers inline. */
static int self_xmit(struct bridge_port *p, const u8 *frame, size_t len)
{
	static u8 reply[BRIDGE_MAX_FRAME];
	int n;

	/* Not reentered with `reply` in use: the reply comes in from this
	 * port, and the bridge never sends a frame back out of its source. */
	n = inet_input(&ns.self, frame, len, reply, sizeof(reply));
	if (n > 0)
		bridge_input(p, reply, (size_t)n, pvclock_now_ns());
	return 0;
}

static int parse_ip(const char *cmdline, u32 *addr, unsigned *prefix)
{
	char s[24];

	if (!cmdline_get(cmdline, "ip", s, sizeof(s)))
		return -ENOENT;
	int rc = inet_parse_cidr(s, addr, prefix);
	if (rc == 0 && !strchr(s, '/'))
		*prefix = 24; /* the net tests' 10.99.0.0/24 */
	return rc;
}

int netsvc_start(const char *cmdline)
{
	int rc;

	if (ns.started)
		return 0;
	if (!cmdline)
		cmdline = ""; /* no address: the NICs only */
	if ((rc = loop_init()))
		return rc;
	ns.br = bridge_get(NETSVC_BRIDGE);
	if (!ns.br)
		return -ENOSPC;
	for (unsigned i = 0; i < netdev_count() && ns.nr_nics < NETDEV_MAX; i++) {
		struct nic_port *np = &ns.nics[ns.nr_nics];
		np->nd = netdev_get(i);
		strlcpy(np->port.name, np->nd->name, sizeof(np->port.name));
		np->port.xmit = nic_xmit;
		np->port.owner = np;
		np->retry.fn = nic_retry;
		np->retry.arg = np;
		if ((rc = bridge_port_add(ns.br, &np->port))) {
			printf("dom0: bridge %s: %s not joined (%d)\n", NETSVC_BRIDGE, np->nd->name, rc);
			continue;
		}
		/* The slot is kept from here: its backlog is allocated once. */
		np->frame = pages_alloc(BACKLOG_PAGES, 0);
		if (!np->frame)
			printf("dom0: bridge %s: %s: no memory for a transmit backlog; a full ring "
			       "drops\n", NETSVC_BRIDGE, np->nd->name);
		netdev_set_rx(np->nd, nic_rx, np);
		drv_irq_set_handler(np->nd->irq, nic_irq, np);
		ns.nr_nics++;
	}
	/* Frames that arrived before the handlers were set. */
	netsvc_poll();
	bool polled = false;
	for (unsigned i = 0; i < ns.nr_nics; i++)
		polled |= !ns.nics[i].nd->irq;
	if (polled) {
		ns.poll_timer.fn = poll_tick;
		loop_timer_arm(&ns.poll_timer, pvclock_now_ns() + NIC_POLL_NS);
	}

	u32 addr;
	unsigned prefix;
	rc = parse_ip(cmdline, &addr, &prefix);
	if (rc == -ENOENT) {
		rc = 0;
	} else if (rc == 0) {
		static const u8 fallback[6] = { 0x02, 'K', 'E', 'E', 'L', 0 };
		const u8 *mac = ns.nr_nics ? ns.nics[0].nd->mac : fallback;
		u64 udp = NETSVC_UDP_PORT;
		cmdline_get_u64(cmdline, "udp", &udp);
		inet_init(&ns.self, mac, addr, prefix);
		ns.self.udp_port = (u16)udp;
		strlcpy(ns.self_port.name, "dom0", sizeof(ns.self_port.name));
		ns.self_port.xmit = self_xmit;
		ns.self_port.owner = &ns.self;
		rc = bridge_port_add(ns.br, &ns.self_port);
		ns.have_self = rc == 0;
	}
	ns.started = true;
	return rc;
}

struct bridge *netsvc_bridge(void)
{
	return ns.br;
}

struct inet *netsvc_inet(void)
{
	return ns.have_self ? &ns.self : NULL;
}

void netsvc_report(void)
{
	if (!ns.br)
		return;
	for (unsigned i = 0; i < BRIDGE_MAX_PORTS; i++) {
		struct bridge_port *p = bridge_port_at(ns.br, i);
		if (!p)
			continue;
		printf("dom0: bridge %s: port %s rx %lu frames %lu bytes %lu errors, "
		       "tx %lu frames %lu bytes %lu dropped\n",
		       NETSVC_BRIDGE, p->name, p->rx_frames, p->rx_bytes, p->rx_errors,
		       p->tx_frames, p->tx_bytes, p->tx_dropped);
	}
	struct bridge_stats st;
	bridge_get_stats(ns.br, &st);
	printf("dom0: bridge %s: %u ports, %u MACs; forwarded %lu, flooded %lu, filtered %lu, "
	       "learned %lu, moved %lu, fdb full %lu, too deep %lu\n",
	       NETSVC_BRIDGE, bridge_nr_ports(ns.br), bridge_nr_fdb(ns.br, pvclock_now_ns()),
	       st.forwarded, st.flooded, st.filtered, st.learned, st.moved, st.fdb_full,
	       st.too_deep);
	if (ns.have_self) {
		const struct inet *in = &ns.self;
		printf("dom0: inet dom0: answered %lu ARP requests and %lu echo requests; "
		       "udp port %u: %lu datagrams %lu bytes, %lu to other ports; "
		       "%lu frames in, %lu malformed, %lu ignored\n",
		       in->st.arp_requests, in->st.echo_requests, in->udp_port, in->st.udp_datagrams,
		       in->st.udp_bytes, in->st.udp_other, in->st.rx_frames, in->st.rx_errors,
		       in->st.rx_ignored);
	}
}
