/*
 * blkback's xenbus side (guest/dom0/blkback/blkback.c) on the host, over
 * the real store (guest/dom0/xenstored/): the toolstack's and the
 * frontend's writes are played by this file, the data path
 * (blkb_ring_connect and friends) and the disks are stubs that record
 * what they were asked. Checked: the nodes Linux's blkfront reads and
 * the state sequence Initialising -> InitWait -> Connected -> Closing ->
 * Closed, the frontend's ring-ref / ring-page-order + ring-ref%u,
 * event-channel and protocol, refusals (other protocol, order too large,
 * no such disk) taking the device to Closing, read-only and discard
 * advertising, online=0, reconnect after Closed, and the device freed
 * (nodes and watches gone) when the toolstack removes its directory.
 *
 * unit-sources: guest/dom0/blkback/blkback.c guest/dom0/blkback/blk_check.c guest/dom0/xenstored/conn.c guest/dom0/xenstored/dispatch.c guest/dom0/xenstored/ops.c guest/dom0/xenstored/perms.c guest/dom0/xenstored/quota.c guest/dom0/xenstored/ring.c guest/dom0/xenstored/transaction.c guest/dom0/xenstored/tree.c guest/dom0/xenstored/watch.c guest/dom0/xenstored/wire.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lib/errno.h>
#include <public/io/xenbus.h>
#include "blkback_int.h"
#include "loop/loop.h"
#include "xsd/xsd.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#define BE "/local/domain/0/backend/vbd/1/51712"
#define FEP "/local/domain/1/device/vbd/51712"

/* ---- the store, as dom0's xsd service would have it ------------------ */

static void *t_alloc(void *ctx, size_t size) { (void)ctx; return malloc(size); }
static void t_free(void *ctx, void *p, size_t size) { (void)ctx; (void)size; free(p); }
static const struct xs_alloc talloc = { t_alloc, t_free, NULL };
static struct xs_store *store;
static struct xs_conn *dom0;

int xsd_init(void)
{
	if (!store) {
		store = xs_store_new(&talloc, NULL, NULL);
		dom0 = xs_conn_new(store, 0, true, NULL, NULL);
	}
	return 0;
}
struct xs_store *xsd_store(void) { return store; }
int xsd_call(u32 type, u32 tx, const void *payload, u32 len, void *reply, u32 *reply_len)
{
	u32 none = 0;
	return xs_call(dom0, type, tx, payload, len, reply, reply_len ? reply_len : &none);
}
int xsd_write(const char *path, const char *value)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(value);
	memcpy(buf, path, pl);
	memcpy(buf + pl, value, vl);
	return xsd_call(XS_WRITE, 0, buf, (u32)(pl + vl), NULL, NULL);
}
int xsd_read(const char *path, char *buf, u32 size)
{
	u32 n = size - 1;
	int rc = xsd_call(XS_READ, 0, path, (u32)strlen(path) + 1, buf, &n);
	if (!rc)
		buf[MIN(n, size - 1)] = 0;
	return rc;
}
static int xs_rm(const char *path)
{
	return xsd_call(XS_RM, 0, path, (u32)strlen(path) + 1, NULL, NULL);
}

int parse_u64(const char *s, const char **end, u64 *out)
{
	char *e;
	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	*out = strtoull(s, &e, 0);
	*end = e;
	return 0;
}

/* ---- the loop, the disks, the data path ----------------------------- */

static bool (*idle_fn)(void *);
int loop_add_idle(bool (*fn)(void *arg), void *arg) { (void)arg; idle_fn = fn; return 0; }
static bool (*before_sleep_fn)(void *, bool);
int loop_add_before_sleep(bool (*fn)(void *arg, bool may_work), void *arg)
{
	(void)arg;
	before_sleep_fn = fn;
	return 0;
}
void loop_port_kick(evtchn_port_t port) { (void)port; }

static struct blkdev disk = { .name = "vda", .sector_size = 512, .sectors = 16384,
			      .max_sectors = 2048, .queue_depth = 32, .flush = true };
static struct blkdev ssd = { .name = "nvme0n1", .sector_size = 4096, .sectors = 1000,
			     .max_sectors = 256, .queue_depth = 32, .discard = true,
			     .discard_granularity = 1, .max_discard_sectors = 100 };
struct blkdev *blkdev_by_name(const char *name)
{
	if (!strcmp(name, "vda"))
		return &disk;
	if (!strcmp(name, "nvme0n1"))
		return &ssd;
	return NULL;
}
unsigned blkdev_count(void) { return 2; }
struct blkdev *blkdev_get(unsigned i) { return i == 0 ? &disk : i == 1 ? &ssd : NULL; }
static unsigned polls, poll_completes;
unsigned blk_poll(struct blkdev *bd)
{
	(void)bd;
	polls++;
	return poll_completes;
}
void blk_irq_quiet(struct blkdev *bd, bool quiet) { bd->quiet = quiet; }

static unsigned connects, disconnects, conn_pages;
static grant_ref_t conn_refs[8];
static evtchn_port_t conn_port;
static bool conn_persistent;
int blkb_ring_connect(struct blkb_dev *d, const grant_ref_t *refs, unsigned nr_pages,
		      evtchn_port_t fe_port)
{
	connects++;
	conn_pages = nr_pages;
	memcpy(conn_refs, refs, nr_pages * sizeof(*refs));
	conn_port = fe_port;
	conn_persistent = d->persistent;
	d->connected = true;
	return 0;
}
bool blkb_ring_busy(const struct blkb_dev *d) { (void)d; return false; }
void blkb_flush_done(void) {}
/* blk_ring.c's data-path state. */
bool blkb_use_map;
u64 blkb_maps_live, blkb_chunks_mapped, blkb_chunks_copied, blkb_notifies;
u64 blkb_chunks_persistent, blkb_persist_live, blkb_persist_peak, blkb_persist_fallbacks;
unsigned blkb_persist_cap = BLKB_PERSIST_MAX;
void blkb_ring_disconnect(struct blkb_dev *d)
{
	if (d->connected)
		disconnects++;
	d->connected = false;
}

/* ---- helpers -------------------------------------------------------- */

static void w(const char *dir, const char *node, const char *v)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", dir, node);
	ck_assert_int_eq(xsd_write(p, v), 0);
}

static const char *r(const char *dir, const char *node)
{
	static char v[64];
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", dir, node);
	if (xsd_read(p, v, sizeof(v)))
		return "(none)";
	return v;
}

static void run(void)
{
	for (int i = 0; i < 5; i++)
		blkback_run();
}

/* The toolstack's nodes (launch_vbd.c writes these, as libxl does). */
static void toolstack_add(const char *params, const char *mode)
{
	w(BE, "frontend", FEP);
	w(BE, "frontend-id", "1");
	w(BE, "online", "1");
	w(BE, "params", params);
	w(BE, "mode", mode);
	w(BE, "type", "phy");
	w(BE, "state", "1");
	w(FEP, "backend", BE);
	w(FEP, "backend-id", "0");
	w(FEP, "state", "1");
}

static void fresh(void)
{
	if (store) {
		xs_rm("/local/domain/0/backend/vbd/1");
		xs_rm("/local/domain/1");
		run();
	}
	connects = disconnects = 0;
	ck_assert_int_eq(blkback_init(), 0);
}

START_TEST(blkback_handshake_as_linux_expects)
{
	struct blkback_stats s;

	fresh();
	toolstack_add("vda", "w");
	run();
	ck_assert_str_eq(r(BE, "state"), "2"); /* InitWait */
	ck_assert_str_eq(r(BE, "sectors"), "16384");
	ck_assert_str_eq(r(BE, "sector-size"), "512");
	ck_assert_str_eq(r(BE, "physical-sector-size"), "512");
	ck_assert_str_eq(r(BE, "info"), "0");
	ck_assert_str_eq(r(BE, "feature-flush-cache"), "1");
	ck_assert_str_eq(r(BE, "feature-max-indirect-segments"), "256");
	ck_assert_str_eq(r(BE, "max-ring-page-order"), "2");
	ck_assert_str_eq(r(BE, "feature-persistent"), "1");
	ck_assert_str_eq(r(BE, "feature-discard"), "(none)");
	ck_assert_int_eq(connects, 0);

	/* A two-page ring, with persistent grants (Linux's blkfront). */
	w(FEP, "feature-persistent", "1");
	w(FEP, "ring-page-order", "1");
	w(FEP, "ring-ref0", "100");
	w(FEP, "ring-ref1", "101");
	w(FEP, "event-channel", "9");
	w(FEP, "protocol", "x86_64-abi");
	w(FEP, "state", "3");
	run();
	ck_assert_int_eq(connects, 1);
	ck_assert_uint_eq(conn_pages, 2);
	ck_assert_uint_eq(conn_refs[0], 100);
	ck_assert_uint_eq(conn_refs[1], 101);
	ck_assert_uint_eq(conn_port, 9);
	ck_assert(conn_persistent);
	ck_assert_str_eq(r(BE, "state"), "4");
	ck_assert_int_eq(blkback_state(1, 51712), XenbusStateConnected);

	w(FEP, "state", "4");
	run();
	ck_assert_str_eq(r(BE, "state"), "4");
	/* The frontend closes: Closing, then Closed once it is Closed. */
	w(FEP, "state", "5");
	run();
	ck_assert_str_eq(r(BE, "state"), "5");
	ck_assert_int_eq(disconnects, 0);
	w(FEP, "state", "6");
	run();
	ck_assert_str_eq(r(BE, "state"), "6");
	ck_assert_int_eq(disconnects, 1);

	/* It starts over: offered again, connects with a one-page ring,
	 * this time without persistent grants. */
	xs_rm(FEP "/ring-page-order");
	w(FEP, "feature-persistent", "0");
	w(FEP, "ring-ref", "200");
	w(FEP, "state", "1");
	run();
	ck_assert_str_eq(r(BE, "state"), "2");
	w(FEP, "state", "3");
	run();
	ck_assert_int_eq(connects, 2);
	ck_assert_uint_eq(conn_pages, 1);
	ck_assert_uint_eq(conn_refs[0], 200);
	ck_assert(!conn_persistent);

	/* The toolstack removes the device: freed, its ring undone. */
	blkback_get_stats(&s);
	ck_assert_uint_eq(s.devs, 1);
	xs_rm("/local/domain/0/backend/vbd/1");
	run();
	blkback_get_stats(&s);
	ck_assert_uint_eq(s.devs, 0);
	ck_assert_int_eq(disconnects, 2);
	ck_assert_int_eq(blkback_state(1, 51712), -ENOENT);
}
END_TEST

/* The frontend gets as far as Initialised with `set`, which blkback
 * must refuse: Closing, no connect. */
static void refused(const char *node, const char *value)
{
	fresh();
	toolstack_add("vda", "w");
	run();
	w(FEP, "ring-ref", "100");
	w(FEP, "event-channel", "9");
	w(FEP, "protocol", "x86_64-abi");
	w(FEP, node, value);
	w(FEP, "state", "3");
	run();
	ck_assert_msg(!strcmp(r(BE, "state"), "5"), "%s=%s: backend state %s", node, value,
		      r(BE, "state"));
	ck_assert_int_eq(connects, 0);
}

START_TEST(blkback_refuses_bad_frontend_nodes)
{
	refused("protocol", "x86_32-abi");
	refused("ring-page-order", "3");
	refused("ring-page-order", "1"); /* no ring-ref0/1 */
	refused("event-channel", "banana");
	refused("event-channel", "4294967296");
	refused("ring-ref", "-1");

	/* No such disk: Closing at once. */
	fresh();
	toolstack_add("vdz", "w");
	run();
	ck_assert_str_eq(r(BE, "state"), "5");
}
END_TEST

START_TEST(blkback_readonly_and_discard_advertised)
{
	fresh();
	toolstack_add("vda", "r");
	run();
	ck_assert_str_eq(r(BE, "info"), "4"); /* VDISK_READONLY */
	ck_assert_str_eq(r(BE, "feature-discard"), "(none)");

	fresh();
	toolstack_add("nvme0n1", "w");
	run();
	ck_assert_str_eq(r(BE, "sectors"), "8000"); /* 512-byte units */
	ck_assert_str_eq(r(BE, "sector-size"), "4096");
	ck_assert_str_eq(r(BE, "feature-discard"), "1");
	ck_assert_str_eq(r(BE, "discard-granularity"), "4096");
	ck_assert_str_eq(r(BE, "discard-alignment"), "0");

	/* A discard-capable disk exported read-only: no discard. */
	fresh();
	toolstack_add("nvme0n1", "r");
	run();
	ck_assert_str_eq(r(BE, "feature-discard"), "(none)");
	ck_assert_str_eq(r(BE, "info"), "4");
}
END_TEST

START_TEST(blkback_online_zero_detaches)
{
	fresh();
	toolstack_add("vda", "w");
	run();
	w(FEP, "ring-ref", "100");
	w(FEP, "event-channel", "9");
	w(FEP, "state", "3"); /* no protocol node: the native ABI */
	run();
	ck_assert_str_eq(r(BE, "state"), "4");
	w(BE, "online", "0");
	run();
	ck_assert_str_eq(r(BE, "state"), "5");
	w(FEP, "state", "6");
	run();
	ck_assert_str_eq(r(BE, "state"), "6");
	/* Offline: not offered again. */
	w(FEP, "state", "1");
	run();
	ck_assert_str_eq(r(BE, "state"), "6");
	ck_assert_int_eq(disconnects, 1);
}
END_TEST

/* While dom0 is awake blkback polls a disk with requests out and keeps
 * it from interrupting; just before dom0 sleeps the disk may interrupt
 * again, and in the loop's own sleep it is polled once more (what
 * completed before it saw the change would not interrupt). */
START_TEST(blkback_busy_disk_quiet_until_dom0_sleeps)
{
	fresh();
	toolstack_add("vda", "w");
	run();
	ck_assert_ptr_nonnull(before_sleep_fn);
	disk.inflight = 1;
	disk.quiet = false;
	polls = poll_completes = 0;
	idle_fn(NULL);
	ck_assert_msg(disk.quiet, "a polled disk with requests out may still interrupt");
	ck_assert_uint_eq(polls, 1);

	/* A wait inside a handler: interrupts back on, nothing polled. */
	ck_assert(!before_sleep_fn(NULL, false));
	ck_assert(!disk.quiet);
	ck_assert_uint_eq(polls, 1);

	/* The loop's sleep: interrupts on, then one more look. */
	idle_fn(NULL);
	ck_assert(disk.quiet);
	ck_assert(!before_sleep_fn(NULL, true));
	ck_assert(!disk.quiet);
	ck_assert_uint_eq(polls, 3);
	/* That look found completions: the loop goes round, not to sleep. */
	disk.quiet = true;
	poll_completes = 1;
	ck_assert(before_sleep_fn(NULL, true));
	ck_assert(!disk.quiet);

	/* A disk already allowed to interrupt is left alone. */
	polls = 0;
	ck_assert(!before_sleep_fn(NULL, true));
	ck_assert_uint_eq(polls, 0);
	disk.inflight = 0;
	poll_completes = 0;
}
END_TEST

/* A disk left quiet when its export is released (the toolstack removed
 * the device after blkback's last poll, before dom0 slept) interrupts
 * again at dom0's next sleep: nothing else would ever wake a wait on it
 * (dom0's own reads of that disk would sleep out every slice). */
START_TEST(blkback_released_export_leaves_no_disk_quiet)
{
	fresh();
	toolstack_add("vda", "w");
	run();
	ck_assert_ptr_nonnull(before_sleep_fn);
	disk.inflight = 1;
	disk.quiet = false;
	idle_fn(NULL);
	ck_assert(disk.quiet);
	disk.inflight = 0;
	xs_rm("/local/domain/0/backend/vbd/1");
	run();
	ck_assert_msg(disk.quiet, "the release itself changed nothing (the test's premise)");
	before_sleep_fn(NULL, true);
	ck_assert_msg(!disk.quiet, "a released export's disk stayed quiet");
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "blkback-released-export-leaves-no-disk-quiet", &blkback_released_export_leaves_no_disk_quiet_ttest },
	{ "blkback-busy-disk-quiet-until-dom0-sleeps", &blkback_busy_disk_quiet_until_dom0_sleeps_ttest },
	{ "blkback-handshake-as-linux-expects", &blkback_handshake_as_linux_expects_ttest },
	{ "blkback-refuses-bad-frontend-nodes", &blkback_refuses_bad_frontend_nodes_ttest },
	{ "blkback-readonly-and-discard-advertised", &blkback_readonly_and_discard_advertised_ttest },
	{ "blkback-online-zero-detaches", &blkback_online_zero_detaches_ttest },
	{ 0 },
};
