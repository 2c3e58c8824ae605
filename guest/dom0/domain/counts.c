/* dom0's and the hypervisor's resource counts (contract in counts.h). */
#include "blkback/blkback.h"
#include "bridge/bridge.h"
#include "bridge/netsvc.h"
#include "counts.h"
#include "domctl.h"
#include "guest.h"
#include "netback/netback.h"
#include "pages.h"
#include "xsd/xsd.h"

int dom0_counts_now(struct dom0_counts *k)
{
	struct keel_sysctl_counts c;
	struct blkback_stats bs;
	struct bridge *br = bridge_find(NETSVC_BRIDGE);
	int rc = sysctl_counts(&c);

	if (rc)
		return rc;
	blkback_get_stats(&bs);
	*k = (struct dom0_counts){
		.free_pages = c.free_pages,
		.pool = pages_free_count(),
		.store_bytes = xsd_alloc_in_use(),
		.ports = c.evtchn_ports,
		.grant_maps = c.grant_mappings,
		.domains = c.nr_domains,
		/* No store yet (xenstored not started): no nodes. */
		.nodes = xsd_store() ? xs_store_nr_nodes(xsd_store()) : 0,
		.blk_devs = bs.devs,
		.vifs = netback_nr_vifs(),
		.mapped = netback_nr_mapped(),
		.channels = netback_nr_channels(),
		.br_ports = br ? bridge_nr_ports(br) : 0,
	};
	return 0;
}

void dom0_counts_print(const char *prefix, const struct dom0_counts *k)
{
	printf("%sfree pages %lu, ports %u, grant maps %u, domains %u, pool %lu, nodes %u, store "
	       "bytes %lu\n", prefix, k->free_pages, k->ports, k->grant_maps, k->domains, k->pool,
	       k->nodes, k->store_bytes);
	printf("%sblkback devices %u, netback vifs %u mapped %u channels %u, bridge ports %u\n",
	       prefix, k->blk_devs, k->vifs, k->mapped, k->channels, k->br_ports);
}
