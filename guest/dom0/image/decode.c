/*
 * The decoders' shared error helper (contract in decode.h).
 */
#include <stdarg.h>
#include "decode.h"

int dec_fail(struct dec_buf *b, int rc, const char *fmt, ...)
{
	va_list ap;

	if (b->err && b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
