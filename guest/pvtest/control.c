/*
 * role=guest: what a real guest's kernel does with its toolstack's
 * requests (pvtest.h). It watches control/shutdown in its xenstore
 * directory, as Linux's drivers/xen/manage.c does, and on "poweroff",
 * "halt", "reboot" or "crash" clears the node and shuts down with that
 * reason; anything else is printed and ignored. It says it is up, then
 * sleeps in the watch between requests.
 *
 * role=guest [crash_after_ms=N]: crashes by itself after N ms (a guest
 * panic: SCHEDOP_shutdown with SHUTDOWN_crash), for on_crash tests.
 * role=guest vif=1: also connects its vif 0 ("pvtest: guest: vif 0
 * connected") and, as Linux's netfront does, closes it when the backend
 * goes Closing (a hot unplug: "pvtest: guest: vif 0 closed on the
 * backend's Closing").
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "netfront.h"
#include "pages.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define NS_PER_MS 1000000ULL

static struct netfront nf;

/* vif=1: connects vif 0 (needs xenbus_init first). */
static void vif_up(const struct hvm_start_info *si)
{
	int rc;

	if (!pages_init(si))
		fail("no page pool");
	if ((rc = gnttab_init(si, 1)))
		fail("gnttab_init: %d", rc);
	if ((rc = netfront_connect(&nf, 0, 30000 * NS_PER_MS)))
		fail("netfront_connect: %d", rc);
	puts("pvtest: guest: vif 0 connected");
	console_flush();
}

/* The backend's Closing (hot unplug): close, as Linux's netfront does. */
static void vif_check(void)
{
	if (!nf.connected)
		return;
	netfront_poll(&nf, NULL, NULL);
	if (netfront_backend_state(&nf) != XenbusStateClosing)
		return;
	netfront_close(&nf, 5000 * NS_PER_MS);
	puts("pvtest: guest: vif 0 closed on the backend's Closing");
	console_flush();
}

void role_guest(const struct hvm_start_info *si)
{
	char path[64], token[16], value[32];
	u64 crash_ms = arg_u64_or("crash_after_ms", 0);
	u64 crash_at = crash_ms ? pvclock_now_ns() + crash_ms * NS_PER_MS : 0;
	int rc = xenbus_init();

	if (rc)
		fail("no xenstore");
	if (arg_u64_or("vif", 0))
		vif_up(si);
	struct xb_client *c = xenbus();
	if ((rc = xb_watch(c, "control/shutdown", "shutdown")))
		fail("cannot watch control/shutdown");
	puts("pvtest: guest: up; watching control/shutdown");
	console_flush();
	for (;;) {
		u64 wait = nf.connected ? 100 * NS_PER_MS : 1000 * NS_PER_MS;
		vif_check();
		if (crash_at) {
			u64 now = pvclock_now_ns();
			if (now >= crash_at) {
				puts("pvtest: guest: crashing as asked (crash_after_ms)");
				console_flush();
				guest_shutdown(SHUTDOWN_crash);
			}
			wait = MIN(wait, crash_at - now);
		}
		rc = xb_next_event(c, path, sizeof(path), token, sizeof(token), wait);
		if (rc == -ETIMEDOUT)
			continue;
		if (rc)
			fail("xenstore connection lost");
		long n = xb_read(c, 0, "control/shutdown", value, sizeof(value));
		if (n <= 0)
			continue; /* the registration event, or our own clearing */
		xb_write(c, 0, "control/shutdown", "");
		printf("pvtest: guest: control/shutdown = %s\n", value);
		console_flush();
		if (!strcmp(value, "poweroff") || !strcmp(value, "halt"))
			guest_poweroff();
		if (!strcmp(value, "reboot"))
			guest_reboot();
		if (!strcmp(value, "crash"))
			guest_shutdown(SHUTDOWN_crash);
		printf("pvtest: guest: request '%s' ignored\n", value);
	}
}
