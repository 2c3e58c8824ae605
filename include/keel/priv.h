/*
 * Who may act on which domain: the one privilege rule (kernel/priv.c).
 *
 * Keel has one control domain, dom0: it is the domain built at boot with
 * `privileged` set, and it is also the hardware domain (it owns the
 * devices, the pirqs and the global VIRQs). Nothing else in the
 * hypervisor decides privilege by a domain id; it asks
 * is_control_domain(). The rule for a hypercall that names a target
 * domain is Xen's dummy XSM policy for XSM_TARGET (xen/include/xsm/
 * dummy.h, xsm_default_action): a domain may act on itself, the control
 * domain on any domain.
 *
 * Lifetime: Keel has no domain reference counts. A struct domain lives in
 * a static table and is never freed; only its id can be reused, and only
 * by domctl createdomain after domain_destroy (or the reaping of a dying
 * domain) has freed it. All hypercalls run to completion on one CPU with
 * interrupts off, so a pointer returned here stays valid, and names the
 * same domain, until the calling hypercall returns (or continues with
 * hypercall_continue). It must not be kept beyond that: store the id and
 * look it up again. Nothing here takes or needs releasing.
 */
#ifndef KEEL_PRIV_H
#define KEEL_PRIV_H

#include <keel/domain.h>
#include <keel/hypercall.h>
#include <public/xen.h>

/* The id the boot gives the control domain (kernel/dom0.c). */
#define DOMID_CONTROL 0

/* True if d is the control domain. The only test of "is this dom0" for
 * privilege: other code reads neither d->privileged nor d->id for it. */
static inline bool is_control_domain(const struct domain *d)
{
	return d->privileged;
}

/* The control domain, or NULL before the boot has built it. For the
 * hypervisor's own messages to dom0 (VIRQ_DOM_EXC, pirq events). */
struct domain *control_domain(void);

/* True if `id` names the caller itself: DOMID_SELF or its own id. For
 * operations that act only on the caller (others get their own error). */
bool domid_is_self(const struct domain *caller, domid_t id);

/*
 * The target domain of a call: looks up the domain `id` names for
 * `caller` and checks that the caller may act on it. DOMID_SELF or the
 * caller's own id gives the caller; any other existing domain is given
 * only to the control domain.
 *
 * Returns 0 and sets *out, or -ESRCH (no such domain) or -EPERM (another
 * domain, and the caller is not the control domain); *out is left alone
 * on error. -ESRCH comes before -EPERM, as in Xen
 * (rcu_lock_domain_by_any_id, then the XSM check).
 *
 * Dying domains (DOM_DYING, kept for frames others still map) are found
 * like any other: this function does not judge the target's state, so
 * each call site keeps its own rule for them (grant ops: bad domain;
 * add_to_physmap: -ESRCH; event channels: no free port, -EINVAL).
 * The lifetime of *out is the header's: valid until this hypercall returns,
 * no reference taken.
 */
int domain_lookup_target(struct domain *caller, domid_t id, struct domain **out);

/*
 * The two steps of domain_lookup_target, for the few call sites where Xen
 * checks something else in between (the error order is guest-visible):
 *   domain_by_any_id: the domain `id` names for caller (DOMID_SELF ->
 *     caller), or NULL; dying domains included.
 *   domain_check_target: 0 if caller may act on d (itself, or caller is
 *     the control domain), else -EPERM.
 * Everything else calls domain_lookup_target.
 */
struct domain *domain_by_any_id(struct domain *caller, domid_t id);
int domain_check_target(const struct domain *caller, const struct domain *d);

/*
 * The check behind every privilege column: the hypercall table and the
 * domctl, sysctl and physdev sub-op tables. 0 if domain d may make a call
 * whose entry says `who`, else -EPERM.
 */
int hc_check_caller(enum hc_caller who, const struct domain *d);

#endif
