/*
 * The guest's xenbus client (guest/lib/xenbus_core.c) against a hostile
 * xenstore server: whatever bytes the server sends, in whatever pieces.
 *
 * unit-sources: guest/lib/xenbus_core.c
 *
 * Input: a sequence of operations. The server queues raw bytes, or a
 * message whose header fields are either the ones the client expects
 * (the req_id and type of its last request) or arbitrary, with an
 * arbitrary length field and payload; the client makes a call (read,
 * directory, write, watch event, transaction start) with a caller buffer
 * of arbitrary size. The transport hands the queue out in pieces of
 * arbitrary size and reports -ETIMEDOUT when it is empty.
 *
 * Invariants: no access outside any buffer (ASan); every result is 0, a
 * count or length that fits the caller's buffer, or a negative errno;
 * a returned string is NUL-terminated inside its buffer; once the client
 * is dead (-EIO) every later call returns that error without touching
 * the transport (except that watch events queued intact before the
 * death can still be taken).
 */
#include <lib/errno.h>
#include <public/io/xs_wire.h>
#include "../../guest/lib/xenbus.h"

#include "fuzz.h"

#define QUEUE 16384

struct server {
	u8 q[QUEUE];
	size_t head, tail;   /* bytes q[head..tail) not yet taken */
	u8 piece;            /* largest piece recv hands out (0: all) */
	struct xsd_sockmsg last; /* the client's last request header */
	bool sent_after_death;
	bool dead;
};

static int t_send(void *ctx, const void *buf, size_t n, u64 timeout_ns)
{
	struct server *s = ctx;

	(void)timeout_ns;
	if (s->dead)
		s->sent_after_death = true;
	if (n >= sizeof(s->last))
		memcpy(&s->last, buf, sizeof(s->last));
	return 0;
}

static long t_recv(void *ctx, void *buf, size_t n)
{
	struct server *s = ctx;
	size_t avail = s->tail - s->head;

	if (n > avail)
		n = avail;
	if (s->piece && n > s->piece)
		n = s->piece;
	memcpy(buf, s->q + s->head, n);
	s->head += n;
	return (long)n;
}

static int t_wait(void *ctx, u64 timeout_ns)
{
	struct server *s = ctx;

	(void)timeout_ns;
	return s->tail > s->head ? 0 : -ETIMEDOUT;
}

static void push(struct server *s, const void *p, size_t n)
{
	if (n > QUEUE - s->tail)
		n = QUEUE - s->tail;
	memcpy(s->q + s->tail, p, n);
	s->tail += n;
}

static void check_string(const char *buf, size_t size, const char *what)
{
	fuzz_check(memchr(buf, 0, size) != NULL, "%s not terminated inside its %zu bytes", what,
		   size);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct server s;
	static struct xb_client c;
	static char buf[XENSTORE_PAYLOAD_MAX + 64], tok[64];
	struct xb_transport t = { t_send, t_recv, t_wait, &s };

	memset(&s, 0, sizeof(s));
	xb_client_init(&c, &t);
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in) % 8;
		size_t bsize = (size_t)fuzz_u16(&in) % sizeof(buf) + 1;
		long r = 0;
		u32 queued = c.ev_count; /* events taken intact before a death stay readable */

		memset(buf, 'x', sizeof(buf));
		switch (op) {
		case 0: { /* raw bytes from the server */
			u8 n = fuzz_u8(&in);
			for (unsigned i = 0; i < n; i++) {
				u8 b = fuzz_u8(&in);
				push(&s, &b, 1);
			}
			continue;
		}
		case 1: { /* a message, its header half expected, half arbitrary */
			struct xsd_sockmsg h;
			u8 how = fuzz_u8(&in);
			u16 plen = fuzz_u16(&in) % (XENSTORE_PAYLOAD_MAX + 64);
			h.type = how & 1 ? s.last.type : how & 2 ? XS_WATCH_EVENT : how & 4 ? XS_ERROR : fuzz_u32(&in);
			h.req_id = how & 8 ? s.last.req_id : fuzz_u32(&in);
			h.tx_id = fuzz_u32(&in);
			h.len = how & 16 ? fuzz_u32(&in) : plen;
			push(&s, &h, sizeof(h));
			for (unsigned i = 0; i < plen; i++) {
				u8 b = fuzz_u8(&in);
				push(&s, &b, 1);
			}
			continue;
		}
		case 2:
			s.piece = fuzz_u8(&in);
			continue;
		case 3:
			r = xb_read(&c, 0, "a/b", buf, bsize);
			if (r >= 0) {
				fuzz_check((size_t)r < bsize, "read %ld bytes into %zu", r, bsize);
				fuzz_check(buf[r] == 0, "read value not terminated at its length");
			}
			break;
		case 4:
			r = xb_directory(&c, 0, "a", buf, bsize);
			if (r >= 0)
				fuzz_check((size_t)r <= bsize, "%ld names in %zu bytes", r, bsize);
			break;
		case 5:
			r = xb_write(&c, 0, "a/b", "value");
			fuzz_check(r <= 0, "write returned %ld", r);
			break;
		case 6: {
			size_t tsize = fuzz_u8(&in) % sizeof(tok) + 1;
			r = xb_next_event(&c, buf, bsize, tok, tsize, 1);
			if (r == 0) {
				check_string(buf, bsize, "event path");
				check_string(tok, tsize, "event token");
			}
			fuzz_check(r <= 0, "next_event returned %ld", r);
			break;
		}
		case 7: {
			u32 tx = 0;
			r = xb_tx_start(&c, &tx);
			fuzz_check(r <= 0, "tx_start returned %ld", r);
			break;
		}
		}
		fuzz_check(r >= -4095, "result %ld is not an errno", r);
		if (s.dead && !(op == 6 && queued))
			fuzz_check(r == -EIO || r == c.dead, "dead client answered %ld", r);
		if (c.dead)
			s.dead = true;
		fuzz_check(!s.sent_after_death, "a dead client still sent a request");
	}
	return 0;
}
