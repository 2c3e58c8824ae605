/*
 * dom0's micro-benchmarks (cmdline `bench`; `make bench` runs them under
 * QEMU -icount, where RDTSC counts guest instructions: docs/PERFORMANCE.md).
 *
 * Each figure runs its operation `iters` times (cmdline `bench_iters=N`,
 * default 100000; a multiple of BENCH_BATCH) in batches of BENCH_BATCH,
 * reads RDTSC around every batch and prints
 *
 *     dom0: bench NAME: MIN insns/iter (iters N, avg AVG)
 *     dom0: bench-exits NAME: reason=count ... (VM exits dom0 took meanwhile)
 *
 * MIN is the cheapest batch divided by BENCH_BATCH (the path itself: no
 * timer tick in it), AVG the whole run divided by N (ticks amortized in).
 * Both include the few instructions of the loop (`loop-baseline`). Then
 * the boot timeline, dom0's exit counters since boot, `dom0: bench done`,
 * and power-off. A failed set-up prints `dom0: bench NAME: FAIL ...` and
 * carries on with the next figure.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/cpuid.h>
#include <public/domctl.h>
#include <public/keel_test.h>
#include <public/version.h>
#include "cpu.h"
#include "dom0.h"
#include "selftests.h"
#include "domctl.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"

#define BENCH_BATCH 100
#define BENCH_ITERS_DEFAULT 100000


static u64 iters = BENCH_ITERS_DEFAULT;

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((u64)hi << 32) | lo;
}

/* ---- exit counters (KEEL_DOMCTL_get_exit_counts on dom0 itself) ----------- */

/* From the one list of reasons (public/domctl.h). */
#define EXIT_NAME_ENTRY_(name, num, str, what) [KEEL_EXIT_##name] = str,
static const char *const exit_names[KEEL_EXIT_NR] = { KEEL_EXIT_REASONS(EXIT_NAME_ENTRY_) };
#undef EXIT_NAME_ENTRY_

static bool have_exit_counts = true;

static void exits_read(u64 *c)
{
	memset(c, 0, KEEL_EXIT_NR * sizeof(u64));
	if (have_exit_counts && domctl_exit_counts(0, c, KEEL_EXIT_NR, NULL))
		have_exit_counts = false;
}

/* One line: "reason=count" for every non-zero entry of c. */
static void exits_print(const char *label, const char *name, const u64 *c)
{
	char buf[400];
	size_t n;
	unsigned shown = 0;

	n = (size_t)snprintf(buf, sizeof(buf), "dom0: %s %s:", label, name);
	for (unsigned i = 0; i < KEEL_EXIT_NR && n < sizeof(buf); i++)
		if (c[i]) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%lu", exit_names[i], c[i]);
			shown++;
		}
	if (!shown)
		snprintf(buf + n, sizeof(buf) - n, " none");
	puts(buf);
}

/* ---- measuring ------------------------------------------------------------- */

struct result {
	u64 best;  /* cheapest batch, in RDTSC units */
	u64 total; /* all batches */
	u64 exits[KEEL_EXIT_NR];
};

static u64 exits_before[KEEL_EXIT_NR];

static void measure_begin(void)
{
	exits_read(exits_before);
}

static void measure_end(struct result *r)
{
	exits_read(r->exits);
	for (unsigned i = 0; i < KEEL_EXIT_NR; i++)
		r->exits[i] -= exits_before[i];
	/* The second read is a hypercall of its own, counted before the copy. */
	if (have_exit_counts && r->exits[KEEL_EXIT_HYPERCALL])
		r->exits[KEEL_EXIT_HYPERCALL]--;
}

/* Runs BODY iters times in batches of BENCH_BATCH, timing each batch. */
#define MEASURE(r, BODY)                                                         \
	do {                                                                     \
		(r)->best = ~0ULL;                                               \
		(r)->total = 0;                                                  \
		measure_begin();                                                 \
		for (u64 b_ = 0; b_ < iters / BENCH_BATCH; b_++) {               \
			u64 s_ = rdtsc();                                        \
			for (unsigned i_ = 0; i_ < BENCH_BATCH; i_++) {          \
				BODY;                                            \
			}                                                        \
			u64 d_ = rdtsc() - s_;                                   \
			(r)->total += d_;                                        \
			if (d_ < (r)->best)                                      \
				(r)->best = d_;                                  \
		}                                                                \
		measure_end(r);                                                  \
	} while (0)

/* "123.45": x / div with two decimals, rounded. */
static const char *fixed2(u64 x, u64 div, char *buf, size_t size)
{
	u64 h = (x * 100 + div / 2) / div;

	snprintf(buf, size, "%lu.%02lu", h / 100, h % 100);
	return buf;
}

static void report(const char *name, const struct result *r, const char *note)
{
	char best[32], avg[32];

	printf("dom0: bench %s: %s insns/iter (iters %lu, avg %s%s%s)\n", name,
	       fixed2(r->best, BENCH_BATCH, best, sizeof(best)), iters,
	       fixed2(r->total, iters, avg, sizeof(avg)), note ? ", " : "", note ? note : "");
	if (have_exit_counts)
		exits_print("bench-exits", name, r->exits);
}

/* ---- the figures ----------------------------------------------------------- */

static void bench_baseline(void)
{
	struct result r;

	MEASURE(&r, asm volatile("" ::: "memory"));
	report("loop-baseline", &r, NULL);
}

static void bench_cpuid(void)
{
	struct result r;

	MEASURE(&r, cpuid(XEN_CPUID_FIRST_LEAF));
	report("cpuid-exit", &r, "leaf 0x40000000");
}

static void bench_hypercall_page(void)
{
	struct result r;
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);

	if (xen_info()->mode != HYPERCALL_PAGE) {
		printf("dom0: bench hypercall-page: FAIL hypercalls are not via the page "
		       "(mode %d)\n", xen_info()->mode);
		return;
	}
	if (v < 0) {
		printf("dom0: bench hypercall-page: FAIL xen_version %ld\n", v);
		return;
	}
	MEASURE(&r, HYPERVISOR_xen_version(XENVER_version, NULL));
	report("hypercall-page", &r, "xen_version(XENVER_version)");
}

static void bench_hypercall_direct(void)
{
	struct result r;
	enum hypercall_mode insn = xen_info()->vendor_amd ? HYPERCALL_VMMCALL : HYPERCALL_VMCALL;
	const char *what = insn == HYPERCALL_VMMCALL ? "vmmcall" : "vmcall";
	long v = hypercall_direct(insn, __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
	char note[64];

	if (v < 0) {
		printf("dom0: bench hypercall-direct: FAIL %s xen_version %ld\n", what, v);
		return;
	}
	MEASURE(&r, hypercall_direct(insn, __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0));
	snprintf(note, sizeof(note), "xen_version via %s", what);
	report("hypercall-direct", &r, note);
}

static void bench_ports(void)
{
	struct result r;

	MEASURE(&r, inb(KEEL_TEST_PORT_UNEMULATED));
	report("pio-unemulated", &r, "inb 0x99");
	MEASURE(&r, inl(KEEL_TEST_PORT));
	report("pio-testport", &r, "inl 0x5e0");
}

static void bench_msr(void)
{
	struct result r;

	MEASURE(&r, rdmsr(KEEL_TEST_MSR_APIC_BASE));
	report("msr-read", &r, "rdmsr IA32_APIC_BASE");
}

/* Event channel looped back into dom0: send on one end, the upcall for
 * the other end sets the flag. */
static volatile bool fired;
static volatile u64 nr_fired;

static void on_event(evtchn_port_t port, void *arg)
{
	(void)port, (void)arg;
	nr_fired++;
	fired = true;
}

static void bench_evtchn(void)
{
	evtchn_port_t a = 0, b = 0;
	struct result r;
	char note[80];
	int rc;

	rc = evtchn_init();
	if (!rc)
		rc = evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a);
	if (!rc)
		rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
	if (!rc)
		rc = evtchn_set_handler(a, on_event, NULL);
	if (!rc)
		rc = evtchn_unmask(a);
	if (rc) {
		printf("dom0: bench evtchn-loopback: FAIL set-up %d\n", rc);
		return;
	}
	evtchn_irq_enable();
	nr_fired = 0;
	MEASURE(&r, {
		fired = false;
		evtchn_send(b);
		evtchn_wait_for(&fired);
	});
	snprintf(note, sizeof(note), "ports %u->%u, %lu upcalls handled", b, a, nr_fired);
	if (nr_fired != iters)
		printf("dom0: bench evtchn-loopback: FAIL %lu events for %lu sends\n", nr_fired,
		       iters);
	report("evtchn-loopback", &r, note);
	evtchn_close(b);
	evtchn_close(a);
}

/*
 * The domain life cycle with no RAM: KEEL_DOMCTL_create (1 and 2 vCPUs)
 * and destroy, timed with RDTSC around the hypercall, and the hypervisor's
 * free pages before, after creating and after destroying. A domain with no
 * RAM has no guest memory and only the p2m's root table, so the free-page
 * difference is the hypervisor's own memory per domain (its structures and
 * per-vCPU state; the root table included). Per vCPU: the 2-vCPU domain
 * minus the 1-vCPU one.
 */
static int domain_once(unsigned vcpus, u64 *create, u64 *destroy, u64 *pages)
{
	u64 before = sysctl_free_pages(), t0, t1, mid;
	domid_t id = 0;
	int rc;

	t0 = rdtsc();
	rc = domctl_create(&id, vcpus, "bench");
	t1 = rdtsc();
	if (rc)
		return rc;
	*create = t1 - t0;
	mid = sysctl_free_pages();
	t0 = rdtsc();
	rc = domctl_destroy(id);
	t1 = rdtsc();
	if (rc)
		return rc;
	*destroy = t1 - t0;
	*pages = before - mid;
	if (sysctl_free_pages() != before)
		return -EBUSY; /* pages not given back */
	return 0;
}

static void bench_domain(void)
{
	u64 c1, d1, p1, c2, d2, p2;
	int rc = domain_once(1, &c1, &d1, &p1);

	if (!rc)
		rc = domain_once(2, &c2, &d2, &p2);
	if (rc) {
		printf("dom0: bench domain-create: FAIL %d\n", rc);
		return;
	}
	printf("dom0: bench domain-create: %lu insns (KEEL_DOMCTL_create, 1 vCPU, no RAM)\n", c1);
	printf("dom0: bench domain-destroy: %lu insns (KEEL_DOMCTL_destroy of it)\n", d1);
	printf("dom0: bench domain-mem: %lu bytes (hypervisor pages per domain with 1 vCPU: %lu)\n",
	       p1 * 4096, p1);
	printf("dom0: bench vcpu-mem: %lu bytes (2-vCPU domain minus 1-vCPU domain: %lu pages)\n",
	       (p2 - p1) * 4096, p2 - p1);
}

/* The boot timeline: RDTSC (the host's TSC: Keel sets no offset) at
 * guest_main's entry and after the first console line, and the
 * hypervisor's TSC at boot, recovered from the pvclock record (system
 * time 0 = Keel's time_init). */
static void bench_boot(void)
{
	u64 khz, ns, now, hv_boot;

	printf("dom0: bench boot-dom0-entry: %lu insns (since reset: firmware, loader, "
	       "hypervisor)\n", dom0_tsc_entry);
	printf("dom0: bench boot-first-line: %lu insns (guest_main to first console line)\n",
	       dom0_tsc_first_line - dom0_tsc_entry);
	if (evtchn_init())
		return;
	khz = pvclock_tsc_khz();
	ns = pvclock_now_ns();
	now = rdtsc();
	if (!khz)
		return;
	hv_boot = now - (ns / 1000000 * khz + ns % 1000000 * khz / 1000000);
	printf("dom0: bench boot-hv-to-dom0: %lu insns (hypervisor time_init to dom0 "
	       "guest_main; tsc %lu kHz)\n", dom0_tsc_entry - hv_boot, khz);
}

/*
 * Not a figure: the hypervisor's cached guest walks (arch/x86/guest_mem.c)
 * must follow this domain's page-table changes. A page of our own table
 * maps VA_CHECK first to a page holding `ds ds ds cpuid; ret` (5 bytes
 * before the RET), then to one holding `cpuid; inc rsi; ret` at the same
 * offset. Without NRIP save the hypervisor fetches each CPUID to learn its
 * length; a stale translation measures 5 bytes in the second page and
 * skips the INC. The same for a hypercall's buffer: console_io writes two
 * different lines from one virtual address whose PTE changes in between.
 */
#define VA_CHECK 0x8000000000ULL /* PML4 slot 1: unused by the identity map */

static u64 check_pt[512] __aligned(PAGE_SIZE);
static u8 check_pages[4][PAGE_SIZE] __aligned(PAGE_SIZE);

static u64 check_call(u64 rsi)
{
	u64 a = XEN_CPUID_FIRST_LEAF, b, c = 0, d;

	asm volatile("call *%%rdi" : "+a"(a), "=b"(b), "+c"(c), "=d"(d), "+S"(rsi)
		     : "D"(VA_CHECK) : "memory", "cc");
	return rsi;
}

static void check_map(unsigned idx, unsigned page)
{
	check_pt[idx] = (u64)(uintptr_t)check_pages[page] | PTE_P | PTE_RW;
	invlpg(VA_CHECK + idx * PAGE_SIZE);
}

static void bench_check_translations(void)
{
	static const u8 longer[] = { 0x3e, 0x3e, 0x3e, 0x0f, 0xa2, 0xc3 };
	static const u8 shorter[] = { 0x0f, 0xa2, 0x48, 0xff, 0xc6, 0xc3 };
	static const char line_a[] = "dom0: bench translation-check: data page A\n";
	static const char line_b[] = "dom0: bench translation-check: data page B\n";
	u64 *pml4, *pdpt, *pd;
	u64 r1, r2;

	if (pt_map_2m(VA_CHECK, 0, 0)) {
		puts("dom0: bench translation-check: FAIL cannot map 0x8000000000");
		return;
	}
	pml4 = (u64 *)(uintptr_t)(read_cr3() & 0x000ffffffffff000ULL);
	pdpt = (u64 *)(uintptr_t)(pml4[(VA_CHECK >> 39) & 511] & 0x000ffffffffff000ULL);
	pd = (u64 *)(uintptr_t)(pdpt[(VA_CHECK >> 30) & 511] & 0x000ffffffffff000ULL);
	memcpy(check_pages[0], longer, sizeof(longer));
	memcpy(check_pages[1], shorter, sizeof(shorter));
	memcpy(check_pages[2], line_a, sizeof(line_a) - 1);
	memcpy(check_pages[3], line_b, sizeof(line_b) - 1);
	pd[(VA_CHECK >> 21) & 511] = (u64)(uintptr_t)check_pt | PTE_P | PTE_RW;
	invlpg(VA_CHECK);

	check_map(0, 0);
	r1 = check_call(check_call(10)); /* twice: the second walk may be cached */
	check_map(0, 1);
	r2 = check_call(20);
	check_map(1, 2);
	HYPERVISOR_console_io(CONSOLEIO_write, sizeof(line_a) - 1,
			      (const char *)(uintptr_t)(VA_CHECK + PAGE_SIZE));
	check_map(1, 3);
	HYPERVISOR_console_io(CONSOLEIO_write, sizeof(line_b) - 1,
			      (const char *)(uintptr_t)(VA_CHECK + PAGE_SIZE));
	pt_unmap_2m(VA_CHECK);
	if (r1 != 10 || r2 != 21)
		printf("dom0: bench translation-check: FAIL the code at 0x%llx after its PTE "
		       "changed: rsi %lu, %lu (want 10, 21)\n", VA_CHECK, r1, r2);
	else
		puts("dom0: bench translation-check: PASS CPUID lengths follow the PTE change");
}

__noreturn void dom0_bench_run(const struct hvm_start_info *si)
{
	u64 n = 0;
	u64 all[KEEL_EXIT_NR];

	if (cmdline_get_u64(si_cmdline(si), "bench_iters", &n) == 0 && n >= BENCH_BATCH)
		iters = n / BENCH_BATCH * BENCH_BATCH;
	printf("dom0: bench start (iters %lu, batch %u)\n", iters, BENCH_BATCH);
	{
		u64 c[KEEL_EXIT_NR];
		exits_read(c);
		if (!have_exit_counts)
			puts("dom0: bench: no exit counters (KEEL_DOMCTL_get_exit_counts failed)");
	}
	bench_check_translations();
	bench_baseline();
	bench_cpuid();
	bench_hypercall_page();
	bench_hypercall_direct();
	bench_ports();
	bench_msr();
	bench_evtchn();
	bench_domain();
	dom0_bench_domus(si, iters);
	bench_boot();
	if (have_exit_counts) {
		exits_read(all);
		exits_print("bench", "exit-counts", all);
	}
	puts("dom0: bench done");
	guest_poweroff();
}
