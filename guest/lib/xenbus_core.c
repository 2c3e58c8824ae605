/*
 * The xenbus client's core (contract in xenbus.h): framing, reassembly,
 * reply matching and watch-event queueing over any transport. Pure code:
 * tests/unit/test_xenstore_client.c runs it against xenstored's own code.
 * Protocol: Xen docs/misc/xenstore.txt (one reply per request, in order,
 * with watch events interleaved; replies echo req_id).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "xenbus.h"

#define HDR ((u32)sizeof(struct xsd_sockmsg))

long xb_frame(void *buf, size_t size, u32 type, u32 req_id, u32 tx_id,
	      const char *const *args, unsigned n, bool last_raw)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		len += strlen(args[i]) + (last_raw && i + 1 == n ? 0 : 1);
		if (len > XENSTORE_PAYLOAD_MAX)
			return -E2BIG;
	}
	if (size < HDR + len)
		return -ENOSPC;
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = (u32)len };
	char *p = (char *)buf;
	memcpy(p, &h, HDR);
	p += HDR;
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + (last_raw && i + 1 == n ? 0 : 1);
		memcpy(p, args[i], l); /* with its NUL unless raw */
		p += l;
	}
	return (long)(HDR + len);
}

int xb_error_from_string(const char *s, u32 len)
{
	static const struct xsd_errors table[] = XSD_ERROR_TABLE;

	/* The name ends at the first NUL or at len. */
	u32 n = 0;
	while (n < len && s[n])
		n++;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strlen(table[i].errstring) == n && !memcmp(table[i].errstring, s, n))
			return -table[i].errnum;
	return -EINVAL;
}

int xb_count_strings(const char *data, u32 len)
{
	int count = 0;

	if (!len)
		return 0;
	if (data[len - 1])
		return -EINVAL;
	for (u32 i = 0; i < len; i++)
		if (!data[i])
			count++;
	return count;
}

int xb_event_split(const char *data, u32 len, const char **path, const char **token)
{
	u32 i = 0;

	while (i < len && data[i])
		i++;
	if (i >= len)
		return -EINVAL;
	u32 j = i + 1;
	while (j < len && data[j])
		j++;
	if (j >= len)
		return -EINVAL;
	*path = data;
	*token = data + i + 1;
	return 0;
}

void xb_client_init(struct xb_client *c, const struct xb_transport *t)
{
	memset(c, 0, sizeof(*c));
	c->t = *t;
	c->next_req = 1;
}

static int kill(struct xb_client *c, int err)
{
	c->dead = err;
	return err;
}

static void queue_event(struct xb_client *c)
{
	const char *p, *t;

	/* A malformed or oversized event is the server's fault; it costs
	 * the event, not the connection. */
	if (c->ev_count == XB_EVENTS || c->hdr.len > XB_EVENT_BYTES ||
	    xb_event_split(c->payload, c->hdr.len, &p, &t)) {
		c->events_dropped++;
		return;
	}
	struct xb_event *e = &c->ev[(c->ev_head + c->ev_count) % XB_EVENTS];
	memcpy(e->data, c->payload, c->hdr.len);
	e->len = c->hdr.len;
	c->ev_count++;
}

/* Reads bytes until one whole message is in c->hdr / c->payload. 1 when
 * one is complete, 0 when no more bytes are available now, or -EIO. */
static int pump(struct xb_client *c)
{
	for (;;) {
		if (c->got < HDR) {
			long r = c->t.recv(c->t.ctx, (char *)&c->hdr + c->got, HDR - c->got);
			if (r < 0)
				return kill(c, -EIO);
			if (!r)
				return 0;
			c->got += (u32)r;
			if (c->got == HDR && c->hdr.len > XENSTORE_PAYLOAD_MAX)
				return kill(c, -EIO); /* the server broke the limit */
			continue;
		}
		u32 want = HDR + c->hdr.len;
		if (c->got < want) {
			long r = c->t.recv(c->t.ctx, c->payload + (c->got - HDR), want - c->got);
			if (r < 0)
				return kill(c, -EIO);
			if (!r)
				return 0;
			c->got += (u32)r;
			continue;
		}
		c->payload[c->hdr.len] = '\0';
		c->got = 0;
		return 1;
	}
}

/* Takes in what is available; events go to the queue. Returns 1 with a
 * reply in c->hdr/payload, 0 when nothing more is available, or -EIO. */
static int take(struct xb_client *c)
{
	for (;;) {
		int r = pump(c);
		if (r <= 0)
			return r;
		if (c->hdr.type == XS_WATCH_EVENT) {
			queue_event(c);
			continue;
		}
		return 1;
	}
}

int xb_request(struct xb_client *c, u32 type, u32 tx, const char *const *args, unsigned n,
	       bool last_raw, char *reply, size_t size, u32 *reply_len)
{
	static char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];

	if (c->dead)
		return c->dead;
	u32 id = c->next_req++;
	long len = xb_frame(msg, sizeof(msg), type, id, tx, args, n, last_raw);
	if (len < 0)
		return (int)len;
	int rc = c->t.send(c->t.ctx, msg, (size_t)len, XB_REPLY_TIMEOUT_NS);
	if (rc)
		return rc == -ETIMEDOUT ? kill(c, -ETIMEDOUT) : kill(c, -EIO);
	for (;;) {
		int r = take(c);
		if (r < 0)
			return r;
		if (!r) {
			/* A half-sent request or a half-read reply cannot be
			 * resynchronised: a time-out ends the client. */
			if (c->t.wait(c->t.ctx, XB_REPLY_TIMEOUT_NS))
				return kill(c, -ETIMEDOUT);
			continue;
		}
		if (c->hdr.req_id != id) {
			c->stray_replies++; /* not ours: the server is confused */
			continue;
		}
		if (c->hdr.type == XS_ERROR)
			return xb_error_from_string(c->payload, c->hdr.len);
		if (c->hdr.type != type)
			return kill(c, -EIO);
		if (reply_len)
			*reply_len = c->hdr.len;
		if (c->hdr.len > size || (reply && c->hdr.len == size))
			return reply || c->hdr.len ? -ERANGE : 0;
		if (reply) {
			memcpy(reply, c->payload, c->hdr.len);
			reply[c->hdr.len] = '\0';
		}
		return 0;
	}
}

long xb_read(struct xb_client *c, u32 tx, const char *path, char *buf, size_t size)
{
	const char *a[] = { path };
	u32 len = 0;
	int rc = xb_request(c, XS_READ, tx, a, 1, false, buf, size, &len);
	return rc ? rc : (long)len;
}

static int simple(struct xb_client *c, u32 type, u32 tx, const char *const *a, unsigned n,
		  bool raw)
{
	char ok[8];
	return xb_request(c, type, tx, a, n, raw, ok, sizeof(ok), NULL);
}

int xb_write(struct xb_client *c, u32 tx, const char *path, const char *value)
{
	const char *a[] = { path, value };
	return simple(c, XS_WRITE, tx, a, 2, true);
}

int xb_mkdir(struct xb_client *c, u32 tx, const char *path)
{
	const char *a[] = { path };
	return simple(c, XS_MKDIR, tx, a, 1, false);
}

int xb_rm(struct xb_client *c, u32 tx, const char *path)
{
	const char *a[] = { path };
	return simple(c, XS_RM, tx, a, 1, false);
}

static int strings(struct xb_client *c, u32 type, u32 tx, const char *path, char *buf,
		   size_t size)
{
	const char *a[] = { path };
	u32 len = 0;
	int rc = xb_request(c, type, tx, a, 1, false, buf, size, &len);
	if (rc)
		return rc;
	return xb_count_strings(buf, len);
}

int xb_directory(struct xb_client *c, u32 tx, const char *path, char *buf, size_t size)
{
	return strings(c, XS_DIRECTORY, tx, path, buf, size);
}

int xb_get_perms(struct xb_client *c, u32 tx, const char *path, char *buf, size_t size)
{
	return strings(c, XS_GET_PERMS, tx, path, buf, size);
}

int xb_set_perms(struct xb_client *c, u32 tx, const char *path, const char *const *perms,
		 unsigned n)
{
	const char *a[1 + XB_EVENTS];
	if (n + 1 > ARRAY_SIZE(a))
		return -E2BIG;
	a[0] = path;
	for (unsigned i = 0; i < n; i++)
		a[i + 1] = perms[i];
	return simple(c, XS_SET_PERMS, tx, a, n + 1, false);
}

int xb_watch(struct xb_client *c, const char *path, const char *token)
{
	const char *a[] = { path, token };
	return simple(c, XS_WATCH, 0, a, 2, false);
}

int xb_unwatch(struct xb_client *c, const char *path, const char *token)
{
	const char *a[] = { path, token };
	return simple(c, XS_UNWATCH, 0, a, 2, false);
}

static void copy_cut(char *dst, size_t size, const char *src)
{
	if (!size)
		return;
	size_t l = strlen(src);
	if (l >= size)
		l = size - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

int xb_next_event(struct xb_client *c, char *path, size_t psize, char *token, size_t tsize,
		  u64 timeout_ns)
{
	unsigned waits = 0;

	while (!c->ev_count) {
		if (c->dead)
			return c->dead;
		int r = take(c);
		if (r < 0)
			return r;
		if (r) {
			c->stray_replies++; /* a reply nobody asked for */
			continue;
		}
		if (c->ev_count)
			break;
		/* One wait of timeout_ns; more only while a message is half
		 * in (the server writes it in pieces), at most 16. */
		if (!timeout_ns || (waits && !c->got) || waits >= 16)
			return -ETIMEDOUT;
		if (c->t.wait(c->t.ctx, timeout_ns))
			return -ETIMEDOUT;
		waits++;
	}
	struct xb_event *e = &c->ev[c->ev_head];
	const char *p, *t;
	xb_event_split(e->data, e->len, &p, &t); /* checked when queued */
	copy_cut(path, psize, p);
	copy_cut(token, tsize, t);
	c->ev_head = (c->ev_head + 1) % XB_EVENTS;
	c->ev_count--;
	return 0;
}

int xb_tx_start(struct xb_client *c, u32 *tx)
{
	const char *a[] = { "" };
	char id[16];
	u32 len = 0;
	int rc = xb_request(c, XS_TRANSACTION_START, 0, a, 1, false, id, sizeof(id), &len);
	if (rc)
		return rc;
	u64 v = 0;
	u32 i = 0;
	for (; i < len && id[i] >= '0' && id[i] <= '9'; i++) {
		v = v * 10 + (u64)(id[i] - '0');
		if (v > 0xffffffffULL)
			return kill(c, -EIO);
	}
	if (!i || v == 0)
		return kill(c, -EIO); /* not a transaction id */
	*tx = (u32)v;
	return 0;
}

int xb_tx_end(struct xb_client *c, u32 tx, bool commit)
{
	const char *a[] = { commit ? "T" : "F" };
	return simple(c, XS_TRANSACTION_END, tx, a, 1, false);
}

static int state_path(char *buf, size_t size, const char *dir)
{
	int n = snprintf(buf, size, "%s/state", dir);
	return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

int xb_switch_state(struct xb_client *c, const char *dir, enum xenbus_state state)
{
	char path[256], v[12];
	int rc = state_path(path, sizeof(path), dir);
	if (rc)
		return rc;
	snprintf(v, sizeof(v), "%d", (int)state);
	return xb_write(c, 0, path, v);
}

int xb_read_state(struct xb_client *c, const char *dir)
{
	char path[256], v[12];
	int rc = state_path(path, sizeof(path), dir);
	if (rc)
		return rc;
	long n = xb_read(c, 0, path, v, sizeof(v));
	if (n < 0)
		return (int)n;
	if (!n)
		return -EINVAL;
	int s = 0;
	for (long i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		s = s * 10 + (v[i] - '0');
	}
	return s;
}

int xb_wait_state(struct xb_client *c, const char *dir, enum xenbus_state want, u64 timeout_ns)
{
	char path[256], p[256], t[16];
	int rc = state_path(path, sizeof(path), dir);
	if (rc)
		return rc;
	rc = xb_watch(c, path, "xb-state");
	if (rc)
		return rc;
	int s = xb_read_state(c, dir);
	/* Each wait is one event or the whole time-out: bounded overall by
	 * the events the watch can produce within it. */
	for (unsigned rounds = 0; s != (int)want && rounds < 64; rounds++) {
		rc = xb_next_event(c, p, sizeof(p), t, sizeof(t), timeout_ns);
		if (rc == -ETIMEDOUT)
			break;
		if (rc) {
			s = rc;
			break;
		}
		s = xb_read_state(c, dir);
	}
	xb_unwatch(c, path, "xb-state");
	return s;
}
