/* Domain output on the hypervisor console, one prefixed line at a time. */
#include <keel/domain.h>
#include <keel/guest_console.h>
#include <keel/printk.h>

#define LINE_MAX 160

struct line_buf {
	char buf[LINE_MAX];
	unsigned len;
};

static struct line_buf lines[DOMID_MAX];

static void emit(struct domain *d, struct line_buf *l)
{
	printk(LOG_INFO, "(d%u) %.*s\n", d->id, (int)l->len, l->buf);
	l->len = 0;
}

void guest_console_write(struct domain *d, const char *buf, size_t len)
{
	struct line_buf *l = &lines[d->id];

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n') {
			emit(d, l);
			continue;
		}
		if (c == '\r')
			continue;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		l->buf[l->len++] = c;
		if (l->len == LINE_MAX)
			emit(d, l); /* overlong lines wrap */
	}
}

void guest_console_flush(struct domain *d)
{
	if (lines[d->id].len)
		emit(d, &lines[d->id]);
}
