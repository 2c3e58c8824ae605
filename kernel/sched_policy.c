/*
 * The scheduling policy, kept apart from the machinery so that the host
 * unit tests (tests/unit/test_sched.c) can run it: which vCPU runs next,
 * how credit is charged and refilled. See include/keel/sched.h for the
 * policy in words.
 */
#include <keel/sched.h>

static s64 refill_amount(const struct sched_entity *e)
{
	return (s64)(SCHED_SLICE_NS * e->weight / SCHED_WEIGHT_DEFAULT);
}

void sched_refill(struct sched_entity *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		s64 add = refill_amount(&e[i]);
		s64 cap = add * SCHED_CREDIT_CAP_SLICES;
		e[i].credit += add;
		if (e[i].credit > cap)
			e[i].credit = cap;
	}
}

void sched_charge(struct sched_entity *e, u64 ns)
{
	/* The floor keeps one long stretch in the hypervisor (say, building a
	 * domain for dom0) from costing its vCPU many rounds. */
	s64 floor = -refill_amount(e) * SCHED_CREDIT_CAP_SLICES;
	if (ns > (u64)1 << 62)
		ns = (u64)1 << 62;
	e->credit -= (s64)ns;
	if (e->credit < floor)
		e->credit = floor;
}

static int best(const struct sched_entity *e, unsigned n)
{
	int b = -1;
	for (unsigned i = 0; i < n; i++)
		if (e[i].runnable && (b < 0 || sched_better(&e[i], &e[b])))
			b = (int)i;
	return b;
}

int sched_pick(struct sched_entity *e, unsigned n)
{
	int b = best(e, n);
	if (b < 0 || e[b].credit > 0)
		return b;
	/* Everybody who wants the CPU has used up their share: a new round.
	 * A few refills bring even a deeply negative vCPU back above zero
	 * (sched_charge bounds how negative it can be). */
	for (unsigned round = 0; round <= SCHED_CREDIT_CAP_SLICES && e[b].credit <= 0; round++) {
		sched_refill(e, n);
		b = best(e, n);
	}
	return b;
}
