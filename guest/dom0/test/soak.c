/*
 * The soak scenario (cmdline `test=domains scenario=soak`; `make soak`,
 * tests/soak.py, docs/soak.md): many domain lifetimes and many hostile
 * hypercalls in one boot, then proof that the hypervisor gave everything
 * back.
 *
 *   cycles=N   domU create/destroy cycles (default 1000), in four kinds:
 *              built and destroyed without running; run to completion;
 *              destroyed while spinning; with an event channel offered to
 *              dom0 that dom0 binds, then destroyed under it.
 *   calls=N    random hypercalls from hostile domUs in total (default
 *              1000000), spread over `rounds` rounds (default 10), each
 *              a hostile pvtest next to a victim (as scenario hostile),
 *              with its own seed (seed=, default 1, then +1 per round).
 *   exits=N    passed on to the hostile domU (exit-level fuzzing, when
 *              pvtest's hostile role knows it).
 *
 * Cycles and hostile rounds alternate: cycles/rounds cycles, then a round.
 * Before the first and after the last, and after each round, dom0 reads
 * the hypervisor's counts (KEEL_SYSCTL_counts: free frames, domains,
 * event-channel ports in use, grant frames and grant mappings held) and
 * prints them; every figure must be back to its starting value.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/sysctl.h>
#include "domains.h"
#include "loop/loop.h"
#include "domctl.h"
#include "evtchn.h"
#include "guest.h"
#include "pvclock.h"

#define NS_PER_SEC 1000000000UL

static void print_counts(const char *when, const struct keel_sysctl_counts *c)
{
	printf("dom0: soak: counts %s: free pages %lu, domains %u, event channels %u, "
	       "grant frames %u, grant mappings %u\n", when, c->free_pages, c->nr_domains,
	       c->evtchn_ports, c->grant_frames, c->grant_mappings);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static struct keel_sysctl_counts counts(const char *when)
{
	struct keel_sysctl_counts c;
	int rc = sysctl_counts(&c);

	if (rc)
		domains_finish(false, "soak: FAIL sysctl counts: %d", rc);
	print_counts(when, &c);
	return c;
}

/* Every figure back where it was; one check line each. */
static void check_counts(const char *when, const struct keel_sysctl_counts *before)
{
	struct keel_sysctl_counts now = counts(when);
	char what[64];

	snprintf(what, sizeof(what), "%s-free-pages", when);
	domains_check(what, (long)now.free_pages, (long)before->free_pages);
	snprintf(what, sizeof(what), "%s-domains", when);
	domains_check(what, now.nr_domains, before->nr_domains);
	snprintf(what, sizeof(what), "%s-event-channels", when);
	domains_check(what, now.evtchn_ports, before->evtchn_ports);
	snprintf(what, sizeof(what), "%s-grant-frames", when);
	domains_check(what, now.grant_frames, before->grant_frames);
	snprintf(what, sizeof(what), "%s-grant-mappings", when);
	domains_check(what, now.grant_mappings, before->grant_mappings);
	if (domains_nr_bad())
		domains_finish(false, "soak: FAIL resources not back %s", when);
}

static void destroy(domid_t id)
{
	int rc = domctl_destroy(id);

	if (rc)
		domains_finish(false, "soak: FAIL destroy d%u: %d", id, rc);
}

/* One domain lifetime, of kind `n % 4` (see the top of the file). */
static void cycle(u64 n)
{
	domid_t id = domains_domu_create("cycle");
	evtchn_port_t remote, local;
	int rc;

	switch (n % 4) {
	case 0: /* never runs */
		domains_domu_build(id, "role=work steps=1");
		break;
	case 1: /* runs to completion */
		domains_domu_build(id, "role=work steps=1");
		if ((rc = domctl_unpause(id)) || (rc = domains_wait_shutdown(&id, 1, 30 * NS_PER_SEC)))
			domains_finish(false, "soak: FAIL cycle %lu: d%u did not finish: %d", n, id, rc);
		if (domains_shutdown_code(id) != SHUTDOWN_poweroff)
			domains_finish(false, "soak: FAIL cycle %lu: d%u shut down with %d", n, id,
				       domains_shutdown_code(id));
		break;
	case 2: /* destroyed while it runs */
		domains_domu_build(id, "role=spin");
		if ((rc = domctl_unpause(id)))
			domains_finish(false, "soak: FAIL cycle %lu: unpause d%u: %d", n, id, rc);
		break;
	default: /* a channel between it and dom0, dom0's end left bound */
		domains_domu_build(id, "role=work steps=1");
		if ((rc = evtchn_alloc_unbound(id, 0, &remote)) ||
		    (rc = evtchn_bind_interdomain(id, remote, &local)))
			domains_finish(false, "soak: FAIL cycle %lu: channel to d%u: %d", n, id, rc);
		evtchn_send(local);
		destroy(id);
		/* The peer went away: dom0's port is unbound now, and closing
		 * it is dom0's job (as Linux does when a frontend dies). */
		if ((rc = evtchn_close(local)))
			domains_finish(false, "soak: FAIL cycle %lu: close port %u: %d", n, local, rc);
		return;
	}
	destroy(id);
}

/* One hostile domU next to a victim, as scenario hostile. */
static void hostile_round(unsigned round, u64 calls, u64 seed, u64 exits)
{
	char cv[160], ch[240], extra[32] = "";
	evtchn_port_t port;
	int rc;

	domid_t v = domains_domu_create("victim"), h = domains_domu_create("hostile");
	if ((rc = evtchn_alloc_unbound(h, v, &port)))
		domains_finish(false, "soak: FAIL alloc_unbound in d%u for d%u: %d", h, v, rc);
	if (exits)
		snprintf(extra, sizeof(extra), " exits=%lu", exits);
	snprintf(cv, sizeof(cv), "role=victim hostile=%u rport=%u gref=8 steps=20", h, port);
	snprintf(ch, sizeof(ch), "role=hostile victim=%u port=%u gref=8 calls=%lu seed=%lu "
		 "ramtop=0x%x%s", v, port, calls, seed, DOMAINS_DOMU_RAM_MIB << 20, extra);
	domains_domu_build(v, cv);
	domains_domu_build(h, ch);
	if ((rc = domctl_unpause(v)) || (rc = domctl_unpause(h)))
		domains_finish(false, "soak: FAIL unpause: %d", rc);

	domid_t ids[2] = { v, h };
	/* Generous: TCG makes a hypercall cost tens of microseconds. */
	u64 t0 = pvclock_now_ns(), limit = (120 + calls / 500) * NS_PER_SEC;
	if (domains_wait_shutdown(ids, 2, limit))
		domains_finish(false, "soak: FAIL round %u: the domUs did not finish in %lu s", round,
			       limit / NS_PER_SEC);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	domains_check("victim-powered-off", domains_shutdown_code(v), SHUTDOWN_poweroff);
	domains_check("hostile-powered-off-not-crashed", domains_shutdown_code(h),
		      SHUTDOWN_poweroff);
	domains_print_exits(h);
	destroy(v);
	destroy(h);
	printf("dom0: soak: round %u: %lu random hypercalls (seed %lu) in %lu ms\n", round, calls,
	       seed, ms);
}

void soak_run(const char *cmdline)
{
	u64 cycles = 1000, calls = 1000000, rounds = 10, seed = 1, exits = 0, done = 0;
	char when[32];

	cmdline_get_u64(cmdline, "cycles", &cycles);
	cmdline_get_u64(cmdline, "calls", &calls);
	cmdline_get_u64(cmdline, "rounds", &rounds);
	cmdline_get_u64(cmdline, "seed", &seed);
	cmdline_get_u64(cmdline, "exits", &exits);
	if (!rounds)
		rounds = 1;
	printf("dom0: soak: %lu create/destroy cycles, %lu random hypercalls in %lu rounds\n",
	       cycles, calls, rounds);
	/* dom0's loop binds VIRQ_TIMER on its first timer (waiting for a
	 * shutdown runs the loop) and keeps it: a standing port of dom0's,
	 * set up before the baseline. */
	loop_run_until(never, NULL, pvclock_now_ns() + 1000000);
	struct keel_sysctl_counts before = counts("before");
	u64 t0 = pvclock_now_ns();

	for (unsigned r = 0; r < rounds; r++) {
		u64 until = cycles * (r + 1) / rounds;
		for (; done < until; done++)
			cycle(done);
		printf("dom0: soak: %lu/%lu cycles done\n", done, cycles);
		u64 share = calls / rounds + (r < calls % rounds);
		if (share)
			hostile_round(r + 1, share, seed + r, exits);
		snprintf(when, sizeof(when), "after-round-%u", r + 1);
		check_counts(when, &before);
	}
	check_counts("at-the-end", &before);
	domains_finish(true, "soak: PASS %lu create/destroy cycles and %lu random hypercalls from "
		       "hostile domUs in %lu s; free pages, domains, event channels and grants all "
		       "back", cycles, calls, (pvclock_now_ns() - t0) / NS_PER_SEC);
}
