/*
 * dom0's domain-control scenarios (cmdline `test=domains scenario=...`),
 * driven through the domctl/sysctl wrappers of guest/lib/domctl.h with
 * the pvtest image from dom0's boot modules (keel.cfg `module pvtest
 * /pvtest.elf`). Each prints
 *
 *     dom0: domains: check <name>: <value> (want <value>)
 *
 * for the facts it checks, then `dom0: domains: <scenario>: PASS ...`
 * and powers off, or `... FAIL ...` and crashes (the machine stops with
 * "crash"). Scenarios:
 *
 *   pingpong  two pvtest domUs ping-pong `count` events (default 10000)
 *             and share a granted page; destroyed afterwards, the
 *             hypervisor's free-page count is back where it was.
 *   spin      a domU spinning forever and one doing finite work: the
 *             worker finishes (the spinner is preempted).
 *   hostile   a hostile domU fuzzing the hypercalls (calls=N) and the
 *             exit-causing instructions (exits=N) next to a victim domU
 *             that granted it a page: both finish normally (wait_s=S:
 *             how long dom0 waits for them).
 *   domctl    domain control itself: create, memory, build, pause,
 *             unpause, info, weights, destroy, and dom0's own bad inputs.
 *   timer     a domU checks its PV timers and clock (pvtest role=timer).
 *   zombie    a domU destroyed while dom0 maps its granted page.
 *   isolation a domU meddling with CR8, WBINVD and the debug registers
 *             next to a timer domU; dom0 keeps its own timer ticks and
 *             debug registers (pvtest role=meddler).
 *   fpu       two pvtest-simd domUs (role=simd) check their FPU/SIMD
 *             state while dom0 keeps its own pattern in its registers
 *             (docs/fpu.md); needs `module pvtest /pvtest-simd.elf`.
 *   held      dom0's grant and foreign mappings of a domU's pages are
 *             never overwritten or lost (asm/p2m.h): other mappings, a
 *             BAR move onto them and MSI-X re-protection; a dying domU's
 *             grant table does not grow; the domU is reaped when dom0
 *             lets go and every page is back. Needs a PCI device with
 *             MSI-X and a 64-bit BAR (QEMU -device virtio-rng-pci).
 *   flood     a domU floods the console (`bytes` through console_io,
 *             `e9` through port 0xE9) next to one measuring its timers'
 *             lateness: the flood is rate-limited (a dropped-bytes line)
 *             and the hypervisor's lines survive in the log ring (read
 *             back with sysctl readconsole, as `dmesg`).
 *   spec      a domU runs the speculation-control checks (pvtest
 *             role=spec) while dom0 holds another IA32_SPEC_CTRL value:
 *             each domain keeps its own.
 *   rowrite   a domU writes through a read-only grant mapping of another
 *             domU's page: it is killed, the page is unchanged.
 *   soak      create/destroy cycles and hostile domUs for a long time,
 *             every resource count back at the end (soak.c, make soak).
 */
#include <keel/errno.h>
#include <keel/lib.h>
#include <public/memory.h>
#include <public/sched.h>
#include "dom0.h"
#include "domains.h"
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "hypercall.h"
#include "cpuregs.h"
#include "pvclock.h"
#include "simd.h"
#include "pci/pci.h"
#include "spec_check.h"

#define NS_PER_SEC 1000000000ULL
#define DOMU_RAM_MIB DOMAINS_DOMU_RAM_MIB
#define WAIT_NS (50 * NS_PER_SEC)

static const void *image;
static u64 image_size;
static evtchn_port_t dom_exc_port;
static unsigned nr_checks, nr_bad;

__noreturn __printf(2, 3) static void finish(bool ok, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("dom0: domains: %s\n", msg);
	if (!ok)
		guest_crash();
	guest_poweroff();
}

static void check(const char *what, long got, long want)
{
	nr_checks++;
	if (got != want)
		nr_bad++;
	printf("dom0: domains: check %s: %ld (want %ld)%s\n", what, got, want,
	       got == want ? "" : " MISMATCH");
}

/* The module whose command line starts with "pvtest" (dom0.c names each
 * module "name cmdline"). */
static bool find_pvtest(const struct hvm_start_info *si)
{
	unsigned n;
	const struct hvm_modlist_entry *m = si_modules(si, &n);

	for (unsigned i = 0; i < n; i++) {
		const char *c = si_module_cmdline(&m[i]);
		if (!strncmp(c, "pvtest", 6) && (c[6] == 0 || c[6] == ' ')) {
			image = (const void *)(uintptr_t)m[i].paddr;
			image_size = m[i].size;
			return true;
		}
	}
	return false;
}

/* Creates a paused domU with DOMU_RAM_MIB of RAM at guest-physical 0. */
static domid_t domu_create(const char *name)
{
	domid_t id = 0;
	int rc = domctl_create(&id, 1, name);
	if (rc)
		finish(false, "FAIL create %s: %d", name, rc);
	if ((rc = domctl_max_mem(id, DOMU_RAM_MIB * 1024)) ||
	    (rc = domctl_populate_ram(id, 0, DOMU_RAM_MIB * 256)))
		finish(false, "FAIL memory for d%u (%s): %d", id, name, rc);
	return id;
}

static void domu_build(domid_t id, const char *cmdline)
{
	int rc = domctl_pvh_build(id, image, image_size, cmdline);
	if (rc)
		finish(false, "FAIL build d%u with \"%s\": %d", id, cmdline, rc);
	printf("dom0: domains: d%u built: \"%s\"\n", id, cmdline);
}

static struct xen_domctl_getdomaininfo info_of(domid_t id)
{
	struct xen_domctl_getdomaininfo info;
	int rc = domctl_getdomaininfo(id, &info);
	if (rc)
		finish(false, "FAIL getdomaininfo d%u: %d", id, rc);
	return info;
}

static bool is_shut_down(domid_t id)
{
	return info_of(id).flags & XEN_DOMINF_shutdown;
}

static u32 shutdown_code(const struct xen_domctl_getdomaininfo *i)
{
	return (i->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
}

/* Sleeps on VIRQ_DOM_EXC (or a 1 s tick) until every domain in ids has
 * shut down; -ETIMEDOUT after timeout_ns. */
static int wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns)
{
	u64 deadline = pvclock_now_ns() + timeout_ns;

	for (;;) {
		unsigned down = 0;
		for (unsigned i = 0; i < n; i++)
			down += is_shut_down(ids[i]);
		if (down == n)
			return 0;
		u64 now = pvclock_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		evtchn_poll(&dom_exc_port, 1, MIN(deadline, now + NS_PER_SEC));
		evtchn_clear_pending(dom_exc_port);
	}
}

static void print_exits(domid_t id)
{
	u64 c[KEEL_EXIT_NR];
	u32 total;
	if (domctl_exit_counts(id, c, KEEL_EXIT_NR, &total))
		return;
	printf("dom0: domains: d%u exits: hypercall %lu, extint %lu, hlt %lu, io %lu, npf %lu, "
	       "cpuid %lu, cache-flush %lu, preempt %lu\n", id, c[KEEL_EXIT_HYPERCALL],
	       c[KEEL_EXIT_EXTINT], c[KEEL_EXIT_HLT], c[KEEL_EXIT_IO], c[KEEL_EXIT_NPF],
	       c[KEEL_EXIT_CPUID], c[KEEL_EXIT_CACHE_FLUSH], c[KEEL_EXIT_PREEMPT]);
}

static void destroy_all(const domid_t *ids, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = domctl_destroy(ids[i]);
		if (rc)
			finish(false, "FAIL destroy d%u: %d", ids[i], rc);
		check("getdomaininfo-after-destroy", domctl_getdomaininfo(ids[i], &(struct xen_domctl_getdomaininfo){ 0 }), -ESRCH);
	}
}

static void check_free_pages(u64 before)
{
	u64 after = sysctl_free_pages();
	printf("dom0: domains: hypervisor free pages: %lu before the domUs, %lu after destroying "
	       "them\n", before, after);
	check("free-pages-back-to-before", (long)after, (long)before);
}

/* ---- scenarios ----------------------------------------------------------- */

static void scenario_pingpong(const char *cmdline)
{
	u64 count = 10000, before = sysctl_free_pages();
	char ca[160], cb[160];
	evtchn_port_t port;
	int rc;

	cmdline_get_u64(cmdline, "count", &count);
	domid_t a = domu_create("pong"), b = domu_create("ping");
	/* The pong side's port, offered to the ping side: dom0 allocates it
	 * in d<a> (a control domain may) before either runs. */
	if ((rc = evtchn_alloc_unbound(a, b, &port)))
		finish(false, "FAIL alloc_unbound in d%u for d%u: %d", a, b, rc);
	snprintf(ca, sizeof(ca), "role=pong peer=%u port=%u gref=8 count=%lu", b, port, count);
	snprintf(cb, sizeof(cb), "role=ping peer=%u rport=%u gref=8 count=%lu", a, port, count);
	domu_build(a, ca);
	domu_build(b, cb);
	check("unpause-pong", domctl_unpause(a), 0);
	check("unpause-ping", domctl_unpause(b), 0);
	domctl_print_list();

	domid_t ids[2] = { a, b };
	u64 t0 = pvclock_now_ns();
	rc = wait_shutdown(ids, 2, WAIT_NS);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	domctl_print_list();
	if (rc)
		finish(false, "pingpong: FAIL the domUs did not finish in %llu s",
		       WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo ia = info_of(a), ib = info_of(b);
	check("pong-powered-off", shutdown_code(&ia), SHUTDOWN_poweroff);
	check("ping-powered-off", shutdown_code(&ib), SHUTDOWN_poweroff);
	print_exits(a);
	print_exits(b);
	destroy_all(ids, 2);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "pingpong: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "pingpong: PASS %lu pings between d%u and d%u in %lu ms; both destroyed, "
	       "every page back", count, a, b, ms);
}

static void scenario_spin(const char *cmdline)
{
	u64 steps = 20, before = sysctl_free_pages();
	char cw[64];

	cmdline_get_u64(cmdline, "steps", &steps);
	domid_t s = domu_create("spinner"), w = domu_create("worker");
	snprintf(cw, sizeof(cw), "role=work steps=%lu", steps);
	domu_build(s, "role=spin");
	domu_build(w, cw);
	/* The spinner first: it has the CPU when the worker starts. */
	check("unpause-spinner", domctl_unpause(s), 0);
	check("unpause-worker", domctl_unpause(w), 0);

	u64 t0 = pvclock_now_ns();
	int rc = wait_shutdown(&w, 1, WAIT_NS);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	domctl_print_list();
	if (rc)
		finish(false, "spin: FAIL the worker did not finish in %llu s next to the spinner",
		       WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo is = info_of(s), iw = info_of(w);
	check("worker-powered-off", shutdown_code(&iw), SHUTDOWN_poweroff);
	check("spinner-still-running", !(is.flags & XEN_DOMINF_shutdown), 1);
	check("spinner-got-cpu-time", is.cpu_time > 0, 1);
	/* Equal weights, both always runnable: equal shares of the CPU, give
	 * or take a few slices. */
	u64 lo = MIN(is.cpu_time, iw.cpu_time), hi = MAX(is.cpu_time, iw.cpu_time);
	printf("dom0: domains: cpu time: spinner %lu ms, worker %lu ms\n", is.cpu_time / 1000000,
	       iw.cpu_time / 1000000);
	check("fair-share-within-3x", hi <= 3 * lo, 1);
	print_exits(s);
	print_exits(w);
	domid_t ids[2] = { s, w };
	destroy_all(ids, 2); /* the spinner while it still runs */
	check_free_pages(before);
	if (nr_bad)
		finish(false, "spin: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "spin: PASS the worker finished in %lu ms next to a domU spinning forever",
	       ms);
}

static void scenario_hostile(const char *cmdline)
{
	u64 calls = 10000, seed = 1, victim_steps = 40, exits = 0, wait_s = WAIT_NS / NS_PER_SEC;
	u64 exit_kinds = ~0ULL;
	u64 before = sysctl_free_pages();
	char cv[160], ch[220];
	evtchn_port_t port;
	int rc;

	cmdline_get_u64(cmdline, "calls", &calls);
	cmdline_get_u64(cmdline, "seed", &seed);
	cmdline_get_u64(cmdline, "victim_steps", &victim_steps);
	cmdline_get_u64(cmdline, "exits", &exits);
	cmdline_get_u64(cmdline, "exit_kinds", &exit_kinds);
	cmdline_get_u64(cmdline, "wait_s", &wait_s);
	domid_t v = domu_create("victim"), h = domu_create("hostile");
	if ((rc = evtchn_alloc_unbound(h, v, &port)))
		finish(false, "FAIL alloc_unbound in d%u for d%u: %d", h, v, rc);
	snprintf(cv, sizeof(cv), "role=victim hostile=%u rport=%u gref=8 steps=%lu storm_s=%lu", h,
		 port, victim_steps, wait_s);
	snprintf(ch, sizeof(ch), "role=hostile victim=%u port=%u gref=8 calls=%lu seed=%lu "
		 "ramtop=0x%x exits=%lu exit_kinds=%lu", v, port, calls, seed, DOMU_RAM_MIB << 20,
		 exits, exit_kinds);
	domu_build(v, cv);
	domu_build(h, ch);
	check("unpause-victim", domctl_unpause(v), 0);
	check("unpause-hostile", domctl_unpause(h), 0);

	domid_t ids[2] = { v, h };
	rc = wait_shutdown(ids, 2, wait_s * NS_PER_SEC);
	domctl_print_list();
	if (rc)
		finish(false, "hostile: FAIL the domUs did not finish in %lu s", wait_s);
	struct xen_domctl_getdomaininfo iv = info_of(v), ih = info_of(h);
	check("victim-powered-off", shutdown_code(&iv), SHUTDOWN_poweroff);
	check("hostile-powered-off-not-crashed", shutdown_code(&ih), SHUTDOWN_poweroff);
	/* dom0 itself: still answering. */
	check("dom0-info", domctl_getdomaininfo(0, &(struct xen_domctl_getdomaininfo){ 0 }), 0);
	print_exits(h);
	destroy_all(ids, 2);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "hostile: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "hostile: PASS the hostile domU made %lu random hypercalls and lived; the "
	       "victim and dom0 were unaffected", calls);
}

/*
 * A write through a read-only grant mapping: the victim grants a page
 * read-only to the writer, the writer maps it read-only and writes to
 * it. The hypervisor must kill the writer (the nested page tables map
 * the page read-only) and leave the victim and its page alone; dom0
 * destroys the writer (dropping its mapping) and tells the victim, which
 * checks its page and revokes the grant.
 */
static void scenario_rowrite(void)
{
	u64 before = sysctl_free_pages();
	char cv[160], cw[96];
	evtchn_port_t port;
	int rc;

	domid_t v = domu_create("victim"), w = domu_create("writer");
	if ((rc = evtchn_alloc_unbound(DOMID_SELF, v, &port)))
		finish(false, "FAIL alloc_unbound in dom0 for d%u: %d", v, rc);
	snprintf(cv, sizeof(cv), "role=victim hostile=%u notifier=0 rport=%u gref=8 steps=1 "
		 "storm=0", w, port);
	snprintf(cw, sizeof(cw), "role=rowriter granter=%u gref=8", v);
	domu_build(v, cv);
	domu_build(w, cw);
	check("unpause-victim", domctl_unpause(v), 0);
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!evtchn_is_pending(port) && pvclock_now_ns() < limit)
		evtchn_poll(&port, 1, limit);
	check("victim-granted", evtchn_is_pending(port), 1);
	evtchn_clear_pending(port);
	check("unpause-writer", domctl_unpause(w), 0);
	check("writer-stopped", wait_shutdown(&w, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo iw = info_of(w);
	check("writer-crashed", shutdown_code(&iw), SHUTDOWN_crash);
	check("victim-still-running", !is_shut_down(v), 1);
	print_exits(w);
	check("destroy-writer", domctl_destroy(w), 0);
	check("tell-victim", evtchn_send(port), 0);
	check("victim-finished", wait_shutdown(&v, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo iv = info_of(v);
	check("victim-powered-off", shutdown_code(&iv), SHUTDOWN_poweroff);
	destroy_all(&v, 1);
	evtchn_close(port);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "rowrite: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "rowrite: PASS the write through a read-only grant mapping stopped the "
	       "writer; the victim's page is unchanged");
}

/* A domU checks that its CR8 holds back its per-vCPU upcall vector
 * (guest/pvtest/tpr.c). */
static void scenario_tpr(void)
{
	u64 before = sysctl_free_pages();
	domid_t t = domu_create("tpr");
	domu_build(t, "role=tpr hold_ms=200");
	check("unpause-tpr", domctl_unpause(t), 0);
	check("tpr-domu-finished", wait_shutdown(&t, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo it = info_of(t);
	check("tpr-powered-off", shutdown_code(&it), SHUTDOWN_poweroff);
	print_exits(t);
	destroy_all(&t, 1);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "tpr: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "tpr: PASS");
}

/* Two domUs, each with its own IA32_TSC_AUX, yielding to each other
 * (guest/pvtest/tscaux.c). */
static void scenario_tscaux(void)
{
	u64 before = sysctl_free_pages();
	domid_t d[2] = { domu_create("aux1"), domu_create("aux2") };
	domu_build(d[0], "role=tscaux tag=0x1111 rounds=50");
	domu_build(d[1], "role=tscaux tag=0x2222 rounds=50");
	check("unpause-aux1", domctl_unpause(d[0]), 0);
	check("unpause-aux2", domctl_unpause(d[1]), 0);
	check("tscaux-domus-finished", wait_shutdown(d, 2, WAIT_NS), 0);
	for (unsigned i = 0; i < 2; i++) {
		struct xen_domctl_getdomaininfo it = info_of(d[i]);
		check("tscaux-powered-off", shutdown_code(&it), SHUTDOWN_poweroff);
	}
	destroy_all(d, 2);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "tscaux: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "tscaux: PASS");
}

static void scenario_timer(void)
{
	u64 before = sysctl_free_pages();
	domid_t t = domu_create("timer");
	domu_build(t, "role=timer rounds=20");
	check("unpause-timer", domctl_unpause(t), 0);
	check("timer-domu-finished", wait_shutdown(&t, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo it = info_of(t);
	check("timer-powered-off", shutdown_code(&it), SHUTDOWN_poweroff);
	print_exits(t);
	destroy_all(&t, 1);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "timer: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "timer: PASS");
}

/*
 * Destroying a domain whose page dom0 still maps through a grant: the
 * page stays valid for dom0 (Xen keeps a dying domain's pages until the
 * last reference goes), the domain stays listed as dying, and when dom0
 * unmaps, the page goes back to the allocator and the id is freed.
 */
static void scenario_zombie(const struct hvm_start_info *si)
{
	evtchn_port_t port, local;
	char cg[96];
	int rc;

	/* dom0's own grant table, mapping window and handle table first:
	 * they stay. One mapping of a page dom0 grants itself sets up the
	 * handle table (Xen's maptrack), which outlives the mapping. */
	static u8 own[PAGE_SIZE] __aligned(PAGE_SIZE);
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	if ((rc = gnttab_init(si, 1)))
		finish(false, "FAIL gnttab_init: %d", rc);
	gnttab_grant_access_ref(9, 0, virt_to_gfn(own), true);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map | GNTMAP_readonly, 9, 0);
	if (gnttab_map_refs(&m, 1) || m.status)
		finish(false, "FAIL mapping dom0's own grant: status %d", m.status);
	gnttab_set_unmap_op(&u, gnttab_slot_gpa(1), m.handle);
	if (gnttab_unmap_refs(&u, 1) || u.status || !gnttab_end_access(9))
		finish(false, "FAIL unmapping dom0's own grant: status %d", u.status);
	u64 before = sysctl_free_pages();
	domid_t g = domu_create("granter");
	if ((rc = evtchn_alloc_unbound(g, 0, &port)) ||
	    (rc = evtchn_bind_interdomain(g, port, &local)))
		finish(false, "FAIL channel to d%u: %d", g, rc);
	evtchn_clear_pending(local);
	snprintf(cg, sizeof(cg), "role=granter peer=0 port=%u gref=8", port);
	domu_build(g, cg);
	check("unpause-granter", domctl_unpause(g), 0);
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!evtchn_is_pending(local) && pvclock_now_ns() < limit)
		evtchn_poll(&local, 1, limit);
	check("granter-notified", evtchn_is_pending(local), 1);

	gnttab_set_map_op(&m, gnttab_slot_gpa(0), GNTMAP_host_map | GNTMAP_readonly, 8, g);
	long hrc = gnttab_map_refs(&m, 1);
	check("map-granters-page", hrc ? hrc : m.status, GNTST_okay);
	const u8 *page = gnttab_slot_va(0);
	u8 first = page[1];

	check("destroy-while-mapped", domctl_destroy(g), 0);
	struct xen_domctl_getdomaininfo info;
	check("still-listed", domctl_getdomaininfo(g, &info), 0);
	check("listed-as-dying", !!(info.flags & XEN_DOMINF_dying), 1);
	check("page-still-readable-and-intact", page[1] == first && first == (u8)(1 * 31 + 7), 1);
	check("free-pages-short-by-the-mapped-page", (long)(before - sysctl_free_pages()) > 0, 1);

	gnttab_set_unmap_op(&u, gnttab_slot_gpa(0), m.handle);
	hrc = gnttab_unmap_refs(&u, 1);
	check("unmap", hrc ? hrc : u.status, GNTST_okay);
	check("destroy-dying-domain-finishes", domctl_destroy(g), 0);
	check("gone", domctl_getdomaininfo(g, &info), -ESRCH);
	evtchn_close(local);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "zombie: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "zombie: PASS a destroyed domain's mapped page outlived it until unmapped");
}

/*
 * Machine state a guest sets without exits must stay that guest's
 * (issue 10): a meddler domU sets CR8 = 15 (were it the physical TPR, the
 * hypervisor's timer vector would be blocked and this very poll loop would
 * never wake again), arms DR0-3/DR7 and runs WBINVD in a loop, next to a
 * timer domU checking its own PV timers. dom0 meanwhile counts its own
 * 50 ms ticks and afterwards finds its debug registers and CR8 as it left
 * them; every WBINVD was an exit the hypervisor counted.
 */
#define ISO_TICK_NS (50 * 1000000ULL)
#define ISO_LATE_MAX_NS (500 * 1000000ULL)
#define ISO_DR7 (0x400ULL | (1ULL << 16) | (3ULL << 18)) /* R/W0 write, LEN0 4: not enabled */
#define ISO_DR6_BITS 0x5ULL                           /* B0 and B2 */

static void scenario_isolation(const char *cmdline)
{
	static const u64 dr[4] = { 0x0000d0d0d0d00000ULL, 0x0000d0d0d0d00100ULL,
				   0x0000d0d0d0d00200ULL, 0x0000d0d0d0d00300ULL };
	u64 wbinvds = 1000, arm = 1, before = sysctl_free_pages(), ticks = 0, worst = 0;
	evtchn_port_t tick_port;
	char cm[64];
	int rc;

	cmdline_get_u64(cmdline, "wbinvd", &wbinvds);
	cmdline_get_u64(cmdline, "arm", &arm);
	for (unsigned i = 0; i < 4; i++)
		write_dr(i, dr[i]);
	write_dr(6, 0xffff0ff0ULL | ISO_DR6_BITS);
	write_dr(7, ISO_DR7);
	printf("dom0: domains: dom0's DR0 0x%lx DR6 0x%lx DR7 0x%lx CR8 %lu\n", read_dr(0),
	       read_dr(6), read_dr(7), read_cr8());
	/* A port nobody signals: polling it is a pure timed sleep. */
	if ((rc = evtchn_alloc_unbound(0, 0, &tick_port)))
		finish(false, "FAIL alloc_unbound for the tick port: %d", rc);

	domid_t m = domu_create("meddler"), t = domu_create("timer");
	snprintf(cm, sizeof(cm), "role=meddler wbinvd=%lu arm=%lu", wbinvds, arm);
	domu_build(m, cm);
	domu_build(t, "role=timer rounds=20 dregs=1");
	check("unpause-meddler", domctl_unpause(m), 0);
	check("unpause-timer", domctl_unpause(t), 0);

	domid_t ids[2] = { m, t };
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!(is_shut_down(m) && is_shut_down(t)) && pvclock_now_ns() < limit) {
		u64 due = pvclock_now_ns() + ISO_TICK_NS;
		evtchn_poll(&tick_port, 1, due);
		u64 now = pvclock_now_ns();
		ticks++;
		worst = MAX(worst, now > due ? now - due : 0);
	}
	printf("dom0: domains: dom0 took %lu ticks of 50 ms next to the meddler, the latest "
	       "%lu ms late\n", ticks, worst / 1000000);
	check("domus-finished", is_shut_down(m) && is_shut_down(t), 1);
	check("dom0-ticks-on-time", worst <= ISO_LATE_MAX_NS, 1);
	check("dom0-ticked", ticks >= 4, 1);
	struct xen_domctl_getdomaininfo im = info_of(m), it = info_of(t);
	check("meddler-powered-off", shutdown_code(&im), SHUTDOWN_poweroff);
	check("timer-powered-off", shutdown_code(&it), SHUTDOWN_poweroff);

	/* dom0's own registers, as it left them. */
	for (unsigned i = 0; i < 4; i++) {
		char what[32];
		snprintf(what, sizeof(what), "dom0-dr%u-kept", i);
		check(what, read_dr(i) == dr[i], 1);
	}
	check("dom0-dr6-kept", (long)(read_dr(6) & 0xf), (long)ISO_DR6_BITS);
	check("dom0-dr7-kept", (long)read_dr(7), (long)ISO_DR7);
	check("dom0-cr8-kept", (long)read_cr8(), 0);

	u64 c[KEEL_EXIT_NR];
	check("exit-counts", domctl_exit_counts(m, c, KEEL_EXIT_NR, NULL), 0);
	check("meddler-wbinvd-exits", (long)c[KEEL_EXIT_CACHE_FLUSH], (long)wbinvds);
	print_exits(m);
	print_exits(t);
	write_dr(7, 0x400);
	evtchn_close(tick_port);
	destroy_all(ids, 2);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "isolation: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "isolation: PASS dom0 ticked %lu times on time next to a domU with CR8 15, "
	       "%lu WBINVDs and its own breakpoints", ticks, wbinvds);
}

/* ---- foreign mappings -------------------------------------------------- */

static int map_foreign(domid_t fd, u64 idx, u64 gpa, int *err)
{
	xen_ulong_t idxs[1] = { idx };
	xen_pfn_t gpfns[1] = { gpa >> PAGE_SHIFT };
	struct xen_add_to_physmap_batch b = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_gmfn_foreign,
		.size = 1,
		.u.foreign_domid = fd,
		.idxs = (u64)(uintptr_t)idxs,
		.gpfns = (u64)(uintptr_t)gpfns,
		.errs = (u64)(uintptr_t)err,
	};
	*err = 1;
	return (int)HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, &b);
}

/* The call's error, else the frame's. */
static int map_foreign_err(domid_t fd, u64 idx, u64 gpa)
{
	int err;
	int rc = map_foreign(fd, idx, gpa, &err);
	return rc ? rc : err;
}

static int unmap_foreign(u64 gpa)
{
	struct xen_remove_from_physmap r = { .domid = DOMID_SELF, .gpfn = gpa >> PAGE_SHIFT };
	return (int)HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &r);
}

/* The first loadable segment of the pvtest ELF64 image: where it goes and
 * where its bytes are in the file. */
static bool first_segment(u64 *paddr, u64 *offset, u64 *filesz)
{
	const u8 *e = image;
	u64 phoff;
	u16 phentsize, phnum;
	memcpy(&phoff, e + 32, 8);
	memcpy(&phentsize, e + 54, 2);
	memcpy(&phnum, e + 56, 2);
	for (u16 i = 0; i < phnum; i++) {
		const u8 *ph = e + phoff + (u64)i * phentsize;
		u32 type;
		memcpy(&type, ph, 4);
		if (type != 1 /* PT_LOAD */)
			continue;
		memcpy(offset, ph + 8, 8);
		memcpy(paddr, ph + 24, 8);
		memcpy(filesz, ph + 32, 8);
		return *filesz > 0;
	}
	return false;
}

/* dom0 maps a built (paused) domU's pages into its own physmap, as a
 * toolstack does to load or inspect a guest, and every mistake gets its
 * error without changing anything. */
static void scenario_foreign(const struct hvm_start_info *si)
{
	u64 paddr, offset, filesz;
	int rc, err;

	if ((rc = gnttab_init(si, 1)))
		finish(false, "FAIL gnttab_init (for its mapping window): %d", rc);
	if (!first_segment(&paddr, &offset, &filesz))
		finish(false, "FAIL no loadable segment in the pvtest image");
	u64 before = sysctl_free_pages();
	domid_t f = domu_create("foreign");
	domu_build(f, "role=work steps=1");
	u64 gfn = paddr >> PAGE_SHIFT, slot0 = gnttab_slot_gpa(0), slot1 = gnttab_slot_gpa(1);

	check("map", map_foreign(f, gfn, slot0, &err), 0);
	check("map-err", err, 0);
	u64 n = MIN(filesz, PAGE_SIZE - (paddr & (PAGE_SIZE - 1)));
	const u8 *page = (const u8 *)gnttab_slot_va(0) + (paddr & (PAGE_SIZE - 1));
	check("page-holds-the-loaded-image", memcmp(page, (const u8 *)image + offset, n) == 0, 1);
	check("map-same-frame-again", map_foreign_err(f, gfn, slot1), 0);
	((volatile u8 *)gnttab_slot_va(0))[0] ^= 0x5a;
	check("both-mappings-are-one-frame",
	      ((volatile u8 *)gnttab_slot_va(1))[0] == ((volatile u8 *)gnttab_slot_va(0))[0], 1);

	/* Mistakes: each refused per frame or as a whole, nothing changed. */
	check("map-onto-a-mapped-slot", map_foreign_err(f, gfn, slot0), -EBUSY);
	check("map-beyond-its-ram", map_foreign_err(f, 0x7ffff, gnttab_slot_gpa(2)), -ENOENT);
	check("map-own-domain", map_foreign(0, gfn, gnttab_slot_gpa(2), &err), -ESRCH);
	check("map-no-such-domain", map_foreign(63, gfn, gnttab_slot_gpa(2), &err), -ESRCH);
	check("map-onto-own-ram", map_foreign_err(f, gfn, 0x2000000), -EBUSY);
	check("remove-own-ram", unmap_foreign(0x2000000), -EOPNOTSUPP);
	check("remove-a-hole", unmap_foreign(gnttab_slot_gpa(2)), -ENOENT);

	/* Destroyed while mapped: the pages outlive it until unmapped. */
	check("destroy-while-mapped", domctl_destroy(f), 0);
	struct xen_domctl_getdomaininfo info;
	check("listed-as-dying", domctl_getdomaininfo(f, &info) == 0 &&
				 (info.flags & XEN_DOMINF_dying), 1);
	check("unmap-0", unmap_foreign(slot0), 0);
	check("unmap-1", unmap_foreign(slot1), 0);
	check("unmap-twice", unmap_foreign(slot1), -ENOENT);
	check("destroy-finishes", domctl_destroy(f), 0);
	check("gone", domctl_getdomaininfo(f, &info), -ESRCH);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "foreign: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "foreign: PASS dom0 mapped a domU's pages, and every mistake was refused");
}

/* ---- held mappings: never overwritten, never lost (asm/p2m.h) ------------ */

static int add_to_physmap(domid_t dom, unsigned space, u64 idx, u64 gpa)
{
	struct xen_add_to_physmap x = {
		.domid = dom, .space = space, .idx = idx, .gpfn = gpa >> PAGE_SHIFT,
	};
	return (int)HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

static u64 bar_read64(const struct pci_dev *p, unsigned i)
{
	return (pci_cfg_read(p, PCI_BAR0 + 4 * i, 4) & ~0xfULL) |
	       (u64)pci_cfg_read(p, PCI_BAR0 + 4 * i + 4, 4) << 32;
}

/* Reprograms 64-bit BAR i (low dword, then high: the hypervisor acts on
 * the high one) and returns what it reads back. */
static u64 bar_move64(const struct pci_dev *p, unsigned i, u64 addr)
{
	u32 lo = pci_cfg_read(p, PCI_BAR0 + 4 * i, 4);

	pci_cfg_write(p, PCI_BAR0 + 4 * i, 4, (u32)addr | (lo & 0xf));
	pci_cfg_write(p, PCI_BAR0 + 4 * i + 4, 4, (u32)(addr >> 32));
	return bar_read64(p, i);
}

/* A device with MSI-X and a 64-bit memory BAR that does not hold its
 * table; *bar64 is that BAR, *table the page of the MSI-X table. */
static const struct pci_dev *msix_dev_with_bar64(unsigned *bar64, u64 *table)
{
	for (unsigned n = 0; n < pci_ndevs; n++) {
		const struct pci_dev *p = &pci_devs[n];
		u8 cap = pci_cap_find(p, PCI_CAP_ID_MSIX, 0);
		if (!cap)
			continue;
		u32 treg = pci_cfg_read(p, cap + 4, 4);
		unsigned bir = treg & 7;
		if (bir >= 6 || !p->bar[bir].addr)
			continue;
		for (unsigned i = 0; i < 6; i++) {
			const struct pci_bar_info *b = &p->bar[i];
			if (i != bir && b->mem64 && b->addr && b->size && b->size <= 64 * PAGE_SIZE) {
				*bar64 = i;
				*table = (p->bar[bir].addr + (treg & ~7u)) & ~(u64)(PAGE_SIZE - 1);
				return p;
			}
		}
	}
	return NULL;
}

static void scenario_held(const struct hvm_start_info *si)
{
	static u8 own[PAGE_SIZE] __aligned(PAGE_SIZE);
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	struct xen_domctl_getdomaininfo info;
	evtchn_port_t port, local;
	u64 paddr, offset, filesz, table;
	unsigned bar;
	char cg[96];
	int rc;

	/* dom0's grant table and handle table first: they stay (see
	 * scenario_zombie). */
	if ((rc = gnttab_init(si, 1)))
		finish(false, "FAIL gnttab_init: %d", rc);
	gnttab_grant_access_ref(9, 0, virt_to_gfn(own), true);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map | GNTMAP_readonly, 9, 0);
	if (gnttab_map_refs(&m, 1) || m.status)
		finish(false, "FAIL mapping dom0's own grant: status %d", m.status);
	gnttab_set_unmap_op(&u, gnttab_slot_gpa(1), m.handle);
	if (gnttab_unmap_refs(&u, 1) || u.status || !gnttab_end_access(9))
		finish(false, "FAIL unmapping dom0's own grant: status %d", u.status);
	if (!first_segment(&paddr, &offset, &filesz))
		finish(false, "FAIL no loadable segment in the pvtest image");
	pci_init(si->rsdp_paddr);
	const struct pci_dev *dev = msix_dev_with_bar64(&bar, &table);
	if (!dev)
		finish(false, "held: FAIL no PCI device with MSI-X and a 64-bit BAR "
		       "(QEMU: -device virtio-rng-pci)");
	u64 bar_home = dev->bar[bar].addr, bar_size = dev->bar[bar].size;
	/* Two BAR-sized blocks in dom0's mapping window, clear of the slots
	 * used below: A gets a foreign mapping in its second page, B stays
	 * empty. */
	u64 block_a = ALIGN_UP(gnttab_slot_gpa(64), bar_size), block_b = block_a + 2 * bar_size;
	printf("dom0: domains: device %02x:%02x.%u BAR%u 0x%lx+0x%lx, MSI-X table page 0x%lx\n",
	       PCI_BUS(dev->bdf), PCI_DEV(dev->bdf), PCI_FN(dev->bdf), bar, bar_home, bar_size,
	       table);

	u64 before = sysctl_free_pages();
	domid_t g = domu_create("holder");
	if ((rc = evtchn_alloc_unbound(g, 0, &port)) ||
	    (rc = evtchn_bind_interdomain(g, port, &local)))
		finish(false, "FAIL channel to d%u: %d", g, rc);
	evtchn_clear_pending(local);
	snprintf(cg, sizeof(cg), "role=granter peer=0 port=%u gref=8", port);
	domu_build(g, cg);
	check("unpause-holder", domctl_unpause(g), 0);
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!evtchn_is_pending(local) && pvclock_now_ns() < limit)
		evtchn_poll(&local, 1, limit);
	check("holder-granted", evtchn_is_pending(local), 1);

	/* A grant mapping (slot 0) and foreign mappings (slot 1, block A,
	 * the MSI-X table page: a hole in dom0's map). */
	u64 gfn = paddr >> PAGE_SHIFT, slot0 = gnttab_slot_gpa(0), slot1 = gnttab_slot_gpa(1);
	gnttab_set_map_op(&m, slot0, GNTMAP_host_map | GNTMAP_readonly, 8, g);
	long hrc = gnttab_map_refs(&m, 1);
	check("grant-map", hrc ? hrc : m.status, GNTST_okay);
	check("foreign-map", map_foreign_err(g, gfn, slot1), 0);
	check("foreign-map-in-block-a", map_foreign_err(g, gfn, block_a + PAGE_SIZE), 0);
	check("foreign-map-on-msix-table-page", map_foreign_err(g, gfn, table), 0);

	/* Every other mapping at those places: refused, nothing changed. */
	struct gnttab_map_grant_ref m2;
	check("foreign-over-grant", map_foreign_err(g, gfn, slot0), -EBUSY);
	check("foreign-over-foreign", map_foreign_err(g, gfn, slot1), -EBUSY);
	gnttab_set_map_op(&m2, slot1, GNTMAP_host_map | GNTMAP_readonly, 8, g);
	hrc = gnttab_map_refs(&m2, 1);
	check("grant-over-foreign", hrc ? hrc : m2.status, GNTST_general_error);
	check("shared-info-over-grant", add_to_physmap(DOMID_SELF, XENMAPSPACE_shared_info, 0, slot0),
	      -EPERM);
	check("grant-frame-over-foreign",
	      add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, slot1), -EPERM);
	check("remove-a-grant-mapping-as-foreign", unmap_foreign(slot0), -EOPNOTSUPP);
	check("grant-page-intact", ((const u8 *)gnttab_slot_va(0))[1], (u8)(1 * 31 + 7));

	/* A BAR moved onto a foreign mapping: refused (the register reads
	 * back unchanged). */
	check("bar-move-onto-foreign-refused", bar_move64(dev, bar, block_a) == bar_home, 1);
	/* A BAR move elsewhere re-protects the MSI-X table page: the foreign
	 * mapping found there goes, with its reference. */
	check("bar-move-to-empty-block", bar_move64(dev, bar, block_b) == block_b, 1);
	check("msix-table-page-unmapped-again", unmap_foreign(table), -ENOENT);
	check("bar-move-home", bar_move64(dev, bar, bar_home) == bar_home, 1);

	/* Dying while dom0 still holds its pages: a zombie, whose grant table
	 * must not grow (its frames would never come back). */
	check("destroy-while-mapped", domctl_destroy(g), 0);
	check("listed-as-dying", domctl_getdomaininfo(g, &info) == 0 &&
				 (info.flags & XEN_DOMINF_dying), 1);
	u64 mid = sysctl_free_pages();
	check("dying-grant-table-grow", add_to_physmap(g, XENMAPSPACE_grant_table, 4, 0x800000),
	      -ESRCH);
	check("dying-grant-table-frame-0", add_to_physmap(g, XENMAPSPACE_grant_table, 0, 0x800000),
	      -ESRCH);
	check("dying-shared-info", add_to_physmap(g, XENMAPSPACE_shared_info, 0, 0x801000), -ESRCH);
	check("free-pages-unchanged-by-refusals", (long)sysctl_free_pages(), (long)mid);

	/* dom0 lets go: the zombie is reaped, every page is back. */
	gnttab_set_unmap_op(&u, slot0, m.handle);
	hrc = gnttab_unmap_refs(&u, 1);
	check("grant-unmap", hrc ? hrc : u.status, GNTST_okay);
	check("foreign-unmap", unmap_foreign(slot1), 0);
	check("foreign-unmap-block-a", unmap_foreign(block_a + PAGE_SIZE), 0);
	check("destroy-dying-domain-finishes", domctl_destroy(g), 0);
	check("reaped", domctl_getdomaininfo(g, &info), -ESRCH);
	evtchn_close(local);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "held: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "held: PASS no held mapping was overwritten or lost; the dying domU's table "
	       "stayed shut; reaped, every page back");
}

/* ---- console isolation --------------------------------------------------- */

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

static void scenario_flood(const char *cmdline)
{
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
		domid_t bt = domu_create("ticker0"), bs = domu_create("computer");
		if ((rc = evtchn_alloc_unbound(bt, bs, &port)))
			finish(false, "FAIL alloc_unbound in d%u for d%u: %d", bt, bs, rc);
		snprintf(ct, sizeof(ct), "role=ticker port=%u period_ms=5 ticks=%lu", port, ticks);
		domu_build(bt, ct);
		domu_build(bs, "role=work steps=1000000");
		check("unpause-computer", domctl_unpause(bs), 0);
		check("unpause-ticker0", domctl_unpause(bt), 0);
		check("baseline-ticker-finished", wait_shutdown(&bt, 1, 4 * WAIT_NS), 0);
		domid_t bids[2] = { bt, bs };
		destroy_all(bids, 2);
	}

	domid_t t = domu_create("ticker"), f = domu_create("flooder");
	if ((rc = evtchn_alloc_unbound(t, f, &port)))
		finish(false, "FAIL alloc_unbound in d%u for d%u: %d", t, f, rc);
	snprintf(ct, sizeof(ct), "role=ticker port=%u period_ms=5", port);
	snprintf(cf, sizeof(cf), "role=flood peer=%u rport=%u bytes=%lu e9=%lu", t, port, bytes, e9);
	domu_build(t, ct);
	domu_build(f, cf);
	/* The flooder first: it has the CPU when the ticker starts. */
	check("unpause-flooder", domctl_unpause(f), 0);
	check("unpause-ticker", domctl_unpause(t), 0);
	domid_t ids[2] = { t, f };
	rc = wait_shutdown(ids, 2, 4 * WAIT_NS);
	domctl_print_list();
	if (rc)
		finish(false, "flood: FAIL the domUs did not finish in %llu s", 4 * WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo it = info_of(t), iff = info_of(f);
	check("ticker-powered-off", shutdown_code(&it), SHUTDOWN_poweroff);
	check("flooder-powered-off", shutdown_code(&iff), SHUTDOWN_poweroff);

	/* The hypervisor's lines from before and after the flood are still
	 * in its log ring: the flood did not push them out. */
	check("readconsole", sysctl_readconsole(text, sizeof(text) - 1, &n), 0);
	text[MIN(n, (u32)sizeof(text) - 1)] = 0;
	snprintf(want, sizeof(want), "keel: domain %u (ticker) created by dom0", t);
	check("dmesg-has-ticker-created", log_has(text, want, NULL), 1);
	snprintf(want, sizeof(want), "keel: domain %u (flooder) created by dom0", f);
	check("dmesg-has-flooder-created", log_has(text, want, NULL), 1);
	snprintf(want, sizeof(want), "keel: domain %u (flooder): console: ", f);
	check("dmesg-has-dropped-bytes-line", log_has(text, want, "bytes dropped"), 1);
	snprintf(want, sizeof(want), "keel: domain %u (flooder) shut down: poweroff", f);
	check("dmesg-has-flooder-shut-down", log_has(text, want, NULL), 1);
	printf("dom0: domains: dmesg read back %u bytes after the flood\n", n);
	destroy_all(ids, 2);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "flood: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "flood: PASS the flood was throttled and the hypervisor's log kept");
}

/* Domain control's own contract, and what dom0's mistakes get. */
static void scenario_domctl(void)
{
	u64 before = sysctl_free_pages();
	struct xen_domctl op;
	struct xen_domctl_getdomaininfo info;
	domid_t id = 0;

	/* Bad ids, bad versions, bad commands. */
	check("info-unknown-domid", domctl_getdomaininfo(63, &info), -ESRCH);
	check("info-huge-domid", domctl_getdomaininfo(0x7ff0, &info), -ESRCH);
	check("destroy-unknown-domid", domctl_destroy(999), -ESRCH);
	check("destroy-self", domctl_destroy(0), -EINVAL);
	check("pause-self", domctl_pause(0), -EINVAL);
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_getdomaininfo;
	op.interface_version = 0x18; /* Xen's: refused, the layouts differ */
	check("bad-interface-version", HYPERVISOR_domctl(&op), -EACCES);
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.cmd = 0x7777;
	check("unknown-command", HYPERVISOR_domctl(&op), -ENOSYS);
	check("bad-pointer", HYPERVISOR_domctl((void *)0xffff800000000000ULL), -EFAULT);
	check("create-0-vcpus", domctl_create(&id, 0, "x"), -EINVAL);
	check("create-99-vcpus", domctl_create(&id, 99, "x"), -EINVAL);
	id = 100;
	check("create-id-beyond-table", domctl_create(&id, 1, "x"), -EINVAL);
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_createdomain;
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.u.createdomain.max_vcpus = 1;
	op.u.createdomain.flags = 0x100;
	check("create-unknown-flags", HYPERVISOR_domctl(&op), -EINVAL);
	check("free-pages-unchanged-after-refusals", (long)sysctl_free_pages(), (long)before);

	/* A domain with the id we ask for. */
	id = 40;
	check("create-id-40", domctl_create(&id, 2, "control"), 0);
	check("created-id", id, 40);
	domid_t again = 40;
	check("create-id-taken", domctl_create(&again, 1, "x"), -EEXIST);
	info = info_of(id);
	check("new-domain-paused", !!(info.flags & XEN_DOMINF_paused), 1);
	check("new-domain-vcpus", info.max_vcpu_id, 1);
	check("populate-beyond-max-mem", domctl_populate_ram(id, 0, 256), -ENOMEM);
	check("max-mem-4m", domctl_max_mem(id, 4096), 0);
	check("populate-misaligned", domctl_populate_ram(id, 0x123, 1), -EINVAL);
	check("populate-zero-pages", domctl_populate_ram(id, 0, 0), -EINVAL);
	check("populate-wrapping", domctl_populate_ram(id, ~0ULL << 12, 16), -EINVAL);
	check("populate-huge-count", domctl_populate_ram(id, 0, 1ULL << 52), -EINVAL);
	check("populate-2m", domctl_populate_ram(id, 0, 512), 0);
	check("populate-overlapping", domctl_populate_ram(id, 0x100000, 512), -EEXIST);
	check("populate-rest", domctl_populate_ram(id, 0x200000, 512), 0);
	check("populate-beyond-max-again", domctl_populate_ram(id, 0x400000, 1), -ENOMEM);
	check("max-mem-60g", domctl_max_mem(id, 60ULL << 20), 0);
	u64 mid = sysctl_free_pages();
	check("populate-more-than-the-machine", domctl_populate_ram(id, 0x400000, 15ULL << 18),
	      -ENOMEM);
	check("free-pages-unchanged-after-failed-populate", (long)sysctl_free_pages(), (long)mid);
	info = info_of(id);
	check("tot-pages", (long)info.tot_pages, 1024);

	check("build-empty-image", domctl_pvh_build(id, image, 0, ""), -EINVAL);
	check("build-huge-image", domctl_pvh_build(id, image, 1ULL << 40, ""), -EINVAL);
	check("build-unreadable-image", domctl_pvh_build(id, (void *)0xffff800000000000ULL, 4096, ""),
	      -EFAULT);
	static const char not_elf[64] = "this is not an ELF file";
	check("build-not-elf", domctl_pvh_build(id, not_elf, sizeof(not_elf), "") < 0, 1);
	static char long_cmdline[2048];
	memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
	check("build-cmdline-too-long", domctl_pvh_build(id, image, image_size, long_cmdline), -E2BIG);
	check("build", domctl_pvh_build(id, image, image_size, "role=work steps=2"), 0);

	struct xen_domctl_getvcpuinfo vi;
	check("vcpuinfo-bad-vcpu", domctl_getvcpuinfo(id, 2, &vi), -ENOENT);
	check("vcpuinfo-vcpu1", domctl_getvcpuinfo(id, 1, &vi), 0);
	check("vcpu1-offline", vi.online, 0);
	u16 w = 0;
	check("weight-set", domctl_set_weight(id, 512), 0);
	check("weight-get", domctl_get_weight(id, &w), 0);
	check("weight-is-512", w, 512);
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_scheduler_op;
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.domain = id;
	op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
	op.u.scheduler_op.u.credit.cap = 50;
	check("weight-cap-refused", HYPERVISOR_domctl(&op), -EINVAL);
	op.u.scheduler_op.sched_id = 6;
	check("scheduler-not-credit", HYPERVISOR_domctl(&op), -EINVAL);

	/* Pause counting (Xen's): created paused once; one more pause needs
	 * one more unpause. */
	check("pause", domctl_pause(id), 0);
	check("unpause-1", domctl_unpause(id), 0);
	check("still-paused", !!(info_of(id).flags & XEN_DOMINF_paused), 1);
	check("unpause-2-starts-it", domctl_unpause(id), 0);
	check("unpause-3", domctl_unpause(id), -EINVAL);
	check("build-after-start", domctl_pvh_build(id, image, image_size, ""), -EINVAL);
	domid_t ids[1] = { id };
	check("runs-to-poweroff", wait_shutdown(ids, 1, WAIT_NS), 0);
	info = info_of(id);
	check("powered-off", shutdown_code(&info), SHUTDOWN_poweroff);
	check("cpu-time-counted", info.cpu_time > 0, 1);
	check("exits-counted", info.nr_exits > 0, 1);
	u64 counts[KEEL_EXIT_NR];
	check("exit-counts-bad-buffer",
	      domctl_exit_counts(id, (u64 *)0xffff800000000000ULL, KEEL_EXIT_NR, NULL), -EFAULT);
	check("exit-counts", domctl_exit_counts(id, counts, KEEL_EXIT_NR, NULL), 0);
	check("hypercall-exits-counted", counts[KEEL_EXIT_HYPERCALL] > 0, 1);
	domctl_print_list();

	/* A second domain shut down by dom0 (SCHEDOP_remote_shutdown). */
	domid_t other = domu_create("victim");
	domu_build(other, "role=spin");
	check("unpause-spinner", domctl_unpause(other), 0);
	struct sched_remote_shutdown rs = { .domain_id = other, .reason = SHUTDOWN_reboot };
	check("remote-shutdown", HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), 0);
	info = info_of(other);
	check("remote-shutdown-reason", shutdown_code(&info), SHUTDOWN_reboot);
	rs.domain_id = 999;
	check("remote-shutdown-bad-domid", HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -ESRCH);

	/* sysctl. */
	struct xen_sysctl so;
	memset(&so, 0, sizeof(so));
	so.cmd = XEN_SYSCTL_physinfo;
	check("sysctl-bad-version", HYPERVISOR_sysctl(&so), -EACCES);
	so.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	so.cmd = 99;
	check("sysctl-unknown", HYPERVISOR_sysctl(&so), -ENOSYS);
	struct xen_domctl_getdomaininfo list[4];
	u32 n = 0;
	check("domain-list", sysctl_domain_list(0, list, 4, &n), 0);
	check("domain-list-count", n, 3);
	check("domain-list-bad-buffer",
	      sysctl_domain_list(0, (void *)0xffff800000000000ULL, 4, &n), -EFAULT);

	domid_t both[2] = { id, other };
	destroy_all(both, 2);
	check("destroy-again", domctl_destroy(id), -ESRCH);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "domctl: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "domctl: PASS %u checks", nr_checks);
}

/*
 * FPU/SIMD isolation: dom0 loads a pattern of its own (tag 0) into every
 * x87/MMX/XMM/YMM register, MXCSR and FCW, then creates two simd domUs
 * (tags 1 and 2) that check they start clean and keep their own values
 * across yields and preemption, and waits for them (blocked: they run in
 * between). Its registers must still hold its pattern afterwards. dom0 is
 * built -mgeneral-regs-only, so nothing else here touches them.
 */
static void scenario_fpu(const char *cmdline)
{
	u64 rounds = 20, before = sysctl_free_pages();
	struct simd_state mine, got;
	char c1[64], c2[64], why[160];

	cmdline_get_u64(cmdline, "rounds", &rounds);
	unsigned f = simd_enable();
	bool avx = f & SIMD_AVX;
	printf("dom0: domains: SSE%s%s%s enabled in dom0\n", (f & SIMD_XSAVE) ? ", XSAVE" : "",
	       avx ? ", AVX" : "", (f & SIMD_PKU) ? ", PKU" : "");
	simd_pattern(&mine, 0, 0);
	simd_load(&mine, avx);

	domid_t a = domu_create("simd1"), b = domu_create("simd2");
	snprintf(c1, sizeof(c1), "role=simd tag=1 rounds=%lu", rounds);
	snprintf(c2, sizeof(c2), "role=simd tag=2 rounds=%lu", rounds);
	domu_build(a, c1);
	domu_build(b, c2);
	check("unpause-simd1", domctl_unpause(a), 0);
	check("unpause-simd2", domctl_unpause(b), 0);
	domid_t ids[2] = { a, b };
	int rc = wait_shutdown(ids, 2, WAIT_NS);

	simd_read(&got, avx);
	unsigned bad = simd_compare(&got, &mine, avx, why, sizeof(why));
	if (bad)
		printf("dom0: domains: dom0's registers: %u values changed, first: %s\n", bad, why);
	check("dom0-registers-kept", bad, 0);
	if (rc)
		finish(false, "fpu: FAIL the domUs did not finish in %llu s", WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo i1 = info_of(a), i2 = info_of(b);
	check("simd1-powered-off", shutdown_code(&i1), SHUTDOWN_poweroff);
	check("simd2-powered-off", shutdown_code(&i2), SHUTDOWN_poweroff);
	print_exits(a);
	print_exits(b);
	for (unsigned i = 0; i < 2; i++) {
		u64 c[KEEL_EXIT_NR] = { 0 };
		if (!domctl_exit_counts(ids[i], c, KEEL_EXIT_NR, NULL))
			printf("dom0: domains: d%u xsetbv exits: %lu\n", ids[i], c[KEEL_EXIT_XSETBV]);
	}
	destroy_all(ids, 2);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "fpu: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "fpu: PASS dom0 and two domUs kept their own FPU/SIMD state (MMX, XMM, %s"
	       "MXCSR, FCW%s)", avx ? "YMM, " : "", (f & SIMD_PKU) ? ", PKRU" : "");
}

static void scenario_spec(void)
{
	u64 before = sysctl_free_pages(), offered = spec_ctrl_offered(), mine, got = 0;

	/* dom0's value: the lowest offered bit, never the domU's (all). */
	mine = offered & -offered;
	if (offered == mine)
		mine = 0;
	if (offered)
		check("dom0-wrmsr-spec-ctrl", wrmsr_safe(0x48, mine), 1);
	/* The first domU leaves its IA32_SPEC_CTRL set when it powers off;
	 * the second (a new domain, its id likely the first's again) must
	 * start at 0 all the same (guest/pvtest/spec.c). */
	domid_t d = domu_create("spec");
	domu_build(d, "role=spec rounds=50 keep=1");
	check("unpause-spec", domctl_unpause(d), 0);
	int rc = wait_shutdown(&d, 1, WAIT_NS);
	if (rc)
		finish(false, "spec: FAIL the domU did not finish in %llu s", WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo i = info_of(d);
	check("spec-powered-off", shutdown_code(&i), SHUTDOWN_poweroff);
	destroy_all(&d, 1);
	d = domu_create("spec2");
	domu_build(d, "role=spec rounds=5");
	check("unpause-spec2", domctl_unpause(d), 0);
	if (wait_shutdown(&d, 1, WAIT_NS))
		finish(false, "spec: FAIL the second domU did not finish in %llu s",
		       WAIT_NS / NS_PER_SEC);
	i = info_of(d);
	check("spec2-powered-off", shutdown_code(&i), SHUTDOWN_poweroff);
	if (offered) {
		check("dom0-rdmsr-spec-ctrl", rdmsr_safe(0x48, &got), 1);
		check("dom0-spec-ctrl-kept", (long)got, (long)mine);
		wrmsr_safe(0x48, 0);
	}
	destroy_all(&d, 1);
	check_free_pages(before);
	if (nr_bad)
		finish(false, "spec: FAIL %u of %u checks", nr_bad, nr_checks);
	finish(true, "spec: PASS the domU's checks passed; dom0's IA32_SPEC_CTRL 0x%lx kept", mine);
}

void domains_test_run(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
	char scenario[16];
	int rc;

	if (!cmdline_get(cmdline, "scenario", scenario, sizeof(scenario)))
		finish(false, "FAIL no scenario= on the command line");
	printf("dom0: domains: scenario %s\n", scenario);
	if (!find_pvtest(si))
		finish(false, "FAIL no module named pvtest (keel.cfg: module pvtest /pvtest.elf)");
	if ((rc = evtchn_init()))
		finish(false, "FAIL evtchn_init: %d", rc);
	if ((rc = evtchn_bind_virq(VIRQ_DOM_EXC, 0, &dom_exc_port)))
		finish(false, "FAIL bind VIRQ_DOM_EXC: %d", rc);
	printf("dom0: domains: pvtest image %lu bytes; hypervisor has %lu free pages\n", image_size,
	       sysctl_free_pages());

	if (!strcmp(scenario, "pingpong"))
		scenario_pingpong(cmdline);
	else if (!strcmp(scenario, "spin"))
		scenario_spin(cmdline);
	else if (!strcmp(scenario, "hostile"))
		scenario_hostile(cmdline);
	else if (!strcmp(scenario, "domctl"))
		scenario_domctl();
	else if (!strcmp(scenario, "timer"))
		scenario_timer();
	else if (!strcmp(scenario, "tpr"))
		scenario_tpr();
	else if (!strcmp(scenario, "tscaux"))
		scenario_tscaux();
	else if (!strcmp(scenario, "zombie"))
		scenario_zombie(si);
	else if (!strcmp(scenario, "foreign"))
		scenario_foreign(si);
	else if (!strcmp(scenario, "isolation"))
		scenario_isolation(cmdline);
	else if (!strcmp(scenario, "fpu"))
		scenario_fpu(cmdline);
	else if (!strcmp(scenario, "held"))
		scenario_held(si);
	else if (!strcmp(scenario, "flood"))
		scenario_flood(cmdline);
	else if (!strcmp(scenario, "spec"))
		scenario_spec();
	else if (!strcmp(scenario, "rowrite"))
		scenario_rowrite();
	else if (!strcmp(scenario, "soak"))
		soak_run(cmdline);
	finish(false, "FAIL unknown scenario '%s'", scenario);
}

/* ---- for soak.c (domains.h) ----------------------------------------------- */

domid_t domains_domu_create(const char *name)
{
	return domu_create(name);
}

void domains_domu_build(domid_t id, const char *cmdline)
{
	domu_build(id, cmdline);
}

int domains_wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns)
{
	return wait_shutdown(ids, n, timeout_ns);
}

int domains_shutdown_code(domid_t id)
{
	struct xen_domctl_getdomaininfo i = info_of(id);

	return i.flags & XEN_DOMINF_shutdown ? (int)shutdown_code(&i) : -1;
}

void domains_check(const char *what, long got, long want)
{
	check(what, got, want);
}

unsigned domains_nr_bad(void)
{
	return nr_bad;
}

void domains_print_exits(domid_t id)
{
	print_exits(id);
}

void domains_finish(bool ok, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(ok, "%s", msg);
}
