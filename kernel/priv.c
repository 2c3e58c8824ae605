/*
 * The privilege rule: see include/keel/priv.h. Pure (it reads only the
 * domain table), so tests/unit/test_priv.c compiles it on the host.
 */
#include <lib/errno.h>
#include <keel/priv.h>

struct domain *control_domain(void)
{
	struct domain *d = domain_by_id(DOMID_CONTROL);

	return d && is_control_domain(d) ? d : NULL;
}

bool domid_is_self(const struct domain *caller, domid_t id)
{
	return id == DOMID_SELF || id == caller->id;
}

/* Xen's rcu_lock_domain_by_any_id. */
struct domain *domain_by_any_id(struct domain *caller, domid_t id)
{
	return id == DOMID_SELF ? caller : domain_by_id(id);
}

/* Xen's dummy XSM policy for XSM_TARGET (xsm_default_action): the
 * domain itself, or the control domain. */
int domain_check_target(const struct domain *caller, const struct domain *d)
{
	return d == caller || is_control_domain(caller) ? 0 : -EPERM;
}

int domain_lookup_target(struct domain *caller, domid_t id, struct domain **out)
{
	struct domain *d = domain_by_any_id(caller, id);

	if (!d)
		return -ESRCH;
	if (domain_check_target(caller, d))
		return -EPERM;
	*out = d;
	return 0;
}

int hc_check_caller(enum hc_caller who, const struct domain *d)
{
	switch (who) {
	case HC_ANY:
		return 0;
	case HC_DOM0_ONLY:
		return is_control_domain(d) ? 0 : -EPERM;
	case HC_NOBODY:
		break;
	}
	return -EPERM;
}
