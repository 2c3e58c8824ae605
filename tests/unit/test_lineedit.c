/*
 * The shell's line editor (guest/dom0/shell/lineedit.c): keys as a
 * serial terminal sends them, the line that results, and what the
 * terminal is told to show.
 *
 * unit-sources: guest/dom0/shell/lineedit.c lib/format.c lib/string.c
 */
#include <lib/string.h>

#include "../../guest/dom0/shell/lineedit.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct lineedit ed;
static char screen[4096];
static size_t screen_len;
static unsigned lines_done;
static char last_line[LE_MAX];

static void emit(const char *s, size_t n, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(screen_len + n, sizeof(screen));
	memcpy(screen + screen_len, s, n);
	screen_len += n;
	screen[screen_len] = 0;
}

static void type(const char *keys)
{
	for (; *keys; keys++)
		if (le_feed(&ed, *keys)) {
			lines_done++;
			strlcpy(last_line, ed.line, sizeof(last_line));
		}
}

static void reset(void)
{
	le_init(&ed, "dom0> ", emit, NULL);
	screen_len = 0;
	screen[0] = 0;
	lines_done = 0;
	last_line[0] = 0;
}

#define LEFT "\x1b[D"
#define RIGHT "\x1b[C"
#define UP "\x1b[A"
#define DOWN "\x1b[B"
#define HOME "\x1b[H"
#define END "\x1b[F"
#define DEL "\x1b[3~"

START_TEST(lineedit_typing_and_cursor_editing)
{
	reset();
	type("lsit");
	ck_assert_str_eq(screen, "lsit"); /* plain typing echoes only the keys */
	type(LEFT LEFT "\x7f" RIGHT "s\r");
	ck_assert_uint_eq(lines_done, 1);
	ck_assert_str_eq(last_line, "list");
	reset();
	type("world" HOME "hello " END "!" "\x1b[1~" DEL "H\r");
	ck_assert_str_eq(last_line, "Hello world!");
	reset();
	type("abc\x01X\x05Y\x02\x02Z\r"); /* Ctrl-A, Ctrl-E, Ctrl-B */
	ck_assert_str_eq(last_line, "XabZcY");
	reset();
	type("junk\x15ok\r"); /* Ctrl-U */
	ck_assert_str_eq(last_line, "ok");
	reset();
	type("x\x03y\r"); /* Ctrl-C abandons */
	ck_assert_str_eq(last_line, "y");
	ck_assert_uint_eq(lines_done, 1);
	/* a middle insertion redraws the tail and puts the cursor back */
	reset();
	type("ac" LEFT);
	screen_len = 0;
	type("b");
	ck_assert_str_eq(screen, "bc\x1b[K\x1b[1D");
}
END_TEST

START_TEST(lineedit_history_up_down_keeps_the_draft)
{
	reset();
	type("one\rtwo\rtwo\r\rthree\r");
	ck_assert_uint_eq(ed.nhist, 3); /* repeats and empty lines are not kept */
	type("dr" UP);
	ck_assert_str_eq(ed.line, "three");
	type(UP UP UP UP); /* stops at the oldest */
	ck_assert_uint_eq(ed.len, 3);
	ck_assert(!memcmp(ed.line, "one", 3));
	type(DOWN DOWN DOWN); /* back to the draft */
	ck_assert(!memcmp(ed.line, "dr", 2));
	ck_assert_uint_eq(ed.len, 2);
	type(UP "\r");
	ck_assert_str_eq(last_line, "three");
	/* the history holds LE_HISTORY lines, the oldest go */
	reset();
	for (unsigned i = 0; i < LE_HISTORY + 5; i++) {
		char l[8];
		snprintf(l, sizeof(l), "c%u\r", i);
		type(l);
	}
	ck_assert_uint_eq(ed.nhist, LE_HISTORY);
	for (unsigned i = 0; i < LE_HISTORY + 3; i++)
		type(UP);
	ck_assert_uint_eq(ed.len, 2);
	ck_assert(!memcmp(ed.line, "c5", 2));
}
END_TEST

START_TEST(lineedit_limits_and_odd_input)
{
	reset();
	for (unsigned i = 0; i < 300; i++)
		type("x");
	ck_assert_uint_eq(ed.len, LE_MAX - 1);
	type("\r\n"); /* CR LF is one Enter */
	ck_assert_uint_eq(lines_done, 1);
	ck_assert_uint_eq(strlen(last_line), LE_MAX - 1);
	reset();
	type("a\x1b[9~\x1bZ\x1b[Z\x07\x80\xff" "b\r"); /* unknown sequences and bytes ignored */
	ck_assert_str_eq(last_line, "ab");
	reset();
	type("\x7f" LEFT DEL "\r"); /* edits on an empty line do nothing */
	ck_assert_str_eq(last_line, "");
	ck_assert_uint_eq(lines_done, 1);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "cli-lineedit-typing-and-cursor-editing", &lineedit_typing_and_cursor_editing_ttest },
	{ "cli-lineedit-history-up-down-keeps-the-draft",
	  &lineedit_history_up_down_keeps_the_draft_ttest },
	{ "cli-lineedit-limits-and-odd-input", &lineedit_limits_and_odd_input_ttest },
	{ 0 },
};
