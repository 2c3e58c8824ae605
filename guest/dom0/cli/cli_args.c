/*
 * xl's argument rules (contract in cli_args.h). Pure: no store, no
 * hypercalls, so tests/unit/test_cli_args.c runs it on the host.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli_args.h"

/* The spec's entry for option c: 0 not an option, 1 a flag, 2 takes a value. */
static int opt_kind(const char *spec, char c)
{
	for (const char *p = spec; *p; p++) {
		if (*p == ':')
			continue;
		if (*p == c)
			return p[1] == ':' ? 2 : 1;
	}
	return 0;
}

/* "-b, -i N, -d N" from "bi:d:" for the refusal's sentence. */
static void describe(const char *spec, char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (const char *p = spec; *p && n < len; p++) {
		if (*p == ':')
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s-%c%s", n ? ", " : "", *p,
				      p[1] == ':' ? " N" : "");
	}
}

int cli_args_parse(int argc, char *const *argv, const char *optspec, int min_pos, int max_pos,
		   struct cli_args *a, char *err, size_t errlen)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-' || !s[1])
			break; /* the first operand ("-" alone is one) */
		if (!strcmp(s, "--")) {
			i++;
			break;
		}
		/* A cluster of flags ("-bq"), the last may take a value. */
		for (const char *c = s + 1; *c; c++) {
			int kind = *c >= 'a' && *c <= 'z' ? opt_kind(optspec, *c) : 0;
			if (!kind) {
				char known[80];
				describe(optspec, known, sizeof(known));
				if (known[0])
					snprintf(err, errlen, "option -%c is not supported (%s are)", *c,
						 known);
				else
					snprintf(err, errlen, "option -%c is not supported (it takes none)",
						 *c);
				return -EINVAL;
			}
			a->flags |= 1u << (*c - 'a');
			if (kind == 1)
				continue;
			if (c[1]) {
				a->val[*c - 'a'] = c + 1;
			} else if (i + 1 < argc) {
				a->val[*c - 'a'] = argv[++i];
			} else {
				snprintf(err, errlen, "option -%c needs a value", *c);
				return -EINVAL;
			}
			break;
		}
	}
	for (; i < argc; i++) {
		if (a->npos >= max_pos || a->npos >= CLI_ARGS_MAX) {
			snprintf(err, errlen, "too many arguments: '%s'", argv[i]);
			return -EINVAL;
		}
		a->pos[a->npos++] = argv[i];
	}
	if (a->npos < min_pos) {
		snprintf(err, errlen, "missing arguments (%d given, %d needed)", a->npos, min_pos);
		return -EINVAL;
	}
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int cli_match_domain(const char *dom, const domid_t *ids, const char *const *names, unsigned n,
		     domid_t *id)
{
	bool numeric = all_digits(dom);
	u64 want = 0;
	const char *end;

	/* An id past domid_t's range names no domain (not a wrapped one). */
	if (numeric && (parse_u64(dom, &end, &want) || want > 0xffff))
		return -ENOENT;
	for (unsigned i = 0; i < n; i++) {
		if (numeric ? ids[i] == want : (names[i] && !strcmp(names[i], dom))) {
			*id = ids[i];
			return 0;
		}
	}
	return -ENOENT;
}

int cli_parse_mem_kib(const char *s, u64 *kib)
{
	u64 v = 0;
	unsigned shift_up = 10; /* no suffix: MiB */
	bool bytes = false;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (1ULL << 50))
			return -ERANGE;
		v = v * 10 + (u64)(*s - '0');
	}
	switch (*s | 0x20) { /* either case */
	case 't':
		shift_up = 30;
		break;
	case 'g':
		shift_up = 20;
		break;
	case 'm':
		shift_up = 10;
		break;
	case 'k':
		shift_up = 0;
		break;
	case 'b':
		bytes = true;
		break;
	default:
		if (*s)
			return -EINVAL;
	}
	if (*s && s[1])
		return -EINVAL;
	if (bytes) {
		v >>= 10;
		shift_up = 0;
	}
	if (v > (1ULL << (40 - shift_up)))
		return -ERANGE;
	*kib = v << shift_up;
	return 0;
}
