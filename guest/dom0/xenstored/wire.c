/*
 * Message framing (docs/misc/xenstore.txt): a struct xsd_sockmsg header,
 * then `len` payload bytes, most of it NUL-terminated strings. The
 * header is believed only after its len is checked: a client announcing
 * more than XENSTORE_PAYLOAD_MAX is broken or hostile, and Xen drops its
 * connection rather than trying to resynchronise the stream.
 */
#include "xs_internal.h"

/* The first NUL in p[0..n), or NULL (Keel's libc has no memchr). */
static const u8 *memchr_u8(const u8 *p, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (!p[i])
			return p + i;
	return NULL;
}

long xs_wire_take(struct xs_wire_in *w, const u8 *buf, size_t len, bool *done)
{
	const size_t hsize = sizeof(struct xsd_sockmsg);
	size_t taken = 0;

	*done = false;
	if (w->have < hsize) {
		size_t n = MIN(len, hsize - w->have);

		memcpy(w->buf + w->have, buf, n);
		w->have += (u32)n;
		taken = n;
		if (w->have < hsize)
			return (long)taken;
	}
	struct xsd_sockmsg hdr;

	memcpy(&hdr, w->buf, hsize);
	if (hdr.len > XENSTORE_PAYLOAD_MAX)
		return -EIO;
	size_t want = hsize + hdr.len - w->have;
	size_t n = MIN(len - taken, want);

	memcpy(w->buf + w->have, buf + taken, n);
	w->have += (u32)n;
	taken += n;
	*done = w->have == hsize + hdr.len;
	return (long)taken;
}

unsigned xs_wire_args(const u8 *payload, u32 len, const char **argv, unsigned want,
		      const u8 **rest, u32 *restlen)
{
	unsigned found = 0;
	u32 pos = 0;

	while (found < want && pos < len) {
		const u8 *nul = memchr_u8(payload + pos, len - pos);

		if (!nul)
			break; /* an unterminated string is not an argument */
		argv[found++] = (const char *)payload + pos;
		pos = (u32)(nul - payload) + 1;
	}
	if (rest)
		*rest = payload + pos;
	if (restlen)
		*restlen = len - pos;
	return found;
}

int xs_parse_uint(const char *s, u64 max, u64 *out)
{
	u64 v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		u64 digit = (u64)(*s - '0');

		/* v * 10 + digit > max, asked without overflowing */
		if (v > (max - digit) / 10)
			return -EINVAL;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}
