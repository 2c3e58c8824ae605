/*
 * The domains scenario `flood` (domains.c has the list): console
 * isolation between domUs.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include <public/sched.h>
#include "domain/domain.h"
#include "domains.h"
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"

#define NS_PER_SEC 1000000000ULL
#define WAIT_NS DOMAINS_WAIT_NS


/* True if the log text holds a line starting with `prefix` that contains
 * `also` (NULL: anything). */
static bool log_has(const char *text, const char *prefix, const char *also)
{
	size_t np = strlen(prefix);

	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		if (len >= np && !strncmp(l, prefix, np)) {
			if (!also)
				return true;
			for (size_t i = np; i + strlen(also) <= len; i++)
				if (!strncmp(l + i, also, strlen(also)))
					return true;
		}
		l += len + (end ? 1 : 0);
	}
	return false;
}

void scenario_flood(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
	static char text[16 * 1024 + 1];
	u64 bytes = 1 << 20, e9 = 64 * 1024, before = sysctl_free_pages();
	char ct[96], cf[160], want[96];
	evtchn_port_t port;
	u32 n = 0;
	int rc;

	cmdline_get_u64(cmdline, "bytes", &bytes);
	cmdline_get_u64(cmdline, "e9", &e9);

	/* The reference: the ticker next to a domU that only computes (with
	 * interrupts on: a domU spinning with them off is not preempted
	 * under Bochs). */
	u64 ticks = 0;
	cmdline_get_u64(cmdline, "baseline_ticks", &ticks);
	if (ticks) {
		domid_t bt = domains_domu_create("ticker0"), bs = domains_domu_create("computer");
		if ((rc = evtchn_alloc_unbound(bt, bs, &port)))
			domains_finish(false, "FAIL alloc_unbound in d%u for d%u: %d", bt, bs, rc);
		snprintf(ct, sizeof(ct), "role=ticker port=%u period_ms=5 ticks=%lu", port, ticks);
		domains_domu_build(bt, ct);
		domains_domu_build(bs, "role=work steps=1000000");
		domains_check("unpause-computer", domctl_unpause(bs), 0);
		domains_check("unpause-ticker0", domctl_unpause(bt), 0);
		domains_check("baseline-ticker-finished", domains_wait_shutdown(&bt, 1, 4 * WAIT_NS), 0);
		domid_t bids[2] = { bt, bs };
		domains_destroy_all(bids, 2);
	}

	domid_t t = domains_domu_create("ticker"), f = domains_domu_create("flooder");
	if ((rc = evtchn_alloc_unbound(t, f, &port)))
		domains_finish(false, "FAIL alloc_unbound in d%u for d%u: %d", t, f, rc);
	snprintf(ct, sizeof(ct), "role=ticker port=%u period_ms=5", port);
	snprintf(cf, sizeof(cf), "role=flood peer=%u rport=%u bytes=%lu e9=%lu", t, port, bytes, e9);
	domains_domu_build(t, ct);
	domains_domu_build(f, cf);
	/* The flooder first: it has the CPU when the ticker starts. */
	domains_check("unpause-flooder", domctl_unpause(f), 0);
	domains_check("unpause-ticker", domctl_unpause(t), 0);
	domid_t ids[2] = { t, f };
	rc = domains_wait_shutdown(ids, 2, 4 * WAIT_NS);
	domctl_print_list();
	if (rc)
		domains_finish(false, "flood: FAIL the domUs did not finish in %llu s", 4 * WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo it = domains_info(t), iff = domains_info(f);
	domains_check("ticker-powered-off", domains_info_shutdown_code(&it), SHUTDOWN_poweroff);
	domains_check("flooder-powered-off", domains_info_shutdown_code(&iff), SHUTDOWN_poweroff);

	/* The hypervisor's lines from before and after the flood are still
	 * in its log ring: the flood did not push them out. */
	domains_check("readconsole", sysctl_readconsole(text, sizeof(text) - 1, &n), 0);
	text[MIN(n, (u32)sizeof(text) - 1)] = 0;
	snprintf(want, sizeof(want), "keel: domain %u (ticker) created by dom0", t);
	domains_check("dmesg-has-ticker-created", log_has(text, want, NULL), 1);
	snprintf(want, sizeof(want), "keel: domain %u (flooder) created by dom0", f);
	domains_check("dmesg-has-flooder-created", log_has(text, want, NULL), 1);
	snprintf(want, sizeof(want), "keel: domain %u (flooder): console: ", f);
	domains_check("dmesg-has-dropped-bytes-line", log_has(text, want, "bytes dropped"), 1);
	snprintf(want, sizeof(want), "keel: domain %u (flooder) shut down: poweroff", f);
	domains_check("dmesg-has-flooder-shut-down", log_has(text, want, NULL), 1);
	printf("dom0: domains: dmesg read back %u bytes after the flood\n", n);
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "flood: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "flood: PASS the flood was throttled and the hypervisor's log kept");
}
