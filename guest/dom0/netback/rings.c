/*
 * netback's rings (vif.h): mapping them, the tx path (guest -> bridge)
 * and the rx path (bridge -> guest), both by grant copy.
 *
 * Why grant copy both ways: a frame is at most 1514 bytes, so one copy
 * costs less than mapping and unmapping the guest's pages (two
 * hypercalls and a TLB flush), and the copies of up to 32 packets go in
 * one hypercall (a VM exit per packet was most of netback's cost on a
 * stream: docs/PERFORMANCE.md, "PV net"); and dom0 never holds a mapping
 * of a guest's data page that a teardown would have to chase. This is
 * what Linux's netback does on tx for small packets and always on rx
 * (feature-rx-copy; "rx-flip" is long gone).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "loop/loop.h"
#include "netif_check.h"
#include "pvclock.h"
#include "vif.h"

/*
 * Where rings are mapped: two slots of dom0's grant-mapping window per
 * vif, from NB_SLOT_BASE up. The console backend takes the top 8 slots,
 * xenstored the 8 below them; self-tests count up from 0.
 */
#define NB_SLOT_BASE (GNTTAB_MAP_SLOTS - 128)

_Static_assert(NB_RXQ_FRAME_MAX == BRIDGE_MAX_FRAME, "the rx queue takes any bridged frame");

/* tx packets per grant-copy hypercall, and their copies: within one
 * hypercall entry's worth (the hypervisor continues a longer batch with
 * another exit). */
#define NB_TX_BATCH 32
#define NB_TX_OPS   64
_Static_assert(NB_TX_OPS >= NB_MAX_SLOTS, "a packet's copies fit one batch");

/* Bounce pages: page-aligned, so that a copy into or out of them never
 * crosses a page (GNTST_bad_copy_arg). One per packet of a tx batch. */
static u8 tx_buf[NB_TX_BATCH][PAGE_SIZE] __aligned(PAGE_SIZE);
static struct nb_tx_packet tx_pkt[NB_TX_BATCH];
static struct gnttab_copy tx_ops[NB_TX_OPS];
/* The same on rx: frames per grant-copy hypercall, one copy each. */
#define NB_RX_BATCH 32
static u8 rx_buf[NB_RX_BATCH][PAGE_SIZE] __aligned(PAGE_SIZE);
static struct netif_rx_request rx_req[NB_RX_BATCH];
static struct gnttab_copy rx_ops[NB_RX_BATCH];

static u32 read_once(const volatile u32 *p)
{
	return *p;
}

static bool connected(const struct nb_vif *v)
{
	return v->used && v->tx_mapped && v->rx_mapped && v->port_tx && !v->violated;
}

/* Asks to be woken when req_prod passes `prod` (not just req_cons + 1:
 * a packet whose slots are not all there yet must not spin us), then
 * looks once more. True if there is more to look at after all. */
static bool tx_rearm(struct nb_vif *v, RING_IDX prod)
{
	v->tx.sring->req_event = prod + 1;
	xen_mb();
	return read_once(&v->tx.sring->req_prod) != prod;
}

/* Parses the complete packets from req_cons on, at most NB_TX_BATCH and
 * NB_TX_OPS copies, consuming their slots and filling tx_ops with the
 * copies into tx_buf[k]. Returns how many (0: none there, after asking to
 * be woken), or -EIO after a violation (the vif is going down). */
static int tx_gather(struct nb_vif *v, unsigned max, unsigned *nops)
{
	unsigned n = 0;
	const char *rule;

	*nops = 0;
	while (n < max) {
		struct nb_tx_packet *pkt = &tx_pkt[n];
		RING_IDX prod = read_once(&v->tx.sring->req_prod);
		xen_rmb(); /* the index before the slots */
		int rc = nb_tx_parse(v->tx.sring, RING_SIZE(&v->tx), v->tx.req_cons, prod,
				     v->tx.rsp_prod_pvt, pkt, &rule);
		if (rc == -EAGAIN) {
			/* Re-armed only with nothing in hand: a batch is sent
			 * first, and the next gather re-arms. */
			if (!n && tx_rearm(v, prod))
				continue;
			break;
		}
		if (rc) {
			nb_vif_violation(v, rule);
			return -EIO;
		}
		if (*nops + pkt->nr_frags > NB_TX_OPS)
			break; /* the next batch's first */
		u32 off = 0;
		for (unsigned i = 0; i < pkt->nr_frags; i++) {
			tx_ops[(*nops)++] = (struct gnttab_copy){
				.source = { .u.ref = pkt->frag[i].gref, .domid = v->dom,
					    .offset = pkt->frag[i].offset },
				.dest = { .u.gmfn = virt_to_gfn(tx_buf[n]), .domid = DOMID_SELF,
					  .offset = (u16)off },
				.len = pkt->frag[i].len,
				.flags = GNTCOPY_source_gref,
			};
			off += pkt->frag[i].len;
		}
		v->tx.req_cons += pkt->slots;
		n++;
	}
	return (int)n;
}

/* Up to NB_TX_BUDGET packets. True if the budget ran out (more to do). */
static bool tx_pass(struct nb_vif *v)
{
	unsigned done = 0, nops;
	int n;
	bool notify;

	while (done < NB_TX_BUDGET) {
		unsigned max = NB_TX_BUDGET - done < NB_TX_BATCH ? NB_TX_BUDGET - done : NB_TX_BATCH;
		if ((n = tx_gather(v, max, &nops)) < 0)
			return false;
		if (!n)
			break;
		/* One hypercall for the batch: on a stream, the per-packet
		 * exit was most of netback's cost (docs/PERFORMANCE.md,
		 * "PV net"). Statuses are per copy. */
		if (gnttab_copy(tx_ops, nops)) {
			nb_vif_violation(v, "grant copy of tx slots refused");
			return false;
		}
		const struct gnttab_copy *op = tx_ops;
		for (int k = 0; k < n; k++) {
			const struct nb_tx_packet *pkt = &tx_pkt[k];
			for (unsigned i = 0; i < pkt->nr_frags; i++)
				if (op[i].status != GNTST_okay) {
					nb_vif_violation(v, "tx slot's grant ref not usable (grant "
							 "copy failed)");
					return false;
				}
			op += pkt->nr_frags;

			/* Responses in slot order: the first slot's, a NULL one
			 * per extra-info slot (Linux netback's
			 * make_tx_response), then the fragments'. */
			RING_IDX r = v->tx.rsp_prod_pvt;
			struct netif_tx_response *rsp = RING_GET_RESPONSE(&v->tx, r++);
			rsp->id = pkt->frag[0].id;
			rsp->status = XEN_NETIF_RSP_OKAY;
			for (unsigned i = 0; i < pkt->nr_extras; i++) {
				rsp = RING_GET_RESPONSE(&v->tx, r++);
				rsp->id = 0;
				rsp->status = XEN_NETIF_RSP_NULL;
			}
			for (unsigned i = 1; i < pkt->nr_frags; i++) {
				rsp = RING_GET_RESPONSE(&v->tx, r++);
				rsp->id = pkt->frag[i].id;
				rsp->status = XEN_NETIF_RSP_OKAY;
			}
			v->tx.rsp_prod_pvt = r;

			/* The bridge carries no offload metadata: finish a blank
			 * checksum (IPv4 or IPv6 TCP/UDP) here so every
			 * receiver, a NIC, dom0 or a vif whatever its checksum
			 * features, sees a complete frame. */
			if (pkt->flags & NETTXF_csum_blank)
				nb_csum_fill(tx_buf[k], pkt->len);
			v->st.tx_packets++;
			v->st.tx_bytes += pkt->len;
			if (v->on_bridge)
				bridge_input(&v->port, tx_buf[k], pkt->len, pvclock_now_ns());
			done++;
			if (!connected(v)) /* a detach from inside the bridge: nothing more */
				return false;
		}
	}
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->tx, notify);
	if (notify)
		evtchn_send(v->port_tx);
	return done == NB_TX_BUDGET;
}

/* Takes the posted rx requests for the queued frames, at most max:
 * each frame copied out of the queue into rx_buf[k] (and popped) with its
 * grant copy in rx_ops[k]. Returns how many (0: no frame or no buffer,
 * after asking to be woken for a buffer), or -EIO after a violation. */
static int rx_gather(struct nb_vif *v, unsigned max)
{
	unsigned n = 0, size = RING_SIZE(&v->rx);
	const char *rule;

	while (v->rxq.count && n < max) {
		RING_IDX prod = read_once(&v->rx.sring->req_prod);
		xen_rmb();
		if (nb_prod_check(prod, v->rx.rsp_prod_pvt, size, &rule)) {
			nb_vif_violation(v, rule);
			return -EIO;
		}
		if (prod == v->rx.req_cons) {
			if (n)
				break; /* this batch first; the next gather re-arms */
			/* No buffer posted: wake us when one is. */
			v->rx.sring->req_event = v->rx.req_cons + 1;
			xen_mb();
			if (read_once(&v->rx.sring->req_prod) == v->rx.req_cons)
				break;
			continue;
		}
		if (nb_rx_take(v->rx.sring, size, v->rx.req_cons, &rx_req[n], &rule)) {
			nb_vif_violation(v, rule);
			return -EIO;
		}
		v->rx.req_cons++;

		u16 len;
		const u8 *frame = nb_rxq_peek(&v->rxq, &len);
		memcpy(rx_buf[n], frame, len);
		nb_rxq_pop(&v->rxq);
		rx_ops[n] = (struct gnttab_copy){
			.source = { .u.gmfn = virt_to_gfn(rx_buf[n]), .domid = DOMID_SELF },
			.dest = { .u.ref = rx_req[n].gref, .domid = v->dom, .offset = 0 },
			.len = len,
			.flags = GNTCOPY_dest_gref,
		};
		n++;
	}
	return (int)n;
}

/* Up to NB_RX_BUDGET queued frames into the guest's posted buffers. True
 * if the budget ran out with frames and buffers left. */
static bool rx_pass(struct nb_vif *v)
{
	unsigned done = 0;
	int n;
	bool notify;

	while (v->rxq.count && done < NB_RX_BUDGET) {
		unsigned max = NB_RX_BUDGET - done < NB_RX_BATCH ? NB_RX_BUDGET - done : NB_RX_BATCH;
		if ((n = rx_gather(v, max)) < 0)
			return false;
		if (!n)
			break;
		/* One hypercall for the batch, as on tx. */
		if (gnttab_copy(rx_ops, (unsigned)n)) {
			nb_vif_violation(v, "rx request's grant ref not usable (grant copy refused)");
			return false;
		}
		for (int k = 0; k < n; k++) {
			if (rx_ops[k].status != GNTST_okay) {
				nb_vif_violation(v, "rx request's grant ref not usable (grant copy "
						 "failed)");
				return false;
			}
			/* A frame of at most 1514 bytes always fits one 4 KiB
			 * buffer at offset 0: no NETRXF_more_data
			 * (docs/pvnet.md). Checksums are complete (tx_pass), so
			 * no NETRXF_csum_blank either: what a frontend without
			 * checksum offload needs. */
			struct netif_rx_response *rsp =
				RING_GET_RESPONSE(&v->rx, v->rx.rsp_prod_pvt);
			rsp->id = rx_req[k].id;
			rsp->offset = 0;
			rsp->flags = 0;
			rsp->status = (s16)rx_ops[k].len;
			v->rx.rsp_prod_pvt++;
			v->st.rx_packets++;
			v->st.rx_bytes += rx_ops[k].len;
			done++;
		}
	}
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->rx, notify);
	/* feature-rx-notify: a frontend that did not ask still gets one per
	 * pass with responses (it may poll; an event costs it nothing). */
	if (notify || (done && !v->rx_notify))
		evtchn_send(v->port_rx);
	return v->rxq.count && done == NB_RX_BUDGET;
}

static void on_event(evtchn_port_t port, void *arg)
{
	struct nb_vif *v = arg;
	bool more = false;

	(void)port;
	v->st.events++;
	if (!connected(v))
		return;
	more |= tx_pass(v);
	if (connected(v))
		more |= rx_pass(v);
	/* Budget spent: the other services and vifs first, then us. */
	if (more && connected(v))
		loop_port_kick(v->port_tx);
}

int nb_vif_xmit(struct bridge_port *p, const u8 *frame, size_t len)
{
	struct nb_vif *v = p->owner;

	/* Queued even when buffers are posted: rx_pass runs from the loop,
	 * never inside the bridge's call. Past the queue's bounds (a frontend
	 * slow to post, or one that never does) the frame is dropped here and
	 * counted; the bridge and the other ports go on. */
	if (!connected(v) || nb_rxq_push(&v->rxq, frame, len)) {
		v->st.rx_dropped++;
		return -ENOSPC;
	}
	loop_port_kick(v->port_rx);
	return 0;
}

static int map_ring(struct nb_vif *v, unsigned slot, grant_ref_t ref, grant_handle_t *h)
{
	struct gnttab_map_grant_ref op;

	gnttab_set_map_op(&op, gnttab_slot_gpa(slot), GNTMAP_host_map, ref, v->dom);
	long rc = gnttab_map_refs(&op, 1);
	if (rc)
		return (int)rc;
	if (op.status != GNTST_okay)
		return -EACCES;
	*h = op.handle;
	return 0;
}

static void unmap_ring(unsigned slot, grant_handle_t h)
{
	struct gnttab_unmap_grant_ref u;

	gnttab_set_unmap_op(&u, gnttab_slot_gpa(slot), h);
	gnttab_unmap_refs(&u, 1);
}

int nb_rings_connect(struct nb_vif *v, grant_ref_t tx_ref, grant_ref_t rx_ref,
		     evtchn_port_t remote_tx, evtchn_port_t remote_rx)
{
	unsigned i = (unsigned)(v - nb_vifs);
	int rc;

	v->tx_slot = NB_SLOT_BASE + 2 * i;
	v->rx_slot = NB_SLOT_BASE + 2 * i + 1;
	if ((rc = map_ring(v, v->tx_slot, tx_ref, &v->tx_handle)))
		goto fail;
	v->tx_mapped = true;
	BACK_RING_INIT(&v->tx, (struct netif_tx_sring *)gnttab_slot_va(v->tx_slot), PAGE_SIZE);
	if ((rc = map_ring(v, v->rx_slot, rx_ref, &v->rx_handle)))
		goto fail;
	v->rx_mapped = true;
	BACK_RING_INIT(&v->rx, (struct netif_rx_sring *)gnttab_slot_va(v->rx_slot), PAGE_SIZE);

	if ((rc = evtchn_bind_interdomain(v->dom, remote_tx, &v->port_tx)))
		goto fail;
	if ((rc = loop_bind_port(v->port_tx, on_event, v)))
		goto fail;
	if (remote_rx != remote_tx) {
		if ((rc = evtchn_bind_interdomain(v->dom, remote_rx, &v->port_rx)))
			goto fail;
		if ((rc = loop_bind_port(v->port_rx, on_event, v)))
			goto fail;
	} else {
		v->port_rx = v->port_tx;
	}

	struct bridge *br = bridge_get(v->bridge);
	if (!br) {
		rc = -ENOSPC;
		goto fail;
	}
	memset(&v->port, 0, sizeof(v->port));
	snprintf(v->port.name, sizeof(v->port.name), "vif%u.%u", v->dom, v->devid);
	v->port.xmit = nb_vif_xmit;
	v->port.owner = v;
	if ((rc = bridge_port_add(br, &v->port)))
		goto fail;
	v->on_bridge = true;
	nb_rxq_clear(&v->rxq);
	/* Requests the frontend queued before we were there. */
	loop_port_kick(v->port_tx);
	return 0;
fail:
	nb_rings_disconnect(v);
	return rc;
}

void nb_rings_disconnect(struct nb_vif *v)
{
	if (v->on_bridge) {
		bridge_port_remove(&v->port);
		v->on_bridge = false;
	}
	if (v->port_rx && v->port_rx != v->port_tx) {
		loop_unbind_port(v->port_rx);
		evtchn_close(v->port_rx);
	}
	v->port_rx = 0;
	if (v->port_tx) {
		loop_unbind_port(v->port_tx);
		evtchn_close(v->port_tx);
		v->port_tx = 0;
	}
	if (v->rx_mapped) {
		unmap_ring(v->rx_slot, v->rx_handle);
		v->rx_mapped = false;
	}
	if (v->tx_mapped) {
		unmap_ring(v->tx_slot, v->tx_handle);
		v->tx_mapped = false;
	}
	nb_rxq_clear(&v->rxq);
}
