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
 *   pingpong-spin  two domUs ping-pong `count` events (default 5000)
 *             next to a domU spinning forever with weight `weight`
 *             (default 256, the pair's): the scheduler's fast pass (the
 *             direct handoff) carries the ping-pong, which finishes, and
 *             the spinner still gets its weighted share of the CPU.
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
 *   pvcons    PV consoles: a domU's output through its ring (a 100 KiB
 *             burst, every line checked), input typed for it on the
 *             serial console, a hostile ring dropped (console_test.c).
 *   launch    the domain launcher and xenstored in dom0: failures undone,
 *             two domUs' xenstore entries (domains_launch.c).
 *   xenstore  two pvtest role=xs domUs (or xs_role=xs-hostile) talk to
 *             dom0's xenstored through their rings (domains_launch.c).
 *   soak      create/destroy cycles and hostile domUs for a long time,
 *             every resource count back at the end (soak.c, make soak).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include <public/sched.h>
#include "dom0.h"
#include "domain/domain.h"
#include "domains.h"
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "hypercall.h"
#include "cpuregs.h"
#include "pvclock.h"
#include "selftests.h"
#include "simd.h"
#include "spec_check.h"

#define NS_PER_SEC 1000000000ULL
#define DOMU_RAM_MIB DOMAINS_DOMU_RAM_MIB
#define WAIT_NS DOMAINS_WAIT_NS

const void *domains_image;
u64 domains_image_size;
static unsigned nr_checks, nr_bad;

/* ---- the scenarios' shared steps (domains.h) -------------------------------- */

void domains_finish(bool ok, const char *fmt, ...)
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

void domains_check(const char *what, long got, long want)
{
	nr_checks++;
	if (got != want)
		nr_bad++;
	printf("dom0: domains: check %s: %ld (want %ld)%s\n", what, got, want,
	       got == want ? "" : " MISMATCH");
}

unsigned domains_nr_bad(void)
{
	return nr_bad;
}

unsigned domains_nr_checks(void)
{
	return nr_checks;
}

domid_t domains_domu_create(const char *name)
{
	domid_t id = 0;
	int rc = dom_create(name, DOMU_RAM_MIB, &id);

	if (rc)
		domains_finish(false, "FAIL create %s with %u MiB: %d", name, DOMU_RAM_MIB, rc);
	return id;
}

void domains_domu_build(domid_t id, const char *cmdline)
{
	int rc = domctl_pvh_build(id, domains_image, domains_image_size, cmdline);

	if (rc)
		domains_finish(false, "FAIL build d%u with \"%s\": %d", id, cmdline, rc);
	printf("dom0: domains: d%u built: \"%s\"\n", id, cmdline);
}

struct xen_domctl_getdomaininfo domains_info(domid_t id)
{
	struct xen_domctl_getdomaininfo info;
	int rc = dom_info(id, &info);

	if (rc)
		domains_finish(false, "FAIL getdomaininfo d%u: %d", id, rc);
	return info;
}

bool domains_is_shut_down(domid_t id)
{
	return domains_info(id).flags & XEN_DOMINF_shutdown;
}

u32 domains_info_shutdown_code(const struct xen_domctl_getdomaininfo *i)
{
	return (i->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
}

int domains_shutdown_code(domid_t id)
{
	int code = dom_shutdown_code(id);

	if (code < -1)
		domains_finish(false, "FAIL getdomaininfo d%u: %d", id, code);
	return code;
}

int domains_wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns)
{
	int rc = dom_wait_shutdown(ids, n, timeout_ns);

	if (rc && rc != -ETIMEDOUT)
		domains_finish(false, "FAIL getdomaininfo while waiting: %d", rc);
	return rc;
}

void domains_print_exits(domid_t id)
{
	dom_print_exits("dom0: domains: ", id);
}

void domains_destroy_all(const domid_t *ids, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = domctl_destroy(ids[i]);
		if (rc)
			domains_finish(false, "FAIL destroy d%u: %d", ids[i], rc);
		domains_check("getdomaininfo-after-destroy",
			      dom_info(ids[i], &(struct xen_domctl_getdomaininfo){ 0 }), -ESRCH);
	}
}

void domains_check_free_pages(u64 before)
{
	u64 after = sysctl_free_pages();
	printf("dom0: domains: hypervisor free pages: %lu before the domUs, %lu after destroying "
	       "them\n", before, after);
	domains_check("free-pages-back-to-before", (long)after, (long)before);
}

/* ---- scenarios ----------------------------------------------------------- */

static void scenario_pingpong(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
	u64 count = 10000, before = sysctl_free_pages();
	char ca[160], cb[160];
	evtchn_port_t port;
	int rc;

	cmdline_get_u64(cmdline, "count", &count);
	domid_t a = domains_domu_create("pong"), b = domains_domu_create("ping");
	/* The pong side's port, offered to the ping side: dom0 allocates it
	 * in d<a> (a control domain may) before either runs. */
	if ((rc = evtchn_alloc_unbound(a, b, &port)))
		domains_finish(false, "FAIL alloc_unbound in d%u for d%u: %d", a, b, rc);
	snprintf(ca, sizeof(ca), "role=pong peer=%u port=%u gref=8 count=%lu", b, port, count);
	snprintf(cb, sizeof(cb), "role=ping peer=%u rport=%u gref=8 count=%lu", a, port, count);
	domains_domu_build(a, ca);
	domains_domu_build(b, cb);
	domains_check("unpause-pong", domctl_unpause(a), 0);
	domains_check("unpause-ping", domctl_unpause(b), 0);
	domctl_print_list();

	domid_t ids[2] = { a, b };
	u64 t0 = pvclock_now_ns();
	rc = domains_wait_shutdown(ids, 2, WAIT_NS);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	domctl_print_list();
	if (rc)
		domains_finish(false, "pingpong: FAIL the domUs did not finish in %llu s",
		       WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo ia = domains_info(a), ib = domains_info(b);
	domains_check("pong-powered-off", domains_info_shutdown_code(&ia), SHUTDOWN_poweroff);
	domains_check("ping-powered-off", domains_info_shutdown_code(&ib), SHUTDOWN_poweroff);
	domains_print_exits(a);
	domains_print_exits(b);
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "pingpong: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "pingpong: PASS %lu pings between d%u and d%u in %lu ms; both destroyed, "
	       "every page back", count, a, b, ms);
}

static void scenario_spin(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
	u64 steps = 20, before = sysctl_free_pages();
	char cw[64];

	cmdline_get_u64(cmdline, "steps", &steps);
	domid_t s = domains_domu_create("spinner"), w = domains_domu_create("worker");
	snprintf(cw, sizeof(cw), "role=work steps=%lu", steps);
	domains_domu_build(s, "role=spin");
	domains_domu_build(w, cw);
	/* The spinner first: it has the CPU when the worker starts. */
	domains_check("unpause-spinner", domctl_unpause(s), 0);
	domains_check("unpause-worker", domctl_unpause(w), 0);

	u64 t0 = pvclock_now_ns();
	int rc = domains_wait_shutdown(&w, 1, WAIT_NS);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	domctl_print_list();
	if (rc)
		domains_finish(false, "spin: FAIL the worker did not finish in %llu s next to the spinner",
		       WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo is = domains_info(s), iw = domains_info(w);
	domains_check("worker-powered-off", domains_info_shutdown_code(&iw), SHUTDOWN_poweroff);
	domains_check("spinner-still-running", !(is.flags & XEN_DOMINF_shutdown), 1);
	domains_check("spinner-got-cpu-time", is.cpu_time > 0, 1);
	/* Equal weights, both always runnable: equal shares of the CPU, give
	 * or take a few slices. */
	u64 lo = MIN(is.cpu_time, iw.cpu_time), hi = MAX(is.cpu_time, iw.cpu_time);
	printf("dom0: domains: cpu time: spinner %lu ms, worker %lu ms\n", is.cpu_time / 1000000,
	       iw.cpu_time / 1000000);
	domains_check("fair-share-within-3x", hi <= 3 * lo, 1);
	domains_print_exits(s);
	domains_print_exits(w);
	domid_t ids[2] = { s, w };
	domains_destroy_all(ids, 2); /* the spinner while it still runs */
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "spin: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "spin: PASS the worker finished in %lu ms next to a domU spinning forever",
	       ms);
}

/*
 * The fast pass must not let a ping-pong pair take the CPU from a third
 * domain: the handoff picks what the policy would (docs/sched.md), so
 * the spinner, always runnable, gets at least its weighted share
 * W / (W + 256 + 256) of the time the pair runs (less 10 % for the
 * slices at the edges), and the pair still finishes: the pair's runs
 * are charged like any other and a chain of handoffs never outlasts a
 * slice before a full pass looks at everyone again.
 */
static void scenario_pingpong_spin(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
	u64 count = 5000, weight = 256, before = sysctl_free_pages();
	struct keel_sysctl_counts c0, c1;
	char ca[160], cb[160];
	evtchn_port_t port;
	int rc;

	cmdline_get_u64(cmdline, "count", &count);
	cmdline_get_u64(cmdline, "weight", &weight);
	domid_t s = domains_domu_create("spinner");
	domains_check("spinner-weight", domctl_set_weight(s, (u16)weight), 0);
	domid_t a = domains_domu_create("pong"), b = domains_domu_create("ping");
	if ((rc = evtchn_alloc_unbound(a, b, &port)))
		domains_finish(false, "FAIL alloc_unbound in d%u for d%u: %d", a, b, rc);
	snprintf(ca, sizeof(ca), "role=pong peer=%u port=%u gref=8 count=%lu", b, port, count);
	snprintf(cb, sizeof(cb), "role=ping peer=%u rport=%u gref=8 count=%lu", a, port, count);
	domains_domu_build(s, "role=spin");
	domains_domu_build(a, ca);
	domains_domu_build(b, cb);
	domains_check("counts-before", sysctl_counts(&c0), 0);
	domains_check("unpause-spinner", domctl_unpause(s), 0);
	struct xen_domctl_getdomaininfo i0 = domains_info(s);
	u64 t0 = pvclock_now_ns();
	domains_check("unpause-pong", domctl_unpause(a), 0);
	domains_check("unpause-ping", domctl_unpause(b), 0);

	domid_t pair[2] = { a, b };
	rc = domains_wait_shutdown(pair, 2, WAIT_NS);
	u64 ns = pvclock_now_ns() - t0;
	domains_check("counts-after", sysctl_counts(&c1), 0);
	domctl_print_list();
	if (rc)
		domains_finish(false, "pingpong-spin: FAIL the pair did not finish in %llu s next "
			       "to the spinner", WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo is = domains_info(s), ia = domains_info(a),
					ib = domains_info(b);
	u64 spin_ns = is.cpu_time - i0.cpu_time, fast = (u32)(c1.fast_picks - c0.fast_picks);
	printf("dom0: domains: pingpong-spin: %lu ms: spinner ran %lu ms, pong %lu ms, ping %lu "
	       "ms; %lu fast picks for %lu round trips\n", ns / 1000000, spin_ns / 1000000,
	       ia.cpu_time / 1000000, ib.cpu_time / 1000000, fast, count);
	domains_check("pong-powered-off", domains_info_shutdown_code(&ia), SHUTDOWN_poweroff);
	domains_check("ping-powered-off", domains_info_shutdown_code(&ib), SHUTDOWN_poweroff);
	domains_check("spinner-still-running", !(is.flags & XEN_DOMINF_shutdown), 1);
	/* spin_ns / ns >= 0.9 * weight / (weight + 512) */
	domains_check("spinner-got-its-weighted-share", spin_ns * (weight + 512) * 10 >= ns * weight * 9,
		      1);
	domains_check("handoffs-carried-the-pingpong", fast >= count, 1);
	domid_t ids[3] = { s, a, b };
	domains_destroy_all(ids, 3);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "pingpong-spin: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pingpong-spin: PASS %lu pings next to a spinner, which had %lu of "
		       "%lu ms", count, spin_ns / 1000000, ns / 1000000);
}

static void scenario_hostile(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
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
	domid_t v = domains_domu_create("victim"), h = domains_domu_create("hostile");
	if ((rc = evtchn_alloc_unbound(h, v, &port)))
		domains_finish(false, "FAIL alloc_unbound in d%u for d%u: %d", h, v, rc);
	snprintf(cv, sizeof(cv), "role=victim hostile=%u rport=%u gref=8 steps=%lu storm_s=%lu", h,
		 port, victim_steps, wait_s);
	snprintf(ch, sizeof(ch), "role=hostile victim=%u port=%u gref=8 calls=%lu seed=%lu "
		 "ramtop=0x%x exits=%lu exit_kinds=%lu", v, port, calls, seed, DOMU_RAM_MIB << 20,
		 exits, exit_kinds);
	domains_domu_build(v, cv);
	domains_domu_build(h, ch);
	domains_check("unpause-victim", domctl_unpause(v), 0);
	domains_check("unpause-hostile", domctl_unpause(h), 0);

	domid_t ids[2] = { v, h };
	rc = domains_wait_shutdown(ids, 2, wait_s * NS_PER_SEC);
	domctl_print_list();
	if (rc)
		domains_finish(false, "hostile: FAIL the domUs did not finish in %lu s", wait_s);
	struct xen_domctl_getdomaininfo iv = domains_info(v), ih = domains_info(h);
	domains_check("victim-powered-off", domains_info_shutdown_code(&iv), SHUTDOWN_poweroff);
	domains_check("hostile-powered-off-not-crashed", domains_info_shutdown_code(&ih), SHUTDOWN_poweroff);
	/* dom0 itself: still answering. */
	domains_check("dom0-info", domctl_getdomaininfo(0, &(struct xen_domctl_getdomaininfo){ 0 }), 0);
	domains_print_exits(h);
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "hostile: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "hostile: PASS the hostile domU made %lu random hypercalls and lived; the "
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
static void scenario_rowrite(const struct hvm_start_info *si)
{
	(void)si;
	u64 before = sysctl_free_pages();
	char cv[160], cw[96];
	evtchn_port_t port;
	int rc;

	domid_t v = domains_domu_create("victim"), w = domains_domu_create("writer");
	if ((rc = evtchn_alloc_unbound(DOMID_SELF, v, &port)))
		domains_finish(false, "FAIL alloc_unbound in dom0 for d%u: %d", v, rc);
	snprintf(cv, sizeof(cv), "role=victim hostile=%u notifier=0 rport=%u gref=8 steps=1 "
		 "storm=0", w, port);
	snprintf(cw, sizeof(cw), "role=rowriter granter=%u gref=8", v);
	domains_domu_build(v, cv);
	domains_domu_build(w, cw);
	domains_check("unpause-victim", domctl_unpause(v), 0);
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!evtchn_is_pending(port) && pvclock_now_ns() < limit)
		evtchn_poll(&port, 1, limit);
	domains_check("victim-granted", evtchn_is_pending(port), 1);
	evtchn_clear_pending(port);
	domains_check("unpause-writer", domctl_unpause(w), 0);
	domains_check("writer-stopped", domains_wait_shutdown(&w, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo iw = domains_info(w);
	domains_check("writer-crashed", domains_info_shutdown_code(&iw), SHUTDOWN_crash);
	domains_check("victim-still-running", !domains_is_shut_down(v), 1);
	domains_print_exits(w);
	domains_check("destroy-writer", domctl_destroy(w), 0);
	domains_check("tell-victim", evtchn_send(port), 0);
	domains_check("victim-finished", domains_wait_shutdown(&v, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo iv = domains_info(v);
	domains_check("victim-powered-off", domains_info_shutdown_code(&iv), SHUTDOWN_poweroff);
	domains_destroy_all(&v, 1);
	evtchn_close(port);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "rowrite: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "rowrite: PASS the write through a read-only grant mapping stopped the "
	       "writer; the victim's page is unchanged");
}

/* One domU running `cmdline` until it powers off by itself; its exits
 * printed, every page back. Scenario `name` passes when the guest's own
 * checks (on its console) and these do. */
static __noreturn void one_domu(const char *name, const char *cmdline)
{
	char what[48];
	u64 before = sysctl_free_pages();
	domid_t t = domains_domu_create(name);

	domains_domu_build(t, cmdline);
	snprintf(what, sizeof(what), "unpause-%s", name);
	domains_check(what, domctl_unpause(t), 0);
	snprintf(what, sizeof(what), "%s-domu-finished", name);
	domains_check(what, domains_wait_shutdown(&t, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo it = domains_info(t);
	snprintf(what, sizeof(what), "%s-powered-off", name);
	domains_check(what, domains_info_shutdown_code(&it), SHUTDOWN_poweroff);
	domains_print_exits(t);
	domains_destroy_all(&t, 1);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "%s: FAIL %u of %u checks", name, domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "%s: PASS", name);
}

/* The platform a PVH domU finds (pvtest role=platform, docs/linux-guest.md):
 * memory map, ACPI tables, MTRRs, string I/O, then power-off by halting
 * with interrupts off. */
static void scenario_platform(const struct hvm_start_info *si)
{
	(void)si;
	one_domu("platform", "role=platform");
}

static void scenario_timer(const struct hvm_start_info *si)
{
	(void)si;
	one_domu("timer", "role=timer rounds=20");
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
		domains_finish(false, "FAIL gnttab_init: %d", rc);
	gnttab_grant_access_ref(9, 0, virt_to_gfn(own), true);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map | GNTMAP_readonly, 9, 0);
	if (gnttab_map_refs(&m, 1) || m.status)
		domains_finish(false, "FAIL mapping dom0's own grant: status %d", m.status);
	gnttab_set_unmap_op(&u, gnttab_slot_gpa(1), m.handle);
	if (gnttab_unmap_refs(&u, 1) || u.status || !gnttab_end_access(9))
		domains_finish(false, "FAIL unmapping dom0's own grant: status %d", u.status);
	u64 before = sysctl_free_pages();
	domid_t g = domains_domu_create("granter");
	if ((rc = evtchn_alloc_unbound(g, 0, &port)) ||
	    (rc = evtchn_bind_interdomain(g, port, &local)))
		domains_finish(false, "FAIL channel to d%u: %d", g, rc);
	evtchn_clear_pending(local);
	snprintf(cg, sizeof(cg), "role=granter peer=0 port=%u gref=8", port);
	domains_domu_build(g, cg);
	domains_check("unpause-granter", domctl_unpause(g), 0);
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!evtchn_is_pending(local) && pvclock_now_ns() < limit)
		evtchn_poll(&local, 1, limit);
	domains_check("granter-notified", evtchn_is_pending(local), 1);

	gnttab_set_map_op(&m, gnttab_slot_gpa(0), GNTMAP_host_map | GNTMAP_readonly, 8, g);
	long hrc = gnttab_map_refs(&m, 1);
	domains_check("map-granters-page", hrc ? hrc : m.status, GNTST_okay);
	const u8 *page = gnttab_slot_va(0);
	u8 first = page[1];

	domains_check("destroy-while-mapped", domctl_destroy(g), 0);
	struct xen_domctl_getdomaininfo info;
	domains_check("still-listed", domctl_getdomaininfo(g, &info), 0);
	domains_check("listed-as-dying", !!(info.flags & XEN_DOMINF_dying), 1);
	domains_check("page-still-readable-and-intact", page[1] == first && first == (u8)(1 * 31 + 7), 1);
	domains_check("free-pages-short-by-the-mapped-page", (long)(before - sysctl_free_pages()) > 0, 1);

	gnttab_set_unmap_op(&u, gnttab_slot_gpa(0), m.handle);
	hrc = gnttab_unmap_refs(&u, 1);
	domains_check("unmap", hrc ? hrc : u.status, GNTST_okay);
	domains_check("destroy-dying-domain-finishes", domctl_destroy(g), 0);
	domains_check("gone", domctl_getdomaininfo(g, &info), -ESRCH);
	evtchn_close(local);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "zombie: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "zombie: PASS a destroyed domain's mapped page outlived it until unmapped");
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

static void scenario_isolation(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
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
		domains_finish(false, "FAIL alloc_unbound for the tick port: %d", rc);

	domid_t m = domains_domu_create("meddler"), t = domains_domu_create("timer");
	snprintf(cm, sizeof(cm), "role=meddler wbinvd=%lu arm=%lu", wbinvds, arm);
	domains_domu_build(m, cm);
	domains_domu_build(t, "role=timer rounds=20 dregs=1");
	domains_check("unpause-meddler", domctl_unpause(m), 0);
	domains_check("unpause-timer", domctl_unpause(t), 0);

	domid_t ids[2] = { m, t };
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!(domains_is_shut_down(m) && domains_is_shut_down(t)) && pvclock_now_ns() < limit) {
		u64 due = pvclock_now_ns() + ISO_TICK_NS;
		evtchn_poll(&tick_port, 1, due);
		u64 now = pvclock_now_ns();
		ticks++;
		worst = MAX(worst, now > due ? now - due : 0);
	}
	printf("dom0: domains: dom0 took %lu ticks of 50 ms next to the meddler, the latest "
	       "%lu ms late\n", ticks, worst / 1000000);
	domains_check("domus-finished", domains_is_shut_down(m) && domains_is_shut_down(t), 1);
	domains_check("dom0-ticks-on-time", worst <= ISO_LATE_MAX_NS, 1);
	domains_check("dom0-ticked", ticks >= 4, 1);
	struct xen_domctl_getdomaininfo im = domains_info(m), it = domains_info(t);
	domains_check("meddler-powered-off", domains_info_shutdown_code(&im), SHUTDOWN_poweroff);
	domains_check("timer-powered-off", domains_info_shutdown_code(&it), SHUTDOWN_poweroff);

	/* dom0's own registers, as it left them. */
	for (unsigned i = 0; i < 4; i++) {
		char what[32];
		snprintf(what, sizeof(what), "dom0-dr%u-kept", i);
		domains_check(what, read_dr(i) == dr[i], 1);
	}
	domains_check("dom0-dr6-kept", (long)(read_dr(6) & 0xf), (long)ISO_DR6_BITS);
	domains_check("dom0-dr7-kept", (long)read_dr(7), (long)ISO_DR7);
	domains_check("dom0-cr8-kept", (long)read_cr8(), 0);

	u64 c[KEEL_EXIT_NR];
	domains_check("exit-counts", domctl_exit_counts(m, c, KEEL_EXIT_NR, NULL), 0);
	domains_check("meddler-wbinvd-exits", (long)c[KEEL_EXIT_CACHE_FLUSH], (long)wbinvds);
	domains_print_exits(m);
	domains_print_exits(t);
	write_dr(7, 0x400);
	evtchn_close(tick_port);
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "isolation: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "isolation: PASS dom0 ticked %lu times on time next to a domU with CR8 15, "
	       "%lu WBINVDs and its own breakpoints", ticks, wbinvds);
}

/*
 * FPU/SIMD isolation: dom0 loads a pattern of its own (tag 0) into every
 * x87/MMX/XMM/YMM register, MXCSR and FCW, then creates two simd domUs
 * (tags 1 and 2) that check they start clean and keep their own values
 * across yields and preemption, and waits for them (blocked: they run in
 * between). Its registers must still hold its pattern afterwards. dom0 is
 * built -mgeneral-regs-only, so nothing else here touches them.
 */
static void scenario_fpu(const struct hvm_start_info *si)
{
	const char *cmdline = si_cmdline(si);
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

	domid_t a = domains_domu_create("simd1"), b = domains_domu_create("simd2");
	snprintf(c1, sizeof(c1), "role=simd tag=1 rounds=%lu", rounds);
	snprintf(c2, sizeof(c2), "role=simd tag=2 rounds=%lu", rounds);
	domains_domu_build(a, c1);
	domains_domu_build(b, c2);
	domains_check("unpause-simd1", domctl_unpause(a), 0);
	domains_check("unpause-simd2", domctl_unpause(b), 0);
	domid_t ids[2] = { a, b };
	int rc = domains_wait_shutdown(ids, 2, WAIT_NS);

	simd_read(&got, avx);
	unsigned bad = simd_compare(&got, &mine, avx, why, sizeof(why));
	if (bad)
		printf("dom0: domains: dom0's registers: %u values changed, first: %s\n", bad, why);
	domains_check("dom0-registers-kept", bad, 0);
	if (rc)
		domains_finish(false, "fpu: FAIL the domUs did not finish in %llu s", WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo i1 = domains_info(a), i2 = domains_info(b);
	domains_check("simd1-powered-off", domains_info_shutdown_code(&i1), SHUTDOWN_poweroff);
	domains_check("simd2-powered-off", domains_info_shutdown_code(&i2), SHUTDOWN_poweroff);
	domains_print_exits(a);
	domains_print_exits(b);
	for (unsigned i = 0; i < 2; i++) {
		u64 c[KEEL_EXIT_NR] = { 0 };
		if (!domctl_exit_counts(ids[i], c, KEEL_EXIT_NR, NULL))
			printf("dom0: domains: d%u xsetbv exits: %lu\n", ids[i], c[KEEL_EXIT_XSETBV]);
	}
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "fpu: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "fpu: PASS dom0 and two domUs kept their own FPU/SIMD state (MMX, XMM, %s"
	       "MXCSR, FCW%s)", avx ? "YMM, " : "", (f & SIMD_PKU) ? ", PKRU" : "");
}

/* A domU checks that its CR8 holds back its per-vCPU upcall vector
 * (guest/pvtest/tpr.c). */
static void scenario_tpr(const struct hvm_start_info *si)
{
	(void)si;
	one_domu("tpr", "role=tpr hold_ms=200");
}

/* A domU's INS/OUTS on memory its page tables refuse get #PF/#GP
 * (guest/pvtest/stringio.c). */
static void scenario_stringio(const struct hvm_start_info *si)
{
	(void)si;
	one_domu("stringio", "role=stringio");
}

/* A domU's secondary vcpu_time_info follows the primary
 * (guest/pvtest/vcputime.c). */
static void scenario_vcputime(const struct hvm_start_info *si)
{
	(void)si;
	one_domu("vcputime", "role=vcputime rounds=50");
}

/* A domU drives its virtual LAPIC: registers, self-IPIs, the TPR and
 * the timer's three modes (guest/pvtest/lapic.c). */
static void scenario_lapic(const struct hvm_start_info *si)
{
	(void)si;
	one_domu("lapic", "role=lapic");
}

/* A domU throws random accesses at its virtual LAPIC (x2APIC MSRs, the
 * xAPIC page, IA32_APIC_BASE, TSC deadline) while a timer domU checks
 * its PV timers next to it: the hostile one must end by itself, the
 * timer one pass, and every page come back. */
static void scenario_lapic_hostile(const struct hvm_start_info *si)
{
	u64 rounds = 20000, seed = 1, before = sysctl_free_pages();
	const char *cmdline = si_cmdline(si);
	char cm[64];

	cmdline_get_u64(cmdline, "rounds", &rounds);
	cmdline_get_u64(cmdline, "seed", &seed);
	domid_t h = domains_domu_create("lapic-hostile"), t = domains_domu_create("timer");
	snprintf(cm, sizeof(cm), "role=lapic-hostile rounds=%lu seed=%lu", rounds, seed);
	domains_domu_build(h, cm);
	domains_domu_build(t, "role=timer rounds=20");
	domains_check("unpause-lapic-hostile", domctl_unpause(h), 0);
	domains_check("unpause-timer", domctl_unpause(t), 0);
	domid_t ids[2] = { h, t };
	domains_check("domus-finished", domains_wait_shutdown(ids, 2, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo ih = domains_info(h), it = domains_info(t);
	domains_check("lapic-hostile-powered-off", domains_info_shutdown_code(&ih), SHUTDOWN_poweroff);
	domains_check("timer-powered-off", domains_info_shutdown_code(&it), SHUTDOWN_poweroff);
	domains_print_exits(h);
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "lapic-hostile: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "lapic-hostile: PASS %lu random LAPIC accesses, the timer domU and "
		       "dom0 unharmed", rounds);
}

/* A two-vCPU domU starts its second vCPU by INIT/SIPI and sends IPIs
 * between them (guest/pvtest/lapic.c, role=lapic-smp). */
static void scenario_lapic_smp(const struct hvm_start_info *si)
{
	u64 before = sysctl_free_pages();
	domid_t d = 0;
	int rc;
	(void)si;

	/* dom_create makes one vCPU; this domain needs two. */
	if ((rc = domctl_create(&d, 2, "lapic-smp")) ||
	    (rc = domctl_max_mem(d, DOMAINS_DOMU_RAM_MIB * 1024)) ||
	    (rc = domctl_populate_ram(d, 0, (u64)DOMAINS_DOMU_RAM_MIB * 256)))
		domains_finish(false, "lapic-smp: FAIL creating a 2-vCPU domU: %d", rc);
	domains_domu_build(d, "role=lapic-smp");
	domains_check("unpause-lapic-smp", domctl_unpause(d), 0);
	domains_check("lapic-smp-domu-finished", domains_wait_shutdown(&d, 1, WAIT_NS), 0);
	struct xen_domctl_getdomaininfo i = domains_info(d);
	domains_check("lapic-smp-powered-off", domains_info_shutdown_code(&i), SHUTDOWN_poweroff);
	domains_print_exits(d);
	domains_destroy_all(&d, 1);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "lapic-smp: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "lapic-smp: PASS");
}

/* Two domUs, each with its own IA32_TSC_AUX, yielding to each other
 * (guest/pvtest/tscaux.c). */
static void scenario_tscaux(const struct hvm_start_info *si)
{
	(void)si;
	u64 before = sysctl_free_pages();
	domid_t d[2] = { domains_domu_create("aux1"), domains_domu_create("aux2") };
	domains_domu_build(d[0], "role=tscaux tag=0x1111 rounds=50");
	domains_domu_build(d[1], "role=tscaux tag=0x2222 rounds=50");
	domains_check("unpause-aux1", domctl_unpause(d[0]), 0);
	domains_check("unpause-aux2", domctl_unpause(d[1]), 0);
	domains_check("tscaux-domus-finished", domains_wait_shutdown(d, 2, WAIT_NS), 0);
	for (unsigned i = 0; i < 2; i++) {
		struct xen_domctl_getdomaininfo it = domains_info(d[i]);
		domains_check("tscaux-powered-off", domains_info_shutdown_code(&it), SHUTDOWN_poweroff);
	}
	domains_destroy_all(d, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "tscaux: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "tscaux: PASS");
}

static void scenario_spec(const struct hvm_start_info *si)
{
	(void)si;
	u64 before = sysctl_free_pages(), offered = spec_ctrl_offered(), mine, got = 0;

	/* dom0's value: the lowest offered bit, never the domU's (all). */
	mine = offered & -offered;
	if (offered == mine)
		mine = 0;
	if (offered)
		domains_check("dom0-wrmsr-spec-ctrl", wrmsr_safe(0x48, mine), 1);
	/* The first domU leaves its IA32_SPEC_CTRL set when it powers off;
	 * the second (a new domain, its id likely the first's again) must
	 * start at 0 all the same (guest/pvtest/spec.c). */
	domid_t d = domains_domu_create("spec");
	domains_domu_build(d, "role=spec rounds=50 keep=1");
	domains_check("unpause-spec", domctl_unpause(d), 0);
	int rc = domains_wait_shutdown(&d, 1, WAIT_NS);
	if (rc)
		domains_finish(false, "spec: FAIL the domU did not finish in %llu s", WAIT_NS / NS_PER_SEC);
	struct xen_domctl_getdomaininfo i = domains_info(d);
	domains_check("spec-powered-off", domains_info_shutdown_code(&i), SHUTDOWN_poweroff);
	domains_destroy_all(&d, 1);
	d = domains_domu_create("spec2");
	domains_domu_build(d, "role=spec rounds=5");
	domains_check("unpause-spec2", domctl_unpause(d), 0);
	if (domains_wait_shutdown(&d, 1, WAIT_NS))
		domains_finish(false, "spec: FAIL the second domU did not finish in %llu s",
			       WAIT_NS / NS_PER_SEC);
	i = domains_info(d);
	domains_check("spec2-powered-off", domains_info_shutdown_code(&i), SHUTDOWN_poweroff);
	if (offered) {
		domains_check("dom0-rdmsr-spec-ctrl", rdmsr_safe(0x48, &got), 1);
		domains_check("dom0-spec-ctrl-kept", (long)got, (long)mine);
		wrmsr_safe(0x48, 0);
	}
	domains_destroy_all(&d, 1);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "spec: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "spec: PASS the domU's checks passed; dom0's IA32_SPEC_CTRL 0x%lx kept", mine);
}

static void scenario_soak(const struct hvm_start_info *si)
{
	soak_run(si_cmdline(si));
}

/* `scenario=NAME`: one row per scenario. */
static const struct {
	const char *name;
	void (*run)(const struct hvm_start_info *si);
} scenarios[] = {
	{ "pingpong", scenario_pingpong },
	{ "spin", scenario_spin },
	{ "pingpong-spin", scenario_pingpong_spin },
	{ "hostile", scenario_hostile },
	{ "domctl", scenario_domctl },
	{ "timer", scenario_timer },
	{ "platform", scenario_platform },
	{ "tpr", scenario_tpr },
	{ "tscaux", scenario_tscaux },
	{ "stringio", scenario_stringio },
	{ "vcputime", scenario_vcputime },
	{ "lapic", scenario_lapic },
	{ "lapic-hostile", scenario_lapic_hostile },
	{ "lapic-smp", scenario_lapic_smp },
	{ "zombie", scenario_zombie },
	{ "foreign", scenario_foreign },
	{ "isolation", scenario_isolation },
	{ "fpu", scenario_fpu },
	{ "held", scenario_held },
	{ "flood", scenario_flood },
	{ "spec", scenario_spec },
	{ "rowrite", scenario_rowrite },
	{ "soak", scenario_soak },
	{ "pvcons", scenario_pvcons },
	{ "launch", scenario_launch },
	{ "modules", scenario_modules },
	{ "xenstore", scenario_xenstore },
	{ "xsring", scenario_xsring },
	{ "pvblk", scenario_pvblk },
	{ "pvnet", scenario_pvnet },
	{ "teardown", scenario_teardown },
};

void domains_test_run(const struct hvm_start_info *si, const char *which)
{
	const char *cmdline = si_cmdline(si);
	char scenario[16];
	int rc;

	(void)which;
	if (!cmdline_get(cmdline, "scenario", scenario, sizeof(scenario)))
		domains_finish(false, "FAIL no scenario= on the command line");
	printf("dom0: domains: scenario %s\n", scenario);
	if (dom_module_find(si, "pvtest", &domains_image, &domains_image_size))
		domains_finish(false, "FAIL no module named pvtest (keel.cfg: module pvtest /pvtest.elf)");
	if ((rc = evtchn_init()))
		domains_finish(false, "FAIL evtchn_init: %d", rc);
	if ((rc = dom_exc_init()))
		domains_finish(false, "FAIL VIRQ_DOM_EXC service: %d", rc);
	printf("dom0: domains: pvtest image %lu bytes; hypervisor has %lu free pages\n",
	       domains_image_size, sysctl_free_pages());

	for (unsigned i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (!strcmp(scenario, scenarios[i].name)) {
			scenarios[i].run(si);
			break;
		}
	}
	domains_finish(false, "FAIL unknown scenario '%s'", scenario);
}
