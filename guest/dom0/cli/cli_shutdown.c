/*
 * xl shutdown [-w] DOM and xl reboot DOM (cli.h; docs/cli.md): the
 * request goes through the guest's control/shutdown node, as xl does
 * (cli_dom_request). With -w the command waits, as `xl shutdown -w`
 * waits for the domain's death event: it must not run dom0's loop from
 * inside a command (the command is itself a loop handler), so it returns
 * CLI_PENDING and a loop timer looks until the domain has shut down (the
 * registry has reported it, and run its on_poweroff action) or is gone,
 * or the time-out passes. The prompt, and keelctl's exit, come then.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli_internal.h"
#include "domain/domain.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvclock.h"

/* How long -w waits (xl waits for ever): half keelctl's 60 s per step, so
 * a script gets dom0's answer, not keelctl's time-out. */
#define SHUTDOWN_WAIT_S 30
#define POLL_NS 100000000ULL /* 100 ms */

static struct {
	domid_t id;
	char name[CLI_NAME_MAX];
	u64 deadline;
} w;
static struct loop_timer timer;

/* Down: gone, or shut down and, for a domain the CLI created, reported
 * by the registry (which clears wait_report when it prints "has shut
 * down" and acts on it). */
static bool down(void)
{
	struct xen_domctl_getdomaininfo info;
	struct cli_dom *d = cli_dom_by_id(w.id);

	if (dom_info(w.id, &info) || info.domain != w.id)
		return true;
	if (d)
		return !d->wait_report;
	if (info.flags & XEN_DOMINF_shutdown) {
		printf("xl: domain %u has shut down\n", w.id);
		return true;
	}
	return false;
}

static void poll_down(void *arg)
{
	(void)arg;
	if (down()) {
		cli_bg_end(0);
		return;
	}
	if (pvclock_now_ns() >= w.deadline) {
		printf("xl shutdown: %s (%u) has not shut down within %u s of the request; it is "
		       "still running ('xl destroy %s' stops it)\n", w.name, w.id, SHUTDOWN_WAIT_S,
		       w.name);
		struct cli_dom *d = cli_dom_by_id(w.id);
		if (d)
			d->wait_report = false;
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

int cli_cmd_shutdown(const struct hvm_start_info *si, int argc, char **argv)
{
	bool wait = false, reboot = !strcmp(argv[0], "reboot");
	domid_t id;
	int rc;
	(void)si;

	if (argc >= 2 && !strcmp(argv[1], "-w")) {
		wait = true;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc != 2)
		return cli_usage(argv[0]);
	if (!cli_domain_arg(argv[1], &id))
		return 1;
	if (!id) {
		printf("xl %s: not on Domain-0\n", argv[0]);
		return 1;
	}
	if ((rc = cli_dom_request(id, reboot ? "reboot" : "poweroff", wait, 30))) {
		printf("xl %s: domain %u: cannot write control/shutdown (%d)\n", argv[0], id, rc);
		return 1;
	}
	if (!wait)
		return 0;
	struct cli_dom *d = cli_dom_by_id(id);
	w.id = id;
	if (d)
		strlcpy(w.name, d->cfg.name, sizeof(w.name));
	else
		snprintf(w.name, sizeof(w.name), "domain %u", id);
	w.deadline = pvclock_now_ns() + SHUTDOWN_WAIT_S * 1000000000ULL;
	printf("Waiting for domain %u to %s\n", id, reboot ? "reboot" : "shut down");
	cli_bg_start(on_key);
	timer.fn = poll_down;
	loop_timer_arm(&timer, pvclock_now_ns() + POLL_NS);
	return CLI_PENDING;
}
