/*
 * keel.cfg parser (format: docs/design.md; contract: cfg.h).
 *
 * Freestanding on purpose: it runs inside the UEFI loader, where there is
 * no libc, and in host unit tests, so it carries its own tiny string helpers
 * instead of using lib/ or gnu-efi's. The parser never writes past
 * the fixed arrays of struct keel_cfg: every copy is length-checked first
 * and an overlong field is an error, never a silent truncation, because a
 * truncated path or command line would fail much later and far from here.
 */
#include "cfg.h"

#include <lib/errno.h>

/* ---- string helpers --------------------------------------------------- */

static size_t cfg_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static bool cfg_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Whether the n bytes at s spell exactly the NUL-terminated word. */
static bool cfg_token_is(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] != s[i])
			return false;
	return word[n] == '\0';
}

static bool cfg_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy n bytes and a NUL; tabs become spaces so that command-line parsers
 * downstream only ever split on ' '. The caller checked n < size. */
static void cfg_copy(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i] == '\t' ? ' ' : src[i];
	dst[n] = '\0';
}

/* ---- error messages --------------------------------------------------- */

/* A bounded string builder: appends what fits and always NUL-terminates. */
struct cfg_err {
	char *buf;
	size_t size, pos;
};

#define CFG_QUOTE_MAX 40 /* quoted excerpts of the file are cut here */

static void err_mem(struct cfg_err *e, const char *s, size_t n)
{
	size_t i;

	if (!e->size)
		return;
	for (i = 0; i < n && e->pos + 1 < e->size; i++)
		e->buf[e->pos++] = s[i];
	e->buf[e->pos] = '\0';
}

static void err_str(struct cfg_err *e, const char *s)
{
	err_mem(e, s, cfg_strlen(s));
}

static void err_num(struct cfg_err *e, unsigned long v)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	err_mem(e, digits + i, sizeof(digits) - i);
}

static void err_hex_byte(struct cfg_err *e, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char s[4] = { '0', 'x', hex[c >> 4], hex[c & 15] };

	err_mem(e, s, sizeof(s));
}

/* 'text', cut to CFG_QUOTE_MAX characters with "..." so that one error
 * stays one readable line. */
static void err_quote(struct cfg_err *e, const char *s, size_t n)
{
	err_str(e, "'");
	if (n > CFG_QUOTE_MAX) {
		err_mem(e, s, CFG_QUOTE_MAX);
		err_str(e, "...");
	} else {
		err_mem(e, s, n);
	}
	err_str(e, "'");
}

/* Start a message "keel.cfg:LINE: " (LINE 0: "keel.cfg: "). */
static struct cfg_err *err_begin(struct cfg_err *e, u32 line)
{
	e->pos = 0;
	if (e->size)
		e->buf[0] = '\0';
	err_str(e, "keel.cfg:");
	if (line) {
		err_num(e, line);
		err_str(e, ":");
	}
	err_str(e, " ");
	return e;
}

/* ---- lines and tokens ------------------------------------------------- */

/* The unconsumed part of one line: comment, line ending and trailing
 * blanks already removed. */
struct cfg_line {
	const char *p;
	size_t n;
	u32 number;
};

static void line_skip_blanks(struct cfg_line *l)
{
	while (l->n && cfg_is_blank(*l->p)) {
		l->p++;
		l->n--;
	}
}

/* Take the next blank-separated token; false at the end of the line. */
static bool line_token(struct cfg_line *l, const char **tok, size_t *len)
{
	size_t i = 0;

	line_skip_blanks(l);
	if (!l->n)
		return false;
	while (i < l->n && !cfg_is_blank(l->p[i]))
		i++;
	*tok = l->p;
	*len = i;
	l->p += i;
	l->n -= i;
	return true;
}

/* The rest of the line after the blanks that follow the last token. */
static void line_rest(struct cfg_line *l, const char **rest, size_t *len)
{
	line_skip_blanks(l);
	*rest = l->p;
	*len = l->n;
}

/* ---- directives ------------------------------------------------------- */

struct cfg_parser {
	struct keel_cfg *cfg;
	struct cfg_err err;
	u32 cmdline_line; /* line of the cmdline directive, 0 if none yet */
};

static int parse_cmdline(struct cfg_parser *ps, struct cfg_line *l)
{
	const char *rest;
	size_t n;

	if (ps->cmdline_line) {
		err_str(err_begin(&ps->err, l->number),
			"second cmdline line (the first is line ");
		err_num(&ps->err, ps->cmdline_line);
		err_str(&ps->err, ")");
		return -EINVAL;
	}
	line_rest(l, &rest, &n);
	if (n >= sizeof(ps->cfg->cmdline)) {
		err_str(err_begin(&ps->err, l->number), "cmdline too long (max ");
		err_num(&ps->err, sizeof(ps->cfg->cmdline) - 1);
		err_str(&ps->err, " characters)");
		return -ENAMETOOLONG;
	}
	cfg_copy(ps->cfg->cmdline, rest, n);
	ps->cmdline_line = l->number;
	return 0;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static int check_name(struct cfg_parser *ps, u32 line, const char *name, size_t n)
{
	size_t i;

	if (n >= BOOT_NAME_MAX) {
		err_str(err_begin(&ps->err, line), "module name ");
		err_quote(&ps->err, name, n);
		err_str(&ps->err, " too long (max ");
		err_num(&ps->err, BOOT_NAME_MAX - 1);
		err_str(&ps->err, " characters)");
		return -ENAMETOOLONG;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (name_char_ok((char)c))
			continue;
		err_str(err_begin(&ps->err, line), "bad module name ");
		err_quote(&ps->err, name, n);
		if (c >= 0x80) {
			err_str(&ps->err, ": byte ");
			err_hex_byte(&ps->err, c);
		} else {
			err_str(&ps->err, ": character '");
			err_mem(&ps->err, name + i, 1);
			err_str(&ps->err, "'");
		}
		err_str(&ps->err, " not allowed (letters, digits, '-', '_', '.')");
		return -EINVAL;
	}
	return 0;
}

static int parse_module(struct cfg_parser *ps, struct cfg_line *l)
{
	struct keel_cfg *cfg = ps->cfg;
	struct keel_cfg_module *m;
	const char *name, *path, *args;
	size_t name_n, path_n, args_n;
	u32 i;
	int rc;

	if (!line_token(l, &name, &name_n)) {
		err_str(err_begin(&ps->err, l->number),
			"module without a name and path (module NAME PATH [CMDLINE])");
		return -EINVAL;
	}
	rc = check_name(ps, l->number, name, name_n);
	if (rc)
		return rc;
	if (!line_token(l, &path, &path_n)) {
		err_str(err_begin(&ps->err, l->number), "module ");
		err_quote(&ps->err, name, name_n);
		err_str(&ps->err, " without a path (module NAME PATH [CMDLINE])");
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_modules; i++) {
		if (!cfg_token_is(name, name_n, cfg->modules[i].name))
			continue;
		err_str(err_begin(&ps->err, l->number), "duplicate module name ");
		err_quote(&ps->err, name, name_n);
		err_str(&ps->err, " (first on line ");
		err_num(&ps->err, cfg->modules[i].line);
		err_str(&ps->err, ")");
		return -EEXIST;
	}
	if (cfg->nr_modules == BOOT_MODULES_MAX) {
		err_str(err_begin(&ps->err, l->number), "too many modules (max ");
		err_num(&ps->err, BOOT_MODULES_MAX);
		err_str(&ps->err, ")");
		return -E2BIG;
	}
	m = &cfg->modules[cfg->nr_modules];
	if (path_n >= sizeof(m->path)) {
		err_str(err_begin(&ps->err, l->number), "module ");
		err_quote(&ps->err, name, name_n);
		err_str(&ps->err, ": path too long (max ");
		err_num(&ps->err, sizeof(m->path) - 1);
		err_str(&ps->err, " characters)");
		return -ENAMETOOLONG;
	}
	line_rest(l, &args, &args_n);
	if (args_n >= sizeof(m->cmdline)) {
		err_str(err_begin(&ps->err, l->number), "module ");
		err_quote(&ps->err, name, name_n);
		err_str(&ps->err, ": cmdline too long (max ");
		err_num(&ps->err, sizeof(m->cmdline) - 1);
		err_str(&ps->err, " characters)");
		return -ENAMETOOLONG;
	}
	cfg_copy(m->name, name, name_n);
	cfg_copy(m->path, path, path_n);
	cfg_copy(m->cmdline, args, args_n);
	m->line = l->number;
	cfg->nr_modules++;
	return 0;
}

/* ---- the file --------------------------------------------------------- */

/*
 * Reduce one raw line (without its '\n') to its meaningful part: drop a
 * CR of a CRLF ending, reject other control characters (a NUL would
 * silently cut a string short; a lone CR means a file from an old Mac
 * editor), cut the comment and the trailing blanks.
 */
static int line_clean(struct cfg_parser *ps, struct cfg_line *l)
{
	size_t i;

	if (l->n && l->p[l->n - 1] == '\r')
		l->n--;
	if (l->n > CFG_LINE_MAX) {
		err_str(err_begin(&ps->err, l->number), "line too long (max ");
		err_num(&ps->err, CFG_LINE_MAX);
		err_str(&ps->err, " characters)");
		return -ENAMETOOLONG;
	}
	for (i = 0; i < l->n; i++) {
		unsigned char c = (unsigned char)l->p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			err_str(err_begin(&ps->err, l->number), "control character ");
			err_hex_byte(&ps->err, c);
			err_str(&ps->err, " in column ");
			err_num(&ps->err, i + 1);
			return -EINVAL;
		}
	}
	for (i = 0; i < l->n; i++) {
		if (l->p[i] == '#') {
			l->n = i;
			break;
		}
	}
	while (l->n && cfg_is_blank(l->p[l->n - 1]))
		l->n--;
	return 0;
}

static int parse_line(struct cfg_parser *ps, struct cfg_line *l)
{
	const char *dir;
	size_t dir_n;
	int rc = line_clean(ps, l);

	if (rc)
		return rc;
	if (!line_token(l, &dir, &dir_n))
		return 0; /* blank or comment-only */
	if (cfg_token_is(dir, dir_n, "cmdline"))
		return parse_cmdline(ps, l);
	if (cfg_token_is(dir, dir_n, "module"))
		return parse_module(ps, l);
	err_str(err_begin(&ps->err, l->number), "unknown directive ");
	err_quote(&ps->err, dir, dir_n);
	err_str(&ps->err, " (expected 'cmdline' or 'module')");
	return -EINVAL;
}

int cfg_parse(const char *text, size_t len, struct keel_cfg *out, char *err,
	      size_t errlen)
{
	struct cfg_parser ps = {
		.cfg = out,
		.err = { .buf = err, .size = errlen, .pos = 0 },
	};
	size_t pos = 0;
	u32 number = 0;
	int rc;

	if (errlen)
		err[0] = '\0';
	out->cmdline[0] = '\0';
	out->nr_modules = 0;

	while (pos < len) {
		struct cfg_line l = { .p = text + pos, .n = 0, .number = ++number };

		/* A missing final newline just ends the last line early. */
		while (pos + l.n < len && text[pos + l.n] != '\n')
			l.n++;
		pos += l.n + 1;
		rc = parse_line(&ps, &l);
		if (rc)
			return rc;
	}

	if (!cfg_find_module(out, "dom0")) {
		err_str(err_begin(&ps.err, 0),
			"no module named 'dom0' (the control domain's kernel)");
		return -ENOENT;
	}
	return 0;
}

const struct keel_cfg_module *cfg_find_module(const struct keel_cfg *cfg,
					      const char *name)
{
	u32 i;

	for (i = 0; i < cfg->nr_modules; i++)
		if (cfg_streq(cfg->modules[i].name, name))
			return &cfg->modules[i];
	return NULL;
}
