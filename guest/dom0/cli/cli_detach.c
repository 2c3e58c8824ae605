/*
 * xl block-detach [-f] DOM DEVID|VDEV (cli.h; docs/cli.md). As xl's
 * libxl_device_disk_safe_remove: the backend is told Closing (online =
 * 0), the guest's frontend closes, the backend reaches Closed, then the
 * nodes go. The wait must not run dom0's loop from inside a command (the
 * command is itself a loop handler): the handshake is started, the
 * command returns CLI_PENDING, and a loop timer looks at the backend's
 * state until it is Closed or the time-out passes. The prompt comes back
 * then, with the status; the loop serves everything else meanwhile.
 *
 * On a time-out the disk stays (Closing), as libxl's safe remove leaves
 * it; `-f` (libxl_device_disk_destroy) removes the nodes at once whatever
 * the frontend does: blkback frees the device once its requests are done.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli_args.h"
#include "cli_internal.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvclock.h"

/* libxl's LIBXL_DESTROY_TIMEOUT: how long a frontend has to close. */
#define DETACH_TIMEOUT_S 10
#define POLL_NS 50000000ULL /* 50 ms */

static struct {
	domid_t id;
	u32 devid;
	char vdev[16];
	u64 deadline;
} w;
static struct loop_timer timer;

static void poll_closed(void *arg)
{
	struct cli_dom *d = cli_dom_by_id(w.id);
	(void)arg;

	if (!d) { /* destroyed meanwhile (its on_* action, say): its disks went too */
		printf("xl block-detach: domain %u is gone; so is %s\n", w.id, w.vdev);
		cli_bg_end(1);
		return;
	}
	if (launch_vbd_closed(&d->ld, w.devid)) {
		launch_vbd_detach_finish(&d->ld, w.devid);
		cli_bg_end(0);
		return;
	}
	if (pvclock_now_ns() >= w.deadline) {
		printf("xl block-detach: %s of %s did not close within %u s (its frontend did not "
		       "answer Closing); the disk stays attached, Closing ('xl block-detach -f %s "
		       "%s' removes it anyway)\n", w.vdev, d->cfg.name, DETACH_TIMEOUT_S,
		       d->cfg.name, w.vdev);
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

int cli_cmd_block_detach(const struct hvm_start_info *si, int argc, char **argv)
{
	struct cli_args a;
	char err[120];
	u32 devid;
	domid_t id;
	int rc;
	(void)si;

	if (cli_args_parse(argc, argv, "f", 2, 2, &a, err, sizeof(err))) {
		printf("xl block-detach: %s\n", err);
		return cli_usage("block-detach");
	}
	if (!cli_domain_arg(a.pos[0], &id))
		return 1;
	struct cli_dom *d = cli_dom_by_id(id);
	if (!d) {
		printf("xl block-detach: domain %u was not created by this CLI; its devices are not "
		       "managed here\n", id);
		return 1;
	}
	/* DEVID as block-list prints it (51728), or the vdev (xvdb). */
	const char *dev = a.pos[1];
	u64 num;
	const char *end;
	if (dev[0] >= '0' && dev[0] <= '9') {
		if (parse_u64(dev, &end, &num) || *end || !num || num > 0xffffffffULL) {
			printf("Error: Device %s not connected.\n", dev);
			return 1;
		}
		devid = (u32)num;
	} else if (domcfg_vdev_to_devid(dev, &devid)) {
		printf("Error: Device %s not connected.\n", dev);
		return 1;
	}
	if (cli_args_has(&a, 'f')) {
		if (launch_vbd_detach_finish(&d->ld, devid)) {
			printf("Error: Device %s not connected.\n", dev);
			return 1;
		}
		return 0;
	}
	if ((rc = launch_vbd_detach_start(&d->ld, devid))) {
		if (rc == -ENOENT)
			printf("Error: Device %s not connected.\n", dev);
		else
			printf("xl block-detach: %s: cannot write the backend's nodes (%d)\n", dev, rc);
		return 1;
	}
	w.id = id;
	w.devid = devid;
	strlcpy(w.vdev, dev, sizeof(w.vdev));
	w.deadline = pvclock_now_ns() + DETACH_TIMEOUT_S * 1000000000ULL;
	cli_bg_start(on_key);
	timer.fn = poll_closed;
	loop_timer_arm(&timer, pvclock_now_ns()); /* a Closed one finishes at once */
	return CLI_PENDING;
}
