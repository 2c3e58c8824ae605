/*
 * Domain output on the hypervisor console: each line prefixed "(dN) " so
 * the operator (and the tests) can tell who said what. Output is buffered
 * per domain until a newline, except that an interactive domain (one that
 * is reading the console) gets its partial line shown at once, so prompts
 * and echoed keys appear; the rest of that line then follows unprefixed.
 *
 * One partial line at a time can be on the serial line. When someone
 * else (another domain, or the hypervisor's printk) writes while it is
 * open, the open line is ended first, so every line on the console starts
 * with its owner's prefix; the owner's next bytes start a new "(dN) "
 * line. (No redraw of the part shown: a prompt printed twice would look
 * like a finished command to scripts that wait for one.)
 *
 * Throttling (docs/design.md, "The console"). The serial line is shared
 * and slow (about 11.5 KB/s at 115200 baud), so a domain other than dom0
 * gets a token bucket: GUEST_CONSOLE_BURST bytes at once, refilled at
 * GUEST_CONSOLE_RATE bytes a second, paid per line shown. Lines beyond it
 * are dropped whole and counted, and the count is reported in a
 * hypervisor line when the domain is next shown (at most one such line
 * every GUEST_CONSOLE_REPORT_NS) and when it stops: "keel: domain N
 * (name): console: M bytes dropped (rate limit ...)". Its lines are also
 * dropped (and counted) when the console's transmit queue is full: a
 * domain never waits for the UART. dom0 is the operator's console and is trusted: not
 * throttled, never dropped. Xen rate-limits guest console output too
 * (guest_console_write under XENLOG_GUEST, printk_ratelimit).
 */
#include <keel/console_tx.h>
#include <keel/domain.h>
#include <keel/guest_console.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/vtimer.h>

#define LINE_MAX 160
#define NS_PER_SEC 1000000000ULL

struct line_buf {
	char buf[LINE_MAX];
	unsigned len;
	bool open;      /* the prefix and part of this line are already printed */
	u64 tokens;     /* bytes the domain may still write now */
	u64 refill_ns;  /* system time the bucket was last topped up; 0: full */
	u64 dropped;    /* bytes dropped since the last report */
	u64 reported_ns; /* system time of the last report; 0: none yet */
};

static struct line_buf lines[DOMID_MAX];

/* The domain whose partial line is on the serial console; NOBODY: the
 * console is at the start of a line. */
#define NOBODY 0xffffffffu
static unsigned open_owner = NOBODY;

void guest_console_break_line(const struct domain *writer)
{
	if (open_owner == NOBODY || (writer && writer->id == open_owner))
		return;
	console_tx_queue("\n", 1, false);
	lines[open_owner].open = false;
	open_owner = NOBODY;
}

/* Tops up l's bucket for the time since the last refill. */
static void bucket_refill(struct line_buf *l, u64 now)
{
	if (!l->refill_ns || now - l->refill_ns >= 10ULL * NS_PER_SEC) {
		l->tokens = GUEST_CONSOLE_BURST; /* new, or quiet for long */
		l->refill_ns = now;
	} else if (now > l->refill_ns) {
		/* Whole tokens only; the refill time moves on by what they
		 * took, so the fractions add up over many calls. */
		u64 add = (now - l->refill_ns) * GUEST_CONSOLE_RATE / NS_PER_SEC;
		l->refill_ns += add * NS_PER_SEC / GUEST_CONSOLE_RATE;
		l->tokens = MIN((u64)GUEST_CONSOLE_BURST, l->tokens + add);
		if (l->tokens == GUEST_CONSOLE_BURST)
			l->refill_ns = now; /* a full bucket earns nothing */
	}
}

/* One line at most every GUEST_CONSOLE_REPORT_NS per domain (and one when
 * it stops): the report must not become a flood of its own. */
static void report_dropped(struct domain *d, struct line_buf *l, u64 now, bool force)
{
	if (!l->dropped || (!force && l->reported_ns && now - l->reported_ns < GUEST_CONSOLE_REPORT_NS))
		return;
	pr_warn("domain %u (%s): console: %lu bytes dropped (rate limit %u B/s, burst %u B)\n",
		d->id, d->name, l->dropped, GUEST_CONSOLE_RATE, GUEST_CONSOLE_BURST);
	l->dropped = 0;
	l->reported_ns = now;
}

/*
 * Prints l's text, prefixed unless the line is already open. A domain
 * other than dom0 pays for it from its bucket, whole lines only (a line
 * is shown complete or not at all, never cut to what the bucket held),
 * and loses it, counted, when the bucket or the console's transmit queue
 * is short.
 */
static void emit(struct domain *d, struct line_buf *l, bool newline)
{
	char out[LINE_MAX + 16];
	int n;

	guest_console_break_line(d);
	if (l->open)
		n = snprintf(out, sizeof(out), "%.*s%s", (int)l->len, l->buf, newline ? "\n" : "");
	else
		n = snprintf(out, sizeof(out), "(d%u) %.*s%s", d->id, (int)l->len, l->buf,
			     newline ? "\n" : "");
	if (n >= (int)sizeof(out))
		n = sizeof(out) - 1;
	if (is_control_domain(d)) {
		console_guest_write(out, (size_t)n, false);
	} else {
		u64 now = time_now_ns();
		bucket_refill(l, now);
		if (l->tokens >= (u64)n) {
			report_dropped(d, l, now, false);
			if (console_guest_write(out, (size_t)n, true))
				l->tokens -= (u64)n;
			else
				l->dropped += l->len + newline;
		} else {
			l->dropped += l->len + newline;
		}
	}
	l->open = !newline;
	l->len = 0;
	if (l->open)
		open_owner = d->id;
	else if (open_owner == d->id)
		open_owner = NOBODY;
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
			else if (l->open && is_control_domain(d))
				console_guest_write("\b", 1, false);
			continue;
		}
		/* Control characters become '?', so that no domain can move
		 * the cursor over the hypervisor's lines and pose as them;
		 * except ESC from the control domain, whose shell draws with
		 * ANSI sequences (the line editor's cursor moves, `xl top`
		 * redrawing the screen) and which is trusted with the
		 * console anyway. */
		if ((c < 0x20 && c != '\t' && !(c == 0x1b && is_control_domain(d))) || c == 0x7f)
			c = '?';
		l->buf[l->len++] = c;
		if (l->len == LINE_MAX)
			emit(d, l, true); /* overlong lines wrap */
	}
}

/* The domain stops: its last line, what it lost, and a fresh bucket for
 * the next domain with this id. */
void guest_console_flush(struct domain *d)
{
	struct line_buf *l = &lines[d->id];
	if (l->len || l->open)
		emit(d, l, true);
	report_dropped(d, l, time_now_ns(), true);
	l->refill_ns = 0;
	l->reported_ns = 0;
}

void guest_console_show_partial(struct domain *d)
{
	struct line_buf *l = &lines[d->id];
	if (l->len)
		emit(d, l, false);
}
