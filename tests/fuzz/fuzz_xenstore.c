/*
 * xenstored as a state machine (guest/dom0/xenstored/, docs/xenstore.md):
 * the fuzzer's bytes are a sequence of operations on four connections --
 * dom0 (privileged) and domains 1 and 2 fed directly, and domain 3
 * served through a xenstore ring page (ring.c) that the "guest" also
 * scribbles on -- each either raw bytes for the wire parser, or a
 * well-framed request whose arguments come from a small dictionary of
 * paths, permissions and domids (so that the fuzzer reaches the tree,
 * transactions and watches quickly), the client taking some output, a
 * connection going away and coming back, or a domain dying. After each
 * operation the invariants below are checked.
 *
 * unit-sources: guest/dom0/xenstored/conn.c guest/dom0/xenstored/dispatch.c guest/dom0/xenstored/ops.c guest/dom0/xenstored/perms.c guest/dom0/xenstored/quota.c guest/dom0/xenstored/ring.c guest/dom0/xenstored/transaction.c guest/dom0/xenstored/tree.c guest/dom0/xenstored/watch.c guest/dom0/xenstored/wire.c
 *
 * Invariants:
 *  - every byte of output is a well-framed message: len within
 *    XENSTORE_PAYLOAD_MAX, a type that is the request's, XS_ERROR (with a
 *    NUL-terminated name from Xen's table) or XS_WATCH_EVENT (two
 *    NUL-terminated strings, req_id and tx_id 0); replies to a
 *    connection come in request order (req_id echoes);
 *  - xs_conn_input returns 0..len, or -EIO only once a header announced
 *    more than XENSTORE_PAYLOAD_MAX;
 *  - the ring: xs_ring_pump returns 0/1, or -EIO with the page's error
 *    set; after a good pump both rings hold at most XENSTORE_RING_SIZE
 *    bytes in flight (the server never overwrites unread replies nor
 *    consumes requests that were not there);
 *  - the per-domain node counts equal a recount of the tree's owners;
 *    an unprivileged domain never exceeds its quota by its own requests
 *    (only dom0's SET_PERMS can hand it nodes, and then it cannot grow);
 *  - per-domain watch counts equal the watches its connections hold;
 *  - memory: bounded while running, and nothing left after xs_store_free.
 */
#include "../../guest/dom0/xenstored/xs_internal.h"
#include "fuzz.h"

#define NCONN 4
#define RING_CONN 3 /* served through `ring` */
#define QUOTA_NODES 30

struct tconn {
	struct xs_conn *c;
	u16 domid;
	bool priv;
	u8 out[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	u32 out_have;
	u32 next_req;      /* req_id of our next framed request */
	u32 expect_req;    /* req_id of the next reply we expect (framed only) */
	bool raw_sent;     /* raw bytes fed since it was created: no order check */
	bool scribbled;    /* the guest moved its reply indices: its view of
			      the output stream is its own doing, unchecked */
};

static struct xs_store *store;
static struct tconn conns[NCONN];
static struct xenstore_domain_interface ring;
static long live_allocs, live_bytes;

static void *f_alloc(void *ctx, size_t size)
{
	(void)ctx;
	if (live_bytes + (long)size > (256L << 20))
		return NULL; /* the store must cope with allocation failure */
	live_allocs++;
	live_bytes += (long)size;
	return malloc(size);
}

static void f_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	live_allocs--;
	live_bytes -= (long)size;
	free(p);
}

static const char *const dict[] = {
	"/", "/a", "/a/b", "/a/b/c", "/local/domain/1", "/local/domain/2", "/local/domain/1/x",
	"/local/domain/2/y", "x", "x/y", "y", "@introduceDomain", "@releaseDomain", "@other",
	"n0", "r1", "w2", "b1", "n1", "n2", "r0", "T", "F", "0", "1", "2", "3", "7", "4096",
	"/a//b", "/a/", "", "tok", "print", "65535", "32752",
};

static void conn_open(int i)
{
	struct tconn *t = &conns[i];

	t->domid = (u16)i;
	t->priv = i == 0;
	t->c = xs_conn_new(store, t->domid, t->priv, NULL, NULL);
	fuzz_check(t->c, "xs_conn_new failed");
	t->out_have = 0;
	t->next_req = t->expect_req = 1;
	t->raw_sent = false;
	t->scribbled = false;
	if (i == RING_CONN) {
		memset(&ring, 0, sizeof(ring));
		xs_ring_init(&ring);
	}
}

static void conn_close(int i)
{
	xs_conn_free(conns[i].c);
	conns[i].c = NULL;
}

static bool known_error(const char *name, u32 len)
{
	static const struct xsd_errors table[] = XSD_ERROR_TABLE;

	if (len == 0 || name[len - 1] != '\0')
		return false;
	for (unsigned k = 0; k < ARRAY_SIZE(table); k++)
		if (strcmp(table[k].errstring, name) == 0)
			return true;
	return false;
}

/* One complete output message of connection t. */
static void check_msg(struct tconn *t, const struct xsd_sockmsg *h, const u8 *body)
{
	if (h->type == XS_WATCH_EVENT) {
		const u8 *nul1 = memchr(body, 0, h->len);

		fuzz_check(h->req_id == 0 && h->tx_id == 0, "event with req_id %u", h->req_id);
		fuzz_check(nul1 && memchr(nul1 + 1, 0, h->len - (u32)(nul1 + 1 - body)) ==
				   body + h->len - 1,
			   "event payload is not two strings");
		return;
	}
	if (h->type == XS_ERROR)
		fuzz_check(known_error((const char *)body, h->len), "error reply '%.*s'",
			   (int)h->len, body);
	else
		fuzz_check(h->type < XS_TYPE_COUNT && h->type != XS_WATCH_EVENT,
			   "reply of type %u", h->type);
	if (!t->raw_sent) {
		fuzz_check(h->req_id == t->expect_req, "reply to %u, expected %u", h->req_id,
			   t->expect_req);
		t->expect_req++;
	}
}

/* Output bytes of connection t, as its client receives them. */
static void check_bytes(struct tconn *t, const u8 *buf, size_t n)
{
	if (t->scribbled)
		return;
	for (size_t k = 0; k < n; k++) {
		t->out[t->out_have++] = buf[k];
		if (t->out_have < sizeof(struct xsd_sockmsg))
			continue;
		struct xsd_sockmsg h;

		memcpy(&h, t->out, sizeof(h));
		fuzz_check(h.len <= XENSTORE_PAYLOAD_MAX, "output len %u", h.len);
		if (t->out_have == sizeof(h) + h.len) {
			check_msg(t, &h, t->out + sizeof(h));
			t->out_have = 0;
		}
	}
}

static void pump_ring(void)
{
	int r = xs_ring_pump(&ring, conns[RING_CONN].c);

	fuzz_check(r == 0 || r == 1 || r == -EIO, "xs_ring_pump returned %d", r);
	if (r == -EIO) {
		fuzz_check(ring.error != XENSTORE_ERROR_NONE, "broken ring without error");
		conn_close(RING_CONN);
		conn_open(RING_CONN);
		return;
	}
	fuzz_check(ring.req_prod - ring.req_cons <= XENSTORE_RING_SIZE, "req in flight %u",
		   ring.req_prod - ring.req_cons);
	fuzz_check(ring.rsp_prod - ring.rsp_cons <= XENSTORE_RING_SIZE, "rsp in flight %u",
		   ring.rsp_prod - ring.rsp_cons);
}

static void take_output(struct tconn *t, size_t want)
{
	u8 buf[2048];

	if (t == &conns[RING_CONN]) {
		/* the guest consumes replies from its ring */
		while (want && ring.rsp_prod != ring.rsp_cons) {
			u8 b = (u8)ring.rsp[MASK_XENSTORE_IDX(ring.rsp_cons)];

			ring.rsp_cons++;
			want--;
			check_bytes(t, &b, 1);
		}
		pump_ring();
		return;
	}
	while (want) {
		size_t n = xs_conn_output(t->c, buf, MIN(want, sizeof(buf)));

		if (!n)
			break;
		want -= n;
		check_bytes(t, buf, n);
	}
}

/* The guest writes bytes at req_prod (a hostile one past the space it has). */
static void ring_put(const u8 *buf, size_t n)
{
	for (size_t k = 0; k < n; k++)
		ring.req[MASK_XENSTORE_IDX(ring.req_prod + (u32)k)] = (char)buf[k];
	ring.req_prod += (u32)n;
	pump_ring();
}

static void feed(struct tconn *t, const u8 *buf, size_t len)
{
	if (t == &conns[RING_CONN]) {
		ring_put(buf, len);
		return;
	}
	long n = xs_conn_input(t->c, buf, len);

	fuzz_check(n == -EIO || (n >= 0 && (size_t)n <= len), "xs_conn_input returned %ld", n);
	if (n == -EIO) {
		/* the transport drops the connection, as Xen does */
		int i = (int)(t - conns);

		conn_close(i);
		conn_open(i);
	}
}

static void framed_request(struct tconn *t, struct fuzz_in *in)
{
	u8 msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = { .req_id = t->next_req };
	u8 sel = fuzz_u8(in);
	u32 len = 0;

	h.type = sel < 240 ? sel % (XS_TYPE_COUNT + 1) : fuzz_u32(in);
	h.tx_id = fuzz_u8(in) % 4;
	unsigned nargs = fuzz_u8(in) % 5;

	for (unsigned k = 0; k < nargs; k++) {
		u8 a = fuzz_u8(in);
		const char *s;
		size_t sl;
		char tmp[64];

		if (a < 200) {
			s = dict[a % ARRAY_SIZE(dict)];
			sl = strlen(s);
		} else {
			sl = fuzz_u8(in) % sizeof(tmp);
			for (size_t m = 0; m < sl; m++)
				tmp[m] = (char)fuzz_u8(in);
			s = tmp;
		}
		if (len + sl + 1 > XENSTORE_PAYLOAD_MAX)
			break;
		memcpy(msg + sizeof(h) + len, s, sl);
		len += (u32)sl;
		/* usually NUL-terminated; the last argument sometimes not */
		if (k + 1 < nargs || (a & 0x80) == 0)
			msg[sizeof(h) + len++] = '\0';
	}
	h.len = len;
	memcpy(msg, &h, sizeof(h));
	if (t == &conns[RING_CONN]) {
		/* a well-behaved guest writes only into free space */
		if (XENSTORE_RING_SIZE - (ring.req_prod - ring.req_cons) < sizeof(h) + len)
			return;
		/* counted first: a pump that breaks the ring reopens the
		 * connection, which starts counting again */
		t->next_req++;
		ring_put(msg, sizeof(h) + len);
		return;
	}
	/* a paused connection (outstanding quota) takes only part: the
	 * transport would offer the rest later, which a new connection
	 * state would not match -- send it whole or not at all */
	if (t->c->out_replies >= store->quota.outstanding || t->c->in.have)
		return;
	long n = xs_conn_input(t->c, msg, sizeof(h) + len);

	fuzz_check(n == (long)(sizeof(h) + len), "framed request taken %ld of %zu", n,
		   sizeof(h) + len);
	t->next_req++;
}

static void count_owner(struct xs_node *n, void *arg)
{
	((u32 *)arg)[n->perms.p[0].domid]++;
}

/* Every owner has a domain record (its count lives there); clears its
 * slot in owners[] for the next check. */
static void check_owner(struct xs_node *n, void *arg)
{
	fuzz_check(xs_domain_find(store, n->perms.p[0].domid), "owner %u has no record",
		   n->perms.p[0].domid);
	((u32 *)arg)[n->perms.p[0].domid] = 0;
}

static u32 owners[65536];

static void check_store(void)
{
	xs_node_walk(store->root, count_owner, owners);
	for (struct xs_domain *d = store->domains; d; d = d->next) {
		fuzz_check(d->nodes == owners[d->domid], "domain %u: %u nodes counted, %u owned",
			   d->domid, d->nodes, owners[d->domid]);
		u32 w = 0;

		for (struct xs_conn *c = store->conns; c; c = c->next)
			if (c->domid == d->domid)
				w += xs_watch_count(c);
		fuzz_check(d->watches == w, "domain %u: %u watches counted, %u held", d->domid,
			   d->watches, w);
	}
	xs_node_walk(store->root, check_owner, owners);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const struct xs_alloc a = { f_alloc, f_free, NULL };
	struct xs_quota q = XS_QUOTA_DEFAULT;
	struct fuzz_in in = { data, size };
	u32 owned_before[NCONN] = { 0 };

	q.nodes = QUOTA_NODES;
	q.outstanding = 4;
	q.events = 16;
	live_allocs = live_bytes = 0;
	store = xs_store_new(&a, &q, NULL);
	fuzz_check(store, "xs_store_new failed");
	for (int i = 0; i < NCONN; i++)
		conn_open(i);

	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);
		struct tconn *t = &conns[op % NCONN];

		for (int i = 1; i < NCONN; i++)
			owned_before[i] = xs_store_nr_owned(store, (u16)i);
		switch ((op / NCONN) % 6) {
		case 0: { /* raw bytes */
			u8 buf[256];
			size_t n = fuzz_u8(&in);

			for (size_t k = 0; k < n; k++)
				buf[k] = fuzz_u8(&in);
			t->raw_sent = true;
			if (t == &conns[RING_CONN] && n && (buf[0] & 0xc0) == 0xc0) {
				/* scribble on an index instead */
				u32 v = fuzz_u32(&in);
				volatile u32 *idx[] = { &ring.req_cons, &ring.req_prod,
							&ring.rsp_cons, &ring.rsp_prod };

				*idx[buf[0] & 3] = (buf[0] & 4) ? v : *idx[buf[0] & 3] + (v & 0x7ff);
				if ((buf[0] & 3) >= 2)
					t->scribbled = true;
				pump_ring();
				break;
			}
			feed(t, buf, n);
			break;
		}
		case 1:
		case 2:
			framed_request(t, &in);
			break;
		case 3:
			take_output(t, (size_t)fuzz_u8(&in) * 32 + 1);
			break;
		case 4:
			conn_close((int)(t - conns));
			conn_open((int)(t - conns));
			break;
		case 5:
			xs_store_domain_gone(store, (u16)(fuzz_u8(&in) % 4));
			break;
		}
		/* a domain's own requests never take it past its quota */
		if (t != &conns[0]) {
			u32 now = xs_store_nr_owned(store, t->domid);

			fuzz_check(now <= QUOTA_NODES || now <= owned_before[t->domid],
				   "domain %u owns %u nodes (quota %u)", t->domid, now, QUOTA_NODES);
		}
		take_output(&conns[(op + 1) % NCONN], 64);
		check_store();
	}
	for (int i = 0; i < NCONN; i++)
		take_output(&conns[i], 1 << 20);
	xs_store_free(store);
	fuzz_check(live_allocs == 0 && live_bytes == 0, "leaked %ld allocations, %ld bytes",
		   live_allocs, live_bytes);
	return 0;
}
