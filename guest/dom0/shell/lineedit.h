/*
 * The shell's line editor (guest/dom0/shell/lineedit.c): pure, fed one
 * typed byte at a time, writing what the terminal must show through a
 * callback, so the host unit tests drive it as dom0 does.
 *
 * Keys (VT100/xterm sequences, as a serial terminal sends them):
 *   printable        insert at the cursor
 *   Backspace (7f/08) delete before the cursor; Delete (ESC [ 3 ~) at it
 *   Left/Right (ESC [ D / C), Ctrl-B/Ctrl-F   move
 *   Home/End (ESC [ H / F, ESC [ 1 ~ / 4 ~, ESC O H / F), Ctrl-A/Ctrl-E
 *   Up/Down (ESC [ A / B), Ctrl-P/Ctrl-N      history (LE_HISTORY lines)
 *   Ctrl-U           clear the line;  Ctrl-C  abandon it
 *   Enter (CR or LF; CR LF counts once)       the line is done
 * Other control bytes and unknown sequences are ignored; a line never
 * grows past LE_MAX - 1 bytes.
 */
#ifndef GUEST_DOM0_SHELL_LINEEDIT_H
#define GUEST_DOM0_SHELL_LINEEDIT_H

#include <lib/types.h>

#define LE_MAX     128
#define LE_HISTORY 16

struct lineedit {
	char line[LE_MAX];
	unsigned len, pos;
	char hist[LE_HISTORY][LE_MAX];
	unsigned nhist;    /* lines kept (at most LE_HISTORY) */
	unsigned hfirst;   /* oldest, as a ring index */
	unsigned browse;   /* 0: editing a new line; k: the k-th newest */
	char draft[LE_MAX]; /* the new line while browsing */
	u8 esc;            /* escape-sequence state */
	char esc_arg;
	bool last_cr;
	const char *prompt;
	void (*emit)(const char *s, size_t n, void *arg);
	void *arg;
};

/* Sets e up; prompt is redrawn with the line on history moves. */
void le_init(struct lineedit *e, const char *prompt,
	     void (*emit)(const char *s, size_t n, void *arg), void *arg);

/* One typed byte: true when a line is complete (then in e->line, also
 * added to the history if not empty and not a repeat; the editor is
 * ready for the next line). */
bool le_feed(struct lineedit *e, char c);

#endif
