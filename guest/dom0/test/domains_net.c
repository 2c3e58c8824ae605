/*
 * scenario=pvnet (tests/pvnet/test_pvnet_vif.py, docs/pvnet.md): pvtest
 * domUs with vifs through dom0's netback and bridge xenbr0.
 *
 *   pvnet_mode=pair     two role=net domUs exchange numbered frames; dom0
 *                       prints each vif's counters (the guests print
 *                       theirs) and checks that, after destroy, no vif,
 *                       mapping, channel, bridge port, node or page is
 *                       left.
 *   pvnet_mode=hostile  the pair plus a role=net-hostile domU sending
 *                       each class of bad slot (pvnet_bad=...): the pair
 *                       must still pass, the hostile vif is disconnected.
 *   pvnet_mode=hotplug  a paused domU; a vif attached after launch, the
 *                       guest's peer attached later still (hot attach),
 *                       then both detached while they run (hot detach).
 *   pvnet_mode=linux    dom0's NICs initialised but xenbr0 left to netback
 *                       (its first vif brings the bridge up over them); one
 *                       role=inet domU (10.99.0.3/24) pings and streams UDP
 *                       to a Linux namespace (10.99.0.1) behind the NIC's
 *                       tap, then takes the namespace's pings and stream
 *                       (tests/pvnet/test_pvnet_inet.py). Its datagrams go
 *                       with their checksums blank (netback finishes them).
 *   pvnet_mode=inet     two role=inet domUs (10.99.0.11, .12) ping each
 *                       other and exchange UDP streams through xenbr0 (.11
 *                       with blank checksums).
 *   pvnet_mode=detach   hot unplug with the xenbus handshake: a role=inet
 *                       pair, one of which says data/net-done and waits;
 *                       dom0 detaches its vif while connected (the guest
 *                       closes on Closing: no time-out), then a role=spin
 *                       domU whose frontend never answers (forced after 5 s).
 *   pvnet_mode=slowrx   a domU that posts its rx buffers late and one that
 *                       bursts frames to it: netback's rx queue holds
 *                       exactly what its bounds allow (domains_netslow.c).
 *   pvnet_mode=bench    frames/s of 1514-byte frames: dom0 out of its NIC,
 *                       a domU through xenbr0 to the NIC, a domU to a domU,
 *                       with the VM exits per frame (domains_netbench.c);
 *                       pvnet_frames=N per path (default 2000).
 *   pvnet_rounds=N      the pair N times, counts back each time (teardown).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "bridge/bridge.h"
#include "bridge/netsvc.h"
#include "domain/launch.h"
#include "domains.h"
#include "domctl.h"
#include "gnttab.h"
#include "guest.h"
#include "hw/hw.h"
#include "loop/loop.h"
#include "netback/netback.h"
#include "pvclock.h"
#include "xsd/xsd.h"

#define NS_PER_SEC 1000000000ULL
#define NET_COUNT 400

struct net_counts {
	u64 free_pages;
	u32 nodes, vifs, mapped, channels, ports;
};

static struct net_counts net_counts_now(void)
{
	struct keel_sysctl_counts c;
	struct net_counts k = { 0 };
	struct bridge *br = bridge_find("xenbr0");

	if (sysctl_counts(&c))
		domains_finish(false, "FAIL sysctl counts");
	k.free_pages = c.free_pages;
	k.nodes = xs_store_nr_nodes(xsd_store());
	k.vifs = netback_nr_vifs();
	k.mapped = netback_nr_mapped();
	k.channels = netback_nr_channels();
	k.ports = br ? bridge_nr_ports(br) : 0;
	return k;
}

static void net_check_back(const char *what, const struct net_counts *b)
{
	struct net_counts n = net_counts_now();
	char name[80];

	printf("dom0: pvnet: %s: vifs %u mapped %u channels %u ports %u nodes %u free %lu\n", what,
	       n.vifs, n.mapped, n.channels, n.ports, n.nodes, n.free_pages);
	snprintf(name, sizeof(name), "%s-vifs-back", what);
	domains_check(name, n.vifs, b->vifs);
	snprintf(name, sizeof(name), "%s-mapped-back", what);
	domains_check(name, n.mapped, b->mapped);
	snprintf(name, sizeof(name), "%s-channels-back", what);
	domains_check(name, n.channels, b->channels);
	snprintf(name, sizeof(name), "%s-ports-back", what);
	domains_check(name, n.ports, b->ports);
	snprintf(name, sizeof(name), "%s-nodes-back", what);
	domains_check(name, n.nodes, b->nodes);
	snprintf(name, sizeof(name), "%s-free-pages-back", what);
	domains_check(name, (long)n.free_pages, (long)b->free_pages);
}

struct down_set {
	const struct launch_domain *d;
	unsigned n;
};

static bool all_down(void *arg)
{
	const struct down_set *s = arg;

	for (unsigned i = 0; i < s->n; i++)
		if (!domains_is_shut_down(s->d[i].id))
			return false;
	return true;
}

static struct loop_timer tick;

static void on_tick(void *arg)
{
	(void)arg;
	loop_timer_arm(&tick, pvclock_now_ns() + NS_PER_SEC / 5);
}

static void launch_one(struct launch_domain *d, const char *name, const char *cmd, u8 last,
		       bool with_vif)
{
	struct launch_vif vif = { .devid = 0, .mac = { 0x02, 0, 0, 0, 0, last } };
	struct launch_params p = {
		.name = name, .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = cmd, .paused = true,
		.vifs = with_vif ? &vif : NULL, .nr_vifs = with_vif ? 1 : 0,
	};
	char err[128];

	if (launch_domain(&p, d, err, sizeof(err)))
		domains_finish(false, "FAIL %s", err);
	printf("dom0: pvnet: d%u (%s) launched: \"%s\"\n", d->id, name, cmd);
}

static void report(const struct launch_domain *d)
{
	struct netback_vif_stats s;

	if (netback_vif_stats(d->id, 0, &s)) {
		printf("dom0: pvnet: vif%u.0: gone\n", d->id);
		return;
	}
	printf("dom0: pvnet: vif%u.0: state %d tx %lu packets %lu bytes rx %lu packets %lu bytes "
	       "rx-dropped %lu events %lu%s\n",
	       d->id, s.state, s.tx_packets, s.tx_bytes, s.rx_packets, s.rx_bytes, s.rx_dropped,
	       s.events, s.violated ? " violated" : "");
	printf("dom0: pvnet: vif%u.0: frontend takes blank checksums: ipv4 %d ipv6 %d\n", d->id,
	       s.rx_csum_v4, s.rx_csum_v6);
}

/* Runs the loop until every domain in d[0..n) powered off (or the
 * deadline), printing each vif's counters before destroying them all. */
static void run_and_destroy(struct launch_domain *d, unsigned n, const char *what)
{
	struct down_set set = { d, n };

	for (unsigned i = 0; i < n; i++)
		domains_check("unpause", launch_unpause(&d[i]), 0);
	tick.fn = on_tick;
	loop_timer_arm(&tick, pvclock_now_ns() + NS_PER_SEC / 5);
	bool down = loop_run_until(all_down, &set, pvclock_now_ns() + 4 * DOMAINS_WAIT_NS);
	loop_timer_cancel(&tick);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	char name[64];
	snprintf(name, sizeof(name), "%s-domUs-finished", what);
	domains_check(name, down, 1);
	for (unsigned i = 0; i < n; i++) {
		report(&d[i]);
		snprintf(name, sizeof(name), "%s-d%u-poweroff", what, d[i].id);
		domains_check(name, domains_shutdown_code(d[i].id), SHUTDOWN_poweroff);
	}
	if (netsvc_bridge())
		netsvc_report(); /* the bridge's per-port counters, vifs still on it */
	for (unsigned i = 0; i < n; i++)
		domains_check("launch-destroy", launch_destroy(&d[i]), 0);
}

static unsigned pair_count = NET_COUNT;

static void pair(const char *what, const char *hostile_bad)
{
	struct launch_domain d[3];
	char cmd[3][128];
	unsigned n = 2;

	snprintf(cmd[0], sizeof(cmd[0]), "role=net peer=02:00:00:00:00:0b count=%u", pair_count);
	snprintf(cmd[1], sizeof(cmd[1]), "role=net peer=02:00:00:00:00:0a count=%u", pair_count);
	launch_one(&d[0], "net-a", cmd[0], 0x0a, true);
	launch_one(&d[1], "net-b", cmd[1], 0x0b, true);
	if (hostile_bad) {
		snprintf(cmd[2], sizeof(cmd[2]), "role=net-hostile bad=%s", hostile_bad);
		launch_one(&d[2], "net-hostile", cmd[2], 0x0c, true);
		n = 3;
	}
	run_and_destroy(d, n, what);
}

/* Hot attach and detach on running domains. */
static void hotplug(void)
{
	struct launch_domain d[2];
	struct launch_vif vif[2] = { { .devid = 0, .mac = { 0x02, 0, 0, 0, 0, 0x0a } },
				     { .devid = 0, .mac = { 0x02, 0, 0, 0, 0, 0x0b } } };
	char cmd[2][128];
	struct down_set set = { d, 2 };

	snprintf(cmd[0], sizeof(cmd[0]), "role=net peer=02:00:00:00:00:0b count=%u", NET_COUNT);
	snprintf(cmd[1], sizeof(cmd[1]), "role=net peer=02:00:00:00:00:0a count=%u", NET_COUNT);
	launch_one(&d[0], "net-a", cmd[0], 0x0a, false);
	launch_one(&d[1], "net-b", cmd[1], 0x0b, false);
	/* Attached while paused: the guests look for device/vif/0 at start,
	 * so the nodes must be there; the backends connect afterwards. */
	for (unsigned i = 0; i < 2; i++) {
		domains_check("hot-attach", launch_vif_attach(&d[i], &vif[i]), 0);
		domains_check("hot-attach-again", launch_vif_attach(&d[i], &vif[i]), -EEXIST);
		domains_check("unpause", launch_unpause(&d[i]), 0);
	}
	tick.fn = on_tick;
	loop_timer_arm(&tick, pvclock_now_ns() + NS_PER_SEC / 5);
	bool down = loop_run_until(all_down, &set, pvclock_now_ns() + 4 * DOMAINS_WAIT_NS);
	loop_timer_cancel(&tick);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("hotplug-domUs-finished", down, 1);
	for (unsigned i = 0; i < 2; i++) {
		report(&d[i]);
		domains_check("hot-detach", launch_vif_detach(&d[i], 0), 0);
		domains_check("hot-detach-again", launch_vif_detach(&d[i], 0), -ENOENT);
	}
	domains_check("hot-detach-vifs-gone", netback_nr_vifs(), 0);
	domains_check("hot-detach-mapped-gone", netback_nr_mapped(), 0);
	for (unsigned i = 0; i < 2; i++)
		domains_check("launch-destroy", launch_destroy(&d[i]), 0);
}

/* role=inet domUs: to a Linux namespace behind dom0's NIC (linux) or to
 * each other (inet); everything back to `before` after destroy. */
static void inet_run(bool to_linux, const struct net_counts *before)
{
	struct launch_domain d[2];
	unsigned n = to_linux ? 1 : 2;

	if (to_linux) {
		launch_one(&d[0], "inet", "role=inet ip=10.99.0.3/24 peer=10.99.0.1 pings=5 "
			   "udp=1000 rate=250 wait_s=120 csum_blank=1", 0x0a, true);
	} else {
		launch_one(&d[0], "inet-a", "role=inet ip=10.99.0.11/24 peer=10.99.0.12 pings=5 "
			   "udp=1000 rate=250 wait_s=300 csum_blank=1", 0x0a, true);
		launch_one(&d[1], "inet-b", "role=inet ip=10.99.0.12/24 peer=10.99.0.11 pings=5 "
			   "udp=1000 rate=250 wait_s=300", 0x0b, true);
	}
	/* netback brought xenbr0 up with the NICs on the vif's arrival. */
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;
	struct bridge *br = bridge_find(NETSVC_BRIDGE);
	printf("dom0: pvnet: %s: bridge %s has %u ports before the guests run\n",
	       to_linux ? "linux" : "inet", NETSVC_BRIDGE, br ? bridge_nr_ports(br) : 0);
	run_and_destroy(d, n, to_linux ? "linux" : "inet");
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;
	net_check_back(to_linux ? "linux" : "inet", before);
	domains_check_free_pages(before->free_pages); /* the harness's line */
	if (domains_nr_bad())
		domains_finish(false, "pvnet: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pvnet: PASS %u checks", domains_nr_checks());
}

static bool node_there(void *arg)
{
	char v[8];
	return xsd_read(arg, v, sizeof(v)) >= 0;
}

static void check_vif_gone(const char *what, const struct launch_domain *d)
{
	struct netback_vif_stats st;
	char path[80], v[8], name[64];

	snprintf(name, sizeof(name), "%s-netback-vif-gone", what);
	domains_check(name, netback_vif_stats(d->id, 0, &st), -ENOENT);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/0", d->id);
	snprintf(name, sizeof(name), "%s-backend-nodes-gone", what);
	domains_check(name, xsd_read(path, v, sizeof(v)), -ENOENT);
	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0", d->id);
	snprintf(name, sizeof(name), "%s-frontend-nodes-gone", what);
	domains_check(name, xsd_read(path, v, sizeof(v)), -ENOENT);
}

static void detach_run(const struct net_counts *before)
{
	struct launch_domain d[2], spin;
	char path[64];

	launch_one(&d[0], "inet-a", "role=inet ip=10.99.0.11/24 peer=10.99.0.12 pings=3 udp=200 "
		   "rate=250 detach_wait=1", 0x0a, true);
	launch_one(&d[1], "inet-b", "role=inet ip=10.99.0.12/24 peer=10.99.0.11 pings=3 udp=200 "
		   "rate=250", 0x0b, true);
	for (unsigned i = 0; i < 2; i++)
		domains_check("unpause", launch_unpause(&d[i]), 0);
	snprintf(path, sizeof(path), "/local/domain/%u/data/net-done", d[0].id);
	bool done = loop_run_until(node_there, path, pvclock_now_ns() + 4 * DOMAINS_WAIT_NS);
	domains_check("detach-domU-done", done, 1);
	report(&d[0]);
	u64 t0 = pvclock_now_ns();
	int rc = launch_vif_detach_wait(&d[0], 0, 5 * NS_PER_SEC);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	printf("dom0: pvnet: detach: vif%u.0 detached while connected: %d in %lu ms\n", d[0].id,
	       rc, ms);
	domains_check("detach-handshake", rc, 0);
	check_vif_gone("detach", &d[0]);
	domains_check("detach-again", launch_vif_detach_wait(&d[0], 0, 5 * NS_PER_SEC), -ENOENT);

	struct down_set set = { d, 2 };
	bool down = loop_run_until(all_down, &set, pvclock_now_ns() + 4 * DOMAINS_WAIT_NS);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("detach-domUs-finished", down, 1);
	for (unsigned i = 0; i < 2; i++) {
		domains_check("detach-poweroff", domains_shutdown_code(d[i].id), SHUTDOWN_poweroff);
		domains_check("launch-destroy", launch_destroy(&d[i]), 0);
	}

	/* A frontend that never answers: the removal is forced. */
	launch_one(&spin, "spin", "role=spin", 0x0c, true);
	domains_check("unpause", launch_unpause(&spin), 0);
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;
	t0 = pvclock_now_ns();
	rc = launch_vif_detach_wait(&spin, 0, 5 * NS_PER_SEC);
	ms = (pvclock_now_ns() - t0) / 1000000;
	printf("dom0: pvnet: detach: vif%u.0 of a silent frontend: %d after %lu ms\n", spin.id, rc,
	       ms);
	domains_check("detach-silent-timed-out", rc, -ETIMEDOUT);
	domains_check("detach-silent-waited-5s", ms >= 5000 && ms < 8000, 1);
	check_vif_gone("detach-silent", &spin);
	domains_check("launch-destroy", launch_destroy(&spin), 0);
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;
	net_check_back("detach", before);
	domains_check_free_pages(before->free_pages); /* the harness's line */
	if (domains_nr_bad())
		domains_finish(false, "pvnet: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pvnet: PASS %u checks", domains_nr_checks());
}

void scenario_pvnet(const struct hvm_start_info *si)
{
	char mode[16] = "pair", bad[128] = "size,bigsize,offset,id,gref,slots,extra,prod,flood";
	u64 rounds = 1, frames = 2000;
	int rc;

	cmdline_get(si_cmdline(si), "pvnet_mode", mode, sizeof(mode));
	cmdline_get(si_cmdline(si), "pvnet_bad", bad, sizeof(bad));
	cmdline_get_u64(si_cmdline(si), "pvnet_rounds", &rounds);
	cmdline_get_u64(si_cmdline(si), "pvnet_frames", &frames);
	if (!strcmp(mode, "linux") || !strcmp(mode, "bench"))
		dom0_hw_init(si); /* the NICs (not yet on any bridge) */
	if ((rc = gnttab_init(si, 1)))
		domains_finish(false, "FAIL gnttab_init: %d", rc);
	if ((rc = loop_init()) || (rc = xsd_init()) || (rc = netback_init()))
		domains_finish(false, "FAIL services: %d", rc);
	xsd_write("/local/domain/0/name", "Domain-0");
	xsd_write("/local/domain/0/domid", "0");
	/* A first launch and destroy with a vif: dom0's first foreign
	 * mapping, the bridge itself and the netback watch's nodes are dom0's
	 * for good, not a domain's to give back. */
	struct launch_domain w;
	launch_one(&w, "warm-up", "role=work steps=1", 0x09, true);
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;
	domains_check("warm-up-destroy", launch_destroy(&w), 0);
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;

	/* And one pair connected and used: netback's first grant maps into
	 * its slots of dom0's mapping window cost the hypervisor a page table
	 * page of dom0's that stays (1 page, seen as round-0 "leaking" one
	 * page without this). Later rounds must give back everything. */
	bool inet = !strcmp(mode, "linux") || !strcmp(mode, "inet") || !strcmp(mode, "detach");
	if (inet || !strcmp(mode, "slowrx") || !strcmp(mode, "bench"))
		pair_count = 16; /* a warm-up only: its frames are not what is tested */
	pair("warm-up-pair", NULL);
	pair_count = NET_COUNT;
	for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
		;

	struct net_counts before = net_counts_now();
	if (!strcmp(mode, "detach"))
		detach_run(&before);
	if (inet)
		inet_run(!strcmp(mode, "linux"), &before);
	char what[32];
	if (!strcmp(mode, "hotplug")) {
		hotplug();
		net_check_back("hotplug", &before);
	} else if (!strcmp(mode, "bench")) {
		pvnet_bench(frames < 1 ? 1 : frames > 1000000 ? 1000000 : (unsigned)frames);
		for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
			;
		net_check_back("bench", &before);
	} else if (!strcmp(mode, "slowrx")) {
		pvnet_slowrx();
		for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
			;
		net_check_back("slowrx", &before);
	} else {
		for (u64 r = 0; r < rounds; r++) {
			snprintf(what, sizeof(what), "round-%lu", r);
			pair(what, !strcmp(mode, "hostile") ? bad : NULL);
			for (unsigned i = 0; i < 100 && loop_run_once(false); i++)
				;
			net_check_back(what, &before);
		}
	}
	domains_check_free_pages(before.free_pages); /* the harness's line */
	if (domains_nr_bad())
		domains_finish(false, "pvnet: FAIL %u of %u checks", domains_nr_bad(),
			       domains_nr_checks());
	domains_finish(true, "pvnet: PASS %u checks", domains_nr_checks());
}
