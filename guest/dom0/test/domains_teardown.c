/*
 * scenario=teardown (tests/teardown/test_teardown.py): a domain with a
 * disk and a vif together, created, connected, used and destroyed
 * `cycles=` times (default 50).
 *
 * dom0 initialises its disks, exports the one of serial `blk=` (or, with
 * `blk=ram`, a 1 MiB disk in its own memory, block/ram_blk.h: Bochs has
 * no disk controller Keel drives) through blkback and starts its network service with its own address (cmdline
 * `ip=`, 10.99.0.2/24 in the test) on xenbr0 before any vif, so the
 * guests have someone to ping. Each cycle launches a pvtest role=disknet
 * domU (guest/pvtest/disknet.c) with the disk as xvda and one vif: it
 * writes and reads back 64 sectors with the cycle's own pattern, pings
 * dom0 three times, closes both devices and powers off; dom0 destroys it.
 *
 * After every cycle but the first (which sets up what dom0 keeps for
 * good: its grant window's page tables and handle table, pool runs, the
 * bridge's first learned entries) everything must be where it was after
 * the first: the hypervisor's free pages, event-channel ports in use,
 * grant mappings held and domains; dom0's free pool pages; the store's
 * node count and bytes; blkback's devices; netback's vifs, ring mappings
 * and channels; the bridge's ports. One line per cycle, one check each.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "blkback/blkback.h"
#include "block/blkdev.h"
#include "block/ram_blk.h"
#include "bridge/bridge.h"
#include "bridge/netsvc.h"
#include "domain/counts.h"
#include "domain/launch.h"
#include "domains.h"
#include "domctl.h"
#include "gnttab.h"
#include "guest.h"
#include "hw/hw.h"
#include "loop/loop.h"
#include "netback/netback.h"
#include "pages.h"
#include "pvclock.h"
#include "xsd/xsd.h"

#define TD_DEVID 51712 /* xvda: 202 << 8 */
#define TD_RAM_MIB 16
#define TD_WAIT_NS (120ULL * 1000000000ULL)

static struct dom0_counts td_now(void)
{
	struct dom0_counts k;

	if (dom0_counts_now(&k))
		domains_finish(false, "teardown: FAIL sysctl counts");
	return k;
}

static void td_check(const char *what, long now, long then)
{
	char name[64];

	snprintf(name, sizeof(name), "teardown-%s-back", what);
	domains_check(name, now, then);
}

static bool down(void *arg)
{
	return domains_is_shut_down(*(const domid_t *)arg);
}

void scenario_teardown(const struct hvm_start_info *si)
{
	const char *cl = si_cmdline(si);
	char serial[24], cmd[160], err[128];
	u64 cycles = 50;
	struct dom0_counts base = { 0 };
	int rc;

	dom0_hw_init(si);
	cmdline_get_u64(cl, "cycles", &cycles);
	if (!cmdline_get(cl, "blk", serial, sizeof(serial)))
		domains_finish(false, "teardown: FAIL no blk=SERIAL");
	struct blkdev *bd = !strcmp(serial, "ram") ? ram_blk_create(2048, "RAMDISK")
						   : blkdev_by_serial(serial);
	if (!bd)
		domains_finish(false, "teardown: FAIL no disk with serial %s", serial);
	if ((rc = gnttab_init(si, 1)) || (rc = loop_init()) || (rc = xsd_init()) ||
	    (rc = blkback_init()) || (rc = netback_init()))
		domains_finish(false, "teardown: FAIL services: %d", rc);
	/* dom0's address on xenbr0 first: netback's own start of the
	 * network service (for the first vif) takes no address. */
	if ((rc = netsvc_start(cl)) || !netsvc_inet())
		domains_finish(false, "teardown: FAIL network service (ip=?): %d", rc);
	xsd_write("/local/domain/0/name", "Domain-0");
	xsd_write("/local/domain/0/domid", "0");
	xsd_mkdir("/local/domain/0/backend/vbd");

	struct launch_disk disk = { .target = bd->name, .devid = TD_DEVID };
	struct launch_vif vif = { .devid = 0, .mac = { 0x02, 0, 0, 0, 0, 0x0d } };
	u64 t0 = pvclock_now_ns();
	for (u64 c = 0; c < cycles; c++) {
		snprintf(cmd, sizeof(cmd), "role=disknet devid=%u ip=10.99.0.3/24 peer=10.99.0.2 "
			 "tag=%lu", TD_DEVID, c + 1);
		struct launch_params p = {
			.name = "teardown", .mem_mib = TD_RAM_MIB, .vcpus = 1,
			.image = domains_image, .image_size = domains_image_size, .cmdline = cmd,
			.disks = &disk, .nr_disks = 1, .vifs = &vif, .nr_vifs = 1,
		};
		struct launch_domain d;
		if (launch_domain(&p, &d, err, sizeof(err)))
			domains_finish(false, "teardown: FAIL cycle %lu: %s", c, err);
		bool off = loop_run_until(down, &d.id, pvclock_now_ns() + TD_WAIT_NS);
		domains_check("teardown-domU-finished", off, 1);
		domains_check("teardown-shutdown-poweroff", domains_shutdown_code(d.id),
			      SHUTDOWN_poweroff);
		domains_check("teardown-destroy", launch_destroy(&d), 0);
		for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
			;
		struct dom0_counts k = td_now();
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "dom0: teardown: cycle %lu: ", c);
		dom0_counts_print(prefix, &k);
		domains_check("teardown-no-device-left", k.blk_devs + k.vifs + k.mapped + k.channels,
			      0);
		if (c == 0) {
			base = k;
			continue;
		}
		td_check("free-pages", (long)k.free_pages, (long)base.free_pages);
		td_check("evtchn-ports", k.ports, base.ports);
		td_check("grant-mappings", k.grant_maps, base.grant_maps);
		td_check("domains", k.domains, base.domains);
		td_check("dom0-pool", (long)k.pool, (long)base.pool);
		td_check("store-nodes", k.nodes, base.nodes);
		td_check("store-bytes", (long)k.store_bytes, (long)base.store_bytes);
		td_check("bridge-ports", k.br_ports, base.br_ports);
	}
	printf("dom0: teardown: %lu cycles in %lu ms\n", cycles,
	       (pvclock_now_ns() - t0) / 1000000);
	netsvc_report();
	domains_check_free_pages(base.free_pages); /* the harness's line */
	if (domains_nr_bad())
		domains_finish(false, "teardown: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "teardown: PASS %u checks", domains_nr_checks());
}
