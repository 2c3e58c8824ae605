/*
 * The domains scenarios `launch` and `xenstore` (domains.c has the list):
 * the domain launcher (domain/launch.h) and dom0's xenstored service
 * (xsd/xsd.h) on the event loop.
 *
 *   launch    launch failures undo everything: memory beyond the free
 *             pages, a bad image, modules (not supported yet), and a
 *             forced failure before each step in turn; each leaves no
 *             domain, no node, no ring and every free page back. Then
 *             two domUs (role=work) launched for real: their
 *             /local/domain/N entries and permissions read back
 *             in-process, @introduceDomain/@releaseDomain seen by an
 *             in-process watch, nothing of theirs left after destroy.
 *   xsring    dom0 plays a paused domU's side of its store ring: requests
 *             answered (own nodes, EACCES on others', ENOSYS), a watch
 *             event pushed into the ring on dom0's write, a corrupted
 *             index dropping the connection while the store carries on.
 *   xenstore  the same with the domUs' own xenbus clients: two domUs run
 *             `xs_role` (default role=xs; `xs_role=xs-hostile` makes the
 *             second one hostile); dom0 waits for the good ones'
 *             `xs: done P passed F failed` lines on their PV consoles,
 *             then destroys them and checks the store and free pages.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "console/backend.h"
#include "domain/domain.h"
#include "domain/launch.h"
#include "domains.h"
#include "domctl.h"
#include "gnttab.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvclock.h"
#include "xsd/xsd.h"

#define NS_PER_SEC 1000000000ULL

static struct xs_conn *watcher;
static unsigned introduced_events, released_events;

/* Takes the in-process watcher's queued events and counts the special
 * ones (each event is "<path>\0<token>\0"). */
static void take_events(void)
{
	struct xsd_sockmsg h;
	char path[XENSTORE_PAYLOAD_MAX + 1];

	/* A byte stream: one header, then its payload. */
	while (xs_conn_output(watcher, &h, sizeof(h)) == sizeof(h)) {
		u32 n = MIN(h.len, (u32)XENSTORE_PAYLOAD_MAX);
		size_t got = xs_conn_output(watcher, path, n);
		path[got] = 0;
		if (h.type != XS_WATCH_EVENT)
			continue;
		if (!strcmp(path, "@introduceDomain"))
			introduced_events++;
		else if (!strcmp(path, "@releaseDomain"))
			released_events++;
	}
}

static void watch(const char *path, const char *token)
{
	char buf[64];
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	u32 none = 0;

	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	domains_check("watch-registered",
		      xs_call(watcher, XS_WATCH, 0, buf, (u32)(pl + tl), NULL, &none), 0);
}

struct counts {
	u64 free_pages;
	u32 domains, nodes, rings;
};

static struct counts counts_now(void)
{
	struct keel_sysctl_counts c;
	struct counts k = { 0 };

	if (sysctl_counts(&c))
		domains_finish(false, "FAIL sysctl counts");
	k.free_pages = c.free_pages;
	k.domains = c.nr_domains;
	k.nodes = xs_store_nr_nodes(xsd_store());
	k.rings = xsd_nr_rings();
	return k;
}

static void check_back(const char *what, const struct counts *before)
{
	struct counts now = counts_now();
	char name[80];

	snprintf(name, sizeof(name), "%s-domains-back", what);
	domains_check(name, now.domains, before->domains);
	snprintf(name, sizeof(name), "%s-nodes-back", what);
	domains_check(name, now.nodes, before->nodes);
	snprintf(name, sizeof(name), "%s-rings-back", what);
	domains_check(name, now.rings, before->rings);
	snprintf(name, sizeof(name), "%s-free-pages-back", what);
	domains_check(name, (long)now.free_pages, (long)before->free_pages);
}

static void expect_failure(const char *what, const struct launch_params *p, int want)
{
	struct counts before = counts_now();
	struct launch_domain d;
	char err[128], name[80];
	int rc = launch_domain(p, &d, err, sizeof(err));

	printf("dom0: launch: %s: %s\n", what, rc ? err : "launched");
	snprintf(name, sizeof(name), "%s-fails", what);
	domains_check(name, rc, want);
	if (!rc)
		launch_destroy(&d);
	check_back(what, &before);
	/* The id it had (a reused id would hide leftovers from the counts). */
	if (d.id) {
		char path[48], v[8];
		snprintf(path, sizeof(path), "/local/domain/%u", d.id);
		snprintf(name, sizeof(name), "%s-no-domain-dir", what);
		domains_check(name, xsd_read(path, v, sizeof(v)), -ENOENT);
	}
}

static void failures(void)
{
	static const u8 junk[4096] = { 0x7f, 'E', 'L', 'X' };
	struct launch_module mod = { junk, sizeof(junk), "initrd" };
	struct launch_params p = {
		.name = "failing", .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = "role=work steps=1", .paused = true,
	};
	char what[48];

	p.mem_mib = (unsigned)(sysctl_free_pages() / 256) + 64;
	expect_failure("launch-more-memory-than-free", &p, -ENOMEM);
	p.mem_mib = DOMAINS_DOMU_RAM_MIB;
	p.image = junk;
	p.image_size = sizeof(junk);
	expect_failure("launch-bad-image", &p, -ENOEXEC);
	p.image = domains_image;
	p.image_size = domains_image_size;
	/* Modules: the launcher's limit, then the build domctl's checks
	 * (docs/domctl.md): an unreadable buffer, a module larger than the
	 * domain's RAM. Each undoes the whole launch. */
	struct launch_module mods[KEEL_DOMCTL_MODULES_MAX + 1];
	for (unsigned i = 0; i <= KEEL_DOMCTL_MODULES_MAX; i++)
		mods[i] = mod;
	p.modules = mods;
	p.nr_modules = KEEL_DOMCTL_MODULES_MAX + 1;
	expect_failure("launch-too-many-modules", &p, -E2BIG);
	p.nr_modules = 1;
	mods[0].data = (const void *)0xffff800000000000ULL;
	expect_failure("launch-module-unreadable", &p, -EFAULT);
	mods[0].data = junk;
	mods[0].size = (u64)DOMAINS_DOMU_RAM_MIB << 20;
	expect_failure("launch-module-beyond-memory", &p, -ENOMEM);
	p.modules = NULL;
	p.nr_modules = 0;
	p.paused = false;
	for (unsigned s = LAUNCH_STEP_CREATE; s < LAUNCH_STEP_NR; s++) {
		p.fail_at = s;
		snprintf(what, sizeof(what), "launch-fail-before-%u", s);
		expect_failure(what, &p, -EINTR);
	}
	take_events();
	/* A failure after INTRODUCE (before unpause) released it again. */
	domains_check("failure-introduce-events", introduced_events, 1);
	domains_check("failure-release-events", released_events, 1);
	introduced_events = released_events = 0;
}

static void expect_node(domid_t id, const char *rest, const char *want)
{
	char path[96], v[96], name[120];
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u%s", id, rest);
	rc = xsd_read(path, v, sizeof(v));
	snprintf(name, sizeof(name), "node d%u%s = '%s' (read '%s')", id, rest, want,
		 rc ? "?" : v);
	domains_check(name, rc ? rc : strcmp(v, want) ? 1 : 0, 0);
}

static void expect_perms(domid_t id, const char *rest, const char *want, u32 want_len)
{
	char path[96], v[64], name[120];
	u32 n = sizeof(v);
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u%s", id, rest);
	rc = xsd_call(XS_GET_PERMS, 0, path, (u32)strlen(path) + 1, v, &n);
	snprintf(name, sizeof(name), "perms d%u%s", id, rest);
	domains_check(name, rc ? rc : (n == want_len && !memcmp(v, want, n)) ? 0 : 1, 0);
}

static void check_entries(const struct launch_domain *d, const char *name)
{
	char v[64], v2[16];

	expect_node(d->id, "/name", name);
	snprintf(v, sizeof(v), "%u", d->id);
	expect_node(d->id, "/domid", v);
	snprintf(v, sizeof(v), "/vm/%u", d->id);
	expect_node(d->id, "/vm", v);
	snprintf(v, sizeof(v), "%u", DOMAINS_DOMU_RAM_MIB * 1024);
	expect_node(d->id, "/memory/target", v);
	expect_node(d->id, "/memory/static-max", v);
	snprintf(v, sizeof(v), "%lu", d->console_gfn);
	expect_node(d->id, "/console/ring-ref", v);
	snprintf(v, sizeof(v), "%u", d->console_port);
	expect_node(d->id, "/console/port", v);
	expect_node(d->id, "/console/type", "xenconsoled");
	expect_node(d->id, "/device", "");
	expect_node(d->id, "/control", "");
	snprintf(v, sizeof(v), "%lu", d->store_gfn);
	expect_node(d->id, "/store/ring-ref", v);
	snprintf(v, sizeof(v), "%u", d->store_port);
	expect_node(d->id, "/store/port", v);
	expect_node(d->id, "/cpu/0/availability", "online");
	expect_node(d->id, "/control/platform-feature-xs_reset_watches", "1");
	{
		char path[48], got[64];
		snprintf(path, sizeof(path), "/vm/%u/name", d->id);
		domains_check("vm-name", xsd_read(path, got, sizeof(got)) ? 1 : strcmp(got, name), 0);
		snprintf(path, sizeof(path), "/vm/%u/uuid", d->id);
		domains_check("vm-uuid-36-chars", xsd_read(path, got, sizeof(got)) ? 0 : strlen(got), 36);
	}
	/* "n0\0rN\0" on the domain's directory and what it may only read;
	 * "nN\0" on what it writes. */
	int l = snprintf(v, sizeof(v), "n0%cr%u", 0, d->id);
	expect_perms(d->id, "", v, (u32)l + 1);
	expect_perms(d->id, "/name", v, (u32)l + 1);
	l = snprintf(v2, sizeof(v2), "n%u", d->id);
	expect_perms(d->id, "/device", v2, (u32)l + 1);
	expect_perms(d->id, "/data", v2, (u32)l + 1);
	struct xsd_ring_stats st;
	domains_check("store-ring-attached", !xsd_ring_stats(d->id, &st) && st.attached, 1);
}

static void check_gone(domid_t id)
{
	char path[48], v[8];

	snprintf(path, sizeof(path), "/local/domain/%u", id);
	domains_check("domain-dir-gone", xsd_read(path, v, sizeof(v)), -ENOENT);
	domains_check("nodes-owned-after-destroy", xs_store_nr_owned(xsd_store(), id), 0);
	snprintf(path, sizeof(path), "/vm/%u", id);
	domains_check("vm-dir-gone", xsd_read(path, v, sizeof(v)), -ENOENT);
	domains_check("getdomaininfo-after-destroy",
		      dom_info(id, &(struct xen_domctl_getdomaininfo){ 0 }), -ESRCH);
}

/* ---- waiting for the domUs on the loop (xenstored must be served) ---- */

struct xs_tap {
	char line[200];
	size_t len;
	bool done;
	long passed, failed;
};
static struct xs_tap taps[2];
static domid_t tap_dom[2];

static long parse_num(const char **p)
{
	long v = 0;

	while (**p == ' ')
		(*p)++;
	while (**p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0');
	return v;
}

static void on_line(struct xs_tap *t)
{
	static const char done[] = "xs: done ";
	t->line[t->len] = 0;
	const char *at = NULL;

	for (size_t i = 0; i + sizeof(done) - 1 <= t->len; i++)
		if (!memcmp(t->line + i, done, sizeof(done) - 1)) {
			at = t->line + i + sizeof(done) - 1;
			break;
		}
	if (!at)
		return;
	t->passed = parse_num(&at);
	at += strlen(" passed");
	t->failed = parse_num(&at);
	t->done = true;
}

static void on_output(domid_t dom, const char *buf, size_t n, void *arg)
{
	struct xs_tap *t = arg;

	(void)dom;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			on_line(t);
			t->len = 0;
		} else if (t->len < sizeof(t->line) - 1) {
			t->line[t->len++] = buf[i];
		}
	}
}

static struct loop_timer tick;

static void on_tick(void *arg)
{
	(void)arg;
	loop_timer_arm(&tick, pvclock_now_ns() + NS_PER_SEC / 5);
}

static bool all_down(void *arg)
{
	const struct launch_domain *d = arg;

	return domains_is_shut_down(d[0].id) && domains_is_shut_down(d[1].id);
}

static void run_two(const char *role0, const char *role1, bool wait_xs0, bool wait_xs1)
{
	struct launch_domain d[2];
	const char *names[2] = { "xs-a", "xs-b" };
	char cmd[2][96], err[128];
	struct counts before = counts_now();
	int rc;

	/* The second gets the first's id as its peer; the first reads dom0's. */
	snprintf(cmd[0], sizeof(cmd[0]), "%s xs_peer=0", role0);
	for (unsigned i = 0; i < 2; i++) {
		struct launch_params p = {
			.name = names[i], .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
			.image = domains_image, .image_size = domains_image_size,
			.cmdline = cmd[i], .paused = true,
		};
		if ((rc = launch_domain(&p, &d[i], err, sizeof(err))))
			domains_finish(false, "FAIL %s", err);
		printf("dom0: launch: d%u (%s) launched: \"%s\"\n", d[i].id, names[i], cmd[i]);
		if (i == 0)
			snprintf(cmd[1], sizeof(cmd[1]), "%s xs_peer=%u", role1, d[0].id);
		tap_dom[i] = d[i].id;
		memset(&taps[i], 0, sizeof(taps[i]));
		cons_back_set_tap(d[i].id, on_output, &taps[i]);
	}
	take_events();
	domains_check("introduce-events", introduced_events, 2);
	for (unsigned i = 0; i < 2; i++)
		check_entries(&d[i], names[i]);
	for (unsigned i = 0; i < 2; i++)
		domains_check("unpause", launch_unpause(&d[i]), 0);

	tick.fn = on_tick;
	loop_timer_arm(&tick, pvclock_now_ns() + NS_PER_SEC / 5);
	bool down = loop_run_until(all_down, d, pvclock_now_ns() + 4 * DOMAINS_WAIT_NS);
	loop_timer_cancel(&tick);
	/* What they wrote just before powering off is still in their rings:
	 * let the handlers take it. */
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("domUs-finished", down, 1);
	/* Their own power-off, seen through VIRQ_DOM_EXC: @releaseDomain
	 * once each, connections kept until they die (Xen's check_domains). */
	take_events();
	domains_check("release-on-own-shutdown", released_events, 2);
	released_events = 0;
	for (unsigned i = 0; i < 2; i++) {
		struct xsd_ring_stats st = { 0 };
		int kept = xsd_ring_stats(d[i].id, &st);
		printf("dom0: xenstored: d%u: %lu events, %lu pumps%s\n", d[i].id, st.events,
		       st.pumps, st.dropped ? ", dropped" : "");
		if (i == 0 ? wait_xs0 : wait_xs1) {
			if (taps[i].done)
				printf("dom0: launch: d%u: xs: %ld passed %ld failed\n", d[i].id,
				       taps[i].passed, taps[i].failed);
			domains_check("xs-done-line", taps[i].done, 1);
			domains_check("xs-failed", taps[i].failed, 0);
		}
		domains_check("shutdown-poweroff", domains_shutdown_code(d[i].id), SHUTDOWN_poweroff);
		/* (a hostile one's may have been dropped, but not released) */
		domains_check("ring-kept-while-shut-down", kept, 0);
	}
	/* dom0's own store still answers. */
	domains_check("store-answers-dom0", xsd_write("/local/domain/0/alive", "1"), 0);
	domains_check("store-rm-dom0", xsd_rm("/local/domain/0/alive"), 0);
	for (unsigned i = 0; i < 2; i++) {
		domains_check("launch-destroy", launch_destroy(&d[i]), 0);
		check_gone(d[i].id);
	}
	take_events();
	domains_check("release-events", released_events, 2);
	check_back("after-destroy", &before);
	domains_check_free_pages(before.free_pages);
}

static bool rings_at(void *arg)
{
	return xsd_nr_rings() == *(const unsigned *)arg;
}

/*
 * A domain destroyed behind the launcher's back (domctl_destroy, as a
 * crash-and-kill or another toolstack would): xenstored learns it from
 * VIRQ_DOM_EXC alone, drops the connection and fires @releaseDomain; the
 * launcher's destroy afterwards still removes the rest.
 */
static void died_alone(void)
{
	struct counts before = counts_now();
	struct launch_params p = {
		.name = "dies-alone", .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = "role=work steps=1",
	};
	struct launch_domain d;
	char err[128];

	if (launch_domain(&p, &d, err, sizeof(err)))
		domains_finish(false, "FAIL %s", err);
	domains_check("dies-alone-powers-off", domains_wait_shutdown(&d.id, 1, DOMAINS_WAIT_NS), 0);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	take_events();
	domains_check("dies-alone-release-on-shutdown", released_events, 1);
	domains_check("dies-alone-ring-kept", xsd_nr_rings(), before.rings + 1);
	released_events = 0;
	domains_check("dies-alone-destroyed-directly", domctl_destroy(d.id), 0);
	unsigned want = before.rings;
	domains_check("dies-alone-ring-released",
		      loop_run_until(rings_at, &want, pvclock_now_ns() + DOMAINS_WAIT_NS), 1);
	take_events();
	domains_check("dies-alone-release-on-death", released_events, 1);
	released_events = 0;
	domains_check("dies-alone-launch-destroy-after", launch_destroy(&d), 0);
	check_gone(d.id);
	take_events();
	domains_check("dies-alone-no-second-release", released_events, 0);
	check_back("dies-alone", &before);
	domains_check("dies-alone-introduce-events", introduced_events, 1);
	introduced_events = released_events = 0;
}

static void setup(void)
{
	int rc = xsd_init();

	if (rc)
		domains_finish(false, "FAIL xsd_init: %d", rc);
	/* Xen's toolstack writes dom0's own entries. */
	if (xsd_write("/local/domain/0/name", "Domain-0") ||
	    xsd_write("/local/domain/0/domid", "0"))
		domains_finish(false, "FAIL dom0's own nodes");
	watcher = xs_conn_new(xsd_store(), 0, true, NULL, NULL);
	if (!watcher)
		domains_finish(false, "FAIL in-process watcher");
	watch("@introduceDomain", "intro");
	watch("@releaseDomain", "release");
	/*
	 * One launch and destroy first: dom0's first foreign mapping sets up
	 * its grant table and the mapping window (hypervisor frames dom0
	 * keeps for good), which is not a domain's to give back.
	 */
	struct launch_params p = {
		.name = "warm-up", .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = "role=work steps=1", .paused = true,
	};
	struct launch_domain d;
	char err[128];
	if (launch_domain(&p, &d, err, sizeof(err)) || launch_destroy(&d))
		domains_finish(false, "FAIL warm-up launch: %s", err);
	check_gone(d.id);
	take_events(); /* the registration events, the warm-up's */
	introduced_events = released_events = 0;
}

void scenario_launch(const struct hvm_start_info *si)
{
	(void)si;
	setup();
	failures();
	died_alone();
	run_two("role=work steps=2", "role=work steps=2", false, false);
	if (domains_nr_bad())
		domains_finish(false, "launch: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "launch: PASS %u checks", domains_nr_checks());
}

/* FNV-1a, 32 bits: the sum pvtest role=modules prints (modules.c). */
static u32 fnv1a(const u8 *p, u64 n)
{
	u32 h = 2166136261u;
	for (u64 i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool one_down(void *arg)
{
	return domains_is_shut_down(*(const domid_t *)arg);
}

/*
 * scenario=modules: a pvtest role=modules domU launched with two modules
 * (an odd-sized pseudo-random "initrd" and a small one with a command
 * line); dom0 prints each one's size and FNV-1a sum, the guest prints
 * what it finds through its start info's modlist, and the test compares
 * them (tests/launch/test_launch.py). Destroy gives every page back.
 */
void scenario_modules(const struct hvm_start_info *si)
{
	static u8 big[300001], small[5000];
	u32 x = 12345;
	(void)si;

	setup();
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (u8)((x = x * 1103515245u + 12345u) >> 16);
	for (size_t i = 0; i < sizeof(small); i++)
		small[i] = (u8)(i * 7 + 3);
	struct launch_module mods[2] = {
		{ big, sizeof(big), NULL },
		{ small, sizeof(small), "second module" },
	};
	for (unsigned i = 0; i < 2; i++)
		printf("dom0: launch: module %u size %lu sum %x\n", i, mods[i].size,
		       fnv1a(mods[i].data, mods[i].size));

	struct counts before = counts_now();
	struct launch_params p = {
		.name = "modules", .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = "role=modules count=2", .modules = mods, .nr_modules = 2,
	};
	struct launch_domain d;
	char err[128];
	if (launch_domain(&p, &d, err, sizeof(err)))
		domains_finish(false, "FAIL %s", err);
	bool down = loop_run_until(one_down, &d.id, pvclock_now_ns() + 2 * DOMAINS_WAIT_NS);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("modules-domU-finished", down, 1);
	domains_check("modules-shutdown-poweroff", domains_shutdown_code(d.id), SHUTDOWN_poweroff);
	domains_check("modules-destroy", launch_destroy(&d), 0);
	check_gone(d.id);
	check_back("modules-after-destroy", &before);
	domains_check_free_pages(before.free_pages);
	if (domains_nr_bad())
		domains_finish(false, "modules: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "modules: PASS %u checks", domains_nr_checks());
}

void scenario_xenstore(const struct hvm_start_info *si)
{
	char role1[32] = "xs", arg[48];

	setup();
	cmdline_get(si_cmdline(si), "xs_role", role1, sizeof(role1));
	snprintf(arg, sizeof(arg), "role=%s", role1);
	run_two("role=xs", arg, true, !strcmp(role1, "xs"));
	if (domains_nr_bad())
		domains_finish(false, "xenstore: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "xenstore: PASS %u checks", domains_nr_checks());
}

/* ---- the ring path, with dom0 playing the guest (scenario `xsring`) ---- */

static struct xenstore_domain_interface *guest_ring;

static void ring_put(const void *buf, u32 len)
{
	struct xenstore_domain_interface *r = guest_ring;
	u32 prod = r->req_prod;

	for (u32 i = 0; i < len; i++)
		r->req[MASK_XENSTORE_IDX(prod + i)] = ((const char *)buf)[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->req_prod = prod + len;
}

static void ring_request(u32 type, u32 req_id, const char *a, const char *b)
{
	char buf[256];
	struct xsd_sockmsg h = { .type = type, .req_id = req_id };
	size_t al = strlen(a) + 1, bl = b ? strlen(b) + (type == XS_WRITE ? 0 : 1) : 0;

	memcpy(buf + sizeof(h), a, al);
	if (b)
		memcpy(buf + sizeof(h) + al, b, bl);
	h.len = (u32)(al + bl);
	memcpy(buf, &h, sizeof(h));
	ring_put(buf, (u32)(sizeof(h) + h.len));
}

static bool rsp_has(void *arg)
{
	u32 want = *(u32 *)arg;

	return guest_ring->rsp_prod - guest_ring->rsp_cons >= want;
}

/* Waits for one whole message in rsp and takes it: its header, and its
 * payload NUL-terminated in buf. false on timeout. */
static bool ring_reply(struct xsd_sockmsg *h, char *buf, u32 size)
{
	struct xenstore_domain_interface *r = guest_ring;
	u32 need = sizeof(*h);

	if (!loop_run_until(rsp_has, &need, pvclock_now_ns() + 5 * NS_PER_SEC))
		return false;
	u32 cons = r->rsp_cons;
	for (u32 i = 0; i < sizeof(*h); i++)
		((char *)h)[i] = r->rsp[MASK_XENSTORE_IDX(cons + i)];
	need = sizeof(*h) + h->len;
	if (h->len >= size || !loop_run_until(rsp_has, &need, pvclock_now_ns() + 5 * NS_PER_SEC))
		return false;
	for (u32 i = 0; i < h->len; i++)
		buf[i] = r->rsp[MASK_XENSTORE_IDX(cons + sizeof(*h) + i)];
	buf[h->len] = 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	r->rsp_cons = cons + need;
	return true;
}

/* Sends one request as the guest, pokes the service, checks the reply's
 * type and payload. */
static void ring_expect(const char *what, u32 type, const char *a, const char *b, u32 want_type,
			const char *want)
{
	static u32 id = 100;
	struct xsd_sockmsg h;
	char buf[512], name[160];

	ring_request(type, ++id, a, b);
	bool ok = ring_reply(&h, buf, sizeof(buf));
	snprintf(name, sizeof(name), "ring %s: type %u '%s'", what, ok ? h.type : 0u,
		 ok ? buf : "(no reply)");
	domains_check(name, ok && h.type == want_type && h.req_id == id && !strcmp(buf, want), 1);
}

static domid_t ring_dom;

static bool ring_dropped(void *arg)
{
	struct xsd_ring_stats st;

	(void)arg;
	return !xsd_ring_stats(ring_dom, &st) && st.dropped;
}

void scenario_xsring(const struct hvm_start_info *si)
{
	struct launch_params p = {
		.name = "ringside", .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = "role=work steps=1", .paused = true,
	};
	struct launch_domain d;
	char err[128], path[64];
	unsigned slot = GNTTAB_MAP_SLOTS - 1 - CONS_MAX_DOMAINS - XSD_MAX_DOMAINS;
	int rc;

	(void)si;
	setup();
	struct counts before = counts_now();
	/* Never unpaused: dom0 writes the requests the guest would. */
	if ((rc = launch_domain(&p, &d, err, sizeof(err))))
		domains_finish(false, "FAIL %s", err);
	ring_dom = d.id;
	if ((rc = dom_map_foreign_one(d.id, d.store_gfn, gnttab_slot_gpa(slot))))
		domains_finish(false, "FAIL map d%u's store page: %d", d.id, rc);
	guest_ring = gnttab_slot_va(slot);
	domains_check("ring-server-features", guest_ring->server_features,
		      XENSTORE_SERVER_FEATURE_ERROR);

	/* Relative paths are under /local/domain/N. */
	ring_expect("read own name", XS_READ, "name", NULL, XS_READ, "ringside");
	ring_expect("get domain path", XS_GET_DOMAIN_PATH, "5", NULL, XS_GET_DOMAIN_PATH,
		    "/local/domain/5");
	ring_expect("write data/x", XS_WRITE, "data/x", "hello", XS_WRITE, "OK");
	ring_expect("read data/x", XS_READ, "data/x", NULL, XS_READ, "hello");
	ring_expect("read dom0's name", XS_READ, "/local/domain/0/name", NULL, XS_ERROR, "EACCES");
	ring_expect("write dom0's node", XS_WRITE, "/local/domain/0/x", "1", XS_ERROR, "EACCES");
	ring_expect("write own name", XS_WRITE, "name", "evil", XS_ERROR, "EACCES");
	ring_expect("unknown type", 999, "x", NULL, XS_ERROR, "ENOSYS");
	/* A watch: OK, then its registration event. */
	ring_expect("watch data", XS_WATCH, "data", "tok", XS_WATCH, "OK");
	struct xsd_sockmsg h;
	char buf[256];
	bool ok = ring_reply(&h, buf, sizeof(buf));
	domains_check("ring watch registration event", ok && h.type == XS_WATCH_EVENT &&
		      !strcmp(buf, "data"), 1);
	/* dom0 writes under it in-process: the event is pushed into the ring
	 * (notify -> loop -> pump) without the guest asking. */
	snprintf(path, sizeof(path), "/local/domain/%u/data/from-dom0", d.id);
	domains_check("dom0 writes the domU's data/", xsd_write(path, "1"), 0);
	ok = ring_reply(&h, buf, sizeof(buf));
	domains_check("ring watch event on dom0's write", ok && h.type == XS_WATCH_EVENT &&
		      !strcmp(buf, "data/from-dom0"), 1);

	/* A corrupted ring: a producer index 4 KiB ahead. Dropped with one
	 * line, the page's error set; the store answers dom0 still. */
	guest_ring->req_prod = guest_ring->req_cons + 4096;
	xsd_ring_poke(d.id);
	domains_check("corrupt-ring-dropped",
		      loop_run_until(ring_dropped, NULL, pvclock_now_ns() + 5 * NS_PER_SEC), 1);
	domains_check("corrupt-ring-error-set", guest_ring->error, XENSTORE_ERROR_RINGIDX);
	domains_check("poke-after-drop", xsd_ring_poke(d.id), -ENOENT);
	domains_check("store-answers-dom0-after-drop", xsd_write("/local/domain/0/alive", "1"), 0);
	domains_check("store-rm-dom0", xsd_rm("/local/domain/0/alive"), 0);

	dom_unmap_foreign(gnttab_slot_gpa(slot));
	domains_check("launch-destroy", launch_destroy(&d), 0);
	check_gone(d.id);
	take_events();
	domains_check("release-events", released_events, 1);
	check_back("after-destroy", &before);
	domains_check_free_pages(before.free_pages);
	if (domains_nr_bad())
		domains_finish(false, "xsring: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "xsring: PASS %u checks", domains_nr_checks());
}
