/*
 * A hostile xenstore client (pvtest.h): role=xs-hostile [xs_msgs=N]
 * [xs_idle_s=S] writes raw bytes into its store ring (guest/lib/xenbus.h
 * gives the ring; the client's framing is bypassed) to show that
 * xenstored answers with errors or drops this one connection while
 * everyone else keeps working (docs/xenstore.md, issue 12 "Bad input"):
 *
 *   unknown message types, unterminated strings, request floods (many
 *   outstanding requests, replies not read), watch floods (distinct
 *   tokens, then writes that fire them), then a header whose length is
 *   beyond XENSTORE_PAYLOAD_MAX, and at the very end req_prod moved far
 *   past req_cons (corrupted indices).
 *
 * About N messages in all (default 3000). Every send has a deadline, and
 * once the server stops taking bytes (it dropped us) the remaining phases
 * are skipped, so the role never hangs. Prints "xs-hostile: sent <N>",
 * idles S seconds (default 0) and powers off. Without a store page:
 * "xs: SKIP no xenstore".
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "guest.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define NS_PER_SEC 1000000000ULL
#define SEND_TIMEOUT_NS (NS_PER_SEC / 2)

static struct xb_client *c;
static u64 sent, drained, stalls;
static bool stuck; /* the server stopped taking our bytes */

/* Throws away whatever replies and events are waiting. */
static void drain(void)
{
	static char junk[512];
	long r;
	while ((r = c->t.recv(c->t.ctx, junk, sizeof(junk))) > 0)
		drained += (u64)r;
}

/* Sends raw bytes; on a full ring drains once and retries. */
static void raw(const void *buf, size_t n)
{
	if (stuck)
		return;
	for (int tries = 0; tries < 2; tries++) {
		int rc = c->t.send(c->t.ctx, buf, n, SEND_TIMEOUT_NS);
		if (!rc) {
			sent++;
			return;
		}
		stalls++;
		drain();
		if (rc != -ETIMEDOUT)
			break;
	}
	stuck = true;
	printf("xs-hostile: the server stopped taking requests after %lu messages\n", sent);
}

static void msg(u32 type, u32 req, const void *payload, u32 len, u32 claimed_len)
{
	static char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = { .type = type, .req_id = req, .tx_id = 0, .len = claimed_len };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	raw(buf, sizeof(h) + len);
}

void role_xs_hostile(void)
{
	int rc = xenbus_init();
	if (rc) {
		printf("xs: SKIP no xenstore (%d)\n", rc);
		return;
	}
	c = xenbus();
	u64 n = arg_u64_or("xs_msgs", 3000), part = n / 4 ? n / 4 : 1;
	char p[64];

	/* Unknown types, and server-only ones sent by a client. */
	static const u32 bad_types[] = { 20, XS_TYPE_COUNT, 200, 0xfffe, XS_INVALID,
					 XS_WATCH_EVENT, XS_ERROR };
	for (u64 i = 0; i < part && !stuck; i++) {
		msg(bad_types[i % ARRAY_SIZE(bad_types)], (u32)i, "data\0", 5, 5);
		if (i % 8 == 7)
			drain();
	}
	drain();
	/* Unterminated strings: a path without NUL, WRITE without a value,
	 * WATCH without a token, a SET_PERMS with a garbled permission. */
	for (u64 i = 0; i < part && !stuck; i++) {
		switch (i % 4) {
		case 0: msg(XS_READ, (u32)i, "data/abc", 8, 8); break;
		case 1: msg(XS_WRITE, (u32)i, "data/x", 6, 6); break;
		case 2: msg(XS_WATCH, (u32)i, "data\0tok", 8, 8); break;
		default: msg(XS_SET_PERMS, (u32)i, "data\0q\xff", 7, 7); break;
		}
		if (i % 8 == 7)
			drain();
	}
	drain();
	/* A request flood: replies are not read until the ring is full. */
	for (u64 i = 0; i < part && !stuck; i++) {
		msg(XS_READ, (u32)i, "domid\0", 6, 6);
		/* Only drain when the server stalls (raw does that). */
	}
	drain();
	/* A watch flood: distinct tokens until the quota refuses, then
	 * writes that fire whatever got registered. */
	for (u64 i = 0; i < n - 3 * part && !stuck; i++) {
		int l;
		if (i % 2 == 0)
			l = snprintf(p, sizeof(p), "data/w%c%lu", '\0', i) + 1;
		else
			l = snprintf(p, sizeof(p), "data/w/k%lu%c1", i % 16, '\0') + 1;
		msg(i % 2 ? XS_WRITE : XS_WATCH, (u32)i, p, (u32)l - (i % 2), (u32)l - (i % 2));
		if (i % 8 == 7)
			drain();
	}
	drain();
	/* A length beyond XENSTORE_PAYLOAD_MAX: Xen drops the connection. */
	msg(XS_WRITE, 1, "data/big\0", 9, XENSTORE_PAYLOAD_MAX + 1);
	/* Corrupted indices, last: req_prod far past req_cons. */
	struct xenstore_domain_interface *r = xenbus_ring();
	u32 cons = __atomic_load_n(&r->req_cons, __ATOMIC_RELAXED);
	__atomic_store_n(&r->req_prod, cons + 5 * XENSTORE_RING_SIZE, __ATOMIC_RELEASE);
	evtchn_send(xenbus_port());
	sent++;
	printf("xs-hostile: sent %lu (stalls %lu, %lu reply bytes drained)\n", sent, stalls,
	       drained);
	u64 idle = arg_u64_or("xs_idle_s", 0);
	if (idle) {
		u64 until = pvclock_now_ns() + idle * NS_PER_SEC;
		while (pvclock_now_ns() < until) {
			evtchn_port_t port = xenbus_port();
			evtchn_poll(&port, 1, until);
			evtchn_clear_pending(port);
		}
	}
}
