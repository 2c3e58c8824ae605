/*
 * The xenbus client, guest side (guest/lib/xenbus.c, xenbus_core.c;
 * docs/xenstore.md "The client"): talks the xenstore wire protocol
 * (include/public/io/xs_wire.h) to xenstored, the way a frontend driver
 * (blkfront, netfront) uses it.
 *
 * Two layers. The core (xenbus_core.c, pure code, host-tested) frames
 * requests, reassembles messages, matches replies to requests by req_id,
 * queues watch events that arrive between replies, and maps Xen's error
 * strings to negative errno. It moves bytes through a `struct
 * xb_transport`. The ring transport (xenbus.c) is the page and event
 * channel announced by HVM_PARAM_STORE_PFN / HVM_PARAM_STORE_EVTCHN.
 *
 * The server is not trusted: a reply longer than XENSTORE_PAYLOAD_MAX or
 * a ring whose indices make no sense kills the client (-EIO from then
 * on); a reply with an unknown req_id is dropped and counted; replies
 * are cut to the caller's buffer (-ERANGE, nothing copied beyond it).
 * Not thread-safe: one caller at a time.
 */
#ifndef GUEST_XENBUS_H
#define GUEST_XENBUS_H

#include <lib/types.h>
#include <public/io/xenbus.h>
#include <public/io/xs_wire.h>

/* Waiting for a reply longer than this gives -ETIMEDOUT. */
#define XB_REPLY_TIMEOUT_NS (10ULL * 1000000000ULL)
/* Watch events kept until read; more are dropped (and counted). */
#define XB_EVENTS 32
/* Longest "path\0token\0" payload of a queued event; longer are dropped. */
#define XB_EVENT_BYTES 512

/* How the core moves bytes. All return negative errno on failure. */
struct xb_transport {
	/* Sends all n bytes, waiting for room at most timeout_ns;
	 * -ETIMEDOUT (possibly after sending some) or -EIO. */
	int (*send)(void *ctx, const void *buf, size_t n, u64 timeout_ns);
	/* Takes up to n bytes available now; 0 when none. */
	long (*recv)(void *ctx, void *buf, size_t n);
	/* Sleeps until bytes may have arrived or timeout_ns passed: 0, or
	 * -ETIMEDOUT when nothing can arrive (host transports). */
	int (*wait)(void *ctx, u64 timeout_ns);
	void *ctx;
};

struct xb_event {
	u32 len;                   /* bytes of data */
	char data[XB_EVENT_BYTES]; /* "path\0token\0" */
};

struct xb_client {
	struct xb_transport t;
	u32 next_req;
	int dead; /* 0, or the error that killed the client */
	/* The message being reassembled. */
	struct xsd_sockmsg hdr;
	u32 got; /* bytes of header + payload so far */
	char payload[XENSTORE_PAYLOAD_MAX + 1];
	/* Watch events not yet read (a FIFO). */
	struct xb_event ev[XB_EVENTS];
	u32 ev_head, ev_count;
	/* Counters for reports and tests. */
	u64 events_dropped, stray_replies;
};

/* ---- pure helpers (no transport) ---- */

/* Frames one message: header then the n strings args[i], each followed
 * by a NUL except the last when last_raw (XS_WRITE's value). Returns the
 * total bytes written to buf, -E2BIG if the payload would exceed
 * XENSTORE_PAYLOAD_MAX, -ENOSPC if buf is too small. */
long xb_frame(void *buf, size_t size, u32 type, u32 req_id, u32 tx_id,
	      const char *const *args, unsigned n, bool last_raw);

/* The negative errno for an XS_ERROR payload (Xen's names; len bytes, NUL
 * optional). Unknown names are -EINVAL, as in libxenstore. */
int xb_error_from_string(const char *s, u32 len);

/* Splits a watch event's "path\0token\0" payload. 0, or -EINVAL if it is
 * not two NUL-terminated strings. */
int xb_event_split(const char *data, u32 len, const char **path, const char **token);

/* Counts the NUL-terminated strings in a DIRECTORY reply (len bytes);
 * -EINVAL if the last is not terminated (an empty reply has 0). */
int xb_count_strings(const char *data, u32 len);

/* ---- the client over a transport ---- */

/* Sets c up with transport t (nothing is sent). */
void xb_client_init(struct xb_client *c, const struct xb_transport *t);

/* One request and its reply: sends type with args (as xb_frame) in
 * transaction tx (0: none), then reads until the reply with its req_id
 * arrives, queueing watch events. Copies the reply payload into reply
 * (size bytes, NUL added when room) and stores its length in *reply_len.
 * Returns 0, the server's error (negative errno), -ERANGE if the reply did
 * not fit (the rest is discarded), -ETIMEDOUT, or -EIO if the server broke
 * the protocol (the client is dead then). reply may be NULL (size 0). */
int xb_request(struct xb_client *c, u32 type, u32 tx, const char *const *args, unsigned n,
	       bool last_raw, char *reply, size_t size, u32 *reply_len);

/* Reads path's value into buf (size bytes, always NUL-terminated): its
 * length, or negative errno (-ERANGE if size is too small). */
long xb_read(struct xb_client *c, u32 tx, const char *path, char *buf, size_t size);
/* Writes value (a string) to path, creating it and missing parents. */
int xb_write(struct xb_client *c, u32 tx, const char *path, const char *value);
int xb_mkdir(struct xb_client *c, u32 tx, const char *path);
/* Removes path and everything below it. */
int xb_rm(struct xb_client *c, u32 tx, const char *path);
/* The children's names, NUL-separated, into buf: their count, or negative
 * errno. */
int xb_directory(struct xb_client *c, u32 tx, const char *path, char *buf, size_t size);
/* The permissions as Xen spells them ("b0\0r5\0": first the owner and
 * the default, then per-domain entries), NUL-separated, into buf: their
 * count, or negative errno. */
int xb_get_perms(struct xb_client *c, u32 tx, const char *path, char *buf, size_t size);
/* Sets path's permissions to the n strings perms ("n0", "r5", ...). */
int xb_set_perms(struct xb_client *c, u32 tx, const char *path, const char *const *perms,
		 unsigned n);

/* Registers a watch; it fires once at once (the event is queued). */
int xb_watch(struct xb_client *c, const char *path, const char *token);
int xb_unwatch(struct xb_client *c, const char *path, const char *token);
/* Takes the oldest queued watch event, waiting up to timeout_ns for one
 * (0: do not wait). Copies path and token (NUL-terminated, cut to their
 * buffers). 0, -ETIMEDOUT, or -EIO. */
int xb_next_event(struct xb_client *c, char *path, size_t psize, char *token, size_t tsize,
		  u64 timeout_ns);

/* Starts a transaction; its id goes to *tx. */
int xb_tx_start(struct xb_client *c, u32 *tx);
/* Ends it: commit or abort. -EAGAIN when the commit conflicted (the
 * caller redoes the transaction). */
int xb_tx_end(struct xb_client *c, u32 tx, bool commit);

/* Writes "<dir>/state" = state (a frontend or backend switching). */
int xb_switch_state(struct xb_client *c, const char *dir, enum xenbus_state state);
/* Reads "<dir>/state" as a number (-ENOENT, -EINVAL if not one). */
int xb_read_state(struct xb_client *c, const char *dir);
/* Waits up to timeout_ns for "<dir>/state" (the other end's) to reach
 * want, through a watch on it (token "xb-state"; other events seen while
 * waiting are put back in the queue). Returns want, or the last state
 * seen (a non-negative number != want) on time-out, or negative errno. */
int xb_wait_state(struct xb_client *c, const char *dir, enum xenbus_state want, u64 timeout_ns);

/* ---- the ring's byte I/O (xenbus_ring.c, pure; the guest's side) ---- */

/* Copies up to n bytes into r->req (as many as there is room for) and
 * publishes them: the count (0 when full), or -EIO if the indices are
 * further apart than the ring (the server corrupted them). The caller
 * notifies the server when the count is not 0. */
long xb_ring_put(struct xenstore_domain_interface *r, const void *buf, size_t n);
/* Takes up to n bytes from r->rsp and frees their room: the count (0 when
 * none), or -EIO for corrupted indices. The caller notifies the server
 * when the count is not 0. */
long xb_ring_get(struct xenstore_domain_interface *r, void *buf, size_t n);
/* Bytes waiting in r->rsp (0 also for corrupted indices: get says so). */
u32 xb_ring_rsp_avail(const struct xenstore_domain_interface *r);

/* ---- the ring transport (xenbus.c, guests only) ---- */

/* Connects to the store ring (needs evtchn_init): 0, -ENODEV when the
 * domain has no store page or port, or the hypervisor's error. */
int xenbus_init(void);
/* The client on the ring (NULL before xenbus_init succeeded). */
struct xb_client *xenbus(void);
/* The ring and port, for the hostile role's raw access. */
struct xenstore_domain_interface *xenbus_ring(void);
u32 xenbus_port(void);

#endif
