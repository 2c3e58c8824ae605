/*
 * Domains as the store sees them (introduced or not, their ring) and the
 * per-domain quotas. A domain's record exists as soon as it owns a node,
 * introduced or not, so nodes dom0 creates for a domain before INTRODUCE
 * count against it (the accounting fix of Xen's XSA-326).
 */
#include "xs_internal.h"

struct xs_domain *xs_domain_find(const struct xs_store *s, u16 domid)
{
	for (struct xs_domain *d = s->domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

struct xs_domain *xs_domain_get(struct xs_store *s, u16 domid)
{
	struct xs_domain *d = xs_domain_find(s, domid);

	if (d)
		return d;
	d = xs_alloc(s, sizeof(*d));
	if (!d)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->next = s->domains;
	s->domains = d;
	return d;
}

void xs_domain_own(struct xs_store *s, u16 domid, int delta)
{
	struct xs_domain *d = xs_domain_get(s, domid);

	/* Out of memory for a record: the count is rebuilt by the next
	 * xs_domain_recount(); until then this domain is under-counted. */
	if (d)
		d->nodes = (u32)((int)d->nodes + delta);
}

static void count_owner(struct xs_node *n, void *arg)
{
	xs_domain_own(arg, n->perms.p[0].domid, 1);
}

void xs_domain_recount(struct xs_store *s)
{
	for (struct xs_domain *d = s->domains; d; d = d->next)
		d->nodes = 0;
	xs_node_walk(s->root, count_owner, s);
}

int xs_quota_nodes(struct xs_conn *c, int tx_delta, unsigned extra)
{
	struct xs_domain *d;
	long have;

	if (c->privileged)
		return 0;
	d = xs_domain_find(c->store, c->domid);
	have = (d ? (long)d->nodes : 0) + tx_delta;
	return have + (long)extra > (long)c->store->quota.nodes ? -ENOSPC : 0;
}

u32 xs_store_nr_owned(const struct xs_store *s, u16 domid)
{
	const struct xs_domain *d = xs_domain_find(s, domid);

	return d ? d->nodes : 0;
}

static void count_one(struct xs_node *n, void *arg)
{
	(void)n;
	(*(u32 *)arg)++;
}

u32 xs_store_nr_nodes(const struct xs_store *s)
{
	u32 count = 0;

	xs_node_walk(s->root, count_one, &count);
	return count;
}
