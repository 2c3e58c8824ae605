/*
 * blkback, dom0's PV block backend (guest/dom0/blkback/, docs/pvblk.md):
 * a service on dom0's event loop that exports blkdevs (drivers/block/
 * blkdev.h) to domUs over Xen's blkif protocol (public/io/blkif.h).
 *
 * It watches /local/domain/0/backend/vbd in dom0's in-process xenstore;
 * each <domid>/<devid> the toolstack (domain/launch_vbd.c) writes there
 * is a device: `params` names the blkdev (blkdev_by_name), `mode` "r"
 * makes it read-only. It does the xenbus handshake Linux's xen-blkfront
 * expects (InitWait with its features, Connected once the frontend is
 * Initialised and its ring is mapped), serves the ring from the loop
 * (grant copy, many requests in flight on the device), and takes the
 * device down on the frontend's Closing/Closed, on `online` = 0, or on a
 * protocol violation (one log line naming the rule, then Closing). When
 * the backend directory is removed the device is freed (after the
 * device's outstanding requests finished).
 */
#ifndef GUEST_DOM0_BLKBACK_H
#define GUEST_DOM0_BLKBACK_H

#include <lib/types.h>
#include <public/xen.h>

/* Devices served at once. */
#define BLKBACK_MAX_DEVS 8

/* Starts the service (needs xsd_init): 0 or -errno. Idempotent. */
int blkback_init(void);

/* Runs the service's pending work now (watch events, completions):
 * what its idle work does each loop iteration. True if it did something. */
bool blkback_run(void);

/* For tests and reports: devices allocated, and their totals. */
struct blkback_stats {
	unsigned devs;        /* allocated (any state) */
	unsigned connected;   /* rings mapped */
	u64 requests, violations, errors;
	u64 mem_pages;        /* dom0 pages held for rings' buffers */
	/* The data path (docs/pvblk.md): guest pages mapped now (0 whenever
	 * no request is on a disk), device requests moved by grant map and
	 * by grant copy, notifications sent to frontends. */
	u64 maps_live, chunks_mapped, chunks_copied, notifies;
	/* Persistent grants (docs/pvblk.md): connected exports using them,
	 * mappings held now (0 once no export is connected), the most one
	 * export ever held (at most BLKB_PERSIST_MAX), requests that went
	 * per request because their grants could not all be persistent, and
	 * chunks whose data moved through persistent mappings. */
	unsigned persistent;
	u64 persistent_live, persistent_peak, persistent_fallbacks, chunks_persistent;
};

/* Grant map (true) or grant copy (false, the default) for the data of
 * requests taken from now on; dom0's command line blkback_data=copy|map. */
void blkback_set_data_map(bool map);
/* Persistent grants kept per export at most, for exports connected from
 * now on: min(max, BLKB_PERSIST_MAX = 1056, the default); 0 stops
 * offering feature-persistent. dom0's command line blkback_persistent=N. */
void blkback_set_persistent_max(u64 max);
void blkback_get_stats(struct blkback_stats *s);

/* The backend's xenbus state of (dom, devid), or -ENOENT. */
int blkback_state(domid_t dom, u32 devid);

/* xentop's figures for a domain's disks: read and write requests taken
 * off its rings and their 512-byte sectors, summed over the devices
 * blkback serves for `dom` now (a device's counts go with it). Returns
 * how many devices that is. */
struct blkback_vbd_stats {
	u64 rd_req, wr_req, rd_sect, wr_sect;
};
unsigned blkback_vbd_stats(domid_t dom, struct blkback_vbd_stats *s);

#endif
