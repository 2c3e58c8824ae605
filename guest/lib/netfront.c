/*
 * The netfront (contract in netfront.h). The handshake follows Linux's
 * drivers/net/xen-netfront.c (talk_to_netback, xennet_connect): the
 * frontend writes its ring refs and channel and switches straight to
 * Connected once the backend is in InitWait.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "netfront.h"
#include "pages.h"
#include "pvclock.h"
#include "xenbus.h"

static int read_str(const char *dir, const char *key, char *buf, size_t size)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	long n = xb_read(xenbus(), 0, path, buf, size);
	return n < 0 ? (int)n : 0;
}

static int read_u64(const char *dir, const char *key, u64 *v)
{
	char buf[32];
	const char *end;
	int rc = read_str(dir, key, buf, sizeof(buf));

	if (rc)
		return rc;
	if (parse_u64(buf, &end, v) || *end)
		return -EINVAL;
	return 0;
}

static int write_fe(struct netfront *nf, const char *key, const char *fmt, u64 v)
{
	char path[96], val[32];

	snprintf(path, sizeof(path), "%s/%s", nf->fe, key);
	snprintf(val, sizeof(val), fmt, v);
	return xb_write(xenbus(), 0, path, val);
}

int netfront_backend_state(struct netfront *nf)
{
	u64 s;
	int rc = read_u64(nf->be, "state", &s);

	return rc ? rc : (int)s;
}

/* Polls the backend's state until it is `want` (or, with `or_gone`, its
 * node is gone or Closed). Polling, not a watch: the store is in dom0 and
 * a read is one ring round trip; 1 ms steps keep it cheap. */
static int wait_backend(struct netfront *nf, int want, bool or_gone, u64 timeout_ns)
{
	u64 deadline = pvclock_now_ns() + timeout_ns;

	for (;;) {
		int s = netfront_backend_state(nf);
		if (s == want)
			return 0;
		if (or_gone && (s < 0 || s == XenbusStateClosed))
			return 0;
		if (!or_gone && s == XenbusStateClosing)
			return -EIO;
		if (pvclock_now_ns() >= deadline)
			return -ETIMEDOUT;
		pvclock_sleep_ns(1000000);
	}
}

static void end_grant(struct netfront *nf, int *ref)
{
	if (*ref <= 0)
		return;
	if (gnttab_end_access((grant_ref_t)*ref))
		gnttab_free_ref((grant_ref_t)*ref);
	else
		nf->grants_kept++;
	*ref = 0;
}

static void release(struct netfront *nf)
{
	end_grant(nf, &nf->tx_ring_ref);
	end_grant(nf, &nf->rx_ring_ref);
	for (unsigned i = 0; i < NF_TX; i++)
		end_grant(nf, &nf->tx_ref[i]);
	for (unsigned i = 0; i < NF_RX; i++)
		end_grant(nf, &nf->rx_ref[i]);
	if (nf->port)
		evtchn_close(nf->port);
	nf->port = 0;
	if (nf->tx.sring)
		pages_free(nf->tx.sring, 1);
	if (nf->rx.sring)
		pages_free(nf->rx.sring, 1);
	nf->tx.sring = NULL;
	nf->rx.sring = NULL;
	for (unsigned i = 0; i < NF_TX; i++)
		if (nf->tx_buf[i])
			pages_free(nf->tx_buf[i], 1), nf->tx_buf[i] = NULL;
	for (unsigned i = 0; i < NF_RX; i++)
		if (nf->rx_buf[i])
			pages_free(nf->rx_buf[i], 1), nf->rx_buf[i] = NULL;
	nf->connected = false;
}

static int grant(struct netfront *nf, void *page, bool ro)
{
	int ref = gnttab_grant_access(nf->backend_id, virt_to_gfn(page), ro);

	return ref < 0 ? ref : ref;
}

static void post_rx(struct netfront *nf, u16 id)
{
	struct netif_rx_request *r = RING_GET_REQUEST(&nf->rx, nf->rx.req_prod_pvt);

	r->id = id;
	r->pad = 0;
	r->gref = (grant_ref_t)nf->rx_ref[id];
	nf->rx.req_prod_pvt++;
}

static void notify_rx(struct netfront *nf)
{
	bool notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
	if (notify)
		evtchn_send(nf->port);
}

static int connect(struct netfront *nf, unsigned devid, u64 timeout_ns, bool post);

int netfront_connect(struct netfront *nf, unsigned devid, u64 timeout_ns)
{
	return connect(nf, devid, timeout_ns, true);
}

int netfront_connect_rx_held(struct netfront *nf, unsigned devid, u64 timeout_ns)
{
	return connect(nf, devid, timeout_ns, false);
}

void netfront_rx_release(struct netfront *nf)
{
	if (!nf->connected || !nf->rx_held)
		return;
	for (unsigned i = 0; i < NF_RX; i++)
		post_rx(nf, (u16)i);
	nf->rx_held = false;
	notify_rx(nf);
}

static int connect(struct netfront *nf, unsigned devid, u64 timeout_ns, bool post)
{
	char mac[24];
	u64 v;
	int rc;

	memset(nf, 0, sizeof(*nf));
	nf->devid = devid;
	snprintf(nf->fe, sizeof(nf->fe), "device/vif/%u", devid);
	if ((rc = read_str(nf->fe, "backend", nf->be, sizeof(nf->be))))
		return rc;
	if ((rc = read_u64(nf->fe, "backend-id", &v)) || v >= DOMID_FIRST_RESERVED)
		return rc ? rc : -EINVAL;
	nf->backend_id = (domid_t)v;
	if (!read_str(nf->fe, "mac", mac, sizeof(mac)))
		for (unsigned i = 0; i < 6 && mac[i * 3] && mac[i * 3 + 1]; i++) {
			char h[3] = { mac[i * 3], mac[i * 3 + 1], 0 };
			u64 b = 0;
			for (unsigned k = 0; k < 2; k++)
				b = b * 16 + (u64)(h[k] <= '9' ? h[k] - '0' : (h[k] | 32) - 'a' + 10);
			nf->mac[i] = (u8)b;
		}

	/* Initialising first: after a Closed (a reconnect) the backend
	 * offers again from InitWait (Linux netback's frontend_changed). */
	if ((rc = write_fe(nf, "state", "%lu", XenbusStateInitialising)))
		return rc;
	if ((rc = wait_backend(nf, XenbusStateInitWait, false, timeout_ns)))
		return rc;

	struct netif_tx_sring *txs = pages_alloc(1, 0);
	struct netif_rx_sring *rxs = pages_alloc(1, 0);
	nf->tx.sring = txs;
	nf->rx.sring = rxs;
	if (!txs || !rxs) {
		rc = -ENOMEM;
		goto fail;
	}
	SHARED_RING_INIT(txs);
	FRONT_RING_INIT(&nf->tx, txs, PAGE_SIZE);
	SHARED_RING_INIT(rxs);
	FRONT_RING_INIT(&nf->rx, rxs, PAGE_SIZE);
	if ((rc = nf->tx_ring_ref = grant(nf, txs, false)) < 0 ||
	    (rc = nf->rx_ring_ref = grant(nf, rxs, false)) < 0)
		goto fail;
	for (unsigned i = 0; i < NF_TX; i++) {
		if (!(nf->tx_buf[i] = pages_alloc(1, 0))) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((rc = nf->tx_ref[i] = grant(nf, nf->tx_buf[i], true)) < 0)
			goto fail;
	}
	for (unsigned i = 0; i < NF_RX; i++) {
		if (!(nf->rx_buf[i] = pages_alloc(1, 0))) {
			rc = -ENOMEM;
			goto fail;
		}
		if ((rc = nf->rx_ref[i] = grant(nf, nf->rx_buf[i], false)) < 0)
			goto fail;
		if (post)
			post_rx(nf, (u16)i);
	}
	nf->rx_held = !post;
	RING_PUSH_REQUESTS(&nf->rx);
	if ((rc = evtchn_alloc_unbound(DOMID_SELF, nf->backend_id, &nf->port)))
		goto fail;

	if ((rc = write_fe(nf, "tx-ring-ref", "%lu", (u64)nf->tx_ring_ref)) ||
	    (rc = write_fe(nf, "rx-ring-ref", "%lu", (u64)nf->rx_ring_ref)) ||
	    (rc = write_fe(nf, "event-channel", "%lu", nf->port)) ||
	    (rc = write_fe(nf, "request-rx-copy", "%lu", 1)) ||
	    (rc = write_fe(nf, "feature-rx-notify", "%lu", 1)) ||
	    (rc = write_fe(nf, "feature-sg", "%lu", 1)) ||
	    /* This frontend never finishes a checksum the backend left
	     * blank (NETRXF_csum_blank): say so, for IPv4 (IPv6 is off
	     * unless asked for). */
	    (rc = write_fe(nf, "feature-no-csum-offload", "%lu", 1)) ||
	    (rc = write_fe(nf, "state", "%lu", XenbusStateConnected)))
		goto fail;
	if ((rc = wait_backend(nf, XenbusStateConnected, false, timeout_ns)))
		goto fail;
	nf->connected = true;
	return 0;
fail:
	write_fe(nf, "state", "%lu", XenbusStateClosed);
	release(nf);
	return rc;
}

int netfront_send(struct netfront *nf, const void *frame, size_t len)
{
	return netfront_send_flags(nf, frame, len, 0);
}

int netfront_send_flags(struct netfront *nf, const void *frame, size_t len, u16 flags)
{
	bool notify;

	if (!nf->connected)
		return -EIO;
	if (len < 14 || len > 1514)
		return -EINVAL;
	unsigned id = NF_TX;
	for (unsigned i = 0; i < NF_TX && id == NF_TX; i++)
		if (!nf->tx_busy[i])
			id = i;
	if (id == NF_TX || RING_FULL(&nf->tx))
		return -EBUSY;
	memcpy(nf->tx_buf[id], frame, len);
	struct netif_tx_request *r = RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
	*r = (struct netif_tx_request){ .gref = (grant_ref_t)nf->tx_ref[id], .offset = 0,
					.flags = flags, .id = (u16)id, .size = (u16)len };
	nf->tx.req_prod_pvt++;
	nf->tx_busy[id] = true;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
	if (notify)
		evtchn_send(nf->port);
	nf->tx_frames++;
	return 0;
}

void netfront_push_raw(struct netfront *nf, const struct netif_tx_request *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		*RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt++) = slots[i];
	RING_PUSH_REQUESTS(&nf->tx);
	evtchn_send(nf->port);
}

unsigned netfront_poll(struct netfront *nf, netfront_rx_fn fn, void *arg)
{
	unsigned got = 0;
	bool more;

	if (!nf->connected)
		return 0;
	do {
		RING_IDX prod = nf->tx.sring->rsp_prod;
		xen_rmb();
		if (RING_RESPONSE_PROD_OVERFLOW(&nf->tx, prod)) {
			nf->bad_rsp++;
			break;
		}
		for (; nf->tx.rsp_cons != prod; nf->tx.rsp_cons++) {
			struct netif_tx_response r;
			RING_COPY_RESPONSE(&nf->tx, nf->tx.rsp_cons, &r);
			if (r.status == XEN_NETIF_RSP_NULL)
				continue;
			if (r.id >= NF_TX || !nf->tx_busy[r.id]) {
				nf->bad_rsp++;
				continue;
			}
			nf->tx_busy[r.id] = false;
			if (r.status != XEN_NETIF_RSP_OKAY)
				nf->tx_errors++;
		}
		RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, more);
	} while (more);

	do {
		RING_IDX prod = nf->rx.sring->rsp_prod;
		xen_rmb();
		if (RING_RESPONSE_PROD_OVERFLOW(&nf->rx, prod)) {
			nf->bad_rsp++;
			break;
		}
		for (; nf->rx.rsp_cons != prod; nf->rx.rsp_cons++) {
			struct netif_rx_response r;
			RING_COPY_RESPONSE(&nf->rx, nf->rx.rsp_cons, &r);
			if (r.id >= NF_RX) {
				nf->bad_rsp++;
				continue;
			}
			if (r.status > 0 && (u32)r.offset + (u32)r.status <= PAGE_SIZE &&
			    !(r.flags & NETRXF_more_data)) {
				nf->rx_frames++;
				got++;
				if (fn)
					fn(nf->rx_buf[r.id] + r.offset, (size_t)r.status, arg);
			} else {
				nf->bad_rsp++;
			}
			post_rx(nf, r.id);
		}
		RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more);
	} while (more);
	notify_rx(nf);
	return got;
}

void netfront_wait(struct netfront *nf, u64 timeout_ns)
{
	evtchn_port_t p = nf->port;

	if (!p || evtchn_is_pending(p)) {
		if (p)
			evtchn_clear_pending(p);
		return;
	}
	evtchn_poll(&p, 1, pvclock_now_ns() + timeout_ns);
	evtchn_clear_pending(p);
}

void netfront_close(struct netfront *nf, u64 timeout_ns)
{
	/* Linux's order: Closing; the backend follows to Closing (or has
	 * already closed, or is gone); then Closed, and the backend to Closed. */
	write_fe(nf, "state", "%lu", XenbusStateClosing);
	wait_backend(nf, XenbusStateClosing, true, timeout_ns);
	write_fe(nf, "state", "%lu", XenbusStateClosed);
	wait_backend(nf, XenbusStateClosed, true, timeout_ns);
	release(nf);
}
