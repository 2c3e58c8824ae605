/*
 * The domains scenario `pvblk` (tests/pvblk/test_pvblk.py): a pvtest
 * role=blk domU launched through the launcher with a disk served by
 * dom0's blkback (docs/pvblk.md). The disk is the one whose serial is
 * cmdline `blk=SERIAL` (the host gives only that disk to be written);
 * `blk_part=N` exports partition N of that disk instead (its GPT,
 * guest/dom0/storage/); `pvblk_mode=` picks the variant:
 *
 *   rw   (default) the disk exported read-write at launch; the guest
 *        writes pattern 2 over all of it and reads it back; the host
 *        checks every byte of the image afterwards.
 *   ro   exported read-only: the guest reads pattern 1 and must be
 *        refused a write; the host checks the image is byte-identical.
 *   hostile  rw, and meanwhile one role=blk-hostile domU per kind of bad
 *        input on the disk of serial `blk2=` (hostiles() below).
 *   detach  rw over the first MiB; then the domU writes data/blk-done
 *        and waits; dom0 detaches the disk while it is connected (the
 *        domU closes on the backend's Closing) and checks it is gone.
 *   bench  native vs PV read throughput (native_read() below).
 *   teardown  create/use/destroy cycles (teardown() below).
 *   persist-hostile  rw, the domU is a role=blk-pg-hostile: it
 *        misuses persistent grants (a read-only grant, a re-pointed one,
 *        one gref twice in a request, closing with requests in flight);
 *        the host checks the bytes it wrote.
 *   hot  the domU is launched without a disk, dom0 attaches it while the
 *        domU runs (it waits for device/vbd/N), the domU does the rw test
 *        and closes, dom0 detaches it and checks that no node is left.
 *
 * After the domU powered off and was destroyed: the store's node count,
 * the hypervisor's free pages and blkback's device count are back to
 * where they were before the launch.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "blkback/blkback.h"
#include "block/blkdev.h"
#include "domain/launch.h"
#include "domains.h"
#include "domctl.h"
#include "gnttab.h"
#include "guest.h"
#include "hw/hw.h"
#include "drv.h"
#include "pages.h"
#include "loop/loop.h"
#include "pvblk_bench.h"
#include "pvclock.h"
#include "storage/partition.h"
#include "xsd/xsd.h"

#define PVBLK_DEVID 51712 /* xvda: 202 << 8 */
#define PVBLK_RAM_MIB 16
#define PVBLK_WAIT_NS (300ULL * 1000000000ULL)

static bool down(void *arg)
{
	return domains_is_shut_down(*(const domid_t *)arg);
}

static bool node_there(void *arg)
{
	char v[8];
	return !xsd_read(arg, v, sizeof(v));
}

static u32 nr_nodes(void)
{
	return xs_store_nr_nodes(xsd_store());
}

/*
 * dom0's first grant mapping sets up its grant table, mapping window and
 * handle table (Xen's maptrack): hypervisor frames dom0 keeps for good,
 * not the domU's to give back. Mappings of a page dom0 grants itself do
 * that before the free pages are counted (as scenario zombie does): as
 * many at once as blkback's rings and grant-map data path may hold
 * (WARM_MAPS: its maptrack grows a frame per 128 handles and the window
 * may span two p2m table pages), from slot 1 up.
 */
#define WARM_MAPS 1900 /* and the persistent grants' slots, up to 1888 */

static void warm_up(const struct hvm_start_info *si)
{
	static u8 own[PAGE_SIZE] __aligned(PAGE_SIZE);
	static struct gnttab_map_grant_ref m[WARM_MAPS];
	static struct gnttab_unmap_grant_ref u[WARM_MAPS];
	int rc;

	if ((rc = gnttab_init(si, 1)))
		domains_finish(false, "pvblk: FAIL gnttab_init: %d", rc);
	gnttab_grant_access_ref(9, 0, virt_to_gfn(own), true);
	for (unsigned i = 0; i < WARM_MAPS; i++)
		gnttab_set_map_op(&m[i], gnttab_slot_gpa(1 + i), GNTMAP_host_map | GNTMAP_readonly,
				  9, 0);
	if (gnttab_map_refs(m, WARM_MAPS))
		domains_finish(false, "pvblk: FAIL mapping dom0's own grant");
	for (unsigned i = 0; i < WARM_MAPS; i++) {
		if (m[i].status)
			domains_finish(false, "pvblk: FAIL mapping dom0's own grant: %d", m[i].status);
		gnttab_set_unmap_op(&u[i], gnttab_slot_gpa(1 + i), m[i].handle);
	}
	if (gnttab_unmap_refs(u, WARM_MAPS) || !gnttab_end_access(9))
		domains_finish(false, "pvblk: FAIL unmapping dom0's own grant");
	for (unsigned i = 0; i < WARM_MAPS; i++)
		if (u[i].status)
			domains_finish(false, "pvblk: FAIL unmapping dom0's own grant: %d", u[i].status);
}

/*
 * pvblk_mode=hostile: while the good domU runs its pattern test, one
 * pvtest role=blk-hostile domU per kind of bad input, each given the disk
 * whose serial is cmdline `blk2=` (the host checks it is untouched). Each
 * must see its backend go Closing; dom0 checks one violation per kind.
 */
static const char *const hostile_kinds[] = {
	"op", "nseg0", "nseg12", "sect", "lastsect", "end", "gref-reserved", "gref-bad",
	"indirect-op", "indirect-nseg", "indirect-gref", "id", "indices", "gref-ro-read",
	"gref-not-owned", "gref-ended",
};

static void hostiles(const char *cl)
{
	char serial[24], cmd[96], err[128], name[24];
	struct blkback_stats bs;

	if (!cmdline_get(cl, "blk2", serial, sizeof(serial)))
		domains_finish(false, "pvblk: FAIL no blk2=SERIAL");
	struct blkdev *bd = blkdev_by_serial(serial);
	if (!bd)
		domains_finish(false, "pvblk: FAIL no disk with serial %s", serial);
	blkback_get_stats(&bs);
	u64 v0 = bs.violations;
	for (unsigned i = 0; i < ARRAY_SIZE(hostile_kinds); i++) {
		struct launch_disk disk = { .target = bd->name, .devid = PVBLK_DEVID };
		snprintf(cmd, sizeof(cmd), "role=blk-hostile devid=%u kind=%s", PVBLK_DEVID,
			 hostile_kinds[i]);
		snprintf(name, sizeof(name), "hostile-%u", i);
		struct launch_params p = {
			.name = name, .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
			.image = domains_image, .image_size = domains_image_size, .cmdline = cmd,
			.disks = &disk, .nr_disks = 1,
		};
		struct launch_domain h;
		if (launch_domain(&p, &h, err, sizeof(err)))
			domains_finish(false, "pvblk: FAIL %s", err);
		bool off = loop_run_until(down, &h.id, pvclock_now_ns() + 60ULL * 1000000000ULL);
		domains_check("hostile-domU-finished", off, 1);
		domains_check("hostile-shutdown-poweroff", domains_shutdown_code(h.id),
			      SHUTDOWN_poweroff);
		domains_check("hostile-destroy", launch_destroy(&h), 0);
		blkback_get_stats(&bs);
		printf("dom0: pvblk: hostile %s: %lu violations so far\n", hostile_kinds[i],
		       bs.violations - v0);
		domains_check("hostile-one-violation-each", (long)(bs.violations - v0), (long)i + 1);
		/* The good domU stays connected (its own mappings), the
		 * hostile one's are gone: at most one export's worth. */
		domains_check("hostile-persistent-bounded", bs.persistent_live <= 1056, 1);
	}
}

/*
 * pvblk_mode=teardown: `cycles=` (default 6) launches of a role=blk domU
 * with the disk, each writing and reading back its first 512 KiB, then
 * destroyed. After the first (which sets up what dom0 keeps: its grant
 * handle table, pool runs), every cycle must leave the hypervisor's free
 * pages, dom0's free pool pages, the store's nodes and allocator, and
 * blkback's devices where they were.
 */
static void teardown(const char *cl, struct launch_disk *disk)
{
	u64 cycles = 6, free0 = 0, pool0 = 0, xs0 = 0;
	u32 nodes0 = 0;
	char err[128];
	struct blkback_stats bs;

	cmdline_get_u64(cl, "cycles", &cycles);
	for (u64 c = 0; c < cycles; c++) {
		struct launch_params p = {
			.name = "teardown", .mem_mib = PVBLK_RAM_MIB, .vcpus = 1,
			.image = domains_image, .image_size = domains_image_size,
			.cmdline = "role=blk devid=51712 limit_kib=512", .disks = disk, .nr_disks = 1,
		};
		struct launch_domain d;
		if (launch_domain(&p, &d, err, sizeof(err)))
			domains_finish(false, "pvblk: FAIL %s", err);
		bool off = loop_run_until(down, &d.id, pvclock_now_ns() + 60ULL * 1000000000ULL);
		domains_check("teardown-domU-finished", off, 1);
		domains_check("teardown-shutdown-poweroff", domains_shutdown_code(d.id),
			      SHUTDOWN_poweroff);
		domains_check("teardown-destroy", launch_destroy(&d), 0);
		for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
			;
		blkback_get_stats(&bs);
		u64 fr = sysctl_free_pages(), pool = pages_free_count(), xs = xsd_alloc_in_use();
		u32 nodes = nr_nodes();
		printf("dom0: pvblk: teardown cycle %lu: hypervisor free pages %lu, dom0 pool free %lu, "
		       "store nodes %u, store bytes %lu, backend devices %u\n", c, fr, pool, nodes, xs,
		       bs.devs);
		domains_check("teardown-backend-devices-freed", bs.devs, 0);
		domains_check("teardown-persistent-mappings-gone", (long)bs.persistent_live, 0);
		if (c == 0) {
			free0 = fr;
			pool0 = pool;
			nodes0 = nodes;
			xs0 = xs;
			continue;
		}
		domains_check("teardown-hypervisor-free-pages-back", (long)fr, (long)free0);
		domains_check("teardown-dom0-pool-back", (long)pool, (long)pool0);
		domains_check("teardown-store-nodes-back", nodes, nodes0);
		domains_check("teardown-store-bytes-back", (long)xs, (long)xs0);
	}
	domains_check_free_pages(free0);
	if (domains_nr_bad())
		domains_finish(false, "pvblk: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pvblk: PASS %u checks", domains_nr_checks());
}

void scenario_pvblk(const struct hvm_start_info *si)
{
	const char *cl = si_cmdline(si);
	char serial[24], mode[16] = "rw", cmd[96];
	int rc;

	dom0_hw_init(si);
	if (!cmdline_get(cl, "blk", serial, sizeof(serial)))
		domains_finish(false, "pvblk: FAIL no blk=SERIAL");
	cmdline_get(cl, "pvblk_mode", mode, sizeof(mode));
	struct blkdev *bd = blkdev_by_serial(serial);
	if (!bd)
		domains_finish(false, "pvblk: FAIL no disk with serial %s", serial);
	/* blk_part=N: export partition N of that disk (its GPT, storage/). */
	char part[8], spec[40];
	if (cmdline_get(cl, "blk_part", part, sizeof(part))) {
		snprintf(spec, sizeof(spec), "%s:%s", bd->name, part);
		if ((rc = storage_lookup(spec, &bd)))
			domains_finish(false, "pvblk: FAIL no partition %s: %d", spec, rc);
	}
	printf("dom0: pvblk: exporting %s (%s, %lu sectors of %u) mode %s\n", bd->name, bd->driver,
	       bd->sectors, bd->sector_size, mode);
	if ((rc = xsd_init()) || (rc = blkback_init()))
		domains_finish(false, "pvblk: FAIL xsd_init/blkback_init: %d", rc);
	xsd_write("/local/domain/0/name", "Domain-0");
	xsd_write("/local/domain/0/domid", "0");
	/* dom0's long-lived directories, as the toolstack leaves them. */
	xsd_mkdir("/local/domain/0/backend/vbd");
	warm_up(si);

	bool ro = !strcmp(mode, "ro"), hot = !strcmp(mode, "hot");
	bool detach = !strcmp(mode, "detach");
	struct launch_disk disk = { .target = bd->name, .devid = PVBLK_DEVID, .read_only = ro };
	/* pvblk_persistent=0: the domU does not offer feature-persistent
	 * (grants per request, as a frontend without the feature). */
	u64 fe_persistent = 1;
	cmdline_get_u64(cl, "pvblk_persistent", &fe_persistent);
	snprintf(cmd, sizeof(cmd), "role=blk devid=%u%s%s%s%s", PVBLK_DEVID, ro ? " ro=1" : "",
		 hot ? " wait=1" : "", detach ? " detach_wait=1 limit_kib=1024" : "",
		 fe_persistent ? "" : " persistent=0");
	struct launch_params p = {
		.name = "pvblk", .mem_mib = PVBLK_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size, .cmdline = cmd,
		.disks = hot ? NULL : &disk, .nr_disks = hot ? 0 : 1,
	};
	if (!strcmp(mode, "teardown"))
		teardown(cl, &disk);
	if (!strcmp(mode, "persist-hostile"))
		snprintf(cmd, sizeof(cmd), "role=blk-pg-hostile devid=%u", PVBLK_DEVID);
	bool bench = !strcmp(mode, "bench");
	if (bench) {
		pvblk_bench_native(bd);
		snprintf(cmd, sizeof(cmd), "role=blk devid=%u bench=1%s", PVBLK_DEVID,
			 fe_persistent ? "" : " persistent=0");
	}
	struct launch_domain d;
	struct blkback_stats bs;
	char err[128];
	u32 nodes_before = nr_nodes();
	u64 free_before = sysctl_free_pages();

	if (launch_domain(&p, &d, err, sizeof(err)))
		domains_finish(false, "pvblk: FAIL %s", err);
	if (!strcmp(mode, "hostile"))
		hostiles(cl);
	if (bench)
		pvblk_bench_count(d.id, bd, PVBLK_WAIT_NS);
	if (hot) {
		/* Let it start and wait for the device first. */
		for (unsigned i = 0; i < 2000 && loop_run_once(false); i++)
			;
		domains_check("hot-attach", launch_vbd_attach(&d, &disk), 0);
		domains_check("hot-attach-twice", launch_vbd_attach(&d, &disk), -EEXIST);
	}
	if (detach) {
		/* The domU says it is done with the disk and waits: dom0
		 * unplugs it while it is connected. */
		char path[64];
		snprintf(path, sizeof(path), "/local/domain/%u/data/blk-done", d.id);
		bool done = loop_run_until(node_there, path, pvclock_now_ns() + PVBLK_WAIT_NS);
		domains_check("detach-domU-done", done, 1);
		domains_check("detach-while-connected",
			      launch_vbd_detach(&d, PVBLK_DEVID, 10ULL * 1000000000ULL), 0);
		blkback_get_stats(&bs);
		domains_check("detach-backend-freed", bs.devs, 0);
	}
	bool off = loop_run_until(down, &d.id, pvclock_now_ns() + PVBLK_WAIT_NS);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("pvblk-domU-finished", off, 1);
	domains_check("pvblk-shutdown-poweroff", domains_shutdown_code(d.id), SHUTDOWN_poweroff);
	blkback_get_stats(&bs);
	printf("dom0: pvblk: blkback: %u devices, %lu requests, %lu errors, %lu violations; %s: "
	       "%lu reads, %lu writes, %lu flushes, %lu discards, %lu errors\n", bs.devs,
	       bs.requests, bs.errors, bs.violations, bd->name, bd->nr_reads, bd->nr_writes,
	       bd->nr_flushes, bd->nr_discards, bd->nr_errors);
	printf("dom0: pvblk: blkback: %lu chunks by grant map, %lu by grant copy, %lu pages mapped, "
	       "%lu notifications\n", bs.chunks_mapped, bs.chunks_copied, bs.maps_live, bs.notifies);
	printf("dom0: pvblk: blkback: persistent grants: %lu chunks, peak %lu mappings, %lu "
	       "requests per request\n", bs.chunks_persistent, bs.persistent_peak,
	       bs.persistent_fallbacks);
	/* Every page mapped for a request is unmapped with it. */
	domains_check("pvblk-no-data-mappings-left", (long)bs.maps_live, 0);
	/* The persistent table never passed its bound (the domU's pool can
	 * offer more grefs than that: the rest went per request). */
	domains_check("pvblk-persistent-mappings-bounded", bs.persistent_peak <= 1056, 1);
	domains_check("pvblk-requests-served", bs.requests > 0, 1);
	if (strcmp(mode, "hostile"))
		domains_check("pvblk-no-violations", (long)bs.violations, 0);
	if (hot) {
		domains_check("hot-detach", launch_vbd_detach(&d, PVBLK_DEVID, 5ULL * 1000000000ULL), 0);
		char path[80], v[8];
		snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u/%u", d.id, PVBLK_DEVID);
		domains_check("hot-detach-backend-gone", xsd_read(path, v, sizeof(v)), -ENOENT);
		snprintf(path, sizeof(path), "/local/domain/%u/device/vbd/%u", d.id, PVBLK_DEVID);
		domains_check("hot-detach-frontend-gone", xsd_read(path, v, sizeof(v)), -ENOENT);
		blkback_get_stats(&bs);
		domains_check("hot-detach-backend-freed", bs.devs, 0);
	}
	domains_check("pvblk-destroy", launch_destroy(&d), 0);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	blkback_get_stats(&bs);
	domains_check("pvblk-backend-devices-freed", bs.devs, 0);
	/* Destroy or Closed: every persistent mapping undone. */
	domains_check("pvblk-no-persistent-mappings-left", (long)bs.persistent_live, 0);
	domains_check("pvblk-nodes-back", nr_nodes(), nodes_before);
	domains_check_free_pages(free_before);
	if (domains_nr_bad())
		domains_finish(false, "pvblk: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pvblk: PASS %u checks", domains_nr_checks());
}
