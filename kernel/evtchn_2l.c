/*
 * The 2-level event-channel bit logic (contract in include/keel/evtchn.h),
 * kept free of domains and vendors so the unit tests drive it directly.
 *
 * shared_info.evtchn_pending/evtchn_mask hold one bit per port in 64-bit
 * words; vcpu_info.evtchn_pending_sel has one bit per word that may have
 * unmasked pending ports for that vCPU; evtchn_upcall_pending says "look
 * at pending_sel". The guest clears bits concurrently (on another CPU, or
 * in its handler between our exits once there is SMP), so every
 * read-modify-write of a shared word is an atomic operation, and they
 * happen in the order Xen's event_2l.c uses: the guest scans in the
 * opposite order, and this ordering is what keeps an event from being
 * lost between its scan and our update.
 */
#include <keel/evtchn.h>

#define BITS_PER_WORD 64

static inline u64 bit_of(unsigned nr)
{
	return 1ULL << (nr % BITS_PER_WORD);
}

/* Atomic test-and-set / test-and-clear (LOCK OR / LOCK AND on x86). */
static bool test_and_set(u64 *words, unsigned nr)
{
	u64 b = bit_of(nr);
	return __atomic_fetch_or(&words[nr / BITS_PER_WORD], b, __ATOMIC_SEQ_CST) & b;
}

static bool test_and_clear(u64 *words, unsigned nr)
{
	u64 b = bit_of(nr);
	return __atomic_fetch_and(&words[nr / BITS_PER_WORD], ~b, __ATOMIC_SEQ_CST) & b;
}

static bool test(const u64 *words, unsigned nr)
{
	return __atomic_load_n(&words[nr / BITS_PER_WORD], __ATOMIC_SEQ_CST) & bit_of(nr);
}

bool evtchn_2l_set_pending(struct shared_info *s, struct vcpu_info *vi, unsigned port)
{
	/* Already pending: the guest has not consumed the last one yet, and
	 * events do not count. */
	if (test_and_set(s->evtchn_pending, port))
		return false;
	/* A masked port stays pending without notifying; unmasking it later
	 * does the notification (evtchn_2l_unmask). */
	if (test(s->evtchn_mask, port))
		return false;
	return !test_and_set(&vi->evtchn_pending_sel, port / BITS_PER_WORD);
}

bool evtchn_2l_unmask(struct shared_info *s, struct vcpu_info *vi, unsigned port)
{
	return test_and_clear(s->evtchn_mask, port) && test(s->evtchn_pending, port) &&
	       !test_and_set(&vi->evtchn_pending_sel, port / BITS_PER_WORD);
}

void evtchn_2l_clear_pending(struct shared_info *s, unsigned port)
{
	test_and_clear(s->evtchn_pending, port);
}

bool evtchn_2l_is_pending(const struct shared_info *s, unsigned port)
{
	return port < NR_EVENT_CHANNELS && test(s->evtchn_pending, port);
}

bool evtchn_2l_is_masked(const struct shared_info *s, unsigned port)
{
	return port >= NR_EVENT_CHANNELS || test(s->evtchn_mask, port);
}

bool evtchn_2l_mark_upcall(struct vcpu_info *vi)
{
	/* Xen sets bit 0 of the byte; the guest writes 0 to clear it. An
	 * exchange of the whole byte is the same thing on x86. */
	return __atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) == 0;
}
