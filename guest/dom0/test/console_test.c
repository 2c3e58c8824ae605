/*
 * The domains scenario `pvcons` (domains.c has the list): PV consoles for
 * domUs, served by dom0's console backend on its event loop, with the
 * shell running so that the operator (the test) can type into a domU's
 * console.
 *
 *   1. d1 (role=pvcons) and d2 (role=pvcons-hostile) get a console page
 *      and port each (domain/domain.h dom_console_create) and the backend
 *      serves both.
 *   2. d2 corrupts its ring: its connection must be dropped (one line),
 *      and nothing else.
 *   3. d1 writes a banner and a 100 KiB burst of numbered lines through
 *      its ring only: a tap on the backend checks that every line arrives
 *      once, in order, whole.
 *   4. dom0 says "ready for input to dN"; the test types `console N`, a
 *      line, and Ctrl-] on the serial console; d1 prints the line back
 *      (through its ring) and powers off.
 *   5. The backend's history holds d1's last 64 KiB; both consoles are
 *      detached, both domains destroyed, every page back.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "console/backend.h"
#include "dom0.h"
#include "domain/domain.h"
#include "domains.h"
#include "domctl.h"
#include "gnttab.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvclock.h"

#define NS_PER_SEC 1000000000ULL
#define BURST_BYTES (100 * 1024)
#define BURST_LINE 64

/* What the tap has seen of d1's stream. */
static struct {
	char line[160];
	size_t len;
	u64 burst_lines, burst_bytes, next_seq, bad_lines;
	bool burst_done, got_input;
} tap;

static void check_line(const char *l, size_t len)
{
	static const char burst[] = "pvcons: burst ";
	u64 seq = 0;
	size_t i = sizeof(burst) - 1;

	if (len >= i && !memcmp(l, burst, i)) {
		for (; i < len && l[i] >= '0' && l[i] <= '9'; i++)
			seq = seq * 10 + (u64)(l[i] - '0');
		/* Whole (63 characters and the newline), and the next one. */
		if (seq != tap.next_seq || len != BURST_LINE - 1)
			tap.bad_lines++;
		tap.next_seq = seq + 1;
		tap.burst_lines++;
		tap.burst_bytes += len + 1;
		return;
	}
	if (len >= 26 && !memcmp(l, "pvtest: pvcons: burst done", 26))
		tap.burst_done = true;
	if (len >= 25 && !memcmp(l, "pvtest: pvcons: got input", 25))
		tap.got_input = true;
}

static void on_output(domid_t dom, const char *buf, size_t n, void *arg)
{
	(void)dom;
	(void)arg;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			check_line(tap.line, tap.len);
			tap.len = 0;
		} else if (tap.len < sizeof(tap.line)) {
			tap.line[tap.len++] = buf[i];
		}
	}
}

/* Wakes the loop a few times a second while a scenario waits for a
 * domain's state (domain info is read, not signalled, here). */
static struct loop_timer tick;

static void on_tick(void *arg)
{
	(void)arg;
	loop_timer_arm(&tick, pvclock_now_ns() + NS_PER_SEC / 5);
}

static bool dropped(void *arg)
{
	struct cons_back_stats st;
	return !cons_back_stats(*(domid_t *)arg, &st) && st.dropped;
}

static bool burst_done(void *arg)
{
	(void)arg;
	return tap.burst_done;
}

static bool shut_down(void *arg)
{
	return domains_is_shut_down(*(domid_t *)arg);
}

static domid_t with_console(const char *name, const char *cmdline)
{
	domid_t id = domains_domu_create(name);
	u64 gfn;
	evtchn_port_t port;
	int rc;

	domains_domu_build(id, cmdline);
	if ((rc = dom_console_create(id, DOMAINS_DOMU_RAM_MIB, &gfn, &port)))
		domains_finish(false, "pvcons: FAIL console page for d%u: %d", id, rc);
	if ((rc = cons_back_attach(id, gfn, port)))
		domains_finish(false, "pvcons: FAIL backend attach d%u: %d", id, rc);
	printf("dom0: pvcons: d%u (%s): console ring at gfn 0x%lx, its port %u\n", id, name, gfn,
	       port);
	return id;
}

void scenario_pvcons(const struct hvm_start_info *si)
{
	static char hist[CONS_HISTORY];
	struct cons_back_stats st;
	domid_t good, bad;
	int rc;

	/* dom0's own set-up first (its grant-table frame for the mapping
	 * window, its ports), so that the free-page count compared at the
	 * end covers only what the domUs and their consoles took. */
	if ((rc = dom0_shell_start(si)))
		domains_finish(false, "pvcons: FAIL shell: %d", rc);
	if ((rc = gnttab_init(si, 1)))
		domains_finish(false, "pvcons: FAIL gnttab_init: %d", rc);
	u64 before = sysctl_free_pages();
	tick.fn = on_tick;
	on_tick(NULL);

	good = with_console("pvcons", "role=pvcons bytes=102400 input=1");
	bad = with_console("pvcons-hostile", "role=pvcons-hostile");
	cons_back_set_tap(good, on_output, NULL);

	/* The hostile one first: its connection goes, the backend stays. */
	if ((rc = domctl_unpause(bad)))
		domains_finish(false, "pvcons: FAIL unpause d%u: %d", bad, rc);
	domains_check("hostile-connection-dropped",
		      loop_run_until(dropped, &bad, pvclock_now_ns() + 30 * NS_PER_SEC), 1);
	domains_check("hostile-input-refused", cons_back_input(bad, "x", 1), -ENOENT);

	/* Then the burst, through the ring only. */
	if ((rc = domctl_unpause(good)))
		domains_finish(false, "pvcons: FAIL unpause d%u: %d", good, rc);
	domains_check("burst-done-line-seen",
		      loop_run_until(burst_done, NULL, pvclock_now_ns() + 120 * NS_PER_SEC), 1);
	printf("dom0: pvcons: d%u burst: %lu lines, %lu bytes through the ring, %lu out of order "
	       "or cut\n", good, tap.burst_lines, tap.burst_bytes, tap.bad_lines);
	domains_check("burst-bytes-through-ring", (long)tap.burst_bytes, BURST_BYTES);
	domains_check("burst-lines-in-order", (long)tap.bad_lines, 0);

	/* Input, typed by the operator on the serial console. */
	printf("dom0: pvcons: ready for input to d%u\n", good);
	loop_run_until(shut_down, &good, pvclock_now_ns() + 150 * NS_PER_SEC);
	loop_run_until(shut_down, &bad, pvclock_now_ns() + 10 * NS_PER_SEC);
	/* Both are down; what they wrote last may still be marked: serve it
	 * (the loop does not block while work is pending). */
	while (loop_run_once(false))
		;
	domains_check("input-line-came-back", tap.got_input, 1);
	domains_check("pvcons-powered-off", domains_shutdown_code(good), SHUTDOWN_poweroff);

	/* The history: the last 64 KiB, the role's last lines at its end. */
	size_t n = cons_back_history(good, hist, sizeof(hist));
	static const char last[] = "pvtest: pvcons: PASS\n";
	bool found = false;
	for (size_t i = n > 256 ? n - 256 : 0; i + sizeof(last) - 1 <= n && !found; i++)
		found = !memcmp(hist + i, last, sizeof(last) - 1);
	domains_check("history-holds-64k", (long)n, CONS_HISTORY);
	domains_check("history-ends-with-last-line", found, 1);
	cons_back_stats(good, &st);
	printf("dom0: pvcons: d%u: %lu bytes out, %lu bytes in, %lu events\n", good, st.out_bytes,
	       st.in_bytes, st.events);
	domains_check("input-bytes-written", st.in_bytes > 0, 1);

	loop_timer_cancel(&tick);
	cons_back_detach(good);
	cons_back_detach(bad);
	domid_t ids[2] = { good, bad };
	domains_destroy_all(ids, 2);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "pvcons: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pvcons: PASS %u checks", domains_nr_checks());
}
