/*
 * The rules xl's commands share for their arguments (cli_args.c), kept
 * apart from the machinery so the host can test them
 * (tests/unit/test_cli_args.c): options before the operands, a domain
 * named by name or id, and memory sizes with xl's suffixes.
 */
#ifndef GUEST_DOM0_CLI_ARGS_H
#define GUEST_DOM0_CLI_ARGS_H

#include <lib/types.h>
#include <public/xen.h>

#define CLI_ARGS_MAX 16

/* A command line after parsing: which options were given, their values,
 * the operands in order. */
struct cli_args {
	u32 flags;                      /* bit (c - 'a') for option -c */
	const char *val[26];            /* value of option -c that takes one */
	int npos;
	const char *pos[CLI_ARGS_MAX];  /* operands (argv[0] not included) */
};

/*
 * Parses argv[1..argc) as xl's getopt does for `optspec` ("bi:d:": -b a
 * flag, -i and -d with a value, "-iN" or "-i N"): options first, "--"
 * ends them, then between min_pos and max_pos operands. A lone "-" is an
 * operand. 0 with *a filled, or -EINVAL with a one-line reason in err
 * ("option -x is not supported (-b, -i N, -d N are)", "missing DOM",
 * "too many arguments: 'x'"). Option letters are a-z only.
 */
int cli_args_parse(int argc, char *const *argv, const char *optspec, int min_pos, int max_pos,
		   struct cli_args *a, char *err, size_t errlen);
/* Whether option -c was given. */
static inline bool cli_args_has(const struct cli_args *a, char c)
{
	return c >= 'a' && c <= 'z' && (a->flags & (1u << (c - 'a')));
}

/*
 * A domain named as xl names one: all digits is an id, compared with the
 * ids; anything else a name, compared with the names (exact). Among n
 * domains (ids[i], names[i]): 0 with *id, or -ENOENT.
 */
int cli_match_domain(const char *dom, const domid_t *ids, const char *const *names, unsigned n,
		     domid_t *id);

/*
 * A memory size as xl's parse_mem_size_kb reads it: a decimal number
 * with an optional suffix b, k, m, g or t (either case); no suffix means
 * MiB. 0 with *kib (bytes rounded down to KiB), -EINVAL (no number,
 * another suffix, trailing text) or -ERANGE (beyond 2^40 KiB).
 */
int cli_parse_mem_kib(const char *s, u64 *kib);

#endif
