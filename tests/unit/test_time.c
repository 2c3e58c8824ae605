/*
 * PV time arithmetic (kernel/time_scale.c, contract in
 * include/keel/vtimer.h): the pvclock scale the hypervisor publishes must
 * turn TSC deltas into nanoseconds the way a guest computes them (Xen
 * public/xen.h vcpu_time_info), precisely, for any TSC rate; and the RTC
 * date conversion for the wallclock.
 *
 * unit-sources: kernel/time_scale.c
 */
#include <keel/vtimer.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* What a guest computes (Linux pvclock_scale_delta). */
static u64 guest_ns(const struct time_scale *ts, u64 delta)
{
	if (ts->shift < 0)
		delta >>= -ts->shift;
	else
		delta <<= ts->shift;
	return (u64)(((unsigned __int128)delta * ts->mul) >> 32);
}

/* Exact ns for `ticks` at `hz`. */
static u64 exact_ns(u64 ticks, u64 hz)
{
	return (u64)((unsigned __int128)ticks * 1000000000ULL / hz);
}

START_TEST(scale_mul_is_normalised)
{
	static const u64 rates[] = { 1000000ULL, 14318180ULL, 1000000000ULL, 2600000000ULL,
				     3999999999ULL, 5000000000ULL };
	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct time_scale ts;
		time_scale_from_hz(&ts, rates[i]);
		ck_assert_msg(ts.mul >= 0x80000000u, "%llu Hz: mul 0x%x not normalised",
			      (unsigned long long)rates[i], ts.mul);
	}
}
END_TEST

START_TEST(scale_matches_exact_ns_within_a_ppm)
{
	static const u64 rates[] = { 65000000ULL, 1000000000ULL, 2603299000ULL, 3531694000ULL };
	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct time_scale ts;
		time_scale_from_hz(&ts, rates[i]);
		/* One second and one hour of ticks. */
		for (u64 secs = 1; secs <= 3600; secs *= 3600) {
			u64 ticks = rates[i] * secs, got = time_scale_apply(&ts, ticks);
			u64 want = exact_ns(ticks, rates[i]);
			u64 err = got > want ? got - want : want - got;
			ck_assert_msg(err <= want / 1000000 + 1,
				      "%llu Hz, %llu s: %llu ns, exact %llu",
				      (unsigned long long)rates[i], (unsigned long long)secs,
				      (unsigned long long)got, (unsigned long long)want);
		}
	}
}
END_TEST

START_TEST(hypervisor_and_guest_agree_exactly)
{
	/* The hypervisor's time_now_ns and the guest's pvclock read use the
	 * same formula: they must agree to the nanosecond, or a guest's
	 * deadline could fire "early" by its own clock. */
	struct time_scale ts;
	time_scale_from_hz(&ts, 2814705000ULL);
	for (u64 d = 1; d < (1ULL << 45); d = d * 7 + 3)
		ck_assert_uint_eq(time_scale_apply(&ts, d), guest_ns(&ts, d));
}
END_TEST

START_TEST(split_reading_never_exceeds_direct)
{
	/* A guest adds system_time (scaled at the stamp) and the scaled
	 * delta since: at most a nanosecond of rounding short of the direct
	 * reading, never ahead of it. */
	struct time_scale ts;
	time_scale_from_hz(&ts, 3000000007ULL);
	u64 stamp = 123456789012ULL;
	for (u64 later = 1; later < (1ULL << 40); later = later * 5 + 1) {
		u64 split = time_scale_apply(&ts, stamp) + guest_ns(&ts, later);
		u64 direct = time_scale_apply(&ts, stamp + later);
		ck_assert_msg(split <= direct && direct - split <= 1, "split %llu direct %llu",
			      (unsigned long long)split, (unsigned long long)direct);
	}
}
END_TEST

START_TEST(scale_zero_hz_does_not_divide_by_zero)
{
	struct time_scale ts;
	time_scale_from_hz(&ts, 0);
	ck_assert_uint_ge(ts.mul, 0x80000000u);
}
END_TEST

START_TEST(civil_to_unix_known_dates)
{
	ck_assert_uint_eq(time_civil_to_unix(1970, 1, 1, 0, 0, 0), 0);
	ck_assert_uint_eq(time_civil_to_unix(2000, 3, 1, 0, 0, 0), 951868800ULL);
	ck_assert_uint_eq(time_civil_to_unix(2024, 2, 29, 12, 34, 56), 1709210096ULL);
	ck_assert_uint_eq(time_civil_to_unix(2038, 1, 19, 3, 14, 8), 2147483648ULL);
	ck_assert_uint_eq(time_civil_to_unix(2100, 3, 1, 0, 0, 0), 4107542400ULL);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "time-scale-mul-is-normalised", &scale_mul_is_normalised_ttest },
	{ "time-scale-matches-exact-ns-within-a-ppm", &scale_matches_exact_ns_within_a_ppm_ttest },
	{ "time-hypervisor-and-guest-agree-exactly", &hypervisor_and_guest_agree_exactly_ttest },
	{ "time-split-reading-never-exceeds-direct", &split_reading_never_exceeds_direct_ttest },
	{ "time-scale-zero-hz-does-not-divide-by-zero",
	  &scale_zero_hz_does_not_divide_by_zero_ttest },
	{ "time-civil-to-unix-known-dates", &civil_to_unix_known_dates_ttest },
	{ 0 },
};
