/*
 * The hostile domU and its victim (roles hostile and victim, pvtest.h).
 *
 * The victim grants a page read-only to the hostile domain and tells it
 * so over an event channel (port P, allocated by dom0 in the hostile
 * domain for the victim). The hostile domain then:
 *  1. feeds every hypercall family arguments Xen rejects -- bad ports,
 *     grant refs, vCPU ids, domain ids, double closes, a grant not
 *     granted to it, a read-only grant mapped writable, a frame placed
 *     over memory it does not own, domain control (destroying dom0),
 *     hostile counts -- and checks each error against Xen's;
 *  2. tells the victim it is done with its page and closes the channel;
 *  3. makes `calls` hypercalls with random numbers and arguments, then
 *     (exits=E) E random exit-causing instructions and physmap calls
 *     (hostile_exits.c);
 *  4. proves it is alive: its code is unchanged, a canary is intact, a
 *     hypercall still answers.
 * The victim checks that its page was left alone after step 1 and again
 * after step 3 (the grant stays in place through the random calls), does
 * some work meanwhile, then revokes the grant.
 *
 * Self-harm is not the point: the random phase leaves out the calls
 * whose documented effect would be to hurt the caller itself (shutdown,
 * blocking forever, giving away or overlaying its own RAM, moving its
 * vcpu_info into its code, a batch that starts in its own memory). Pointers
 * passed are into a scratch area at the top of the domain's RAM (so a
 * runaway batch runs off the end of RAM into -EFAULT, not into the
 * domain's code), NULL (page 0, zeroed before every call) or random.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/domctl.h>
#include <public/hvm_op.h>
#include <public/memory.h>
#include <public/params.h>
#include <public/sched.h>
#include <public/sysctl.h>
#include <public/vcpu.h>
#include <public/version.h>
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"

#define WAIT_NS (30ULL * 1000000000ULL)
#define SCRATCH_SIZE (64u * 1024)

extern char __image_start[], __ex_table_end[];

static u8 victim_page[PAGE_SIZE] __aligned(PAGE_SIZE);
static u64 canary[512];
static unsigned nr_checks, nr_bad;

static u8 victim_byte(unsigned i)
{
	return (u8)(i * 13 + 5);
}

static u64 checksum(const void *p, u64 len)
{
	const u8 *b = p;
	u64 h = 1469598103934665603ULL; /* FNV-1a */
	for (u64 i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* Per-page sums of the code and read-only data, so that a change can be
 * reported by address (what wrote there is then found from the log). */
#define CODE_PAGES_MAX 256
static u64 code_sums[CODE_PAGES_MAX];

static void code_sums_take(void)
{
	u64 len = (u64)(__ex_table_end - __image_start);
	for (u64 off = 0, i = 0; off < len && i < CODE_PAGES_MAX; off += 4096, i++)
		code_sums[i] = checksum(__image_start + off, MIN(4096, len - off));
}

static void code_sums_report(void)
{
	u64 len = (u64)(__ex_table_end - __image_start);
	for (u64 off = 0, i = 0; off < len && i < CODE_PAGES_MAX; off += 4096, i++)
		if (checksum(__image_start + off, MIN(4096, len - off)) != code_sums[i])
			printf("pvtest: hostile: page at %p changed\n", (void *)(__image_start + off));
}

static void expect(const char *what, long got, long want)
{
	nr_checks++;
	if (got != want)
		nr_bad++;
	printf("pvtest: hostile: check %s: %ld%s (Xen: %ld)\n", what, got,
	       got == want ? "" : " MISMATCH", want);
}

/* ---- step 1: the directed bad inputs --------------------------------- */

static long ev_op(int cmd, void *arg)
{
	return HYPERVISOR_event_channel_op(cmd, arg);
}

static void bad_event_channels(domid_t victim)
{
	struct evtchn_bind_virq bv;
	struct evtchn_bind_ipi bi;
	struct evtchn_alloc_unbound au;
	struct evtchn_bind_interdomain bd;
	struct evtchn_status st;
	struct evtchn_bind_vcpu bvc;
	evtchn_port_t port;

	expect("evtchn-send-port-0", evtchn_send(0), -EINVAL);
	expect("evtchn-send-port-4095-unused", evtchn_send(4095), -EINVAL);
	expect("evtchn-send-port-huge", evtchn_send(0x7fffffff), -EINVAL);
	expect("evtchn-close-port-0", evtchn_close(0), -EINVAL);
	expect("evtchn-close-port-9999", evtchn_close(9999), -EINVAL);
	expect("evtchn-unmask-port-9999", evtchn_unmask(9999), -EINVAL);
	bv = (struct evtchn_bind_virq){ .virq = NR_VIRQS, .vcpu = 0 };
	expect("evtchn-bind-virq-out-of-range", ev_op(EVTCHNOP_bind_virq, &bv), -EINVAL);
	bv = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 7 };
	expect("evtchn-bind-virq-bad-vcpu", ev_op(EVTCHNOP_bind_virq, &bv), -ENOENT);
	bv = (struct evtchn_bind_virq){ .virq = VIRQ_DOM_EXC, .vcpu = 0 };
	expect("evtchn-bind-virq-dom-exc-not-dom0", ev_op(EVTCHNOP_bind_virq, &bv), -EBUSY);
	expect("evtchn-bind-virq-timer", evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0);
	bv = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 0 };
	expect("evtchn-bind-virq-timer-again", ev_op(EVTCHNOP_bind_virq, &bv), -EEXIST);
	bvc = (struct evtchn_bind_vcpu){ .port = port, .vcpu = 5 };
	expect("evtchn-bind-vcpu-bad-vcpu", ev_op(EVTCHNOP_bind_vcpu, &bvc), -ENOENT);
	expect("evtchn-close", evtchn_close(port), 0);
	expect("evtchn-close-twice", evtchn_close(port), -EINVAL);
	bi = (struct evtchn_bind_ipi){ .vcpu = 9 };
	expect("evtchn-bind-ipi-bad-vcpu", ev_op(EVTCHNOP_bind_ipi, &bi), -ENOENT);
	au = (struct evtchn_alloc_unbound){ .dom = 0, .remote_dom = DOMID_SELF };
	expect("evtchn-alloc-unbound-in-dom0", ev_op(EVTCHNOP_alloc_unbound, &au), -EPERM);
	au = (struct evtchn_alloc_unbound){ .dom = 999, .remote_dom = 0 };
	expect("evtchn-alloc-unbound-bad-domid", ev_op(EVTCHNOP_alloc_unbound, &au), -ESRCH);
	bd = (struct evtchn_bind_interdomain){ .remote_dom = 999, .remote_port = 1 };
	expect("evtchn-bind-interdomain-bad-domid", ev_op(EVTCHNOP_bind_interdomain, &bd),
	       -ESRCH);
	bd = (struct evtchn_bind_interdomain){ .remote_dom = 0, .remote_port = 1 };
	expect("evtchn-bind-interdomain-not-offered", ev_op(EVTCHNOP_bind_interdomain, &bd),
	       -EINVAL);
	bd = (struct evtchn_bind_interdomain){ .remote_dom = victim, .remote_port = 4000 };
	expect("evtchn-bind-interdomain-bad-port", ev_op(EVTCHNOP_bind_interdomain, &bd),
	       -EINVAL);
	st = (struct evtchn_status){ .dom = 0, .port = 1 };
	expect("evtchn-status-of-dom0", ev_op(EVTCHNOP_status, &st), -EPERM);
	expect("evtchn-op-unknown", ev_op(99, &st), -ENOSYS);
	evtchn_port_t many[2] = { 1, 2 };
	struct sched_poll poll = { .ports = (u64)(uintptr_t)many, .nr_ports = 1u << 20 };
	expect("sched-poll-hostile-count", HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -EINVAL);
	expect("evtchn-op-bad-pointer", ev_op(EVTCHNOP_send, (void *)0xffff800000000000ULL),
	       -EFAULT);
}

/* Read-only grant tests against the victim's page (mapping it is
 * allowed; writing it is not). Leaves nothing mapped. */
static void bad_grants(domid_t victim, grant_ref_t ref, u8 *scratch)
{
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	long rc;

	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map, 100000, victim);
	rc = gnttab_map_refs(&m, 1);
	expect("grant-map-ref-out-of-range", rc ? rc : m.status, GNTST_bad_gntref);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map, ref, 999);
	rc = gnttab_map_refs(&m, 1);
	expect("grant-map-bad-domid", rc ? rc : m.status, GNTST_bad_domain);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map, ref, 0);
	rc = gnttab_map_refs(&m, 1);
	expect("grant-map-not-granted-to-us", rc ? rc : m.status, GNTST_general_error);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map, ref, victim);
	rc = gnttab_map_refs(&m, 1);
	expect("grant-map-readonly-grant-writable", rc ? rc : m.status, GNTST_general_error);
	gnttab_set_map_op(&m, 0x100000, GNTMAP_host_map | GNTMAP_readonly, ref, victim);
	rc = gnttab_map_refs(&m, 1);
	expect("grant-map-over-own-ram", rc ? rc : m.status, GNTST_general_error);

	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map | GNTMAP_readonly, ref, victim);
	rc = gnttab_map_refs(&m, 1);
	expect("grant-map-readonly", rc ? rc : m.status, GNTST_okay);
	if (!rc && m.status == GNTST_okay) {
		const u8 *p = gnttab_slot_va(1);
		unsigned wrong = 0;
		for (unsigned i = 0; i < PAGE_SIZE; i++)
			wrong += p[i] != victim_byte(i);
		expect("grant-readonly-page-contents-wrong-bytes", wrong, 0);
		/* Placing our shared_info over the grant mapping: a frame over
		 * memory that is not ours. */
		struct xen_add_to_physmap x = { .domid = DOMID_SELF,
						.space = XENMAPSPACE_shared_info,
						.idx = 0,
						.gpfn = gnttab_slot_gpa(1) >> PAGE_SHIFT };
		expect("physmap-shared-info-over-grant", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x),
		       -EPERM);
		gnttab_set_unmap_op(&u, gnttab_slot_gpa(1), m.handle);
		rc = gnttab_unmap_refs(&u, 1);
		expect("grant-unmap", rc ? rc : u.status, GNTST_okay);
		rc = gnttab_unmap_refs(&u, 1);
		expect("grant-unmap-twice", rc ? rc : u.status, GNTST_bad_handle);
	}
	gnttab_set_unmap_op(&u, gnttab_slot_gpa(2), 12345);
	rc = gnttab_unmap_refs(&u, 1);
	expect("grant-unmap-bad-handle", rc ? rc : u.status, GNTST_bad_handle);

	struct gnttab_copy c = { 0 };
	c.source.u.ref = ref;
	c.source.domid = victim;
	c.dest.u.gmfn = virt_to_gfn(scratch);
	c.dest.domid = DOMID_SELF;
	c.source.offset = 4000;
	c.len = 200; /* crosses the end of the page */
	c.flags = GNTCOPY_source_gref;
	rc = gnttab_copy(&c, 1);
	expect("grant-copy-crossing-page", rc ? rc : c.status, GNTST_bad_copy_arg);
	c.source.offset = 0;
	c.len = 16;
	c.dest.u.gmfn = 0x100000000ULL; /* far beyond our RAM */
	rc = gnttab_copy(&c, 1);
	expect("grant-copy-to-memory-not-ours", rc ? rc : c.status, GNTST_bad_page);

	/* Hostile counts: a negative count, and a huge one over garbage
	 * that runs into the end of RAM. */
	expect("grant-op-negative-count",
	       HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, scratch, 0x80000000u), -EINVAL);
	expect("grant-op-unknown", HYPERVISOR_grant_table_op(99, scratch, 1), -ENOSYS);
	struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 1000000 };
	rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1);
	expect("grant-setup-table-hostile-size", rc ? rc : s.status, GNTST_general_error);
	s = (struct gnttab_setup_table){ .dom = 0, .nr_frames = 1 };
	rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1);
	expect("grant-setup-table-of-dom0", rc ? rc : s.status, GNTST_permission_denied);
}

static void bad_vcpus_memory_domains(void)
{
	struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = 1, .flags = VCPU_SSHOTTMR_future };
	struct vcpu_set_periodic_timer p = { .period_ns = 10 };

	expect("vcpu-op-bad-vcpu", HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 3, &t), -ENOENT);
	expect("vcpu-op-vcpu-huge", HYPERVISOR_vcpu_op(VCPUOP_is_up, 0x7fffffff, NULL), -ENOENT);
	expect("vcpu-singleshot-in-the-past", HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t),
	       -ETIME);
	expect("vcpu-periodic-too-short", HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &p),
	       -EINVAL);
	expect("vcpu-op-unknown", HYPERVISOR_vcpu_op(99, 0, NULL), -ENOSYS);

	struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
					.idx = 0, .gpfn = 1ULL << 50 };
	expect("physmap-beyond-address-width", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x),
	       -EINVAL);
	x = (struct xen_add_to_physmap){ .domid = 0, .space = XENMAPSPACE_shared_info, .gpfn = 0x100 };
	expect("physmap-into-dom0", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), -EPERM);
	x = (struct xen_add_to_physmap){ .domid = 999, .space = XENMAPSPACE_shared_info };
	expect("physmap-bad-domid", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), -ESRCH);

	struct xen_hvm_param hp = { .domid = DOMID_SELF, .index = HVM_PARAM_STORE_PFN, .value = 1 };
	expect("hvm-set-store-pfn-not-controller", HYPERVISOR_hvm_op(HVMOP_set_param, &hp), -EPERM);
	hp = (struct xen_hvm_param){ .domid = DOMID_SELF, .index = 100000 };
	expect("hvm-param-out-of-range", HYPERVISOR_hvm_op(HVMOP_get_param, &hp), -EINVAL);
	hp = (struct xen_hvm_param){ .domid = 0, .index = HVM_PARAM_STORE_PFN };
	expect("hvm-get-param-of-dom0", HYPERVISOR_hvm_op(HVMOP_get_param, &hp), -EPERM);

	/* Domain control is dom0's alone: one check in the hypercall table. */
	struct xen_domctl d = { .cmd = XEN_DOMCTL_destroydomain,
				.interface_version = XEN_DOMCTL_INTERFACE_VERSION, .domain = 0 };
	expect("domctl-destroy-dom0", HYPERVISOR_domctl(&d), -EPERM);
	d.cmd = XEN_DOMCTL_createdomain;
	expect("domctl-create", HYPERVISOR_domctl(&d), -EPERM);
	struct xen_sysctl sy = { .cmd = XEN_SYSCTL_physinfo,
				 .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
	expect("sysctl-physinfo", HYPERVISOR_sysctl(&sy), -EPERM);
	struct sched_remote_shutdown rs = { .domain_id = 0, .reason = SHUTDOWN_poweroff };
	expect("sched-remote-shutdown-dom0", HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs),
	       -EPERM);
	struct sched_shutdown sd = { .reason = 77 };
	expect("sched-shutdown-bad-reason", HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd), -EINVAL);
	expect("set-timer-op-far-future", hypercall6(__HYPERVISOR_set_timer_op, ~0ULL >> 1, 0, 0, 0, 0),
	       0);
	expect("set-timer-op-stop", hypercall6(__HYPERVISOR_set_timer_op, 0, 0, 0, 0, 0), 0);
	expect("hypercall-number-unknown", hypercall6(60, 0, 0, 0, 0, 0), -ENOSYS);
	expect("hypercall-number-huge", hypercall6(0x7fffffff, 0, 0, 0, 0, 0), -ENOSYS);
}

/* ---- step 3: random hypercalls ----------------------------------------- */

/* True if the call's documented effect is to harm the caller itself
 * (see the comment at the top): it is not made, another is drawn. */
static bool self_harm(u64 nr, u64 cmd)
{
	switch (nr) {
	case __HYPERVISOR_sched_op:
		return cmd != SCHEDOP_yield && cmd <= 16; /* shutdown, block, poll, watchdog */
	case __HYPERVISOR_console_io:
		return cmd == CONSOLEIO_write; /* garbage on the operator's console */
	case __HYPERVISOR_memory_op:
		switch (cmd & 63) {
		case XENMEM_maximum_ram_page:
		case XENMEM_current_reservation:
		case XENMEM_maximum_reservation:
		case XENMEM_memory_map:
		case XENMEM_machine_memory_map:
		case XENMEM_maximum_gpfn:
			return false;
		default:
			return true; /* gives away, moves or overlays our RAM */
		}
	case __HYPERVISOR_vcpu_op:
		return cmd == VCPUOP_initialise || cmd == VCPUOP_down ||
		       cmd == VCPUOP_register_runstate_memory_area ||
		       cmd == VCPUOP_register_vcpu_info || cmd >= VCPUOP_register_vcpu_time_memory_area;
	case __HYPERVISOR_iret:
		return true; /* the hypercall page's stub is ud2 */
	default:
		return false;
	}
}

static u64 random_arg(u64 *rng, u8 *scratch, domid_t victim)
{
	u64 r = rng_next(rng);
	switch (r % 8) {
	case 0:
	case 1:
		return (u64)(uintptr_t)scratch + (rng_next(rng) % 4096 & ~7ULL);
	case 2:
		return rng_next(rng) % 64;
	case 3:
		return rng_next(rng);
	case 4:
		return 0;
	case 5:
		return ~0ULL;
	case 6:
		return r & 1 ? DOMID_SELF : victim;
	default:
		return (u64)(uintptr_t)scratch + SCRATCH_SIZE - 8 * (rng_next(rng) % 16);
	}
}

static void fuzz(u64 calls, u64 seed, u8 *scratch, domid_t victim, u64 *ok, u64 *err)
{
	u64 rng = (seed ^ 0x9E3779B97F4A7C15ULL) ? seed ^ 0x9E3779B97F4A7C15ULL : 1;
	u64 *page0;

	/* Page 0 is RAM here; hide the null pointer from the compiler. */
	__asm__("" : "=r"(page0) : "0"(0UL));

	for (u64 n = 0; n < calls;) {
		u64 r = rng_next(&rng);
		u64 nr = r % 8 == 0 ? rng_next(&rng) % 256 : rng_next(&rng) % 48;
		u64 cmd = r % 3 == 0 ? rng_next(&rng) : rng_next(&rng) % 32;
		if (self_harm(nr, cmd))
			continue;
		/* Fresh garbage for every call; page 0 (what NULL points at)
		 * back to zeroes, so nothing written there earlier is read
		 * back as a structure. */
		for (unsigned i = 0; i < 4096 / 8; i++)
			((u64 *)scratch)[i] = rng_next(&rng);
		for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
			((volatile u64 *)page0)[i] = 0;
		u64 a[4];
		for (unsigned i = 0; i < 4; i++)
			a[i] = random_arg(&rng, scratch, victim);
		/* A batch (grant_table_op's uop array of `count` elements)
		 * that starts in our own memory below the scratch area would
		 * have the hypervisor write each element's status up through
		 * our code and stack: one element at most there. */
		if (nr == __HYPERVISOR_grant_table_op && a[0] < (u64)(uintptr_t)scratch)
			a[1] &= 1;
		/* Numbers past the hypercall page's 128 stubs go straight
		 * through the instruction, so they reach the hypervisor too. */
		long rc = nr < XEN_HYPERCALL_PAGE_STUBS
				  ? hypercall6((unsigned)nr, cmd, a[0], a[1], a[2], a[3])
				  : hypercall_direct(xen_info()->vendor_amd ? HYPERCALL_VMMCALL
									    : HYPERCALL_VMCALL,
						     (unsigned)nr, cmd, a[0], a[1], a[2], a[3]);
		if (rc < 0)
			(*err)++;
		else
			(*ok)++;
		n++;
		if (n % 2000 == 0)
			printf("pvtest: hostile: %lu random hypercalls made\n", n);
	}
}

/* ---- the two roles ----------------------------------------------------- */

void role_hostile(const struct hvm_start_info *si)
{
	domid_t victim = (domid_t)arg_u64("victim");
	u32 port = (u32)arg_u64("port");
	grant_ref_t ref = (grant_ref_t)arg_u64("gref");
	u64 calls = arg_u64("calls"), seed = arg_u64_or("seed", 1), exits = arg_u64_or("exits", 0);
	u64 ramtop = arg_u64("ramtop");
	int rc;

	if (ramtop < SCRATCH_SIZE || !si_is_ram(si, ramtop - SCRATCH_SIZE, SCRATCH_SIZE))
		fail("ramtop=0x%lx: the 64 KiB below it are not RAM", ramtop);
	u8 *scratch = (u8 *)(uintptr_t)(ramtop - SCRATCH_SIZE);
	u64 code_sum = checksum(__image_start, (u64)(__ex_table_end - __image_start));
	code_sums_take();
	for (unsigned i = 0; i < ARRAY_SIZE(canary); i++)
		canary[i] = 0xC0FFEE0000000000ULL + i;
	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);

	wait_port(port, WAIT_NS, "the victim's grant");
	printf("pvtest: hostile: victim d%u granted ref %u read-only; attacking\n", victim, ref);
	bad_event_channels(victim);
	bad_grants(victim, ref, scratch);
	bad_vcpus_memory_domains();

	if ((rc = evtchn_send(port)))
		fail("telling the victim the directed checks are done: %d", rc);
	printf("pvtest: hostile: %u directed checks, %u mismatches; now %lu random hypercalls "
	       "(seed %lu)\n", nr_checks, nr_bad, calls, seed);

	/* The victim's grant stays in place through the random calls (some
	 * name the victim and its grant refs): it checks its page again
	 * when told the storm is over. */
	u64 ok = 0, err = 0;
	fuzz(calls, seed, scratch, victim, &ok, &err);
	if (exits)
		hostile_exits(exits, seed, scratch, ramtop, victim);
	if ((rc = evtchn_send(port)))
		fail("telling the victim the random calls are over: %d", rc);
	expect("evtchn-close-interdomain", evtchn_close(port), 0);
	expect("evtchn-close-interdomain-twice", evtchn_close(port), -EINVAL);

	/* Alive: code intact, data intact, the hypervisor still answers. */
	if (checksum(__image_start, (u64)(__ex_table_end - __image_start)) != code_sum) {
		code_sums_report();
		fail("our code or read-only data changed during the random calls");
	}
	for (unsigned i = 0; i < ARRAY_SIZE(canary); i++)
		if (canary[i] != 0xC0FFEE0000000000ULL + i)
			fail("canary word %u changed", i);
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);
	if (v <= 0)
		fail("xen_version after the random calls: %ld", v);
	if (nr_bad)
		fail("%u of %u directed checks got an error other than Xen's", nr_bad, nr_checks);
	/* The counts measured while calling, not the count asked for. */
	printf("pvtest: hostile: PASS %u directed checks; %lu random hypercalls made (%lu "
	       "refused, %lu accepted); still alive\n", nr_checks, ok + err, err, ok);
}

static void check_victim_page(const char *when)
{
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (victim_page[i] != victim_byte(i))
			fail("granted page byte %u changed to 0x%x %s", i, victim_page[i], when);
	printf("pvtest: victim: page intact %s\n", when);
}

void role_victim(const struct hvm_start_info *si)
{
	domid_t hostile = (domid_t)arg_u64("hostile");
	domid_t notifier = (domid_t)arg_u64_or("notifier", hostile);
	u32 rport = (u32)arg_u64("rport");
	grant_ref_t ref = (grant_ref_t)arg_u64("gref");
	u64 steps = arg_u64_or("steps", 10), storm = arg_u64_or("storm", 1), sum = 0;
	evtchn_port_t port;
	int rc;

	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		victim_page[i] = victim_byte(i);
	gnttab_grant_access_ref(ref, hostile, virt_to_gfn(victim_page), true);
	if ((rc = evtchn_bind_interdomain(notifier, rport, &port)))
		fail("bind_interdomain(d%u, %u): %d", notifier, rport, rc);
	evtchn_clear_pending(port);
	/* The line before the notification that lets the peer act. */
	printf("pvtest: victim: page granted read-only to d%u as ref %u\n", hostile, ref);
	if ((rc = evtchn_send(port)))
		fail("send: %d", rc);

	wait_port(port, WAIT_NS, "the directed checks to end");
	check_victim_page(storm ? "after the directed checks" : "after the peer finished");
	puts("pvtest: victim: working alongside the fuzzing");
	for (u64 s = 1; s <= steps; s++) {
		for (u64 i = 0; i < 2000000; i++)
			sum = sum * 6364136223846793005ULL + i;
		printf("pvtest: victim: step %lu/%lu\n", s, steps);
	}
	if (storm) {
		wait_port(port, arg_u64_or("storm_s", 60) * 1000000000ULL, "the random calls to end");
		check_victim_page("after the random calls");
	}
	if (!gnttab_end_access(ref))
		fail("cannot revoke ref %u: flags 0x%x", ref, gnttab_flags(ref));
	evtchn_close(port);
	puts("pvtest: victim: grant revoked");
	printf("pvtest: victim: PASS page left alone, %lu steps done (checksum %lx)\n", steps, sum);
}

/*
 * role=rowriter granter=D gref=R: maps D's grant R read-only, checks it
 * holds the victim's pattern, then writes through the mapping. The write
 * must fault in the nested page tables and the hypervisor must kill this
 * domain ("write access to protected guest-physical ..."); if the write
 * goes through, the role says so and crashes (and the victim finds its
 * page changed).
 */
void role_rowriter(const struct hvm_start_info *si)
{
	domid_t granter = (domid_t)arg_u64("granter");
	grant_ref_t ref = (grant_ref_t)arg_u64("gref");
	struct gnttab_map_grant_ref m;
	int rc;

	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	gnttab_set_map_op(&m, gnttab_slot_gpa(0), GNTMAP_host_map | GNTMAP_readonly, ref, granter);
	rc = gnttab_map_refs(&m, 1);
	if (rc || m.status != GNTST_okay)
		fail("mapping d%u's grant %u read-only: %d/%d", granter, ref, rc, m.status);
	volatile u8 *p = gnttab_slot_va(0);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != victim_byte(i))
			fail("d%u's granted page byte %u is 0x%x", granter, i, p[i]);
	printf("pvtest: rowriter: mapped d%u's grant %u read-only at gpa 0x%lx, contents "
	       "verified; writing to it\n", granter, ref, gnttab_slot_gpa(0));
	console_flush();
	p[0] = (u8)~victim_byte(0);
	fail("the write through the read-only mapping went through: byte 0 reads 0x%x", p[0]);
}
