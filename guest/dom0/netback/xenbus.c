/*
 * netback's xenbus side (netback.h): the watch on backend/vif and the
 * state machine of each vif, as Linux's xen-netback (drivers/net/
 * xen-netback/xenbus.c) drives it and xen-netfront expects it:
 *
 *   toolstack writes backend/vif/D/N (state 1)   -> we advertise, InitWait
 *   frontend Initialised or Connected            -> map, bind, bridge, Connected
 *   frontend Closing                              -> release, Closing
 *   frontend Closed                               -> release, Closed
 *   frontend Initialising after Closed            -> InitWait again (reconnect)
 *   backend directory removed                     -> release, slot freed
 *
 * Everything the frontend wrote (its state, ring refs, ports, flags) is
 * parsed as hostile input: a value that is not a number in range is a
 * violation like a bad ring slot.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/io/xenbus.h>
#include "bridge/netsvc.h"
#include "guest.h"
#include "loop/loop.h"
#include "vif.h"
#include "xsd/xsd.h"

#define BE_ROOT "/local/domain/0/backend/vif"

struct nb_vif nb_vifs[NB_MAX_VIFS];

static struct xs_conn *conn;   /* our own connection: its watch events */
static volatile bool events;   /* the store queued an event for us */
static bool started;

static void on_notify(struct xs_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
	events = true; /* only note it: the store is mid-request */
}

/* A value of at most `max` as a decimal or 0x number; -EINVAL else. */
static int read_num(const char *path, u64 max, u64 *out)
{
	char buf[32];
	const char *end;

	if (xsd_read(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	if (parse_u64(buf, &end, out) || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int read_sub(const char *dir, const char *key, u64 max, u64 *out)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return read_num(path, max, out);
}

static void write_sub(const char *dir, const char *key, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	xsd_write(path, value);
}

void nb_write_state(struct nb_vif *v, int state)
{
	char s[4];

	v->state = state;
	v->st.state = state;
	snprintf(s, sizeof(s), "%d", state);
	write_sub(v->be, "state", s);
}

static void watch_fe(struct nb_vif *v, bool on)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/state", v->fe);
	u32 len = (u32)strlen(path) + 1;
	char payload[128];
	memcpy(payload, path, len);
	memcpy(payload + len, "nb", 3);
	u32 none = 0;
	xs_call(conn, on ? XS_WATCH : XS_UNWATCH, 0, payload, len + 3, NULL, &none);
}

void nb_vif_violation(struct nb_vif *v, const char *rule)
{
	printf("dom0: netback: vif%u.%u: %s: disconnected\n", v->dom, v->devid, rule);
	nb_rings_disconnect(v);
	v->violated = true;
	v->st.violated = true;
	v->st.connected = false;
	nb_write_state(v, XenbusStateClosing);
}

/* The frontend's ring refs and channels, then the rings. */
static void connect(struct nb_vif *v)
{
	u64 tx_ref, rx_ref, ptx, prx, copy = 0, notify = 0;

	if (read_sub(v->fe, "tx-ring-ref", 0xffffffffu, &tx_ref) ||
	    read_sub(v->fe, "rx-ring-ref", 0xffffffffu, &rx_ref)) {
		nb_vif_violation(v, "frontend's tx-ring-ref/rx-ring-ref missing or not a number");
		return;
	}
	if (!read_sub(v->fe, "event-channel", 0xffffffffu, &ptx)) {
		prx = ptx;
	} else if (read_sub(v->fe, "event-channel-tx", 0xffffffffu, &ptx) ||
		   read_sub(v->fe, "event-channel-rx", 0xffffffffu, &prx)) {
		nb_vif_violation(v, "frontend's event-channel(s) missing or not a number");
		return;
	}
	/* rx by grant copy is the only rx Keel offers (no page flipping):
	 * Linux netback refuses a frontend that does not request it. */
	if (read_sub(v->fe, "request-rx-copy", 1, &copy) || !copy) {
		nb_vif_violation(v, "frontend did not set request-rx-copy");
		return;
	}
	if (read_sub(v->fe, "feature-rx-notify", 1, &notify))
		notify = 0;
	v->rx_notify = notify;
	/* The frontend's receive-side checksum features (netif.h): whether
	 * it takes IPv4 / IPv6 frames whose transport checksum is left blank
	 * (NETRXF_csum_blank). Absent or not 0/1 reads as 0, as in Linux's
	 * xenbus_read_unsigned. Keel's rx never leaves one blank, since the
	 * bridge carries no offload metadata and every frame on it is
	 * complete (tx_pass finishes blank ones); so both are honoured
	 * whatever they say, and recorded for the day rx offloads. */
	u64 no_csum, v6;
	if (read_sub(v->fe, "feature-no-csum-offload", 1, &no_csum))
		no_csum = 0;
	if (read_sub(v->fe, "feature-ipv6-csum-offload", 1, &v6))
		v6 = 0;
	v->rx_csum_v4 = v->st.rx_csum_v4 = !no_csum;
	v->rx_csum_v6 = v->st.rx_csum_v6 = v6 != 0;

	int rc = nb_rings_connect(v, (grant_ref_t)tx_ref, (grant_ref_t)rx_ref,
				 (evtchn_port_t)ptx, (evtchn_port_t)prx);
	if (rc) {
		printf("dom0: netback: vif%u.%u: connecting failed (%d): disconnected\n", v->dom,
		       v->devid, rc);
		v->violated = true;
		v->st.violated = true;
		nb_write_state(v, XenbusStateClosing);
		return;
	}
	v->st.connected = true;
	nb_write_state(v, XenbusStateConnected);
}

/* The features of Linux netback's netback_probe, minus what Keel does
 * not do (GSO, multicast control, multiple queues, ctrl ring). IPv4
 * checksum offload from the guest needs no key: it is the default, a
 * frontend may always send NETTXF_csum_blank. */
static void advertise(struct nb_vif *v)
{
	write_sub(v->be, "feature-sg", "1");
	write_sub(v->be, "feature-gso-tcpv4", "0");
	write_sub(v->be, "feature-gso-tcpv6", "0");
	/* Blank IPv6 TCP/UDP checksums from the guest are finished in
	 * software like IPv4 ones (nb_csum_fill). */
	write_sub(v->be, "feature-ipv6-csum-offload", "1");
	write_sub(v->be, "feature-rx-copy", "1");
	write_sub(v->be, "feature-rx-flip", "0");
	write_sub(v->be, "feature-multicast-control", "0");
	write_sub(v->be, "feature-split-event-channels", "1");
}

static void release(struct nb_vif *v)
{
	nb_rings_disconnect(v);
	v->st.connected = false;
}

static void vif_free(struct nb_vif *v)
{
	release(v);
	watch_fe(v, false);
	memset(v, 0, sizeof(*v));
}

/* Moves v on according to its frontend's state. */
static void step(struct nb_vif *v)
{
	char path[96];
	u64 fe;

	snprintf(path, sizeof(path), "%s/state", v->fe);
	if (read_num(path, XenbusStateReconfigured, &fe))
		fe = XenbusStateUnknown; /* gone, or garbage: treat as gone */

	switch (fe) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->state == XenbusStateInitWait && !v->violated)
			connect(v);
		break;
	case XenbusStateClosing:
		if (v->state != XenbusStateClosing && v->state != XenbusStateClosed) {
			release(v);
			nb_write_state(v, XenbusStateClosing);
		}
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
		if (v->state != XenbusStateClosed) {
			release(v);
			nb_write_state(v, XenbusStateClosed);
		}
		break;
	case XenbusStateInitialising:
		/* A frontend starting (again) after Closed: offer again. */
		if (v->state == XenbusStateClosed) {
			v->violated = false;
			v->st.violated = false;
			nb_write_state(v, XenbusStateInitWait);
		}
		break;
	default:
		break;
	}
}

static struct nb_vif *find(domid_t dom, unsigned devid)
{
	for (unsigned i = 0; i < NB_MAX_VIFS; i++)
		if (nb_vifs[i].used && nb_vifs[i].dom == dom && nb_vifs[i].devid == devid)
			return &nb_vifs[i];
	return NULL;
}

/* A backend directory the toolstack wrote: a new vif. */
static void vif_new(domid_t dom, unsigned devid)
{
	struct nb_vif *v = NULL;
	char path[96];

	for (unsigned i = 0; i < NB_MAX_VIFS && !v; i++)
		if (!nb_vifs[i].used)
			v = &nb_vifs[i];
	if (!v) {
		printf("dom0: netback: vif%u.%u: no slot (%d vifs served)\n", dom, devid,
		       NB_MAX_VIFS);
		return;
	}
	memset(v, 0, sizeof(*v));
	v->dom = dom;
	v->devid = devid;
	snprintf(v->be, sizeof(v->be), BE_ROOT "/%u/%u", dom, devid);
	snprintf(path, sizeof(path), "%s/frontend", v->be);
	if (xsd_read(path, v->fe, sizeof(v->fe)) < 0 || !v->fe[0])
		return; /* not complete yet: the next event brings it */
	snprintf(path, sizeof(path), "%s/bridge", v->be);
	if (xsd_read(path, v->bridge, sizeof(v->bridge)) < 0 || !v->bridge[0])
		strlcpy(v->bridge, NETSVC_BRIDGE, sizeof(v->bridge));
	/* xenbr0 is the bridge over dom0's NICs: bring it up with them now
	 * (idempotent), or a vif would join a bridge of its own that no NIC
	 * is on, and reach no other host. */
	if (!strcmp(v->bridge, NETSVC_BRIDGE)) {
		int rc = netsvc_start(NULL);
		if (rc)
			printf("dom0: netback: vif%u.%u: network service: %d\n", dom, devid, rc);
	}
	v->used = true;
	v->st.exists = true;
	advertise(v);
	watch_fe(v, true);
	nb_write_state(v, XenbusStateInitWait);
}

void netback_rescan(void)
{
	char doms[512], devs[256], path[96];
	u32 n = sizeof(doms) - 1;

	/* Vifs whose backend directory went: the toolstack removed them. */
	for (unsigned i = 0; i < NB_MAX_VIFS; i++) {
		struct nb_vif *v = &nb_vifs[i];
		char s[8];
		snprintf(path, sizeof(path), "%s/state", v->be);
		if (v->used && xsd_read(path, s, sizeof(s)) < 0)
			vif_free(v);
	}

	if (xsd_call(XS_DIRECTORY, 0, BE_ROOT, sizeof(BE_ROOT), doms, &n) || n >= sizeof(doms))
		n = 0;
	doms[n] = 0;
	for (u32 a = 0; a < n; a += (u32)strlen(doms + a) + 1) {
		u64 dom, devid;
		const char *end;
		if (parse_u64(doms + a, &end, &dom) || *end || dom >= DOMID_FIRST_RESERVED)
			continue;
		snprintf(path, sizeof(path), BE_ROOT "/%u", (unsigned)dom);
		u32 m = sizeof(devs) - 1;
		if (xsd_call(XS_DIRECTORY, 0, path, (u32)strlen(path) + 1, devs, &m) ||
		    m >= sizeof(devs))
			continue;
		devs[m] = 0;
		for (u32 b = 0; b < m; b += (u32)strlen(devs + b) + 1) {
			if (parse_u64(devs + b, &end, &devid) || *end || devid > 0xffff)
				continue;
			if (!find((domid_t)dom, (unsigned)devid))
				vif_new((domid_t)dom, (unsigned)devid);
		}
	}

	for (unsigned i = 0; i < NB_MAX_VIFS; i++)
		if (nb_vifs[i].used)
			step(&nb_vifs[i]);
}

/* Idle work: watch events arrived on our connection. Their contents do
 * not matter (a rescan looks at everything), so they are drained. */
static bool on_idle(void *arg)
{
	char buf[256];

	(void)arg;
	if (!events)
		return false;
	events = false;
	while (xs_conn_output(conn, buf, sizeof(buf)))
		;
	netback_rescan();
	return true;
}

int netback_init(void)
{
	int rc;

	if (started)
		return 0;
	if ((rc = xsd_init()))
		return rc;
	conn = xs_conn_new(xsd_store(), 0, true, on_notify, NULL);
	if (!conn)
		return -ENOMEM;
	if ((rc = loop_add_idle(on_idle, NULL))) {
		xs_conn_free(conn);
		return rc;
	}
	static const char w[] = BE_ROOT "\0nb";
	u32 none = 0;
	xs_call(conn, XS_WATCH, 0, w, sizeof(w), NULL, &none);
	started = true;
	return 0;
}

int netback_vif_stats(domid_t dom, unsigned devid, struct netback_vif_stats *s)
{
	struct nb_vif *v = find(dom, devid);

	if (!v)
		return -ENOENT;
	*s = v->st;
	s->rxq_frames = v->rxq.count;
	s->rxq_bytes = v->rxq.bytes;
	return 0;
}

unsigned netback_nr_vifs(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NB_MAX_VIFS; i++)
		n += nb_vifs[i].used;
	return n;
}

unsigned netback_nr_mapped(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NB_MAX_VIFS; i++)
		n += nb_vifs[i].tx_mapped + nb_vifs[i].rx_mapped;
	return n;
}

unsigned netback_nr_channels(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NB_MAX_VIFS; i++)
		n += (nb_vifs[i].port_tx != 0) +
		     (nb_vifs[i].port_rx && nb_vifs[i].port_rx != nb_vifs[i].port_tx);
	return n;
}

int netback_vif_remove(domid_t dom, unsigned devid)
{
	struct nb_vif *v = find(dom, devid);

	if (!v)
		return -ENOENT;
	vif_free(v);
	return 0;
}
