/*
 * The CLI's argument rules (guest/dom0/cli/cli_args.c): options and
 * operands as xl's commands take them, each refusal's sentence, a domain
 * named by name or id, memory sizes with xl's suffixes.
 *
 * unit-sources: guest/dom0/cli/cli_args.c lib/format.c lib/string.c
 */
#include <lib/errno.h>
#include <lib/string.h>

#include "../../guest/dom0/cli/cli_args.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct cli_args a;
static char err[160];

/* Parses the words of `line` (split at spaces) with spec and bounds. */
static int parse(const char *line, const char *spec, int min, int max)
{
	static char buf[256];
	static char *argv[32];
	int argc = 0;

	strlcpy(buf, line, sizeof(buf));
	for (char *p = buf; *p;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	err[0] = 0;
	return cli_args_parse(argc, argv, spec, min, max, &a, err, sizeof(err));
}

START_TEST(cli_args_options_and_operands)
{
	/* top's shape: a flag and two valued options, both spellings */
	ck_assert_int_eq(parse("top -b -i 3 -d5", "bi:d:", 0, 0), 0);
	ck_assert(cli_args_has(&a, 'b'));
	ck_assert(cli_args_has(&a, 'i') && !strcmp(a.val['i' - 'a'], "3"));
	ck_assert(cli_args_has(&a, 'd') && !strcmp(a.val['d' - 'a'], "5"));
	ck_assert(!cli_args_has(&a, 'c'));
	ck_assert_int_eq(a.npos, 0);
	/* a cluster, the last taking the value */
	ck_assert_int_eq(parse("top -bi7", "bi:d:", 0, 0), 0);
	ck_assert(cli_args_has(&a, 'b') && !strcmp(a.val['i' - 'a'], "7"));
	/* block-detach: -f then DOM and DEVID */
	ck_assert_int_eq(parse("block-detach -f web xvdb", "f", 2, 2), 0);
	ck_assert(cli_args_has(&a, 'f'));
	ck_assert_int_eq(a.npos, 2);
	ck_assert_str_eq(a.pos[0], "web");
	ck_assert_str_eq(a.pos[1], "xvdb");
	/* options end at the first operand, and at "--" */
	ck_assert_int_eq(parse("rename web -x", "", 2, 2), 0);
	ck_assert_str_eq(a.pos[1], "-x");
	ck_assert_int_eq(parse("rename -- -web new", "", 2, 2), 0);
	ck_assert_str_eq(a.pos[0], "-web");
	/* a lone "-" is an operand */
	ck_assert_int_eq(parse("x -", "f", 1, 1), 0);
	ck_assert_str_eq(a.pos[0], "-");
	ck_assert(!cli_args_has(&a, 'f'));
}
END_TEST

START_TEST(cli_args_refusals_say_why)
{
	ck_assert_int_eq(parse("top -x", "bi:d:", 0, 0), -EINVAL);
	ck_assert_str_eq(err, "option -x is not supported (-b, -i N, -d N are)");
	ck_assert_int_eq(parse("rename -f a b", "", 2, 2), -EINVAL);
	ck_assert_str_eq(err, "option -f is not supported (it takes none)");
	ck_assert_int_eq(parse("top -i", "bi:d:", 0, 0), -EINVAL);
	ck_assert_str_eq(err, "option -i needs a value");
	ck_assert_int_eq(parse("top -B", "bi:d:", 0, 0), -EINVAL); /* case matters */
	ck_assert_str_eq(err, "option -B is not supported (-b, -i N, -d N are)");
	/* missing and extra operands */
	ck_assert_int_eq(parse("rename web", "", 2, 2), -EINVAL);
	ck_assert_str_eq(err, "missing arguments (1 given, 2 needed)");
	ck_assert_int_eq(parse("block-detach -f", "f", 2, 2), -EINVAL);
	ck_assert_str_eq(err, "missing arguments (0 given, 2 needed)");
	ck_assert_int_eq(parse("rename a b c", "", 2, 2), -EINVAL);
	ck_assert_str_eq(err, "too many arguments: 'c'");
	ck_assert_int_eq(parse("dmesg -c now", "c", 0, 0), -EINVAL);
	ck_assert_str_eq(err, "too many arguments: 'now'");
}
END_TEST

START_TEST(cli_args_domain_by_name_or_id)
{
	const domid_t ids[] = { 0, 3, 12 };
	const char *const names[] = { "Domain-0", "web", "7" };
	domid_t id = 999;

	ck_assert_int_eq(cli_match_domain("web", ids, names, 3, &id), 0);
	ck_assert_uint_eq(id, 3);
	ck_assert_int_eq(cli_match_domain("12", ids, names, 3, &id), 0);
	ck_assert_uint_eq(id, 12);
	ck_assert_int_eq(cli_match_domain("0", ids, names, 3, &id), 0);
	ck_assert_uint_eq(id, 0);
	ck_assert_int_eq(cli_match_domain("Domain-0", ids, names, 3, &id), 0);
	ck_assert_uint_eq(id, 0);
	/* all digits is an id, never a name (a domain named "7" is not 7) */
	ck_assert_int_eq(cli_match_domain("7", ids, names, 3, &id), -ENOENT);
	/* exact names only; no wrap-around of large ids */
	ck_assert_int_eq(cli_match_domain("we", ids, names, 3, &id), -ENOENT);
	ck_assert_int_eq(cli_match_domain("WEB", ids, names, 3, &id), -ENOENT);
	ck_assert_int_eq(cli_match_domain("65539", ids, names, 3, &id), -ENOENT);
	ck_assert_int_eq(cli_match_domain("", ids, names, 3, &id), -ENOENT);
	ck_assert_int_eq(cli_match_domain("web", ids, names, 0, &id), -ENOENT);
}
END_TEST

START_TEST(cli_args_memory_sizes_as_xl)
{
	u64 k = 0;

	ck_assert_int_eq(cli_parse_mem_kib("512", &k), 0); /* MiB by default */
	ck_assert_uint_eq(k, 512 * 1024);
	ck_assert_int_eq(cli_parse_mem_kib("8m", &k), 0);
	ck_assert_uint_eq(k, 8192);
	ck_assert_int_eq(cli_parse_mem_kib("8M", &k), 0);
	ck_assert_uint_eq(k, 8192);
	ck_assert_int_eq(cli_parse_mem_kib("2g", &k), 0);
	ck_assert_uint_eq(k, 2 * 1024 * 1024);
	ck_assert_int_eq(cli_parse_mem_kib("12288k", &k), 0);
	ck_assert_uint_eq(k, 12288);
	ck_assert_int_eq(cli_parse_mem_kib("1t", &k), 0);
	ck_assert_uint_eq(k, 1ULL << 30);
	ck_assert_int_eq(cli_parse_mem_kib("4097b", &k), 0); /* bytes, down to KiB */
	ck_assert_uint_eq(k, 4);
	ck_assert_int_eq(cli_parse_mem_kib("", &k), -EINVAL);
	ck_assert_int_eq(cli_parse_mem_kib("m", &k), -EINVAL);
	ck_assert_int_eq(cli_parse_mem_kib("5x", &k), -EINVAL);
	ck_assert_int_eq(cli_parse_mem_kib("5mb", &k), -EINVAL);
	ck_assert_int_eq(cli_parse_mem_kib("-5", &k), -EINVAL);
	ck_assert_int_eq(cli_parse_mem_kib("1025t", &k), -ERANGE);
	ck_assert_int_eq(cli_parse_mem_kib("99999999999999999999", &k), -ERANGE);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "cli-args-options-and-operands", &cli_args_options_and_operands_ttest },
	{ "cli-args-refusals-say-why", &cli_args_refusals_say_why_ttest },
	{ "cli-args-domain-by-name-or-id", &cli_args_domain_by_name_or_id_ttest },
	{ "cli-args-memory-sizes-as-xl", &cli_args_memory_sizes_as_xl_ttest },
	{ 0 },
};
