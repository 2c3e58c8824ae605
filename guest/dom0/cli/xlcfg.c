/*
 * xl.cfg syntax: a lexer and a recursive-descent parser (contract in
 * xlcfg.h; the grammar is libxlu's as xl.cfg(5) describes it).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <stdarg.h>
#include "xlcfg.h"

enum tok { T_EOF, T_NL, T_IDENT, T_STRING, T_NUMBER, T_EQ, T_LBR, T_RBR, T_COMMA, T_SEMI };

struct lex {
	struct xlcfg *c;
	const char *file;  /* for messages */
	bool override;     /* settings replace the file's */
	const char *p, *end;
	unsigned line;
	char *err;
	size_t errlen;
	/* The current token. */
	enum tok t;
	unsigned tline;
	const char *text; /* IDENT / STRING / NUMBER: in the pool */
	u64 num;
};

static int fail(struct lex *l, int rc, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(l->err, l->errlen, "%s:%u: ", l->file, l->tline ? l->tline : l->line);

	if (n < 0 || (size_t)n >= l->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

static const char *tok_name(enum tok t)
{
	static const char *const names[] = { "the end of the file", "the end of the line",
					     "a name", "a string", "a number", "'='", "'['",
					     "']'", "','", "';'" };
	return names[t];
}

/* Room in the pool for n bytes; NULL when it is full. */
static char *pool_take(struct xlcfg *c, size_t n)
{
	if (n > XLCFG_POOL - c->pool_used)
		return NULL;
	char *p = c->pool + c->pool_used;
	c->pool_used += n;
	return p;
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int hexval(char ch)
{
	if (is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int pool_full(struct lex *l)
{
	return fail(l, -E2BIG, "file too large: more than %u bytes of names and strings",
		    XLCFG_POOL);
}

/* The token's text (n bytes at s) copied into the pool as l->text. */
static int token_text(struct lex *l, const char *s, size_t n, enum tok t)
{
	char *out = pool_take(l->c, n + 1);

	if (!out)
		return pool_full(l);
	memcpy(out, s, n);
	out[n] = 0;
	l->text = out;
	l->t = t;
	return 0;
}

/* A quoted string at l->p (the quote): dequoted into the pool. */
static int lex_string(struct lex *l)
{
	char q = *l->p++;
	const char *start = l->p;
	/* The dequoted string is never longer than the quoted one. */
	size_t max = 0;

	while (start + max < l->end && start[max] != q && start[max] != '\n') {
		if (start[max] == '\\' && start + max + 1 < l->end && start[max + 1] != '\n')
			max++;
		max++;
	}
	if (start + max >= l->end || start[max] != q)
		return fail(l, -EINVAL, "string not closed on its line (missing %c)", q);
	char *out = pool_take(l->c, max + 1), *o = out;
	if (!out)
		return pool_full(l);
	while (*l->p != q) {
		char ch = *l->p++;
		if (ch != '\\') {
			*o++ = ch;
			continue;
		}
		ch = *l->p++;
		switch (ch) {
		case '\\': case '"': case '\'': *o++ = ch; break;
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'x': {
			int h = l->p + 1 < l->end ? hexval(l->p[0]) : -1;
			int lo = h >= 0 ? hexval(l->p[1]) : -1;
			if (lo < 0)
				return fail(l, -EINVAL, "\\x in a string needs two hex digits");
			if (!(h | lo))
				return fail(l, -EINVAL, "\\x00 (a NUL) in a string");
			*o++ = (char)(h << 4 | lo);
			l->p += 2;
			break;
		}
		default:
			return fail(l, -EINVAL, "unknown escape \\%c in a string", ch);
		}
	}
	l->p++; /* the closing quote */
	*o = 0;
	l->text = out;
	l->t = T_STRING;
	return 0;
}

static int lex_number(struct lex *l)
{
	const char *s = l->p;
	u64 v = 0;
	unsigned base = 10;

	if (l->p + 1 < l->end && l->p[0] == '0' && (l->p[1] == 'x' || l->p[1] == 'X')) {
		base = 16;
		l->p += 2;
	}
	const char *digits = l->p;
	while (l->p < l->end && (is_alpha(*l->p) || is_digit(*l->p))) {
		int d = hexval(*l->p);
		if (d < 0 || (unsigned)d >= base)
			return fail(l, -EINVAL, "bad digit '%c' in a number", *l->p);
		if (v > (~0ULL - (u64)d) / base)
			return fail(l, -EINVAL, "number too large");
		v = v * base + (u64)d;
		l->p++;
	}
	if (l->p == digits)
		return fail(l, -EINVAL, "0x without hex digits");
	l->num = v;
	return token_text(l, s, (size_t)(l->p - s), T_NUMBER);
}

/* The next token into l->t. */
static int next(struct lex *l)
{
	for (;;) {
		if (l->p >= l->end) {
			l->t = T_EOF;
			l->tline = l->line;
			return 0;
		}
		char ch = *l->p;
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			l->p++;
		} else if (ch == '#') {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		} else {
			break;
		}
	}
	char ch = *l->p;
	l->tline = l->line;
	switch (ch) {
	case '\n': l->p++; l->line++; l->t = T_NL; return 0;
	case '=': l->p++; l->t = T_EQ; return 0;
	case '[': l->p++; l->t = T_LBR; return 0;
	case ']': l->p++; l->t = T_RBR; return 0;
	case ',': l->p++; l->t = T_COMMA; return 0;
	case ';': l->p++; l->t = T_SEMI; return 0;
	case '"': case '\'': return lex_string(l);
	case 0: return fail(l, -EINVAL, "NUL byte in the file");
	}
	if (is_digit(ch))
		return lex_number(l);
	if (!is_alpha(ch)) {
		if ((u8)ch < 0x20 || (u8)ch >= 0x7f)
			return fail(l, -EINVAL, "unexpected byte 0x%x", (u8)ch);
		return fail(l, -EINVAL, "unexpected '%c'", ch);
	}
	const char *s = l->p;
	while (l->p < l->end && (is_alpha(*l->p) || is_digit(*l->p)))
		l->p++;
	size_t n = (size_t)(l->p - s);
	if (n >= XLCFG_KEY_MAX)
		return fail(l, -EINVAL, "name longer than %u characters", XLCFG_KEY_MAX - 1);
	return token_text(l, s, n, T_IDENT);
}

static int add_atom(struct lex *l, const char *key)
{
	struct xlcfg *c = l->c;

	if (c->nr_atoms == XLCFG_MAX_ATOMS)
		return fail(l, -E2BIG, "key '%s': more than %u values in the file", key,
			    XLCFG_MAX_ATOMS);
	struct xlcfg_atom *a = &c->atoms[c->nr_atoms++];
	a->kind = l->t == T_NUMBER ? XLCFG_NUMBER : XLCFG_STRING;
	a->line = l->tline;
	a->str = l->text;
	a->num = l->t == T_NUMBER ? l->num : 0;
	return 0;
}

static int parse_list(struct lex *l, struct xlcfg_setting *s)
{
	bool want_value = true; /* after '[' or ',' */
	int rc;

	for (;;) {
		if ((rc = next(l)))
			return rc;
		switch (l->t) {
		case T_NL:
			continue;
		case T_RBR:
			return 0;
		case T_STRING:
		case T_NUMBER:
			if (!want_value)
				return fail(l, -EINVAL, "key '%s': missing ',' between list values",
					    s->key);
			if ((rc = add_atom(l, s->key)))
				return rc;
			s->count++;
			want_value = false;
			continue;
		case T_COMMA:
			if (want_value)
				return fail(l, -EINVAL, "key '%s': empty value in the list", s->key);
			want_value = true;
			continue;
		case T_EOF:
			return fail(l, -EINVAL, "key '%s': list opened on line %u is not closed",
				    s->key, s->line);
		default:
			return fail(l, -EINVAL, "key '%s': %s in a list (lists hold strings and "
				    "numbers)", s->key, tok_name(l->t));
		}
	}
}

static int parse_setting(struct lex *l)
{
	struct xlcfg *c = l->c;
	const char *key = l->text;
	unsigned line = l->tline;
	int rc;

	struct xlcfg_setting *old = (struct xlcfg_setting *)xlcfg_find(c, key);
	if (old && !(l->override && !old->override))
		return fail(l, -EINVAL, "key '%s' set again (first on line %u)", key, old->line);
	if (old)
		old->key = ""; /* replaced: no longer found */
	if (c->nr_settings == XLCFG_MAX_SETTINGS)
		return fail(l, -E2BIG, "more than %u settings", XLCFG_MAX_SETTINGS);
	if ((rc = next(l)))
		return rc;
	if (l->t != T_EQ)
		return fail(l, -EINVAL, "key '%s': expected '=', found %s", key, tok_name(l->t));
	struct xlcfg_setting *s = &c->settings[c->nr_settings];
	s->key = key;
	s->line = line;
	s->list = false;
	s->first = c->nr_atoms;
	s->count = 0;
	s->override = l->override;
	if ((rc = next(l)))
		return rc;
	if (l->t == T_LBR) {
		s->list = true;
		if ((rc = parse_list(l, s)))
			return rc;
	} else if (l->t == T_STRING || l->t == T_NUMBER) {
		if ((rc = add_atom(l, key)))
			return rc;
		s->count = 1;
	} else if (l->t == T_IDENT) {
		return fail(l, -EINVAL, "key '%s': value %s needs quotes (\"%s\")", key, l->text,
			    l->text);
	} else {
		return fail(l, -EINVAL, "key '%s': expected a value, found %s", key,
			    tok_name(l->t));
	}
	c->nr_settings++;
	if ((rc = next(l)))
		return rc;
	if (l->t != T_NL && l->t != T_SEMI && l->t != T_EOF)
		return fail(l, -EINVAL, "key '%s': expected the end of the setting, found %s", key,
			    tok_name(l->t));
	return 0;
}

static int parse(struct lex *l)
{
	int rc;

	for (;;) {
		if ((rc = next(l)))
			return rc;
		switch (l->t) {
		case T_EOF:
			return 0;
		case T_NL:
		case T_SEMI:
			continue;
		case T_IDENT:
			if ((rc = parse_setting(l)))
				return rc;
			if (l->t == T_EOF)
				return 0;
			continue;
		default:
			return fail(l, -EINVAL, "expected a setting (name = value), found %s",
				    tok_name(l->t));
		}
	}
}

int xlcfg_parse(struct xlcfg *c, const char *file, const char *text, size_t len, char *err,
		size_t errlen)
{
	c->file = file ? file : "config";
	struct lex l = { .c = c, .file = c->file, .p = text, .end = text + len, .line = 1,
			 .err = err, .errlen = errlen };

	c->nr_settings = c->nr_atoms = 0;
	c->pool_used = 0;
	if (errlen)
		err[0] = 0;
	return parse(&l);
}

int xlcfg_override(struct xlcfg *c, const char *text, size_t len, char *err, size_t errlen)
{
	struct lex l = { .c = c, .file = "command line", .override = true, .p = text,
			 .end = text + len, .line = 1, .err = err, .errlen = errlen };

	if (errlen)
		err[0] = 0;
	return parse(&l);
}

const char *xlcfg_origin(const struct xlcfg *c, const struct xlcfg_setting *s)
{
	return s->override ? "command line" : c->file;
}

const struct xlcfg_setting *xlcfg_find(const struct xlcfg *c, const char *key)
{
	for (unsigned i = 0; i < c->nr_settings; i++)
		if (!strcmp(c->settings[i].key, key))
			return &c->settings[i];
	return NULL;
}

const struct xlcfg_atom *xlcfg_atom(const struct xlcfg *c, const struct xlcfg_setting *s,
				    unsigned i)
{
	return &c->atoms[s->first + i];
}
