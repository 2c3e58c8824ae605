/*
 * The privilege rule (include/keel/priv.h): which domain a call names,
 * whether the caller may act on it, and what "the control domain" means.
 *
 * unit-sources: kernel/priv.c
 *
 * priv.c is compiled as in the hypervisor; the domain table below holds
 * the control domain (id 0, privileged), two domUs, one of them dying,
 * and leaves id 4 free.
 */
#include <string.h>

#include <lib/errno.h>
#include <keel/priv.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment ---------------------------------------------------------- */

#define NDOMS 5
static struct domain doms[NDOMS];
static bool dom_used[NDOMS];

struct domain *domain_by_id(unsigned id)
{
	return id < NDOMS && dom_used[id] ? &doms[id] : NULL;
}

static struct domain *d0, *d1, *d2, *d3;

static struct domain *make(unsigned id, bool privileged, enum domain_state state)
{
	struct domain *d = &doms[id];

	memset(d, 0, sizeof(*d));
	d->id = (u16)id;
	d->privileged = privileged;
	d->state = state;
	dom_used[id] = true;
	return d;
}

static void setup(void)
{
	memset(dom_used, 0, sizeof(dom_used));
	d0 = make(0, true, DOM_RUNNING);
	d1 = make(1, false, DOM_RUNNING);
	d2 = make(2, false, DOM_RUNNING);
	d3 = make(3, false, DOM_DYING);
}

/* Looks up `id` for `caller`; checks the result code and, on success, the
 * domain returned; on failure that *out was left alone. */
static void expect_target(struct domain *caller, domid_t id, int want_rc, struct domain *want)
{
	struct domain *sentinel = (struct domain *)&dom_used; /* not a domain */
	struct domain *out = sentinel;
	int rc = domain_lookup_target(caller, id, &out);

	ck_assert_msg(rc == want_rc, "d%u looks up %#x: rc %d, want %d", caller->id, id, rc,
		      want_rc);
	if (want_rc == 0)
		ck_assert_msg(out == want, "d%u looks up %#x: got d%d, want d%u", caller->id, id,
			      out == sentinel ? -1 : out->id, want->id);
	else
		ck_assert_msg(out == sentinel, "d%u looks up %#x: *out written on error",
			      caller->id, id);
}

/* ---- the helper ------------------------------------------------------------- */

START_TEST(self_by_domid_self_or_own_id)
{
	setup();
	expect_target(d1, DOMID_SELF, 0, d1);
	expect_target(d1, 1, 0, d1);
	expect_target(d0, DOMID_SELF, 0, d0);
	expect_target(d0, 0, 0, d0);
	ck_assert(domid_is_self(d1, DOMID_SELF));
	ck_assert(domid_is_self(d1, 1));
	ck_assert(!domid_is_self(d1, 2));
	ck_assert(!domid_is_self(d1, 0));
	ck_assert(!domid_is_self(d0, DOMID_IO));
}
END_TEST

START_TEST(domu_gets_eperm_for_others)
{
	setup();
	expect_target(d1, 2, -EPERM, NULL);
	expect_target(d1, 0, -EPERM, NULL); /* not even the control domain */
	expect_target(d2, 1, -EPERM, NULL);
	ck_assert_int_eq(domain_check_target(d1, d2), -EPERM);
	ck_assert_int_eq(domain_check_target(d1, d1), 0);
}
END_TEST

START_TEST(control_domain_reaches_any)
{
	setup();
	expect_target(d0, 1, 0, d1);
	expect_target(d0, 2, 0, d2);
	ck_assert_int_eq(domain_check_target(d0, d2), 0);
}
END_TEST

START_TEST(missing_domain_esrch_before_eperm)
{
	setup();
	/* A free id, an id past the table and reserved ids other than
	 * DOMID_SELF name no domain, for anyone: -ESRCH, never -EPERM. */
	expect_target(d0, 4, -ESRCH, NULL);
	expect_target(d1, 4, -ESRCH, NULL);
	expect_target(d1, 1000, -ESRCH, NULL);
	expect_target(d1, DOMID_IO, -ESRCH, NULL);
	ck_assert_ptr_null(domain_by_any_id(d1, 4));
	ck_assert_ptr_eq(domain_by_any_id(d1, DOMID_SELF), d1);
	ck_assert_ptr_eq(domain_by_any_id(d1, 2), d2);
}
END_TEST

START_TEST(dying_domain_is_found)
{
	/* The helper leaves dying domains to its callers (each keeps its own
	 * rule), so it finds them like any other. */
	setup();
	expect_target(d0, 3, 0, d3);
	expect_target(d1, 3, -EPERM, NULL);
	expect_target(d3, DOMID_SELF, 0, d3);
}
END_TEST

/* ---- the predicate ------------------------------------------------------------ */

START_TEST(control_domain_is_the_privileged_one)
{
	setup();
	ck_assert(is_control_domain(d0));
	ck_assert(!is_control_domain(d1));
	ck_assert_ptr_eq(control_domain(), d0);
	/* The flag decides, not the id: an unprivileged domain 0 is no
	 * control domain and reaches nobody else, and a privileged domain
	 * with another id reaches everyone. */
	make(0, false, DOM_RUNNING);
	ck_assert(!is_control_domain(d0));
	ck_assert_ptr_null(control_domain());
	expect_target(d0, 1, -EPERM, NULL);
	make(2, true, DOM_RUNNING);
	expect_target(d2, 1, 0, d1);
	/* Before the boot has built dom0 there is none. */
	dom_used[0] = false;
	ck_assert_ptr_null(control_domain());
}
END_TEST

START_TEST(caller_check_per_table_entry)
{
	setup();
	ck_assert_int_eq(hc_check_caller(HC_ANY, d1), 0);
	ck_assert_int_eq(hc_check_caller(HC_ANY, d0), 0);
	ck_assert_int_eq(hc_check_caller(HC_DOM0_ONLY, d0), 0);
	ck_assert_int_eq(hc_check_caller(HC_DOM0_ONLY, d1), -EPERM);
	/* An entry that forgot to say (zero-initialised) admits nobody. */
	ck_assert_int_eq(hc_check_caller(HC_NOBODY, d0), -EPERM);
	ck_assert_int_eq(hc_check_caller((enum hc_caller)0, d1), -EPERM);
	ck_assert_int_eq(hc_check_caller((enum hc_caller)77, d0), -EPERM);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "priv-self-by-domid-self-or-own-id", &self_by_domid_self_or_own_id_ttest },
	{ "priv-domu-gets-eperm-for-others", &domu_gets_eperm_for_others_ttest },
	{ "priv-control-domain-reaches-any", &control_domain_reaches_any_ttest },
	{ "priv-missing-domain-esrch-before-eperm", &missing_domain_esrch_before_eperm_ttest },
	{ "priv-dying-domain-is-found", &dying_domain_is_found_ttest },
	{ "priv-control-domain-is-the-privileged-one", &control_domain_is_the_privileged_one_ttest },
	{ "priv-caller-check-per-table-entry", &caller_check_per_table_entry_ttest },
	{ 0 },
};
