/*
 * The one list of VM-exit reasons (KEEL_EXIT_REASONS, public/domctl.h)
 * and what is generated from it: the numbers dom0 indexes the counters
 * with are dense from 0 in list order, the hypervisor's enum agrees with
 * them, every name is the symbol in lower case and fits a "name=count"
 * list, and the counters take every reason and refuse what lies outside.
 *
 * unit-sources: kernel/exit_count.c
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <keel/domain.h>
#include <keel/exit.h>
#include <public/domctl.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* The list, flattened: symbol (as the X-macro spells it), number, name. */
struct entry {
	const char *sym;
	int num;
	const char *name;
	const char *what;
	int kernel; /* the hypervisor's EXIT_<sym> */
};

#define ENTRY_(s, n, str, w) { #s, n, str, w, EXIT_##s },
static const struct entry list[] = { KEEL_EXIT_REASONS(ENTRY_) };
#undef ENTRY_
#define LIST_LEN (sizeof(list) / sizeof(list[0]))

START_TEST(numbers_dense_in_list_order)
{
	ck_assert_uint_eq(LIST_LEN, KEEL_EXIT_NR);
	ck_assert_uint_eq(LIST_LEN, EXIT_NR);
	for (unsigned i = 0; i < LIST_LEN; i++)
		ck_assert_msg(list[i].num == (int)i,
			      "KEEL_EXIT_%s is %d at position %u: numbers must be dense from 0 and "
			      "in list order (new reasons are appended)", list[i].sym, list[i].num, i);
}
END_TEST

START_TEST(kernel_enum_is_the_public_numbering)
{
	for (unsigned i = 0; i < LIST_LEN; i++)
		ck_assert_msg(list[i].kernel == list[i].num, "EXIT_%s = %d, KEEL_EXIT_%s = %d",
			      list[i].sym, list[i].kernel, list[i].sym, list[i].num);
	/* Numbers dom0 binaries already use keep their meaning. */
	ck_assert_int_eq(KEEL_EXIT_NONE, 0);
	ck_assert_int_eq(KEEL_EXIT_CPUID, 1);
	ck_assert_int_eq(KEEL_EXIT_HYPERCALL, 6);
	ck_assert_int_eq(KEEL_EXIT_EXTINT, 10);
	ck_assert_int_eq(KEEL_EXIT_INTR_WINDOW, 12);
	ck_assert_int_eq(KEEL_EXIT_CACHE_FLUSH, 16);
	ck_assert_int_eq(KEEL_EXIT_UNKNOWN, 18);
	ck_assert_int_eq(KEEL_EXIT_PREEMPT, 19);
}
END_TEST

START_TEST(names_are_lowercase_symbols_and_unique)
{
	for (unsigned i = 0; i < LIST_LEN; i++) {
		const char *s = list[i].sym, *n = list[i].name;
		ck_assert_uint_eq(strlen(s), strlen(n));
		for (unsigned k = 0; s[k]; k++)
			ck_assert_msg(n[k] == tolower((unsigned char)s[k]),
				      "name \"%s\" is not KEEL_EXIT_%s in lower case", n, s);
		/* "reason=count" lists (bench-exits) split on spaces and '='. */
		ck_assert_msg(!strchr(n, ' ') && !strchr(n, '='), "name \"%s\"", n);
		ck_assert_msg(list[i].what[0] != '\0', "KEEL_EXIT_%s has no description", s);
		for (unsigned j = 0; j < i; j++)
			ck_assert_msg(strcmp(list[j].name, n) != 0, "name \"%s\" twice", n);
	}
}
END_TEST

START_TEST(reason_name_comes_from_the_list)
{
	for (unsigned i = 0; i < LIST_LEN; i++)
		ck_assert_str_eq(exit_reason_name((enum exit_reason)i), list[i].name);
	ck_assert_str_eq(exit_reason_name(EXIT_NR), "invalid");
	ck_assert_str_eq(exit_reason_name((enum exit_reason)-1), "invalid");
}
END_TEST

START_TEST(count_takes_every_reason_and_refuses_others)
{
	static struct domain d;
	static struct vcpu v;

	memset(&d, 0, sizeof(d));
	memset(&v, 0, sizeof(v));
	v.dom = &d;
	for (unsigned i = 0; i < EXIT_NR; i++)
		for (unsigned k = 0; k <= i; k++)
			exit_count(&v, (enum exit_reason)i);
	for (unsigned i = 0; i < EXIT_NR; i++)
		ck_assert_uint_eq(d.exit_counts[i], i + 1);
	ck_assert_uint_eq(v.nr_exits, EXIT_NR * (EXIT_NR + 1) / 2);

	/* Out of range: the vCPU's total counts it, no counter moves, and
	 * nothing past the array is written. */
	u64 before[EXIT_NR];
	memcpy(before, d.exit_counts, sizeof(before));
	exit_count(&v, EXIT_NR);
	exit_count(&v, (enum exit_reason)-1);
	ck_assert_mem_eq(before, d.exit_counts, sizeof(before));
	ck_assert_uint_eq(v.nr_exits, EXIT_NR * (EXIT_NR + 1) / 2 + 2);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "exit-list-numbers-dense-in-list-order", &numbers_dense_in_list_order_ttest },
	{ "exit-list-kernel-enum-is-the-public-numbering", &kernel_enum_is_the_public_numbering_ttest },
	{ "exit-list-names-are-lowercase-symbols-and-unique",
	  &names_are_lowercase_symbols_and_unique_ttest },
	{ "exit-list-reason-name-comes-from-the-list", &reason_name_comes_from_the_list_ttest },
	{ "exit-list-count-takes-every-reason-and-refuses-others",
	  &count_takes_every_reason_and_refuses_others_ttest },
	{ 0 },
};
