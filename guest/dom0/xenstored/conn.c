/*
 * The store object and its connections: memory, the output queue and
 * the input path. Output is a queue of whole messages that the transport
 * drains as a byte stream at its own pace (a 1 KiB ring, a socket); the
 * store never waits for it. Replies are bounded by pausing input when
 * `outstanding` are queued; watch events, which a client does not ask
 * for one by one, are bounded by dropping the newest beyond `events`:
 * a slow or hostile reader must not grow dom0's memory (Xen's fix for
 * XSA-326 likewise discards watch events of a domain with too much
 * pending output).
 */
#include "xs_internal.h"

void *xs_alloc(struct xs_store *s, size_t size)
{
	return s->a.alloc(s->a.ctx, size);
}

void xs_free(struct xs_store *s, void *p, size_t size)
{
	s->a.free(s->a.ctx, p, size);
}

char *xs_strdup(struct xs_store *s, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p = xs_alloc(s, n);

	if (p)
		memcpy(p, str, n);
	return p;
}

struct xs_store *xs_store_new(const struct xs_alloc *a, const struct xs_quota *quota,
			      const struct xs_hooks *hooks)
{
	static const struct xs_quota defaults = XS_QUOTA_DEFAULT;
	struct xs_store *s = a->alloc(a->ctx, sizeof(*s));

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->a = *a;
	s->quota = quota ? *quota : defaults;
	if (s->quota.perms > XS_PERMS_MAX)
		s->quota.perms = XS_PERMS_MAX;
	if (hooks)
		s->hooks = *hooks;
	s->root = xs_node_new(s, "", 0);
	if (!s->root) {
		a->free(a->ctx, s, sizeof(*s));
		return NULL;
	}
	/* "/" belongs to dom0 and nobody else may read or write it */
	s->root->perms.n = 1;
	s->root->perms.p[0].domid = XS_PRIV_DOMID;
	s->root->perms.p[0].mode = XS_PERM_NONE;
	xs_domain_own(s, XS_PRIV_DOMID, 1);
	return s;
}

void xs_store_free(struct xs_store *s)
{
	while (s->conns)
		xs_conn_free(s->conns);
	while (s->domains) {
		struct xs_domain *d = s->domains;

		s->domains = d->next;
		xs_free(s, d, sizeof(*d));
	}
	xs_node_free_tree(s, s->root);
	xs_free(s, s, sizeof(*s));
}

struct xs_conn *xs_conn_new(struct xs_store *s, u16 domid, bool privileged,
			    void (*notify)(struct xs_conn *c, void *ctx), void *ctx)
{
	struct xs_conn *c = xs_alloc(s, sizeof(*c));

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->store = s;
	c->domid = domid;
	c->privileged = privileged;
	c->notify = notify;
	c->ctx = ctx;
	c->next_txid = 1;
	c->next = s->conns;
	s->conns = c;
	return c;
}

void xs_conn_free(struct xs_conn *c)
{
	struct xs_store *s = c->store;
	struct xs_conn **pp = &s->conns;

	xs_tx_end_all(c);
	xs_watch_remove_all(c);
	while (c->out_head) {
		struct xs_msg *m = c->out_head;

		c->out_head = m->next;
		xs_free(s, m, sizeof(*m) + m->size);
	}
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	xs_free(s, c, sizeof(*c));
}

u16 xs_conn_domid(const struct xs_conn *c)
{
	return c->domid;
}

u32 xs_conn_events_dropped(const struct xs_conn *c)
{
	return c->events_dropped;
}

static int queue(struct xs_conn *c, bool event, const struct xsd_sockmsg *hdr,
		 const void *p1, u32 l1, const void *p2, u32 l2)
{
	u32 size = (u32)sizeof(*hdr) + l1 + l2;
	struct xs_msg *m = xs_alloc(c->store, sizeof(*m) + size);
	struct xsd_sockmsg h = *hdr;

	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->event = event;
	m->size = size;
	h.len = l1 + l2;
	memcpy(m->data, &h, sizeof(h));
	if (l1)
		memcpy(m->data + sizeof(h), p1, l1);
	if (l2)
		memcpy(m->data + sizeof(h) + l1, p2, l2);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	if (event)
		c->out_events++;
	else
		c->out_replies++;
	if (c->notify)
		c->notify(c, c->ctx);
	return 0;
}

int xs_reply(struct xs_conn *c, const struct xsd_sockmsg *hdr, u32 type,
	     const void *p1, u32 l1, const void *p2, u32 l2)
{
	struct xsd_sockmsg h = { .type = type, .req_id = hdr->req_id, .tx_id = hdr->tx_id };

	/* Replies never exceed the payload limit clients trust (DIRECTORY
	 * checks before it gets here; values are bounded by value_size). */
	if (l1 + l2 > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	return queue(c, false, &h, p1, l1, p2, l2);
}

const char *xs_error_name(int err)
{
	static const struct xsd_errors table[] = XSD_ERROR_TABLE;

	for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].errnum == -err)
			return table[i].errstring;
	return "EINVAL";
}

void xs_reply_error(struct xs_conn *c, const struct xsd_sockmsg *hdr, int err)
{
	const char *name = xs_error_name(err);

	/* If even the error cannot be queued the client waits; the transport
	 * sees no output and the next request retries the allocation. */
	xs_reply(c, hdr, XS_ERROR, name, (u32)strlen(name) + 1, NULL, 0);
}

void xs_queue_event(struct xs_conn *c, const char *path, const char *token)
{
	struct xsd_sockmsg h = { .type = XS_WATCH_EVENT };
	u32 lp = (u32)strlen(path) + 1, lt = (u32)strlen(token) + 1;

	if (c->out_events >= c->store->quota.events || lp + lt > XENSTORE_PAYLOAD_MAX ||
	    queue(c, true, &h, path, lp, token, lt)) {
		c->events_dropped++;
	}
}

bool xs_conn_output_pending(const struct xs_conn *c)
{
	return c->out_head != NULL;
}

size_t xs_conn_output(struct xs_conn *c, void *buf, size_t len)
{
	size_t done = 0;

	while (c->out_head && done < len) {
		struct xs_msg *m = c->out_head;
		size_t n = MIN(len - done, (size_t)(m->size - c->out_off));

		memcpy((u8 *)buf + done, m->data + c->out_off, n);
		done += n;
		c->out_off += (u32)n;
		if (c->out_off == m->size) {
			c->out_head = m->next;
			if (!c->out_head)
				c->out_tail = NULL;
			c->out_off = 0;
			if (m->event)
				c->out_events--;
			else
				c->out_replies--;
			xs_free(c->store, m, sizeof(*m) + m->size);
		}
	}
	return done;
}

int xs_conn_request(struct xs_conn *c, const struct xsd_sockmsg *hdr, const void *payload)
{
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return -EIO;
	if (c->out_replies >= c->store->quota.outstanding)
		return -EBUSY;
	xs_dispatch(c, hdr, payload);
	return 0;
}

int xs_call(struct xs_conn *c, u32 type, u32 tx, const void *payload, u32 len, void *reply,
	    u32 *reply_len)
{
	static u32 next_id = 0x80000000u; /* apart from ids a client might pick */
	struct xsd_sockmsg h = { .type = type, .req_id = next_id++, .tx_id = tx, .len = len };
	struct xs_msg **pp, *m = NULL;
	struct xsd_sockmsg r;
	int err = xs_conn_request(c, &h, payload);

	if (err)
		return err;
	/* The reply is queued by now (dispatch is synchronous), possibly
	 * after events and followed by some (a watch's first firing). */
	for (pp = &c->out_head; *pp; pp = &(*pp)->next) {
		memcpy(&r, (*pp)->data, sizeof(r));
		if (!(*pp)->event && r.req_id == h.req_id && !(pp == &c->out_head && c->out_off)) {
			m = *pp;
			break;
		}
	}
	if (!m)
		return -ENOMEM; /* not even an error reply could be queued */
	*pp = m->next;
	if (c->out_tail == m) {
		c->out_tail = NULL;
		for (struct xs_msg *k = c->out_head; k; k = k->next)
			c->out_tail = k;
	}
	c->out_replies--;
	if (r.type == XS_ERROR) {
		static const struct xsd_errors table[] = XSD_ERROR_TABLE;

		err = -EINVAL;
		for (unsigned i = 0; i < ARRAY_SIZE(table); i++)
			if (r.len == strlen(table[i].errstring) + 1 &&
			    memcmp(m->data + sizeof(r), table[i].errstring, r.len) == 0)
				err = -table[i].errnum;
	} else {
		if (reply && *reply_len)
			memcpy(reply, m->data + sizeof(r), MIN(*reply_len, r.len));
		*reply_len = r.len;
	}
	xs_free(c->store, m, sizeof(*m) + m->size);
	return err;
}

long xs_conn_input(struct xs_conn *c, const void *buf, size_t len)
{
	const u8 *p = buf;
	size_t used = 0;

	while (used < len) {
		bool done;
		long n;

		/* a new message waits until the client takes its replies */
		if (c->in.have == 0 && c->out_replies >= c->store->quota.outstanding)
			break;
		n = xs_wire_take(&c->in, p + used, len - used, &done);
		if (n < 0)
			return n;
		used += (size_t)n;
		if (done) {
			struct xsd_sockmsg hdr;

			memcpy(&hdr, c->in.buf, sizeof(hdr));
			c->in.have = 0;
			xs_dispatch(c, &hdr, c->in.buf + sizeof(hdr));
		}
	}
	return (long)used;
}
