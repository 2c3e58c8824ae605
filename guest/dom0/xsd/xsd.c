/*
 * xenstored as a dom0 service (contract in xsd.h).
 *
 * INTRODUCE (sent by the launcher, guest/dom0/domain/launch.h) reaches
 * the store's introduce hook here: the domain's ring frame is mapped into
 * dom0 (XENMAPSPACE_gmfn_foreign, in the grant window below the console
 * backend's slots) and an interdomain channel is bound to the port the
 * domain was given (HVM_PARAM_STORE_EVTCHN), as Xen's xenstored does in
 * domain.c. Each event pumps the ring (xs_ring_pump); replies and watch
 * events the store queues for the domain call notify, which only marks
 * the port for the loop (notify runs inside another request), so the
 * next iteration pumps them out and kicks the domain. A ring that
 * reports -EIO is dropped with one line; the store and the other rings
 * carry on.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "console/backend.h"
#include "domain/domain.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "loop/loop.h"
#include "pages.h"
#include "xsd.h"

struct xsd_ring {
	bool used;
	domid_t dom;
	unsigned slot;
	struct xenstore_domain_interface *intf;
	evtchn_port_t port; /* dom0's end */
	struct xs_conn *conn;
	struct xsd_ring_stats st;
};

static struct xs_store *store;
static struct xs_conn *dom0_conn;
static struct xsd_ring rings[XSD_MAX_DOMAINS];

/* Below the console backend's slots (console/backend.c counts down from
 * the top of the window). */
static unsigned map_slot(unsigned i)
{
	return GNTTAB_MAP_SLOTS - 1 - CONS_MAX_DOMAINS - i;
}

static struct xsd_ring *find(domid_t dom)
{
	for (unsigned i = 0; i < XSD_MAX_DOMAINS; i++)
		if (rings[i].used && rings[i].dom == dom)
			return &rings[i];
	return NULL;
}

/* Unbinds, closes, unmaps and frees the connection: what dom0 held. */
static void ring_release(struct xsd_ring *r)
{
	if (r->port) {
		loop_unbind_port(r->port);
		evtchn_close(r->port);
		r->port = 0;
	}
	if (r->conn) {
		xs_conn_free(r->conn);
		r->conn = NULL;
	}
	if (r->intf) {
		dom_unmap_foreign(gnttab_slot_gpa(r->slot));
		r->intf = NULL;
	}
	r->st.attached = false;
}

static void on_event(evtchn_port_t port, void *arg)
{
	struct xsd_ring *r = arg;
	int rc;

	r->st.events++;
	rc = xs_ring_pump(r->intf, r->conn);
	if (rc < 0) {
		printf("dom0: xenstored: d%u: ring broken (error %u): connection dropped\n", r->dom,
		       __atomic_load_n(&r->intf->error, __ATOMIC_RELAXED));
		ring_release(r);
		r->st.dropped = true;
		return;
	}
	if (rc > 0) {
		r->st.pumps++;
		evtchn_send(port);
		/* Bounded rounds per call: there may be more. */
		loop_port_kick(port);
	}
}

static void on_notify(struct xs_conn *c, void *ctx)
{
	struct xsd_ring *r = ctx;

	(void)c;
	if (r->port)
		loop_port_kick(r->port);
}

static int hook_introduce(void *ctx, u16 domid, u64 mfn, u32 port)
{
	struct xsd_ring *r = find(domid);
	unsigned i;
	int rc;

	(void)ctx;
	if (r)
		ring_release(r); /* a dropped ring re-introduced */
	else {
		for (i = 0; i < XSD_MAX_DOMAINS && rings[i].used; i++)
			;
		if (i == XSD_MAX_DOMAINS)
			return -ENOSPC;
		r = &rings[i];
	}
	i = (unsigned)(r - rings);
	memset(r, 0, sizeof(*r));
	r->dom = domid;
	r->slot = map_slot(i);
	if ((rc = gnttab_init(start_info(), 1)))
		return rc;
	if ((rc = dom_map_foreign_one(domid, mfn, gnttab_slot_gpa(r->slot))))
		return rc == -ENOENT || rc == -ESRCH ? -EINVAL : rc;
	r->intf = gnttab_slot_va(r->slot);
	if ((rc = evtchn_bind_interdomain(domid, (evtchn_port_t)port, &r->port))) {
		r->port = 0;
		ring_release(r);
		return -EINVAL;
	}
	xs_ring_init(r->intf);
	r->conn = xs_conn_new(store, domid, false, on_notify, r);
	if (!r->conn) {
		ring_release(r);
		return -ENOMEM;
	}
	if ((rc = loop_bind_port(r->port, on_event, r))) {
		ring_release(r);
		return rc;
	}
	r->used = true;
	r->st.attached = true;
	/* Requests the guest queued before we listened. */
	loop_port_kick(r->port);
	return 0;
}

static void hook_release(void *ctx, u16 domid)
{
	struct xsd_ring *r = find(domid);

	(void)ctx;
	if (!r)
		return;
	ring_release(r);
	r->used = false;
}

/*
 * VIRQ_DOM_EXC (domain/exc.c): Xen's check_domains(). Each attached
 * domain is looked up; one that is gone or dying loses its connection
 * (@releaseDomain fires, the ring is unmapped and its channel closed),
 * one that has shut down but still exists is announced once with
 * @releaseDomain so that a toolstack watching it can act (destroy or
 * restart), as xl does.
 */
static void on_dom_exc(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < XSD_MAX_DOMAINS; i++) {
		struct xen_domctl_getdomaininfo info;
		int rc;

		if (!rings[i].used)
			continue;
		rc = dom_info(rings[i].dom, &info);
		if (rc || (info.flags & XEN_DOMINF_dying))
			xs_store_domain_gone(store, rings[i].dom);
		else if (info.flags & XEN_DOMINF_shutdown)
			xs_store_domain_shutdown(store, rings[i].dom);
	}
}

int xsd_init(void)
{
	static const struct xs_hooks hooks = { hook_introduce, hook_release, NULL };
	int rc;

	if (store)
		return 0;
	if ((rc = loop_init()))
		return rc;
	if (!pages_init(start_info()))
		return -ENOMEM;
	store = xs_store_new(&xsd_allocator, NULL, &hooks);
	if (!store)
		return -ENOMEM;
	dom0_conn = xs_conn_new(store, 0, true, NULL, NULL);
	if (!dom0_conn) {
		xs_store_free(store);
		store = NULL;
		return -ENOMEM;
	}
	/* The toolstack's standing directories, as Xen's tree has them from
	 * the start: /vm (each domain's /vm/N, docs/launcher.md) and dom0's
	 * own. Node counts taken before a first domain then stay the same
	 * after its destroy. */
	if (xsd_mkdir("/vm") || xsd_mkdir("/local/domain/0"))
		printf("dom0: xenstored: cannot create /vm and /local/domain/0\n");
	/* Without the VIRQ the store still works; only domains that die on
	 * their own stay introduced until the launcher releases them. */
	if ((rc = dom_exc_init()) || (rc = dom_exc_subscribe(on_dom_exc, NULL)))
		printf("dom0: xenstored: no VIRQ_DOM_EXC (%d): dead domains are released by the launcher only\n",
		       rc);
	return 0;
}

struct xs_store *xsd_store(void)
{
	return store;
}

struct xs_conn *xsd_dom0(void)
{
	return dom0_conn;
}

int xsd_call(u32 type, u32 tx, const void *payload, u32 len, void *reply, u32 *reply_len)
{
	u32 none = 0;

	if (!dom0_conn)
		return -ENODEV;
	return xs_call(dom0_conn, type, tx, payload, len, reply, reply_len ? reply_len : &none);
}

int xsd_write(const char *path, const char *value)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(value);

	if (pl + vl > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, pl);
	memcpy(buf + pl, value, vl);
	return xsd_call(XS_WRITE, 0, buf, (u32)(pl + vl), NULL, NULL);
}

int xsd_mkdir(const char *path)
{
	return xsd_call(XS_MKDIR, 0, path, (u32)strlen(path) + 1, NULL, NULL);
}

int xsd_rm(const char *path)
{
	return xsd_call(XS_RM, 0, path, (u32)strlen(path) + 1, NULL, NULL);
}

int xsd_read(const char *path, char *buf, u32 size)
{
	u32 n = size ? size - 1 : 0;
	int rc = xsd_call(XS_READ, 0, path, (u32)strlen(path) + 1, buf, &n);

	if (rc)
		return rc;
	if (size)
		buf[MIN(n, size - 1)] = 0;
	return 0;
}

int xsd_set_perms(const char *path, const char *const *perms, unsigned n)
{
	char buf[256];
	size_t len = strlen(path) + 1;

	if (len > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, len);
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(perms[i]) + 1;
		if (len + l > sizeof(buf))
			return -E2BIG;
		memcpy(buf + len, perms[i], l);
		len += l;
	}
	return xsd_call(XS_SET_PERMS, 0, buf, (u32)len, NULL, NULL);
}

int xsd_ring_stats(domid_t dom, struct xsd_ring_stats *s)
{
	struct xsd_ring *r = find(dom);

	if (!r)
		return -ENOENT;
	*s = r->st;
	return 0;
}

int xsd_ring_poke(domid_t dom)
{
	struct xsd_ring *r = find(dom);

	if (!r || !r->st.attached)
		return -ENOENT;
	loop_port_kick(r->port);
	return 0;
}

unsigned xsd_nr_rings(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < XSD_MAX_DOMAINS; i++)
		n += rings[i].used && rings[i].st.attached;
	return n;
}
