/*
 * The scheduling policy (kernel/sched_policy.c, contract in
 * include/keel/sched.h): who runs next, how credit is charged, refilled
 * and capped, what a yield does, and that a CPU hog cannot starve a
 * vCPU that wants the CPU.
 *
 * unit-sources: kernel/sched_policy.c
 */
#include <keel/sched.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define SLICE ((s64)SCHED_SLICE_NS)

static struct sched_entity ent(s64 credit, u64 last_pick, bool runnable)
{
	return (struct sched_entity){ .credit = credit, .last_pick = last_pick,
				      .weight = SCHED_WEIGHT_DEFAULT, .runnable = runnable };
}

START_TEST(pick_none_runnable_returns_minus_one)
{
	struct sched_entity e[2] = { ent(SLICE, 0, false), ent(SLICE, 0, false) };
	ck_assert_int_eq(sched_pick(e, 2), -1);
	ck_assert_int_eq(sched_pick(e, 0), -1);
}
END_TEST

START_TEST(pick_most_credit_wins)
{
	struct sched_entity e[3] = { ent(100, 0, true), ent(300, 5, true), ent(200, 1, true) };
	ck_assert_int_eq(sched_pick(e, 3), 1);
}
END_TEST

START_TEST(pick_ties_go_to_least_recently_run)
{
	struct sched_entity e[3] = { ent(100, 7, true), ent(100, 3, true), ent(100, 9, true) };
	ck_assert_int_eq(sched_pick(e, 3), 1);
}
END_TEST

START_TEST(pick_skips_blocked_even_with_more_credit)
{
	struct sched_entity e[2] = { ent(SLICE, 0, false), ent(1, 0, true) };
	ck_assert_int_eq(sched_pick(e, 2), 1);
}
END_TEST

START_TEST(pick_yielded_runs_only_when_alone)
{
	struct sched_entity e[2] = { ent(SLICE, 0, true), ent(1, 9, true) };
	e[0].yielded = true;
	ck_assert_int_eq(sched_pick(e, 2), 1);
	e[1].runnable = false;
	ck_assert_int_eq(sched_pick(e, 2), 0);
}
END_TEST

START_TEST(pick_refills_when_all_out_of_credit)
{
	struct sched_entity e[2] = { ent(-5, 0, true), ent(-1, 1, true) };
	int p = sched_pick(e, 2);
	ck_assert_int_eq(p, 1);
	ck_assert_msg(e[1].credit > 0, "refill left the winner at %lld", (long long)e[1].credit);
	ck_assert_int_eq(e[0].credit, SLICE - 5);
}
END_TEST

START_TEST(refill_is_weighted_and_capped)
{
	struct sched_entity e[2] = { ent(0, 0, true), ent(0, 0, true) };
	e[1].weight = 2 * SCHED_WEIGHT_DEFAULT;
	sched_refill(e, 2);
	ck_assert_int_eq(e[0].credit, SLICE);
	ck_assert_int_eq(e[1].credit, 2 * SLICE);
	for (int i = 0; i < 10; i++)
		sched_refill(e, 2);
	ck_assert_int_eq(e[0].credit, SCHED_CREDIT_CAP_SLICES * SLICE);
	ck_assert_int_eq(e[1].credit, SCHED_CREDIT_CAP_SLICES * 2 * SLICE);
}
END_TEST

START_TEST(charge_floors_at_minus_cap)
{
	struct sched_entity e = ent(SLICE, 0, true);
	sched_charge(&e, 3);
	ck_assert_int_eq(e.credit, SLICE - 3);
	sched_charge(&e, ~0ULL); /* a hostile or broken clock delta */
	ck_assert_int_eq(e.credit, -SCHED_CREDIT_CAP_SLICES * SLICE);
}
END_TEST

START_TEST(pick_recovers_from_deepest_debt)
{
	struct sched_entity e[1] = { ent(0, 0, true) };
	sched_charge(&e[0], ~0ULL);
	ck_assert_int_eq(sched_pick(e, 1), 0);
	ck_assert_msg(e[0].credit > 0, "credit %lld after pick", (long long)e[0].credit);
}
END_TEST

/* Simulates the scheduler loop: each pick runs a full slice unless the
 * entity blocks. Returns how many slices entity i got. */
static void simulate(struct sched_entity *e, unsigned n, unsigned rounds, unsigned *got)
{
	u64 seq = 0;
	for (unsigned r = 0; r < rounds; r++) {
		int p = sched_pick(e, n);
		ck_assert_int_ge(p, 0);
		e[p].last_pick = ++seq;
		got[p]++;
		sched_charge(&e[p], SCHED_SLICE_NS);
	}
}

START_TEST(hog_cannot_starve_others)
{
	/* Two CPU hogs and a third vCPU: equal weights share equally. */
	struct sched_entity e[3] = { ent(0, 0, true), ent(0, 0, true), ent(0, 0, true) };
	unsigned got[3] = { 0 };
	simulate(e, 3, 300, got);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(got[i] >= 95 && got[i] <= 105, "entity %d got %u of 300 slices", i,
			      got[i]);
}
END_TEST

START_TEST(weights_set_the_share)
{
	struct sched_entity e[2] = { ent(0, 0, true), ent(0, 0, true) };
	unsigned got[2] = { 0 };
	e[0].weight = 3 * SCHED_WEIGHT_DEFAULT;
	simulate(e, 2, 400, got);
	ck_assert_msg(got[0] >= 290 && got[0] <= 310, "weight 3:1 gave %u:%u slices", got[0],
		      got[1]);
}
END_TEST

START_TEST(sleeper_wakes_ahead_of_hog)
{
	/* A vCPU that slept while a hog ran has more credit (up to the cap)
	 * and runs first when it wakes: low latency for event-driven guests. */
	struct sched_entity e[2] = { ent(0, 0, true), ent(0, 0, false) };
	unsigned got[2] = { 0 };
	simulate(e, 2, 50, got);
	e[1].runnable = true;
	ck_assert_int_eq(sched_pick(e, 2), 1);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "sched-pick-none-runnable-returns-minus-one", &pick_none_runnable_returns_minus_one_ttest },
	{ "sched-pick-most-credit-wins", &pick_most_credit_wins_ttest },
	{ "sched-pick-ties-go-to-least-recently-run", &pick_ties_go_to_least_recently_run_ttest },
	{ "sched-pick-skips-blocked-even-with-more-credit",
	  &pick_skips_blocked_even_with_more_credit_ttest },
	{ "sched-pick-yielded-runs-only-when-alone", &pick_yielded_runs_only_when_alone_ttest },
	{ "sched-pick-refills-when-all-out-of-credit", &pick_refills_when_all_out_of_credit_ttest },
	{ "sched-refill-is-weighted-and-capped", &refill_is_weighted_and_capped_ttest },
	{ "sched-charge-floors-at-minus-cap", &charge_floors_at_minus_cap_ttest },
	{ "sched-pick-recovers-from-deepest-debt", &pick_recovers_from_deepest_debt_ttest },
	{ "sched-hog-cannot-starve-others", &hog_cannot_starve_others_ttest },
	{ "sched-weights-set-the-share", &weights_set_the_share_ttest },
	{ "sched-sleeper-wakes-ahead-of-hog", &sleeper_wakes_ahead_of_hog_ttest },
	{ 0 },
};
