/*
 * dom0's event loop (contract in loop.h, model in docs/dom0-event-loop.md).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "loop.h"
#include "pvclock.h"

#define NR_WORDS (NR_EVENT_CHANNELS / 64)

/* Ports the upcall has seen fire and the loop has not handled yet. The
 * upcall sets bits (interrupt context), the loop takes whole words with
 * an exchange, so neither loses the other's updates. */
static u64 marked[NR_WORDS];

static struct {
	loop_port_fn fn;
	void *arg;
	bool running; /* its handler is on the stack (a nested loop runs) */
	bool control; /* loop_set_control: held by loop_run_services */
} ports[NR_EVENT_CHANNELS];

/* Inside loop_run_services: control ports wait in `deferred`. */
static bool holding_control;

/* Ports that fired while their handler was running further up the stack
 * (a command that waits runs the loop from inside the console's
 * handler): they go back to `marked` when that handler returns, so a
 * handler is never entered twice, and a nested loop neither loses the
 * event nor spins on it. */
static u64 deferred[NR_WORDS];

static struct loop_timer *timers; /* armed ones, unsorted: there are few */
static struct {
	bool (*fn)(void *arg);
	void *arg;
} idle[LOOP_MAX_IDLE];
static unsigned nr_idle;
static struct {
	bool (*fn)(void *arg, bool may_work);
	void *arg;
} before_sleep[LOOP_MAX_IDLE];
static unsigned nr_before_sleep;

/* VIRQ_TIMER's port (0 until the first deadline needs it) and the
 * deadline the single-shot timer is set to (0: not set), so that it is
 * reprogrammed only when the earliest deadline changes — every
 * VCPUOP_set_singleshot_timer is a hypercall, i.e. an exit. */
static evtchn_port_t timer_port;
static u64 timer_set_for;

static bool ready;
static struct loop_stats stats;

/* The upcall's handler for every registered port: only a mark. */
static void mark(evtchn_port_t port, void *arg)
{
	(void)arg;
	__atomic_fetch_or(&marked[port / 64], 1ULL << (port % 64), __ATOMIC_SEQ_CST);
}

static bool any_marked(void)
{
	for (unsigned w = 0; w < NR_WORDS; w++)
		if (__atomic_load_n(&marked[w], __ATOMIC_SEQ_CST))
			return true;
	return false;
}

int loop_init(void)
{
	int rc;

	if (ready)
		return 0;
	if ((rc = evtchn_init()))
		return rc;
	ready = true;
	return 0;
}

int loop_bind_port(evtchn_port_t port, loop_port_fn fn, void *arg)
{
	int rc;

	if ((rc = loop_init()))
		return rc;
	if (!port || port >= NR_EVENT_CHANNELS || !fn)
		return -EINVAL;
	if (ports[port].fn)
		return -EBUSY;
	ports[port].fn = fn;
	ports[port].arg = arg;
	if ((rc = evtchn_set_handler(port, mark, NULL))) {
		ports[port].fn = NULL;
		return rc;
	}
	/* EVTCHNOP_unmask delivers an event that was already pending. */
	return evtchn_unmask(port);
}

void loop_unbind_port(evtchn_port_t port)
{
	if (!port || port >= NR_EVENT_CHANNELS)
		return;
	evtchn_mask(port);
	evtchn_set_handler(port, NULL, NULL);
	ports[port].fn = NULL;
	ports[port].control = false;
	deferred[port / 64] &= ~(1ULL << (port % 64));
	__atomic_fetch_and(&marked[port / 64], ~(1ULL << (port % 64)), __ATOMIC_SEQ_CST);
}

bool loop_port_take(evtchn_port_t port)
{
	if (!port || port >= NR_EVENT_CHANNELS)
		return false;
	u64 bit = 1ULL << (port % 64);
	return __atomic_fetch_and(&marked[port / 64], ~bit, __ATOMIC_SEQ_CST) & bit;
}

void loop_port_kick(evtchn_port_t port)
{
	if (port && port < NR_EVENT_CHANNELS)
		mark(port, NULL);
}

/* ---- timers ----------------------------------------------------------------- */

static void timer_fired(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	timer_set_for = 0; /* single-shot: it is spent */
}

void loop_timer_arm(struct loop_timer *t, u64 deadline_ns)
{
	if (!t->armed) {
		t->next = timers;
		timers = t;
		t->armed = true;
	}
	t->deadline = deadline_ns;
}

void loop_timer_cancel(struct loop_timer *t)
{
	for (struct loop_timer **p = &timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = false;
}

static u64 earliest_timer(void)
{
	u64 e = 0;

	for (struct loop_timer *t = timers; t; t = t->next)
		if (!e || t->deadline < e)
			e = t->deadline;
	return e;
}

/* Runs the timers that are due; true if any ran. A timer's function may
 * re-arm it (or others): the list is walked again from the start. */
static bool run_timers(void)
{
	bool ran = false;
	u64 now = pvclock_now_ns();

again:
	for (struct loop_timer *t = timers; t; t = t->next) {
		if (t->deadline <= now) {
			loop_timer_cancel(t);
			stats.timers++;
			t->fn(t->arg);
			ran = true;
			goto again;
		}
	}
	return ran;
}

/* Makes the single-shot timer fire at `deadline` (0: none needed). A
 * timer that stays set for a deadline since dropped only costs one
 * spurious wake-up, so it is not stopped. */
static void program_timer(u64 deadline)
{
	if (!deadline || deadline == timer_set_for)
		return;
	if (!timer_port) {
		evtchn_port_t p;
		int rc = evtchn_bind_virq(VIRQ_TIMER, 0, &p);
		if (rc || loop_bind_port(p, timer_fired, NULL)) {
			printf("dom0: loop: cannot bind VIRQ_TIMER (%d): timers will be late\n", rc);
			return;
		}
		timer_port = p;
	}
	/* Without VCPU_SSHOTTMR_future a deadline already past fires at
	 * once, which is what a late timer wants. */
	if (!pvclock_timer_set(deadline, 0))
		timer_set_for = deadline;
}

/*
 * Sleeps until an event is marked or `deadline` (plus the loop's timers)
 * passes. Interrupts go off for the last look; the sleep is "sti; hlt",
 * as Linux's safe_halt: STI's one-instruction shadow covers HLT, so an
 * upcall raised after the look is not taken before HLT, and the
 * hypervisor does not sleep on an HLT while an upcall is deliverable
 * (kernel/evtchn_block.c: evtchn_hlt, Xen's hvm_hlt), so nothing is
 * slept through. Waking, the vCPU has interrupts on and the upcall is
 * injected on the VM entry that resumes it. SCHEDOP_block, used before,
 * slept with interrupts off: every wake-up then cost a second exit, the
 * interrupt window opened by the STI after it (docs/PERFORMANCE.md, PV
 * block). On return the upcall has run and marked what came.
 */
static void block(u64 deadline, bool (*more)(void), bool may_work)
{
	u64 t = earliest_timer();
	bool found = false;

	/* Devices kept quiet while dom0 polled them may interrupt again;
	 * what they finished meanwhile is looked at once more (loop.h). */
	for (unsigned i = 0; i < nr_before_sleep; i++)
		found |= before_sleep[i].fn(before_sleep[i].arg, may_work);
	if (found && may_work)
		return;

	if (deadline && (!t || deadline < t))
		t = deadline;
	program_timer(t);
	evtchn_irq_disable();
	if (!more()) {
		stats.blocks++;
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	evtchn_irq_enable();
}

static evtchn_port_t waited_port;

static bool waited_port_marked(void)
{
	return __atomic_load_n(&marked[waited_port / 64], __ATOMIC_SEQ_CST) &
	       (1ULL << (waited_port % 64));
}

bool loop_wait_port(evtchn_port_t port, u64 deadline_ns)
{
	if (!port || port >= NR_EVENT_CHANNELS)
		return false;
	for (;;) {
		if (loop_port_take(port))
			return true;
		if (deadline_ns && pvclock_now_ns() >= deadline_ns)
			return false;
		waited_port = port;
		block(deadline_ns, waited_port_marked, false);
		/* The timer port is the loop's: its mark only says "time
		 * passed"; take it so the deadline is re-armed if needed. */
		if (timer_port && loop_port_take(timer_port))
			timer_fired(timer_port, NULL);
	}
}

/* ---- the loop --------------------------------------------------------------- */

int loop_add_before_sleep(bool (*fn)(void *arg, bool may_work), void *arg)
{
	if (nr_before_sleep == LOOP_MAX_IDLE)
		return -ENOSPC;
	before_sleep[nr_before_sleep].fn = fn;
	before_sleep[nr_before_sleep].arg = arg;
	nr_before_sleep++;
	return 0;
}

int loop_add_idle(bool (*fn)(void *arg), void *arg)
{
	if (nr_idle == LOOP_MAX_IDLE)
		return -ENOSPC;
	idle[nr_idle].fn = fn;
	idle[nr_idle].arg = arg;
	nr_idle++;
	return 0;
}

/*
 * Handlers of every marked port, in port order, each word taken whole.
 * Before a handler runs, the ports of its word not handled yet go back to
 * `marked`, and are taken again after it (those still marked): a handler
 * that runs the loop itself (loop.h) must see them, not find them held
 * in this frame's local copy until it returns. Marks that arrive during a
 * handler for ports already handled wait for the next iteration (a
 * handler that kicks itself runs again then, not at once).
 */
static bool run_handlers(void)
{
	bool ran = false;

	for (unsigned w = 0; w < NR_WORDS; w++) {
		u64 bits = __atomic_exchange_n(&marked[w], 0, __ATOMIC_SEQ_CST);
		while (bits) {
			evtchn_port_t port = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			u64 bit = 1ULL << (port % 64), rest = bits;
			if (!ports[port].fn)
				continue; /* unbound since it was marked */
			if (ports[port].running || (holding_control && ports[port].control)) {
				deferred[w] |= bit;
				continue;
			}
			if (rest)
				__atomic_fetch_or(&marked[w], rest, __ATOMIC_SEQ_CST);
			stats.handled++;
			ports[port].running = true;
			ports[port].fn(port, ports[port].arg);
			ports[port].running = false;
			if (deferred[w] & bit) {
				deferred[w] &= ~bit;
				__atomic_fetch_or(&marked[w], bit, __ATOMIC_SEQ_CST);
			}
			ran = true;
			if (rest)
				bits = __atomic_fetch_and(&marked[w], ~rest, __ATOMIC_SEQ_CST) & rest;
		}
	}
	return ran;
}

static bool due_or_marked(void)
{
	u64 t = earliest_timer();

	return any_marked() || (t && t <= pvclock_now_ns());
}

bool loop_run_once(bool may_block)
{
	bool ran, busy = false;

	stats.iterations++;
	evtchn_irq_enable();
	ran = run_handlers();
	ran |= run_timers();
	for (unsigned i = 0; i < nr_idle; i++)
		busy |= idle[i].fn(idle[i].arg);
	if (may_block && !ran && !busy)
		block(0, due_or_marked, true);
	return ran || busy;
}

void loop_set_control(evtchn_port_t port)
{
	if (port < NR_EVENT_CHANNELS && ports[port].fn)
		ports[port].control = true;
}

bool loop_run_services(void)
{
	bool ran, was = holding_control;

	holding_control = true;
	ran = loop_run_once(false);
	holding_control = was;
	if (was)
		return ran;
	/* Control ports that fired meanwhile are marked again, unless their
	 * handler is on the stack (they wait for it to return). */
	for (unsigned w = 0; w < NR_WORDS; w++) {
		u64 give = 0;
		for (u64 b = deferred[w]; b; b &= b - 1) {
			unsigned port = w * 64 + (unsigned)__builtin_ctzll(b);
			if (ports[port].control && !ports[port].running)
				give |= 1ULL << (port % 64);
		}
		if (give) {
			deferred[w] &= ~give;
			__atomic_fetch_or(&marked[w], give, __ATOMIC_SEQ_CST);
		}
	}
	return ran;
}

static void deadline_passed(void *arg)
{
	*(bool *)arg = true;
}

bool loop_run_until(bool (*cond)(void *arg), void *arg, u64 deadline_ns)
{
	bool late = false; /* each caller its own: calls may nest */
	struct loop_timer t = { .fn = deadline_passed, .arg = &late };
	bool ok;

	if (loop_init())
		return cond(arg);
	loop_timer_arm(&t, deadline_ns);
	while (!(ok = cond(arg)) && !late)
		loop_run_once(true);
	loop_timer_cancel(&t);
	return ok;
}

void loop_run(void)
{
	if (loop_init())
		puts("dom0: loop: no event channels; the loop will spin");
	for (;;)
		loop_run_once(true);
}

void loop_get_stats(struct loop_stats *s)
{
	*s = stats;
}
