/*
 * The xenbus client's core (guest/lib/xenbus_core.c, xenbus.h):
 *   xenstore-client-*       framing, error names, event and directory
 *                           parsing, and a scripted hostile server (bad
 *                           lengths, stray req_ids, wrong types, events
 *                           between replies, replies too big to hold);
 *   xenstore-client-host-*  the client against xenstored's own store and
 *                           protocol code (the sources build/xenstored-host
 *                           and dom0 run), through xs_conn_input/output as
 *                           a byte-stream transport, as dom0 and as a domU;
 *                           and -host-ring: the client's ring code
 *                           (xenbus_ring.c) against xenstored's (ring.c)
 *                           on a shared page in memory.
 *
 * unit-sources: guest/lib/xenbus_core.c guest/lib/xenbus_ring.c guest/dom0/xenstored/conn.c guest/dom0/xenstored/dispatch.c guest/dom0/xenstored/ops.c guest/dom0/xenstored/perms.c guest/dom0/xenstored/quota.c guest/dom0/xenstored/ring.c guest/dom0/xenstored/transaction.c guest/dom0/xenstored/tree.c guest/dom0/xenstored/watch.c guest/dom0/xenstored/wire.c
 */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include "../../guest/dom0/xenstored/xs_internal.h"
#include "../../guest/lib/xenbus.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* ---- a scripted transport: bytes queued by the test, sends recorded ---- */

struct script {
	u8 in[1 << 16];
	size_t in_len, in_pos;
	u8 out[1 << 16];
	size_t out_len;
	struct xs_conn *server; /* when set: sends go to xenstored */
};

static void pull(struct script *s)
{
	if (!s->server)
		return;
	if (s->in_pos == s->in_len)
		s->in_pos = s->in_len = 0;
	s->in_len += xs_conn_output(s->server, s->in + s->in_len, sizeof(s->in) - s->in_len);
}

static int t_send(void *ctx, const void *buf, size_t n, u64 timeout_ns)
{
	struct script *s = ctx;
	(void)timeout_ns;
	ck_assert_uint_le(s->out_len + n, sizeof(s->out));
	memcpy(s->out + s->out_len, buf, n);
	s->out_len += n;
	if (s->server) {
		long r = xs_conn_input(s->server, s->out, s->out_len);
		ck_assert_int_eq(r, (long)s->out_len);
		s->out_len = 0;
		pull(s);
	}
	return 0;
}

static long t_recv(void *ctx, void *buf, size_t n)
{
	struct script *s = ctx;
	pull(s);
	size_t k = MIN(n, s->in_len - s->in_pos);
	/* Trickle: at most 7 bytes per call, to exercise reassembly. */
	k = MIN(k, (size_t)7);
	memcpy(buf, s->in + s->in_pos, k);
	s->in_pos += k;
	return (long)k;
}

static int t_wait(void *ctx, u64 timeout_ns)
{
	(void)timeout_ns;
	struct script *s = ctx;
	pull(s);
	return s->in_pos < s->in_len ? 0 : -ETIMEDOUT; /* nothing more will come */
}

static void push(struct script *s, u32 type, u32 req, const void *payload, u32 len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req, .tx_id = 0, .len = len };
	memcpy(s->in + s->in_len, &h, sizeof(h));
	s->in_len += sizeof(h);
	memcpy(s->in + s->in_len, payload, len);
	s->in_len += len;
}

static struct xb_client *client_on(struct script *s)
{
	static struct xb_client cs[3];
	static int next;
	struct xb_client *c = &cs[next++ % 3];
	struct xb_transport t = { t_send, t_recv, t_wait, s };
	xb_client_init(c, &t);
	return c;
}

/* ---- pure helpers ---- */

START_TEST(frame)
{
	static u8 buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 8];
	const char *a[] = { "/a/b", "val" };
	struct xsd_sockmsg h;

	long n = xb_frame(buf, sizeof(buf), XS_WRITE, 9, 3, a, 2, true);
	ck_assert_int_eq(n, (long)sizeof(h) + 5 + 3);
	memcpy(&h, buf, sizeof(h));
	ck_assert_uint_eq(h.type, XS_WRITE);
	ck_assert_uint_eq(h.req_id, 9);
	ck_assert_uint_eq(h.tx_id, 3);
	ck_assert_uint_eq(h.len, 8);
	ck_assert_mem_eq(buf + sizeof(h), "/a/b\0val", 8);
	/* Not raw: every string keeps its NUL. */
	n = xb_frame(buf, sizeof(buf), XS_WATCH, 1, 0, a, 2, false);
	ck_assert_int_eq(n, (long)sizeof(h) + 9);
	ck_assert_mem_eq(buf + sizeof(h), "/a/b\0val\0", 9);
	/* Exactly the limit is allowed, one more is E2BIG. */
	static char big[XENSTORE_PAYLOAD_MAX + 2];
	memset(big, 'x', XENSTORE_PAYLOAD_MAX - 1);
	const char *b[] = { big };
	ck_assert_int_eq(xb_frame(buf, sizeof(buf), XS_READ, 1, 0, b, 1, false),
			 (long)sizeof(h) + XENSTORE_PAYLOAD_MAX);
	big[XENSTORE_PAYLOAD_MAX - 1] = 'x';
	ck_assert_int_eq(xb_frame(buf, sizeof(buf), XS_READ, 1, 0, b, 1, false), -E2BIG);
	/* A buffer too small for the message. */
	ck_assert_int_eq(xb_frame(buf, sizeof(h) + 4, XS_WRITE, 1, 0, a, 2, true), -ENOSPC);
}
END_TEST

START_TEST(errors)
{
	static const struct { const char *s; int e; } t[] = {
		{ "ENOENT", -ENOENT }, { "EACCES", -EACCES }, { "EAGAIN", -EAGAIN },
		{ "EINVAL", -EINVAL }, { "E2BIG", -E2BIG },   { "ENOSPC", -ENOSPC },
		{ "EEXIST", -EEXIST }, { "EISDIR", -EISDIR }, { "ENOMEM", -ENOMEM },
		{ "EIO", -EIO },       { "ENOTEMPTY", -ENOTEMPTY }, { "ENOSYS", -ENOSYS },
		{ "EROFS", -EROFS },   { "EBUSY", -EBUSY },   { "EISCONN", -EISCONN },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ck_assert_int_eq(xb_error_from_string(t[i].s, (u32)strlen(t[i].s) + 1), t[i].e);
		/* Without its NUL too (len bounds it). */
		ck_assert_int_eq(xb_error_from_string(t[i].s, (u32)strlen(t[i].s)), t[i].e);
	}
	ck_assert_int_eq(xb_error_from_string("EQUOTA", 7), -EINVAL); /* unknown: EINVAL */
	ck_assert_int_eq(xb_error_from_string("ENOENTX", 7), -EINVAL);
	ck_assert_int_eq(xb_error_from_string("ENOENT", 3), -EINVAL); /* "ENO" */
	ck_assert_int_eq(xb_error_from_string("", 0), -EINVAL);
}
END_TEST

START_TEST(parse)
{
	const char *p, *t;
	ck_assert_int_eq(xb_event_split("/a\0tok\0", 7, &p, &t), 0);
	ck_assert_str_eq(p, "/a");
	ck_assert_str_eq(t, "tok");
	ck_assert_int_eq(xb_event_split("/a\0tok", 6, &p, &t), -EINVAL); /* token unterminated */
	ck_assert_int_eq(xb_event_split("/a", 2, &p, &t), -EINVAL);
	ck_assert_int_eq(xb_event_split("", 0, &p, &t), -EINVAL);
	ck_assert_int_eq(xb_count_strings("a\0bb\0c\0", 7), 3);
	ck_assert_int_eq(xb_count_strings("", 0), 0);
	ck_assert_int_eq(xb_count_strings("a\0bb", 4), -EINVAL);
}
END_TEST

/* ---- a scripted, hostile server ---- */

START_TEST(server_events_between)
{
	static struct script s;
	memset(&s, 0, sizeof(s));
	struct xb_client *c = client_on(&s);
	char buf[64], p[32], t[32];

	/* Events before and after the reply, a stray reply for another id,
	 * a malformed event: the reply still reaches the caller. */
	push(&s, XS_WATCH_EVENT, 0, "/w\0t1\0", 6);
	push(&s, XS_READ, 55, "wrong", 5);
	push(&s, XS_WATCH_EVENT, 0, "/bad", 4);
	push(&s, XS_READ, 1, "value", 5);
	push(&s, XS_WATCH_EVENT, 0, "/w/x\0t2\0", 8);
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "value");
	ck_assert_uint_eq(c->stray_replies, 1);
	/* The last event arrives after the reply: taken on the next look. */
	ck_assert_int_eq(xb_next_event(c, p, sizeof(p), t, sizeof(t), 1), 0);
	ck_assert_str_eq(p, "/w");
	ck_assert_str_eq(t, "t1");
	ck_assert_int_eq(xb_next_event(c, p, sizeof(p), t, sizeof(t), 1), 0);
	ck_assert_str_eq(p, "/w/x");
	ck_assert_str_eq(t, "t2");
	ck_assert_uint_eq(c->events_dropped, 1);
	ck_assert_int_eq(xb_next_event(c, p, sizeof(p), t, sizeof(t), 1), -ETIMEDOUT);
	/* The request on the wire. */
	struct xsd_sockmsg h;
	memcpy(&h, s.out, sizeof(h));
	ck_assert_uint_eq(h.type, XS_READ);
	ck_assert_uint_eq(h.req_id, 1);
	ck_assert_uint_eq(h.len, 3);
	ck_assert_mem_eq(s.out + sizeof(h), "/k\0", 3);
}
END_TEST

START_TEST(server_errors)
{
	static struct script s;
	memset(&s, 0, sizeof(s));
	struct xb_client *c = client_on(&s);
	char buf[8];

	push(&s, XS_ERROR, 1, "EACCES\0", 7);
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, sizeof(buf)), -EACCES);
	push(&s, XS_ERROR, 2, "EAGAIN\0", 7);
	ck_assert_int_eq(xb_tx_end(c, 4, true), -EAGAIN);
	/* A reply longer than the caller's buffer: -ERANGE, no overflow. */
	memset(buf, '#', sizeof(buf));
	push(&s, XS_READ, 3, "0123456789", 10);
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, 4), -ERANGE);
	ck_assert_int_eq(buf[4], '#');
	/* Exactly the buffer less its NUL fits. */
	push(&s, XS_READ, 4, "012", 3);
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, 4), 3);
	ck_assert_str_eq(buf, "012");
	/* The client survived all that. */
	ck_assert_int_eq(c->dead, 0);
	/* A transaction id that is not a number kills it. */
	push(&s, XS_TRANSACTION_START, 5, "x\0", 2);
	u32 tx = 0;
	ck_assert_int_eq(xb_tx_start(c, &tx), -EIO);
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, sizeof(buf)), -EIO);
}
END_TEST

START_TEST(server_bad_length)
{
	static struct script s;
	memset(&s, 0, sizeof(s));
	struct xb_client *c = client_on(&s);
	char buf[8];

	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1 };
	memcpy(s.in, &h, sizeof(h));
	s.in_len = sizeof(h) + 64;
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, sizeof(buf)), -EIO);
	ck_assert_int_eq(c->dead, -EIO);
	/* Dead: nothing more is sent. */
	size_t sent = s.out_len;
	ck_assert_int_eq(xb_write(c, 0, "/k", "v"), -EIO);
	ck_assert_uint_eq(s.out_len, sent);
}
END_TEST

START_TEST(server_wrong_type_and_silence)
{
	static struct script s;
	memset(&s, 0, sizeof(s));
	struct xb_client *c = client_on(&s);
	char buf[8];

	push(&s, XS_DIRECTORY, 1, "a\0", 2); /* answers READ with DIRECTORY */
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, sizeof(buf)), -EIO);

	memset(&s, 0, sizeof(s));
	c = client_on(&s);
	push(&s, XS_READ, 1, "ab", 2);
	s.in_len -= 1; /* half a reply, then nothing */
	ck_assert_int_eq(xb_read(c, 0, "/k", buf, sizeof(buf)), -ETIMEDOUT);
	ck_assert_int_eq(c->dead, -ETIMEDOUT);
}
END_TEST

START_TEST(server_random)
{
	/* Random server streams, many with plausible headers: the client
	 * never writes past the caller's buffer, never returns a length
	 * beyond it, and ends every call (alive or dead). */
	static struct script s;
	u64 seed = 0x9e3779b97f4a7c15ULL;
	unsigned dead = 0, ok = 0;

	for (int round = 0; round < 2000; round++) {
		memset(&s, 0, sizeof(s));
		struct xb_client *c = client_on(&s);
		size_t len = 0;
		int msgs = 1 + (int)(seed % 4);
		for (int m = 0; m < msgs; m++) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			u32 plen = (u32)(seed % 64);
			u32 type = (u32)(seed >> 8) % 4 ? XS_READ : (u32)(seed >> 16) % 24;
			u32 req = (u32)(seed >> 24) % 3 ? 1 : (u32)(seed >> 32);
			u32 claimed = (u32)(seed >> 40) % 16 ? plen : (u32)(seed >> 20);
			struct xsd_sockmsg h = { type, req, 0, claimed };
			memcpy(s.in + len, &h, sizeof(h));
			len += sizeof(h);
			for (u32 i = 0; i < plen; i++)
				s.in[len++] = (u8)(seed >> (i % 56));
		}
		s.in_len = len;
		char buf[20];
		memset(buf, '#', sizeof(buf));
		long r = xb_read(c, 0, "/k", buf, 16);
		ck_assert_int_le(r, 15);
		for (int i = 16; i < 20; i++)
			ck_assert_int_eq(buf[i], '#');
		if (r >= 0) {
			ok++;
			ck_assert_int_eq(buf[r], '\0');
		}
		dead += c->dead != 0;
		char p[8], t[8];
		while (xb_next_event(c, p, sizeof(p), t, sizeof(t), 1) == 0)
			;
	}
	/* Both outcomes occurred: the stream generator is not degenerate. */
	ck_assert_uint_gt(ok, 0);
	ck_assert_uint_gt(dead, 0);
}
END_TEST

/* ---- against xenstored's code ---- */

static struct xs_store *store;
static struct script s0, s5, s6; /* dom0, dom5, dom6 */

static void *h_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void h_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static const struct xs_alloc halloc = { h_alloc, h_free, NULL };

/* dom0 sets up /local/domain/{5,6} as a launcher would; returns dom0's
 * client, *d5 and *d6 the domUs'. */
static struct xb_client *host_setup(struct xb_client **d5, struct xb_client **d6)
{
	memset(&s0, 0, sizeof(s0));
	memset(&s5, 0, sizeof(s5));
	memset(&s6, 0, sizeof(s6));
	store = xs_store_new(&halloc, NULL, NULL);
	ck_assert_ptr_nonnull(store);
	s0.server = xs_conn_new(store, 0, true, NULL, NULL);
	s5.server = xs_conn_new(store, 5, false, NULL, NULL);
	s6.server = xs_conn_new(store, 6, false, NULL, NULL);
	struct xb_client *c0 = client_on(&s0);
	*d5 = client_on(&s5);
	*d6 = client_on(&s6);
	static const char *p5[] = { "n5" }, *p6[] = { "n6" };
	ck_assert_int_eq(xb_mkdir(c0, 0, "/local/domain/5"), 0);
	ck_assert_int_eq(xb_set_perms(c0, 0, "/local/domain/5", p5, 1), 0);
	ck_assert_int_eq(xb_write(c0, 0, "/local/domain/5/name", "five"), 0);
	ck_assert_int_eq(xb_set_perms(c0, 0, "/local/domain/5/name", p5, 1), 0);
	ck_assert_int_eq(xb_mkdir(c0, 0, "/local/domain/6"), 0);
	ck_assert_int_eq(xb_set_perms(c0, 0, "/local/domain/6", p6, 1), 0);
	ck_assert_int_eq(xb_write(c0, 0, "/local/domain/6/name", "six"), 0);
	ck_assert_int_eq(xb_set_perms(c0, 0, "/local/domain/6/name", p6, 1), 0);
	return c0;
}

static void host_done(void)
{
	xs_store_free(store);
	store = NULL;
}

START_TEST(host_rw)
{
	struct xb_client *d5, *d6, *c0 = host_setup(&d5, &d6);
	char buf[256];
	(void)c0;
	(void)d6;

	/* Relative paths are under the domain's home. */
	ck_assert_int_eq(xb_read(d5, 0, "name", buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "five");
	ck_assert_int_eq(xb_read(d5, 0, "/local/domain/5/name", buf, sizeof(buf)), 4);
	ck_assert_int_eq(xb_write(d5, 0, "data/a", "1"), 0);
	ck_assert_int_eq(xb_write(d5, 0, "data/b", "22"), 0);
	ck_assert_int_eq(xb_mkdir(d5, 0, "data/c"), 0);
	ck_assert_int_eq(xb_directory(d5, 0, "data", buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "a\0b\0c\0", 6);
	ck_assert_int_eq(xb_read(d5, 0, "data/b", buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "22");
	ck_assert_int_eq(xb_get_perms(d5, 0, "data/b", buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "n5");
	ck_assert_int_eq(xb_rm(d5, 0, "data"), 0);
	ck_assert_int_eq(xb_read(d5, 0, "data/a", buf, sizeof(buf)), -ENOENT);
	/* Another domain's nodes and dom0's are refused. */
	ck_assert_int_eq(xb_read(d5, 0, "/local/domain/6/name", buf, sizeof(buf)), -EACCES);
	ck_assert_int_eq(xb_write(d5, 0, "/local/domain/0/x", "v"), -EACCES);
	ck_assert_int_eq(xb_write(d5, 0, "/local/domain/6/name", "mine"), -EACCES);
	/* A value longer than the caller's buffer. */
	ck_assert_int_eq(xb_write(d5, 0, "long", "0123456789"), 0);
	ck_assert_int_eq(xb_read(d5, 0, "long", buf, 5), -ERANGE);
	ck_assert_int_eq(d5->dead, 0);
	host_done();
}
END_TEST

START_TEST(host_watch)
{
	struct xb_client *d5, *d6, *c0 = host_setup(&d5, &d6);
	char p[128], t[32];
	(void)d6;

	ck_assert_int_eq(xb_watch(d5, "data", "tk"), 0);
	/* Fires once on registration (relative path, relative answer). */
	ck_assert_int_eq(xb_next_event(d5, p, sizeof(p), t, sizeof(t), 1), 0);
	ck_assert_str_eq(p, "data");
	ck_assert_str_eq(t, "tk");
	ck_assert_int_eq(xb_next_event(d5, p, sizeof(p), t, sizeof(t), 1), -ETIMEDOUT);
	/* dom0 writes below it: the event waits in d5's stream. */
	ck_assert_int_eq(xb_write(c0, 0, "/local/domain/5/data/x", "1"), 0);
	ck_assert_int_eq(xb_next_event(d5, p, sizeof(p), t, sizeof(t), 1), 0);
	ck_assert_str_eq(p, "data/x");
	/* An event that arrives while a request waits is queued, the reply
	 * still returned. */
	ck_assert_int_eq(xb_write(c0, 0, "/local/domain/5/data/y", "2"), 0);
	char v[8];
	ck_assert_int_eq(xb_read(d5, 0, "data/x", v, sizeof(v)), 1);
	ck_assert_uint_eq(d5->ev_count, 1);
	ck_assert_int_eq(xb_next_event(d5, p, sizeof(p), t, sizeof(t), 1), 0);
	ck_assert_str_eq(p, "data/y");
	ck_assert_int_eq(xb_unwatch(d5, "data", "tk"), 0);
	ck_assert_int_eq(xb_write(c0, 0, "/local/domain/5/data/z", "3"), 0);
	ck_assert_int_eq(xb_next_event(d5, p, sizeof(p), t, sizeof(t), 1), -ETIMEDOUT);
	host_done();
}
END_TEST

START_TEST(host_transactions)
{
	struct xb_client *d5, *d6, *c0 = host_setup(&d5, &d6);
	char buf[32];
	u32 t1, t2;
	(void)c0;
	(void)d6;

	ck_assert_int_eq(xb_tx_start(d5, &t1), 0);
	ck_assert_int_eq(xb_write(d5, t1, "tx/a", "1"), 0);
	/* Not visible outside until committed. */
	ck_assert_int_eq(xb_read(d5, 0, "tx/a", buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(xb_tx_end(d5, t1, true), 0);
	ck_assert_int_eq(xb_read(d5, 0, "tx/a", buf, sizeof(buf)), 1);

	/* The conflicting pair: both write tx/a; first commit wins. */
	ck_assert_int_eq(xb_tx_start(d5, &t1), 0);
	ck_assert_int_eq(xb_tx_start(d5, &t2), 0);
	ck_assert_uint_ne(t1, t2);
	ck_assert_int_eq(xb_read(d5, t1, "tx/a", buf, sizeof(buf)), 1);
	ck_assert_int_eq(xb_read(d5, t2, "tx/a", buf, sizeof(buf)), 1);
	ck_assert_int_eq(xb_write(d5, t1, "tx/a", "first"), 0);
	ck_assert_int_eq(xb_write(d5, t2, "tx/a", "second"), 0);
	ck_assert_int_eq(xb_tx_end(d5, t1, true), 0);
	ck_assert_int_eq(xb_tx_end(d5, t2, true), -EAGAIN);
	ck_assert_int_eq(xb_read(d5, 0, "tx/a", buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "first");

	/* Abort leaves nothing. */
	ck_assert_int_eq(xb_tx_start(d5, &t1), 0);
	ck_assert_int_eq(xb_write(d5, t1, "tx/b", "x"), 0);
	ck_assert_int_eq(xb_tx_end(d5, t1, false), 0);
	ck_assert_int_eq(xb_read(d5, 0, "tx/b", buf, sizeof(buf)), -ENOENT);
	host_done();
}
END_TEST

START_TEST(host_state)
{
	struct xb_client *d5, *d6, *c0 = host_setup(&d5, &d6);
	(void)d6;

	ck_assert_int_eq(xb_switch_state(d5, "device/vif/0", XenbusStateInitialising), 0);
	ck_assert_int_eq(xb_read_state(d5, "device/vif/0"), XenbusStateInitialising);
	/* The backend (dom0 here) is already Connected: seen at once. */
	ck_assert_int_eq(xb_switch_state(c0, "/backend/vif/5/0", XenbusStateConnected), 0);
	static const char *pr[] = { "n0", "r5" };
	ck_assert_int_eq(xb_set_perms(c0, 0, "/backend/vif/5/0/state", pr, 2), 0);
	ck_assert_int_eq(xb_wait_state(d5, "/backend/vif/5/0", XenbusStateConnected, 1),
			 XenbusStateConnected);
	/* A state never reached: the last one seen, after the time-out. */
	ck_assert_int_eq(xb_wait_state(d5, "/backend/vif/5/0", XenbusStateClosed, 1),
			 XenbusStateConnected);
	/* Not a number. */
	ck_assert_int_eq(xb_write(d5, 0, "device/vif/0/state", "x"), 0);
	ck_assert_int_eq(xb_read_state(d5, "device/vif/0"), -EINVAL);
	ck_assert_int_eq(d5->dead, 0);
	host_done();
}
END_TEST

/* ---- the client's ring code against xenstored's ring code ---- */

struct ringpair {
	struct xenstore_domain_interface *page;
	struct xs_conn *server;
	int server_rc; /* the last pump's answer */
};

static void rp_pump(struct ringpair *rp)
{
	/* Pumps until the server has nothing more to move (bounded). */
	for (int i = 0; i < 64; i++) {
		rp->server_rc = xs_ring_pump(rp->page, rp->server);
		if (rp->server_rc <= 0)
			break;
	}
}

static int rp_send(void *ctx, const void *buf, size_t n, u64 timeout_ns)
{
	struct ringpair *rp = ctx;
	const char *b = buf;
	(void)timeout_ns;
	while (n) {
		long k = xb_ring_put(rp->page, b, n);
		if (k < 0)
			return (int)k;
		rp_pump(rp);
		if (!k)
			return -ETIMEDOUT; /* the server took nothing: no room */
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static long rp_recv(void *ctx, void *buf, size_t n)
{
	struct ringpair *rp = ctx;
	rp_pump(rp);
	return xb_ring_get(rp->page, buf, n);
}

static int rp_wait(void *ctx, u64 timeout_ns)
{
	struct ringpair *rp = ctx;
	(void)timeout_ns;
	rp_pump(rp);
	return xb_ring_rsp_avail(rp->page) ? 0 : -ETIMEDOUT;
}

START_TEST(host_ring)
{
	static struct xenstore_domain_interface page __attribute__((aligned(4096)));
	static struct ringpair rp;
	static struct xb_client c;
	static char big[3001], back[3100];
	struct xb_client *d5, *d6, *c0 = host_setup(&d5, &d6);
	(void)c0;
	(void)d6;

	memset(&page, 0, sizeof(page));
	/* Indices near the 32-bit wrap, as after a long uptime. */
	page.req_cons = page.req_prod = 0xfffffe00u;
	page.rsp_cons = page.rsp_prod = 0xffffff00u;
	xs_ring_init(&page);
	rp.page = &page;
	rp.server = xs_conn_new(store, 5, false, NULL, NULL);
	struct xb_transport t = { rp_send, rp_recv, rp_wait, &rp };
	xb_client_init(&c, &t);

	char buf[64];
	ck_assert_int_eq(xb_read(&c, 0, "name", buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "five");
	/* A value twice the 1 KiB ring (a domU's default value quota is
	 * 2048), crossing the index wrap both ways: request and reply go
	 * through in pieces, the server taking as the client produces. */
	for (int i = 0; i < 2000; i++)
		big[i] = (char)('a' + i % 26);
	ck_assert_int_eq(xb_write(&c, 0, "data/big", big), 0);
	ck_assert_int_eq(xb_read(&c, 0, "data/big", back, sizeof(back)), 2000);
	ck_assert_mem_eq(back, big, 2000);
	ck_assert_uint_gt(page.req_prod, 0);
	ck_assert_uint_lt(page.req_prod, 0x1000); /* wrapped */
	ck_assert_int_eq(xb_watch(&c, "data", "r"), 0);
	char p[64], tk[8];
	ck_assert_int_eq(xb_next_event(&c, p, sizeof(p), tk, sizeof(tk), 1), 0);
	ck_assert_str_eq(p, "data");
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(xb_write(&c, 0, "data/n", "x"), 0);
	/* 50 events through the ring between replies: the queue keeps
	 * XB_EVENTS, counts the rest. */
	ck_assert_uint_eq(c.ev_count, XB_EVENTS);
	ck_assert_uint_eq(c.events_dropped, 50 - XB_EVENTS);
	ck_assert_int_eq(c.dead, 0);

	/* The server corrupts rsp_prod: the client notices and stops. */
	page.rsp_prod = page.rsp_cons + XENSTORE_RING_SIZE + 1;
	ck_assert_int_eq(xb_ring_get(&page, buf, sizeof(buf)), -EIO);
	ck_assert_int_eq(xb_read(&c, 0, "name", buf, sizeof(buf)), -EIO);
	ck_assert_int_eq(c.dead, -EIO);
	page.rsp_prod = page.rsp_cons;
	page.req_cons = page.req_prod + 1; /* cons past prod */
	ck_assert_int_eq(xb_ring_put(&page, "x", 1), -EIO);
	host_done();
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "xenstore-client-frame", &frame_ttest },
	{ "xenstore-client-errors", &errors_ttest },
	{ "xenstore-client-parse", &parse_ttest },
	{ "xenstore-client-events-between-replies", &server_events_between_ttest },
	{ "xenstore-client-server-errors", &server_errors_ttest },
	{ "xenstore-client-server-bad-length", &server_bad_length_ttest },
	{ "xenstore-client-server-wrong-type", &server_wrong_type_and_silence_ttest },
	{ "xenstore-client-random-server", &server_random_ttest },
	{ "xenstore-client-host-rw-perms", &host_rw_ttest },
	{ "xenstore-client-host-watch", &host_watch_ttest },
	{ "xenstore-client-host-transactions", &host_transactions_ttest },
	{ "xenstore-client-host-state", &host_state_ttest },
	{ "xenstore-client-host-ring", &host_ring_ttest },
	{ 0 },
};
