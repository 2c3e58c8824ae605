/*
 * The line editor (contract in lineedit.h). Screen updates are the
 * common VT100 subset every serial terminal has: CR, backspace, ESC [ K
 * (erase to the end of the line) and ESC [ n D / C (cursor moves).
 */
#include <lib/string.h>
#include "lineedit.h"

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

static void out(struct lineedit *e, const char *s, size_t n)
{
	if (n)
		e->emit(s, n, e->arg);
}

static void outs(struct lineedit *e, const char *s)
{
	out(e, s, strlen(s));
}

static void move_left(struct lineedit *e, unsigned n)
{
	char b[16];

	if (n) {
		snprintf(b, sizeof(b), "\x1b[%uD", n);
		outs(e, b);
	}
}

static void move_right(struct lineedit *e, unsigned n)
{
	char b[16];

	if (n) {
		snprintf(b, sizeof(b), "\x1b[%uC", n);
		outs(e, b);
	}
}

/* Redraws from the cursor to the end, then puts the cursor back. */
static void redraw_tail(struct lineedit *e)
{
	out(e, e->line + e->pos, e->len - e->pos);
	outs(e, "\x1b[K");
	move_left(e, e->len - e->pos);
}

/* The whole line anew (after a history move). */
static void redraw_all(struct lineedit *e)
{
	outs(e, "\r");
	outs(e, e->prompt);
	out(e, e->line, e->len);
	outs(e, "\x1b[K");
	move_left(e, e->len - e->pos);
}

void le_init(struct lineedit *e, const char *prompt,
	     void (*emit)(const char *s, size_t n, void *arg), void *arg)
{
	memset(e, 0, sizeof(*e));
	e->prompt = prompt;
	e->emit = emit;
	e->arg = arg;
}

static const char *hist_get(const struct lineedit *e, unsigned k) /* k-th newest, 1-based */
{
	return e->hist[(e->hfirst + e->nhist - k) % LE_HISTORY];
}

static void set_line(struct lineedit *e, const char *s)
{
	strlcpy(e->line, s, sizeof(e->line));
	e->len = e->pos = (unsigned)strlen(e->line);
	redraw_all(e);
}

static void history(struct lineedit *e, bool older)
{
	if (older && e->browse < e->nhist) {
		if (!e->browse) {
			e->line[e->len] = 0;
			strlcpy(e->draft, e->line, sizeof(e->draft));
		}
		e->browse++;
		set_line(e, hist_get(e, e->browse));
	} else if (!older && e->browse) {
		e->browse--;
		set_line(e, e->browse ? hist_get(e, e->browse) : e->draft);
	}
}

static void remember(struct lineedit *e)
{
	if (!e->len || (e->nhist && !strcmp(hist_get(e, 1), e->line)))
		return;
	if (e->nhist == LE_HISTORY) {
		e->hfirst = (e->hfirst + 1) % LE_HISTORY;
		e->nhist--;
	}
	strlcpy(e->hist[(e->hfirst + e->nhist) % LE_HISTORY], e->line, LE_MAX);
	e->nhist++;
}

static void insert(struct lineedit *e, char c)
{
	if (e->len + 1 >= LE_MAX)
		return;
	memmove(e->line + e->pos + 1, e->line + e->pos, e->len - e->pos);
	e->line[e->pos] = c;
	e->len++;
	out(e, &c, 1);
	e->pos++;
	if (e->pos < e->len)
		redraw_tail(e);
}

static void delete_at(struct lineedit *e)
{
	if (e->pos == e->len)
		return;
	memmove(e->line + e->pos, e->line + e->pos + 1, e->len - e->pos - 1);
	e->len--;
	redraw_tail(e);
}

static void key(struct lineedit *e, char k)
{
	switch (k) {
	case 'A': history(e, true); break;
	case 'B': history(e, false); break;
	case 'C':
		if (e->pos < e->len) {
			move_right(e, 1);
			e->pos++;
		}
		break;
	case 'D':
		if (e->pos) {
			move_left(e, 1);
			e->pos--;
		}
		break;
	case 'H': move_left(e, e->pos); e->pos = 0; break;
	case 'F': move_right(e, e->len - e->pos); e->pos = e->len; break;
	case 'X': delete_at(e); break; /* Delete */
	}
}

bool le_feed(struct lineedit *e, char c)
{
	bool was_cr = e->last_cr;

	e->last_cr = false;
	if (e->esc != ESC_NONE) {
		if (e->esc == ESC_START) {
			e->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
			e->esc_arg = 0;
			return false;
		}
		if (e->esc == ESC_CSI && c >= '0' && c <= '9') {
			e->esc_arg = c;
			return false;
		}
		e->esc = ESC_NONE;
		if (c == '~') { /* ESC [ n ~ */
			key(e, e->esc_arg == '1' || e->esc_arg == '7' ? 'H' :
			       e->esc_arg == '4' || e->esc_arg == '8' ? 'F' :
			       e->esc_arg == '3' ? 'X' : 0);
			return false;
		}
		key(e, c);
		return false;
	}
	switch (c) {
	case 0x1b: e->esc = ESC_START; return false;
	case '\n':
		if (was_cr)
			return false; /* CR LF: one Enter */
		/* fall through */
	case '\r':
		e->last_cr = c == '\r';
		e->line[e->len] = 0;
		outs(e, "\n");
		remember(e);
		e->len = e->pos = 0;
		e->browse = 0;
		return true;
	case 0x7f:
	case '\b':
		if (e->pos) {
			e->pos--;
			outs(e, "\b");
			delete_at(e);
		}
		return false;
	case 0x01: key(e, 'H'); return false; /* Ctrl-A */
	case 0x05: key(e, 'F'); return false; /* Ctrl-E */
	case 0x02: key(e, 'D'); return false; /* Ctrl-B */
	case 0x06: key(e, 'C'); return false; /* Ctrl-F */
	case 0x10: key(e, 'A'); return false; /* Ctrl-P */
	case 0x0e: key(e, 'B'); return false; /* Ctrl-N */
	case 0x15: /* Ctrl-U */
		e->len = e->pos = 0;
		redraw_all(e);
		return false;
	case 0x03: /* Ctrl-C */
		outs(e, "^C\n");
		outs(e, e->prompt);
		e->len = e->pos = 0;
		e->browse = 0;
		return false;
	}
	if ((u8)c >= 0x20 && (u8)c < 0x7f)
		insert(e, c);
	return false;
}
