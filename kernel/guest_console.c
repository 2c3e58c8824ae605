/*
 * Domain output on the hypervisor console: each line prefixed "(dN) " so
 * the operator (and the tests) can tell who said what. Output is buffered
 * per domain until a newline, except that an interactive domain (one that
 * is reading the console) gets its partial line shown at once, so prompts
 * and echoed keys appear; the rest of that line then follows unprefixed.
 */
#include <keel/domain.h>
#include <keel/guest_console.h>
#include <keel/printk.h>

#define LINE_MAX 160

struct line_buf {
	char buf[LINE_MAX];
	unsigned len;
	bool open; /* the prefix and part of this line are already printed */
};

static struct line_buf lines[DOMID_MAX];

static void emit(struct domain *d, struct line_buf *l, bool newline)
{
	if (l->open)
		printk(LOG_INFO, "%.*s%s", (int)l->len, l->buf, newline ? "\n" : "");
	else
		printk(LOG_INFO, "(d%u) %.*s%s", d->id, (int)l->len, l->buf, newline ? "\n" : "");
	l->open = !newline;
	l->len = 0;
}

void guest_console_write(struct domain *d, const char *buf, size_t len)
{
	struct line_buf *l = &lines[d->id];

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n') {
			emit(d, l, true);
			continue;
		}
		if (c == '\r')
			continue;
		if (c == '\b') {
			/* Erase within the line, never past its start: a
			 * guest must not be able to rub out its "(dN) "
			 * prefix and pose as the hypervisor. Only dom0's
			 * interactive echo may erase what is already shown
			 * (its own keys, after the prompt). */
			if (l->len)
				l->len--;
			else if (l->open && d->privileged)
				printk(LOG_INFO, "\b");
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		l->buf[l->len++] = c;
		if (l->len == LINE_MAX)
			emit(d, l, true); /* overlong lines wrap */
	}
}

void guest_console_flush(struct domain *d)
{
	struct line_buf *l = &lines[d->id];
	if (l->len || l->open)
		emit(d, l, true);
}

void guest_console_show_partial(struct domain *d)
{
	struct line_buf *l = &lines[d->id];
	if (l->len)
		emit(d, l, false);
}
