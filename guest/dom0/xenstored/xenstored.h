/*
 * Keel's xenstored: the store, its permission rules, watches, transactions
 * and quotas, and the XS wire protocol on top (docs/xenstore.md).
 *
 * Pure, portable C: it uses only <lib/string.h>'s string functions and the
 * allocator the caller passes in, so the same sources run as a dom0
 * service and in the host build (tests/xenstore/host/) and unit tests.
 * Nothing here blocks, sleeps or knows about rings, sockets or event
 * channels: a transport feeds a connection's bytes in with
 * xs_conn_input() and takes replies and watch events out with
 * xs_conn_output(). Not thread-safe: one caller at a time (dom0's event
 * loop, or the host build's poll loop).
 */
#ifndef XENSTORED_H
#define XENSTORED_H

#include <lib/types.h>
#include <public/io/xs_wire.h>

struct xs_store;
struct xs_conn;

/* Memory for nodes, values, watches and queued messages. alloc returns
 * NULL when out of memory (the request then gets ENOMEM); free receives
 * the size that was allocated, so a simple arena can serve it. */
struct xs_alloc {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p, size_t size);
	void *ctx;
};

/* Per-domain limits (docs/xenstore.md). The privileged domain (dom0 and
 * the host build's socket clients) is exempt from nodes, watches and
 * transactions, as in Xen; every connection is bound by outstanding and
 * events, and every message by XENSTORE_PAYLOAD_MAX. */
struct xs_quota {
	u32 nodes;        /* nodes a domain may own (ENOSPC) */
	u32 watches;      /* watches per domain (E2BIG) */
	u32 transactions; /* open transactions per connection (ENOSPC) */
	u32 outstanding;  /* replies queued and not yet taken: input pauses */
	u32 value_size;   /* bytes of one node's value (ENOSPC) */
	u32 perms;        /* entries in one node's permission list (ENOSPC) */
	u32 events;       /* watch events queued per connection; more are dropped */
};
/* Xen 4.17 cxenstored's defaults. */
#define XS_QUOTA_DEFAULT                                                          \
	{ .nodes = 1000, .watches = 128, .transactions = 10, .outstanding = 20,    \
	  .value_size = 2048, .perms = 5, .events = 256 }

/* What the store asks of its host when the privileged domain sends
 * INTRODUCE / RELEASE: map the domain's ring and bind its event channel
 * (and create its connection), or tear them down. introduce returns 0 or
 * a negative errno (sent to the requester as the error reply). Either may
 * be NULL (nothing to do). */
struct xs_hooks {
	int (*introduce)(void *ctx, u16 domid, u64 mfn, u32 port);
	void (*release)(void *ctx, u16 domid);
	void *ctx;
};

/* Creates an empty store (just "/", owned by dom0, "n0"). quota and hooks
 * may be NULL (defaults, none); both are copied. NULL when out of memory. */
struct xs_store *xs_store_new(const struct xs_alloc *a, const struct xs_quota *quota,
			      const struct xs_hooks *hooks);
/* Frees the store and every connection still attached to it. */
void xs_store_free(struct xs_store *s);

/* Tells the store that a domain has died (dom0's launcher on destroy):
 * releases it like RELEASE, firing @releaseDomain; its nodes stay until
 * someone removes them, as in Xen. */
void xs_store_domain_gone(struct xs_store *s, u16 domid);

/* Tells the store that an introduced domain has shut down or crashed but
 * still exists: fires @releaseDomain once (its toolstack watches that to
 * notice) and keeps the connection, as Xen's xenstored does on
 * VIRQ_DOM_EXC until the domain is dying. Repeats are ignored. */
void xs_store_domain_shutdown(struct xs_store *s, u16 domid);

/* Number of nodes in the committed tree, and those owned by domid (tests,
 * the shell). */
u32 xs_store_nr_nodes(const struct xs_store *s);
u32 xs_store_nr_owned(const struct xs_store *s, u16 domid);

/* A connection: one client speaking the wire protocol as domain `domid`.
 * privileged connections act as dom0 (full access, may INTRODUCE).
 * notify (may be NULL) is called whenever output becomes available, so
 * the transport can kick its event channel or poll for POLLOUT; it runs
 * in the middle of a request (another connection's, for watch events)
 * and must only note the fact: no store calls, no freeing connections. */
struct xs_conn *xs_conn_new(struct xs_store *s, u16 domid, bool privileged,
			    void (*notify)(struct xs_conn *c, void *ctx), void *ctx);
/* Ends a connection: its watches and transactions go, queued output is
 * dropped. */
void xs_conn_free(struct xs_conn *c);

/* Feeds bytes the client sent. Complete requests are handled at once and
 * their replies queued. Returns the bytes consumed (less than len when the
 * outstanding quota is reached: offer the rest again after taking
 * output), or -EIO for a protocol violation (a header with a payload
 * longer than XENSTORE_PAYLOAD_MAX): the transport must then drop the
 * connection, as Xen does. */
long xs_conn_input(struct xs_conn *c, const void *buf, size_t len);

/* Copies up to len bytes of queued output (replies and watch events, in
 * order, byte stream framing) into buf; returns how many. */
size_t xs_conn_output(struct xs_conn *c, void *buf, size_t len);
/* True while output is queued. */
bool xs_conn_output_pending(const struct xs_conn *c);

/* Handles one already-framed request (in-process callers: dom0's own
 * services). payload holds hdr->len bytes. Returns 0 (the reply is queued)
 * or -EBUSY (outstanding quota reached; take output first) or -EIO
 * (hdr->len beyond XENSTORE_PAYLOAD_MAX). */
int xs_conn_request(struct xs_conn *c, const struct xsd_sockmsg *hdr, const void *payload);

/* The ring transport (ring.c) for a domain's xenstore page.
 * xs_ring_init: sets the fields the server owns (features, error); call
 * once when the page is mapped. xs_ring_pump: moves the bytes it can in
 * both directions, in a bounded number of rounds; returns 1 if it moved
 * any (notify the domain's event channel, and pump again soon: there may
 * be more), 0 if none, or -EIO if the ring is broken (indices out of
 * range, or a payload beyond XENSTORE_PAYLOAD_MAX): `error` is set in the
 * page, and the caller drops the connection with one log line. */
void xs_ring_init(struct xenstore_domain_interface *intf);
int xs_ring_pump(struct xenstore_domain_interface *intf, struct xs_conn *c);

/* A whole request/reply exchange for in-process callers: handles the
 * request (payload of len bytes, tx 0 or a transaction id) and takes its
 * reply out of the connection's queue, leaving watch events queued for
 * xs_conn_output. On success copies up to *reply_len bytes of the reply
 * payload into reply (may be NULL when *reply_len is 0), sets *reply_len
 * to the full payload length and returns 0; an XS_ERROR reply returns
 * the negative errno it names; -EBUSY/-EIO as xs_conn_request. */
int xs_call(struct xs_conn *c, u32 type, u32 tx, const void *payload, u32 len, void *reply,
	    u32 *reply_len);

u16 xs_conn_domid(const struct xs_conn *c);
/* Watch events dropped on this connection because its queue was full. */
u32 xs_conn_events_dropped(const struct xs_conn *c);

#endif
