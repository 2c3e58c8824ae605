/*
 * xl network-detach DOM DEVID (cli.h; docs/cli.md): libxl's device
 * removal with the xenbus handshake (docs/pvnet.md, "hot unplug"): the
 * backend is told Closing (online = 0), the guest's netfront closes
 * (Closing, then Closed), netback follows to Closed, then the vif goes.
 * As block-detach (cli_detach.c), the wait must not run dom0's loop from
 * inside a command: launch_vif_detach_start, CLI_PENDING, and a loop
 * timer looks for launch_vif_closed until the time-out. Then the vif is
 * removed either way, as libxl retries a timed-out removal with force
 * (and launch_vif_detach_wait does): a frontend that never answers gets
 * one line saying so. A domain that has shut down (or is paused) cannot
 * answer: its vif is removed at once.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli_internal.h"
#include "domain/domain.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvclock.h"

/* libxl's LIBXL_DESTROY_TIMEOUT: how long a frontend has to close. */
#define DETACH_TIMEOUT_S 10
#define POLL_NS 50000000ULL /* 50 ms */

static struct {
	domid_t id;
	unsigned devid;
	u64 deadline;
} w;
static struct loop_timer timer;

static void poll_closed(void *arg)
{
	struct cli_dom *d = cli_dom_by_id(w.id);
	(void)arg;

	if (!d) { /* destroyed meanwhile: its vifs went too */
		printf("xl network-detach: domain %u is gone; so is its vif %u\n", w.id, w.devid);
		cli_bg_end(1);
		return;
	}
	if (launch_vif_closed(&d->ld, w.devid)) {
		launch_vif_detach(&d->ld, w.devid);
		cli_bg_end(0);
		return;
	}
	if (pvclock_now_ns() >= w.deadline) {
		printf("xl network-detach: vif %u of %s did not close within %u s (its frontend did "
		       "not answer Closing): removed anyway\n", w.devid, d->cfg.name,
		       DETACH_TIMEOUT_S);
		launch_vif_detach(&d->ld, w.devid);
		cli_bg_end(1);
		return;
	}
	loop_timer_arm(&timer, pvclock_now_ns() + POLL_NS);
}

/* Keys while waiting: none does anything (the time-out bounds the wait). */
static void on_key(char c)
{
	(void)c;
}

/* Whether the guest can answer the handshake: running, not shut down. */
static bool can_answer(domid_t id)
{
	struct xen_domctl_getdomaininfo info;

	return !dom_info(id, &info) && info.domain == id &&
	       !(info.flags & (XEN_DOMINF_shutdown | XEN_DOMINF_dying | XEN_DOMINF_paused));
}

int cli_cmd_network_detach(const struct hvm_start_info *si, int argc, char **argv)
{
	u64 devid;
	const char *end;
	domid_t id;
	int rc;
	(void)si;

	if (argc != 3 || parse_u64(argv[2], &end, &devid) || *end)
		return cli_usage("network-detach");
	if (!cli_domain_arg(argv[1], &id))
		return 1;
	struct cli_dom *d = cli_dom_by_id(id);
	if (!d) {
		printf("xl network-detach: domain %u was not created by this CLI; its devices are "
		       "not managed here\n", id);
		return 1;
	}
	if (devid >= LAUNCH_MAX_VIFS || !(d->ld.vifs & (1u << devid))) {
		printf("xl network-detach: %s has no vif %lu\n", d->cfg.name, devid);
		return 1;
	}
	if (!can_answer(id))
		return launch_vif_detach(&d->ld, (unsigned)devid) ? 1 : 0;
	if ((rc = launch_vif_detach_start(&d->ld, (unsigned)devid))) {
		printf("xl network-detach: vif %lu of %s: cannot write the backend's nodes (%d)\n",
		       devid, d->cfg.name, rc);
		return 1;
	}
	w.id = id;
	w.devid = (unsigned)devid;
	w.deadline = pvclock_now_ns() + DETACH_TIMEOUT_S * 1000000000ULL;
	cli_bg_start(on_key);
	timer.fn = poll_closed;
	loop_timer_arm(&timer, pvclock_now_ns()); /* a Closed one finishes at once */
	return CLI_PENDING;
}
