/*
 * dom0's PV console backend (contract in backend.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "backend.h"
#include "cons_ring.h"
#include "domain/domain.h"
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "loop/loop.h"

/* Output taken per event before the loop serves others; the rest is
 * taken on the next iteration (loop_port_kick). */
#define CONS_EVENT_BUDGET (16 * 1024)

struct cons_conn {
	bool used;     /* slot holds a domain (attached or dropped) */
	bool attached; /* ring mapped, channel bound */
	bool dropped;  /* corrupt ring: detached by us */
	domid_t dom;
	unsigned slot; /* the foreign-map slot its ring is mapped at */
	struct xencons_interface *ring;
	evtchn_port_t port;
	cons_tap_fn tap;
	void *tap_arg;
	struct cons_back_stats st;
	u64 kept; /* bytes ever written into history */
	char history[CONS_HISTORY];
};

static struct cons_conn conns[CONS_MAX_DOMAINS];
bool cons_back_mirror = true;

/*
 * Where rings are mapped in dom0: the top slots of the grant-mapping
 * window (guest/lib/gnttab.h), a hole in dom0's physical map until
 * something is mapped there. Slot i of conns uses window slot
 * GNTTAB_MAP_SLOTS - 1 - i, out of the way of the grant users, which
 * count up from 0.
 */
static unsigned map_slot(unsigned i)
{
	return GNTTAB_MAP_SLOTS - 1 - i;
}

static struct cons_conn *find(domid_t dom)
{
	for (unsigned i = 0; i < CONS_MAX_DOMAINS; i++)
		if (conns[i].used && conns[i].dom == dom)
			return &conns[i];
	return NULL;
}

static void keep(struct cons_conn *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c->history[(c->kept + i) % CONS_HISTORY] = buf[i];
	c->kept += n;
}

/* Shows output on Keel's console as the domain's own, in pieces the
 * domctl takes. A failure (the domain is dying) only loses the mirror. */
static void mirror(struct cons_conn *c, const char *buf, size_t n)
{
	while (n) {
		u32 k = (u32)MIN(n, (size_t)KEEL_DOMCTL_CONSOLE_MAX);
		if (domctl_console_write(c->dom, buf, k))
			return;
		buf += k;
		n -= k;
	}
}

static void release(struct cons_conn *c)
{
	if (c->port) {
		loop_unbind_port(c->port);
		evtchn_close(c->port);
		c->port = 0;
	}
	if (c->ring) {
		dom_unmap_foreign(gnttab_slot_gpa(c->slot));
		c->ring = NULL;
	}
	c->attached = false;
	c->st.attached = false;
}

static void drop(struct cons_conn *c, const char *what)
{
	/* Read once more for the line: the guest may change them again. */
	u32 cons = __atomic_load_n(&c->ring->out_cons, __ATOMIC_RELAXED);
	u32 prod = __atomic_load_n(&c->ring->out_prod, __ATOMIC_RELAXED);
	u32 icons = __atomic_load_n(&c->ring->in_cons, __ATOMIC_RELAXED);
	u32 iprod = __atomic_load_n(&c->ring->in_prod, __ATOMIC_RELAXED);

	printf("dom0: console: d%u: %s ring indices out of range (out %u..%u, in %u..%u): "
	       "connection dropped\n", c->dom, what, cons, prod, icons, iprod);
	release(c);
	c->dropped = true;
	c->st.dropped = true;
}

/* Takes up to `budget` bytes of output: keeps, mirrors, taps them. The
 * bytes taken, or -1 after dropping a corrupt ring. */
static long take_output(struct cons_conn *c, size_t budget)
{
	char buf[2048];
	size_t taken = 0;
	int n;

	while (taken < budget) {
		n = cons_ring_read_out(c->ring, buf, sizeof(buf));
		if (n < 0) {
			drop(c, "output");
			return -1;
		}
		if (n == 0)
			break;
		taken += (size_t)n;
		c->st.out_bytes += (u64)n;
		keep(c, buf, (size_t)n);
		if (cons_back_mirror)
			mirror(c, buf, (size_t)n);
		if (c->tap)
			c->tap(c->dom, buf, (size_t)n, c->tap_arg);
	}
	return (long)taken;
}

/* The loop's handler: drain, keep, mirror, tap; notify the guest that
 * there is room again. */
static void on_event(evtchn_port_t port, void *arg)
{
	struct cons_conn *c = arg;

	c->st.events++;
	long taken = take_output(c, CONS_EVENT_BUDGET);
	if (taken <= 0)
		return;
	evtchn_send(port); /* a writer waiting for room */
	if ((size_t)taken >= CONS_EVENT_BUDGET)
		loop_port_kick(port); /* more next iteration, others first */
}

int cons_back_attach(domid_t dom, u64 gfn, evtchn_port_t remote_port)
{
	struct cons_conn *c = find(dom);
	unsigned i;
	int rc;

	if (c && c->attached)
		return -EEXIST;
	if (!c) {
		for (i = 0; i < CONS_MAX_DOMAINS && conns[i].used; i++)
			;
		if (i == CONS_MAX_DOMAINS)
			return -ENOSPC;
		c = &conns[i];
	}
	if ((rc = loop_init()))
		return rc;
	/* The mapping window; one table frame is enough for dom0's own use
	 * and gnttab_init keeps an existing set-up. */
	if ((rc = gnttab_init(start_info(), 1)))
		return rc;
	i = (unsigned)(c - conns);
	memset(c, 0, sizeof(*c) - sizeof(c->history));
	c->dom = dom;
	c->slot = map_slot(i);
	if ((rc = dom_map_foreign_one(dom, gfn, gnttab_slot_gpa(c->slot))))
		return rc;
	c->ring = gnttab_slot_va(c->slot);
	if ((rc = evtchn_bind_interdomain(dom, remote_port, &c->port))) {
		c->port = 0;
		release(c);
		return rc;
	}
	c->used = true;
	c->attached = c->st.attached = true;
	/* Xen 4.17's flag: a backend serves this ring. */
	__atomic_store_n(&c->ring->connection, XENCONSOLE_CONNECTED, __ATOMIC_RELAXED);
	if ((rc = loop_bind_port(c->port, on_event, c))) {
		release(c);
		c->used = false;
		return rc;
	}
	/* Whatever the guest wrote before we listened. */
	loop_port_kick(c->port);
	return 0;
}

void cons_back_detach(domid_t dom)
{
	struct cons_conn *c = find(dom);

	if (!c)
		return;
	/* What the guest wrote just before it stopped (its last words, a
	 * panic message) is still in the ring: take it, as xenconsoled
	 * reads a dying domain's ring once more. One ring's worth at most. */
	if (c->attached)
		take_output(c, sizeof(c->ring->out));
	release(c);
	c->used = false;
}

int cons_back_input(domid_t dom, const char *buf, size_t n)
{
	struct cons_conn *c = find(dom);

	if (!c || !c->attached)
		return -ENOENT;
	int put = cons_ring_write_in(c->ring, buf, n);
	if (put < 0) {
		drop(c, "input");
		return -EIO;
	}
	c->st.in_bytes += (u64)put;
	if (put)
		evtchn_send(c->port);
	return put;
}

size_t cons_back_history(domid_t dom, char *buf, size_t n)
{
	struct cons_conn *c = find(dom);

	if (!c)
		return 0;
	size_t have = (size_t)MIN(c->kept, (u64)CONS_HISTORY);
	if (n > have)
		n = have;
	u64 from = c->kept - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = c->history[(from + i) % CONS_HISTORY];
	return n;
}

void cons_back_set_tap(domid_t dom, cons_tap_fn fn, void *arg)
{
	struct cons_conn *c = find(dom);

	if (c) {
		c->tap = fn;
		c->tap_arg = arg;
	}
}

int cons_back_stats(domid_t dom, struct cons_back_stats *s)
{
	struct cons_conn *c = find(dom);

	if (!c)
		return -ENOENT;
	*s = c->st;
	return 0;
}
