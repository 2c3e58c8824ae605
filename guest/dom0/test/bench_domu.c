/*
 * dom0's bench figures that need domUs (part of cmdline `bench`; the
 * domUs run pvtest's bench roles, guest/pvtest/bench.c). Needs the pvtest
 * image as a boot module (keel.cfg `module pvtest /pvtest.elf`, which
 * tests/bench.py writes); without it each figure prints FAIL.
 *
 *   create-first-insn, create-first-line (printed by the domU), and
 *   domain-destroy-domu: a 4 MiB pvtest domU (role=bench-start) created,
 *   built and unpaused, with dom0's RDTSC before the create hypercall
 *   passed on its command line; dom0 yields until the domU has powered
 *   off, then times the destroy hypercall and checks that every
 *   hypervisor page came back.
 *   pingpong-domu: a bench-ping domU against a bench-pong domU.
 *   pingpong-dom0: a bench-ping domU against dom0, which answers on a
 *   masked port with SCHEDOP_poll exactly as bench-pong does.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/xen.h>
#include "domain/domain.h"
#include "domctl.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "selftests.h"

#define RAM_MIB 4
#define WAIT_NS (60ULL * 1000000000ULL)

static const void *image;
static u64 image_size;

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((u64)hi << 32) | lo;
}

/*
 * Sleeps until every domain of ids has shut down: 0, -ETIMEDOUT, or the
 * -errno of a domain that vanished; -EIO for one that did not power off
 * (it crashed: its bench role failed). dom0 sleeps in SCHEDOP_poll on
 * VIRQ_DOM_EXC (raised when a domain shuts down), so that it takes no
 * CPU from the domUs it measures (a yield loop would run between every
 * two of their events).
 */
static int wait_off(const domid_t *ids, unsigned n)
{
	static evtchn_port_t exc;
	u64 deadline = pvclock_now_ns() + WAIT_NS;
	int rc;

	if (!exc) {
		if ((rc = evtchn_bind_virq(VIRQ_DOM_EXC, 0, &exc)))
			return rc;
		evtchn_mask(exc);
	}
	for (unsigned i = 0; i < n; i++) {
		int code;

		while ((code = dom_shutdown_code(ids[i])) == -1) {
			if (pvclock_now_ns() >= deadline)
				return -ETIMEDOUT;
			evtchn_poll(&exc, 1, deadline);
			evtchn_clear_pending(exc);
		}
		if (code < 0)
			return code;
		if (code != SHUTDOWN_poweroff)
			return -EIO;
	}
	return 0;
}

static int domu(const char *name, domid_t *id)
{
	return dom_create(name, RAM_MIB, id);
}

static int build_run(domid_t id, const char *cmdline)
{
	int rc = domctl_pvh_build(id, image, image_size, cmdline);

	return rc ? rc : domctl_unpause(id);
}

static void destroy_all(const domid_t *ids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i])
			domctl_destroy(ids[i]);
}

static void bench_start(void)
{
	char cmd[96];
	u64 before = sysctl_free_pages(), t0, t;
	domid_t id = 0;
	int rc;

	t0 = rdtsc();
	if ((rc = domu("bench-start", &id)))
		goto fail;
	snprintf(cmd, sizeof(cmd), "role=bench-start t0=%lu", t0);
	if ((rc = build_run(id, cmd)) || (rc = wait_off(&id, 1)))
		goto fail;
	t = rdtsc();
	rc = domctl_destroy(id);
	t = rdtsc() - t;
	id = 0;
	if (rc)
		goto fail;
	if (sysctl_free_pages() != before) {
		rc = -EBUSY;
		goto fail;
	}
	printf("dom0: bench domain-destroy-domu: %lu insns (KEEL_DOMCTL_destroy of a powered-off "
	       "%u MiB pvtest domU; every page back)\n", t, RAM_MIB);
	return;
fail:
	destroy_all(&id, 1);
	printf("dom0: bench create-first-insn: FAIL %d\n", rc);
}

static void pingpong_domu(u64 count)
{
	char cmd[160];
	domid_t ids[2] = { 0, 0 };
	evtchn_port_t port;
	int rc;

	if ((rc = domu("bench-pong", &ids[0])) || (rc = domu("bench-ping", &ids[1])) ||
	    (rc = evtchn_alloc_unbound(ids[0], ids[1], &port)))
		goto fail;
	snprintf(cmd, sizeof(cmd), "role=bench-pong port=%u count=%lu", port, count);
	if ((rc = build_run(ids[0], cmd)))
		goto fail;
	snprintf(cmd, sizeof(cmd), "role=bench-ping peer=%u rport=%u count=%lu name=pingpong-domu",
		 ids[0], port, count);
	if ((rc = build_run(ids[1], cmd)) || (rc = wait_off(ids, 2)))
		goto fail;
	destroy_all(ids, 2);
	return;
fail:
	destroy_all(ids, 2);
	printf("dom0: bench pingpong-domu: FAIL %d\n", rc);
}

static void pingpong_dom0(u64 count)
{
	char cmd[160];
	domid_t id = 0;
	evtchn_port_t port = 0;
	u64 deadline;
	int rc;

	if ((rc = domu("bench-ping", &id)) || (rc = evtchn_alloc_unbound(DOMID_SELF, id, &port)))
		goto fail;
	/* No upcall: dom0 polls the port and clears it, as bench-pong. */
	evtchn_mask(port);
	snprintf(cmd, sizeof(cmd), "role=bench-ping peer=0 rport=%u count=%lu name=pingpong-dom0",
		 port, count);
	if ((rc = build_run(id, cmd)))
		goto fail;
	deadline = pvclock_now_ns() + WAIT_NS;
	for (u64 n = 0; n < count; n++) {
		while (!evtchn_is_pending(port)) {
			if (pvclock_now_ns() >= deadline) {
				rc = -ETIMEDOUT;
				goto fail;
			}
			evtchn_poll(&port, 1, deadline);
		}
		evtchn_clear_pending(port);
		if ((rc = evtchn_send(port)))
			goto fail;
	}
	if ((rc = wait_off(&id, 1)))
		goto fail;
	destroy_all(&id, 1);
	evtchn_close(port);
	return;
fail:
	destroy_all(&id, 1);
	if (port)
		evtchn_close(port);
	printf("dom0: bench pingpong-dom0: FAIL %d\n", rc);
}

void dom0_bench_domus(const struct hvm_start_info *si, u64 iters)
{
	/* A round trip is about ten times a CPUID exit: a quarter of the
	 * iterations keeps the run short. */
	u64 count = iters / 4 / 100 * 100;

	if (count < 100)
		count = 100;
	if (dom_module_find(si, "pvtest", &image, &image_size)) {
		puts("dom0: bench create-first-insn: FAIL no pvtest boot module");
		puts("dom0: bench pingpong-domu: FAIL no pvtest boot module");
		puts("dom0: bench pingpong-dom0: FAIL no pvtest boot module");
		return;
	}
	bench_start();
	pingpong_domu(count);
	pingpong_dom0(count);
}
