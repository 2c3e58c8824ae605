/*
 * pvnet_mode=slowrx (tests/pvnet/test_pvnet_vif.py, docs/pvnet.md "rx
 * queue"): netback's rx queue in front of a frontend that has posted no
 * rx buffer. A role=net-slowrx domU (R) connects its vif without posting
 * buffers; a role=net-burst domU (S) sends it a burst; dom0 checks that
 * netback queued exactly what its bounds allow (NB_RXQ frames,
 * NB_RXQ_BYTES bytes) and dropped and counted exactly the rest, that S's
 * vif went on meanwhile, and that R, once it posts its buffers, receives
 * every queued frame (R checks order and bytes and prints its count).
 * Phases (guest/pvtest/netslow.c): 100 x 1514 bytes (within the bounds:
 * nothing lost), 300 x 60 (the frame bound), 200 x 1514 (the byte bound).
 */
#include <lib/string.h>
#include <public/sched.h>
#include "domain/launch.h"
#include "domains.h"
#include "guest.h"
#include "loop/loop.h"
#include "netback/netback.h"
#include "pvclock.h"
#include "xsd/xsd.h"

static const struct {
	u32 n, len;
} phase[] = { { 100, 1514 }, { 300, 60 }, { 200, 1514 } };
#define NPHASES (sizeof(phase) / sizeof(phase[0]))

struct node_want {
	char path[64];
	char value[16];
};

static bool node_is(void *arg)
{
	struct node_want *w = arg;
	char v[16];

	return xsd_read(w->path, v, sizeof(v)) >= 0 && !strcmp(v, w->value);
}

bool pvnet_wait_node(domid_t dom, const char *key, unsigned k)
{
	struct node_want w;

	snprintf(w.path, sizeof(w.path), "/local/domain/%u/data/%s", dom, key);
	snprintf(w.value, sizeof(w.value), "%u", k);
	return loop_run_until(node_is, &w, pvclock_now_ns() + DOMAINS_WAIT_NS);
}

void pvnet_put_node(domid_t dom, const char *key, unsigned k)
{
	char path[64], v[16];

	snprintf(path, sizeof(path), "/local/domain/%u/data/%s", dom, key);
	snprintf(v, sizeof(v), "%u", k);
	domains_check("pvnet-write-node", xsd_write(path, v), 0);
}

static bool rxq_empty(void *arg)
{
	const struct launch_domain *r = arg;
	struct netback_vif_stats s;

	return netback_vif_stats(r->id, 0, &s) || !s.rxq_frames;
}

static bool both_down(void *arg)
{
	const struct launch_domain *d = arg;

	return domains_is_shut_down(d[0].id) && domains_is_shut_down(d[1].id);
}

void pvnet_launch(struct launch_domain *d, const char *name, const char *cmd, u8 last)
{
	struct launch_vif vif = { .devid = 0, .mac = { 0x02, 0, 0, 0, 0, last } };
	struct launch_params p = {
		.name = name, .mem_mib = DOMAINS_DOMU_RAM_MIB, .vcpus = 1,
		.image = domains_image, .image_size = domains_image_size,
		.cmdline = cmd, .vifs = &vif, .nr_vifs = 1,
	};
	char err[128];

	if (launch_domain(&p, d, err, sizeof(err)))
		domains_finish(false, "FAIL %s", err);
	printf("dom0: pvnet: d%u (%s) launched: \"%s\"\n", d->id, name, cmd);
}

void pvnet_slowrx(void)
{
	struct launch_domain d[2]; /* R, S */
	char cmd[2][128], name[64];
	int o = 0;

	snprintf(cmd[0], sizeof(cmd[0]), "role=net-slowrx peer=02:00:00:00:00:0b phases=%u",
		 (unsigned)NPHASES);
	o = snprintf(cmd[1], sizeof(cmd[1]), "role=net-burst peer=02:00:00:00:00:0a phases=");
	for (unsigned k = 0; k < NPHASES; k++)
		o += snprintf(cmd[1] + o, sizeof(cmd[1]) - (size_t)o, "%s%ux%u", k ? "," : "",
			      phase[k].n, phase[k].len);
	pvnet_launch(&d[0], "slowrx", cmd[0], 0x0a);
	pvnet_launch(&d[1], "burst", cmd[1], 0x0b);
	domains_check("slowrx-burst-started", pvnet_wait_node(d[1].id, "sent", 0), 1);

	for (unsigned k = 1; k <= NPHASES; k++) {
		u32 n = phase[k - 1].n, len = phase[k - 1].len;
		struct netback_vif_stats r0, s0, r1, s1, r2;

		snprintf(name, sizeof(name), "slowrx-phase-%u-ready", k);
		domains_check(name, pvnet_wait_node(d[0].id, "ready", k), 1);
		domains_check("slowrx-stats", netback_vif_stats(d[0].id, 0, &r0), 0);
		domains_check("slowrx-stats", netback_vif_stats(d[1].id, 0, &s0), 0);
		pvnet_put_node(d[1].id, "go", k);
		snprintf(name, sizeof(name), "slowrx-phase-%u-sent", k);
		domains_check(name, pvnet_wait_node(d[1].id, "sent", k), 1);
		domains_check("slowrx-stats", netback_vif_stats(d[0].id, 0, &r1), 0);
		domains_check("slowrx-stats", netback_vif_stats(d[1].id, 0, &s1), 0);

		/* What the bounds let in: frames of one length, so the byte
		 * bound is a whole number of them. */
		u32 want = n;
		if (want > NB_RXQ)
			want = NB_RXQ;
		if (want > NB_RXQ_BYTES / len)
			want = NB_RXQ_BYTES / len;
		u64 dropped = r1.rx_dropped - r0.rx_dropped;
		printf("dom0: pvnet: slowrx: phase %u: %u frames of %u bytes: queued %u (%u bytes) "
		       "dropped %lu, bounds %u frames %u bytes\n", k, n, len, r1.rxq_frames,
		       r1.rxq_bytes, dropped, NB_RXQ, NB_RXQ_BYTES);
		snprintf(name, sizeof(name), "slowrx-phase-%u-queued", k);
		domains_check(name, r1.rxq_frames, want);
		snprintf(name, sizeof(name), "slowrx-phase-%u-dropped", k);
		domains_check(name, (long)dropped, n - want);
		snprintf(name, sizeof(name), "slowrx-phase-%u-nothing-delivered-yet", k);
		domains_check(name, (long)(r1.rx_packets - r0.rx_packets), 0);
		/* The sender's vif went on while the other's queue was full. */
		snprintf(name, sizeof(name), "slowrx-phase-%u-sender-not-stalled", k);
		domains_check(name, (long)(s1.tx_packets - s0.tx_packets), n);

		pvnet_put_node(d[0].id, "post", k);
		snprintf(name, sizeof(name), "slowrx-phase-%u-drained", k);
		domains_check(name, loop_run_until(rxq_empty, &d[0],
						   pvclock_now_ns() + DOMAINS_WAIT_NS), 1);
		domains_check("slowrx-stats", netback_vif_stats(d[0].id, 0, &r2), 0);
		snprintf(name, sizeof(name), "slowrx-phase-%u-delivered", k);
		domains_check(name, (long)(r2.rx_packets - r0.rx_packets), want);
		snprintf(name, sizeof(name), "slowrx-phase-%u-no-drop-after", k);
		domains_check(name, (long)(r2.rx_dropped - r1.rx_dropped), 0);
		pvnet_put_node(d[1].id, "end", k);
	}
	bool down = loop_run_until(both_down, d, pvclock_now_ns() + DOMAINS_WAIT_NS);
	for (unsigned i = 0; i < 1000 && loop_run_once(false); i++)
		;
	domains_check("slowrx-domUs-finished", down, 1);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "slowrx-d%u-poweroff", d[i].id);
		domains_check(name, domains_shutdown_code(d[i].id), SHUTDOWN_poweroff);
		domains_check("launch-destroy", launch_destroy(&d[i]), 0);
	}
}
