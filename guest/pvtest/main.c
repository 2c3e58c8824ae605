/*
 * pvtest: a minimal PVH domU for tests and benchmarks. It reads its role
 * and its peers from the command line dom0 gave it (pvtest.h), does its
 * part and powers off. Runs with interrupts off throughout: events are
 * waited for with SCHEDOP_poll on masked ports, never taken as upcalls,
 * so the only exits are the ones the role asks for.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "guest.h"
#include "pvclock.h"
#include "pvcons.h"
#include "pvtest.h"

const char guest_name[] = "pvtest";
const char *role = "?";

void fail(const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	printf("pvtest: %s: FAIL %s\n", role, why);
	guest_crash();
}

u64 arg_u64(const char *key)
{
	u64 v;
	int rc = cmdline_get_u64(si_cmdline(start_info()), key, &v);
	if (rc)
		fail("command line: %s=%s", key, rc == -ENOENT ? "missing" : "not a number");
	return v;
}

u64 arg_u64_or(const char *key, u64 dflt)
{
	u64 v;
	int rc = cmdline_get_u64(si_cmdline(start_info()), key, &v);
	if (rc == -ENOENT)
		return dflt;
	if (rc)
		fail("command line: %s is not a number", key);
	return v;
}

u64 rng_next(u64 *state)
{
	u64 x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void wait_port(u32 port, u64 timeout_ns, const char *what)
{
	u64 deadline = pvclock_now_ns() + timeout_ns;

	while (!evtchn_is_pending(port)) {
		if (pvclock_now_ns() >= deadline)
			fail("timed out waiting for %s (port %u)", what, port);
		long rc = evtchn_poll(&port, 1, deadline);
		if (rc)
			fail("SCHEDOP_poll on port %u: %ld", port, rc);
	}
	evtchn_clear_pending(port);
}

/* role=spin: the CPU hog. No hypercalls, no exits: only the host timer
 * can take the CPU away from it. */
static __noreturn void role_spin(void)
{
	puts("pvtest: spin: spinning forever");
	console_flush();
	for (volatile u64 n = 0;; n++)
		;
}

/* role=work: a fixed amount of computation, reported step by step. */
static void role_work(void)
{
	u64 steps = arg_u64_or("steps", 20), sum = 0;

	for (u64 s = 1; s <= steps; s++) {
		for (u64 i = 0; i < 2000000; i++)
			sum = sum * 6364136223846793005ULL + i;
		printf("pvtest: work: step %lu/%lu\n", s, steps);
	}
	printf("pvtest: work: PASS %lu steps done (checksum %lx)\n", steps, sum);
}

void guest_main(const struct hvm_start_info *si)
{
	static char name[16];
	const char *cmdline = si_cmdline(si);

	pvtest_tsc_entry = __builtin_ia32_rdtsc();
	printf("pvtest: Keel PV test domain, cmdline \"%s\"\n", cmdline);
	pvtest_tsc_first_line = __builtin_ia32_rdtsc();
	if (!cmdline_get(cmdline, "role", name, sizeof(name))) {
		puts("pvtest: no role= on the command line; powering off");
		return;
	}
	role = name;
	int rc = evtchn_init();
	if (rc)
		fail("evtchn_init: %d", rc);
	/* A PV console page from the toolstack: everything printed from
	 * here on goes through its ring (guest/lib/pvcons.h); without one
	 * (-ENODEV), console_io as before. */
	rc = pvcons_init(true);
	if (rc && rc != -ENODEV)
		printf("pvtest: %s: PV console unusable (%d): console_io\n", role, rc);
	printf("pvtest: %s: system time %lu ms, TSC %lu kHz%s\n", role,
	       pvclock_now_ns() / 1000000, pvclock_tsc_khz(),
	       pvclock_tsc_stable() ? " (stable)" : "");

	if (!strcmp(role, "ping"))
		role_ping(si);
	else if (!strcmp(role, "pong"))
		role_pong(si);
	else if (!strcmp(role, "bench-start"))
		role_bench_start();
	else if (!strcmp(role, "bench-ping"))
		role_bench_ping();
	else if (!strcmp(role, "bench-pong"))
		role_bench_pong();
	else if (!strcmp(role, "spin"))
		role_spin();
	else if (!strcmp(role, "work"))
		role_work();
	else if (!strcmp(role, "hostile"))
		role_hostile(si);
	else if (!strcmp(role, "victim"))
		role_victim(si);
	else if (!strcmp(role, "rowriter"))
		role_rowriter(si);
	else if (!strcmp(role, "timer"))
		role_timer();
	else if (!strcmp(role, "granter"))
		role_granter(si);
	else if (!strcmp(role, "meddler"))
		role_meddler();
	else if (!strcmp(role, "simd") && role_simd)
		role_simd(si); /* pvtest-simd.elf only */
	else if (!strcmp(role, "flood"))
		role_flood();
	else if (!strcmp(role, "ticker"))
		role_ticker();
	else if (!strcmp(role, "spec"))
		role_spec();
	else if (!strcmp(role, "pvcons"))
		role_pvcons();
	else if (!strcmp(role, "pvcons-hostile"))
		role_pvcons_hostile();
	else if (!strcmp(role, "tpr"))
		role_tpr();
	else if (!strcmp(role, "lapic"))
		role_lapic();
	else if (!strcmp(role, "lapic-hostile"))
		role_lapic_hostile();
	else if (!strcmp(role, "lapic-smp"))
		role_lapic_smp();
	else if (!strcmp(role, "tscaux"))
		role_tscaux();
	else if (!strcmp(role, "stringio"))
		role_stringio();
	else if (!strcmp(role, "vcputime"))
		role_vcputime();
	else if (!strcmp(role, "guest"))
		role_guest(si);
	else if (!strcmp(role, "xs"))
		role_xs();
	else if (!strcmp(role, "xs-ticker"))
		role_xs_ticker();
	else if (!strcmp(role, "xs-hostile"))
		role_xs_hostile();
	else if (!strcmp(role, "modules"))
		role_modules(si);
	else if (!strcmp(role, "platform"))
		role_platform(si);
	else if (!strcmp(role, "blk"))
		role_blk(si);
	else if (!strcmp(role, "blk-hostile"))
		role_blk_hostile(si);
	else if (!strcmp(role, "blk-pg-hostile"))
		role_blk_pg_hostile(si);
	else if (!strcmp(role, "net"))
		role_net(si);
	else if (!strcmp(role, "net-hostile"))
		role_net_hostile(si);
	else if (!strcmp(role, "net-slowrx"))
		role_net_slowrx(si);
	else if (!strcmp(role, "net-burst"))
		role_net_burst(si);
	else if (!strcmp(role, "net-sink"))
		role_net_sink(si);
	else if (!strcmp(role, "inet"))
		role_inet(si);
	else if (!strcmp(role, "disknet"))
		role_disknet(si);
	else
		fail("unknown role");
	puts("pvtest: powering off");
}
