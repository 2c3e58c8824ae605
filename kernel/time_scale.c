/*
 * Pure time arithmetic for PV time (contracts in include/keel/vtimer.h),
 * apart from kernel/time.c so that tests/unit/test_time.c can check it on
 * the host. No 128-bit division: the hypervisor links no libgcc.
 */
#include <keel/vtimer.h>

/*
 * We want mul / 2^32 * 2^shift = 1e9 / hz with mul in [2^31, 2^32).
 * Scale numerator (1e9) or denominator (hz) by powers of two until
 * num / den lies in [1/2, 1); then mul is that fraction's first 32 bits,
 * found by binary long division.
 */
void time_scale_from_hz(struct time_scale *ts, u64 hz)
{
	u64 num = 1000000000ULL, den = hz ? hz : 1;
	int shift = 0;

	while (num >= den) { /* ratio >= 1: grow den */
		den <<= 1;
		shift++;
	}
	while (num * 2 < den) { /* ratio < 1/2: grow num */
		num <<= 1;
		shift--;
	}
	u32 frac = 0;
	u64 rem = num;
	for (int i = 0; i < 32; i++) {
		rem <<= 1;
		frac <<= 1;
		if (rem >= den) {
			rem -= den;
			frac |= 1;
		}
	}
	ts->mul = frac;
	ts->shift = (s8)shift;
}

u64 time_scale_apply(const struct time_scale *ts, u64 delta)
{
	if (ts->shift < 0)
		delta >>= -ts->shift;
	else
		delta <<= ts->shift;
	/* A 64x32 product in two halves, as the guest's pvclock code does
	 * it with a 128-bit multiply. */
	u64 lo = (delta & 0xffffffffULL) * ts->mul;
	u64 hi = (delta >> 32) * ts->mul;
	return hi + (lo >> 32);
}

u64 time_civil_to_unix(unsigned year, unsigned month, unsigned day, unsigned hour,
		       unsigned min, unsigned sec)
{
	/* Days since 1970 by counting from March 1st of year 0, where the
	 * leap day falls at the end of the counting year. */
	u64 y = year - (month <= 2);
	u64 era = y / 400, yoe = y % 400;
	u64 mp = (month + 9) % 12; /* March = 0 */
	u64 doy = (153 * mp + 2) / 5 + day - 1;
	u64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	u64 days = era * 146097 + doe - 719468; /* 719468: 0000-03-01 to 1970-01-01 */
	return days * 86400 + hour * 3600ULL + min * 60ULL + sec;
}
