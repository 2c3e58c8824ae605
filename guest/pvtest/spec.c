/*
 * role=spec (pvtest.h): the speculation-control checks of
 * guest/lib/spec_check.c from a domU, then the domU's own IA32_SPEC_CTRL
 * value, different from dom0's, must survive `rounds` yields: the
 * hypervisor keeps one value per vCPU and switches it with the domain.
 * The vCPU must start at IA32_SPEC_CTRL 0, the reset value, whatever the
 * domain before it left there (keep=1 leaves the value set at poweroff,
 * so that dom0 can start another domU after this one; the scenario spec
 * does).
 */
#include <lib/string.h>
#include <public/sched.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"
#include "pvtest.h"
#include "spec_check.h"

static unsigned nr_checks, nr_bad;

static void report(const char *name, bool ok, const char *detail)
{
	nr_checks++;
	nr_bad += !ok;
	printf("pvtest: spec: check %s: %s %s\n", name, ok ? "PASS" : "FAIL", detail);
}

void role_spec(void)
{
	u64 rounds = arg_u64_or("rounds", 20), mine, got = 0;
	bool keep = arg_u64_or("keep", 0);

	/* First, before the checks below write it. */
	if (spec_ctrl_offered()) {
		if (!rdmsr_safe(0x48, &got))
			fail("rdmsr IA32_SPEC_CTRL: #GP although offered");
		if (got)
			fail("IA32_SPEC_CTRL is 0x%lx at start; a new vCPU must start at 0", got);
		printf("pvtest: spec: IA32_SPEC_CTRL 0x0 at start (the reset value)\n");
	}
	unsigned n = spec_check_all("pvtest", report);

	if (nr_bad)
		fail("%u of %u checks failed", nr_bad, nr_checks);
	/* Every offered bit at once: dom0 uses a different value. */
	mine = spec_ctrl_offered();
	if (mine) {
		if (!wrmsr_safe(0x48, mine))
			fail("wrmsr IA32_SPEC_CTRL <- 0x%lx: #GP", mine);
		for (u64 i = 0; i < rounds; i++) {
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
			if (!rdmsr_safe(0x48, &got) || got != mine)
				fail("IA32_SPEC_CTRL reads 0x%lx after %lu yields, wrote 0x%lx", got, i + 1,
				     mine);
		}
		if (!keep)
			wrmsr_safe(0x48, 0);
	}
	printf("pvtest: spec: PASS %u checks of %u features; IA32_SPEC_CTRL 0x%lx kept over %lu "
	       "yields%s\n", nr_checks, n, mine, mine ? rounds : 0,
	       keep && mine ? "; left set at poweroff" : "");
}
