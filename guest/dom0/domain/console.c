/*
 * A domU's PV console page and port (contract in domain.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/hvm_op.h>
#include <public/params.h>
#include "domain.h"
#include "domctl.h"
#include "evtchn.h"
#include "hypercall.h"

static int set_param(domid_t id, u32 index, u64 value)
{
	struct xen_hvm_param p = { .domid = id, .index = index, .value = value };

	return (int)HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

int dom_console_create(domid_t id, unsigned ram_mib, u64 *gfn, evtchn_port_t *port)
{
	u64 g = (u64)ram_mib * 256; /* the first frame past its RAM */
	evtchn_port_t p;
	int rc;

	/* Room for one more page than its RAM (max_mem is in KiB). */
	if ((rc = domctl_max_mem(id, ram_mib * 1024 + 4)) ||
	    (rc = domctl_populate_ram(id, g << PAGE_SHIFT, 1)))
		return rc;
	/* The domain's end; dom0 (the backend's domain) binds to it. */
	if ((rc = evtchn_alloc_unbound(id, 0, &p)))
		return rc;
	/* On failure the page and the port stay the domain's until it is
	 * destroyed (dom0 cannot close another domain's port), which is what
	 * a failed build leads to. */
	if ((rc = set_param(id, HVM_PARAM_CONSOLE_PFN, g)) ||
	    (rc = set_param(id, HVM_PARAM_CONSOLE_EVTCHN, p)))
		return rc;
	*gfn = g;
	*port = p;
	return 0;
}
