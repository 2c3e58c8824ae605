/*
 * grant_table_op (hypercall 20): grant_table_op(cmd, uop, count), with
 * `uop` a guest-virtual array of `count` operations (Xen
 * common/grant_table.c do_grant_table_op, behind the HVM filter of
 * arch/x86/hvm/hypercall.c). The work is in grant_table.c; this file
 * moves operations between guest memory and the hypervisor.
 *
 * Return values (Xen's): 0 when every element was processed (each one
 * carries its own GNTST_* status), -EFAULT when an element cannot be read
 * or written back (the elements before it were done), -EINVAL for a
 * negative count or (setup_table, query_size) a count other than 1,
 * -ENOSYS for an operation an auto-translated guest may not use.
 *
 * Long batches: after GNTTAB_OPS_PER_ENTRY elements the call continues
 * in a fresh entry (hypercall_continue) with uop and count advanced, so a
 * hostile count costs the guest its own time slices, never the machine's.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/gnttab.h>
#include <keel/hypercall.h>
#include <asm/guest_mem.h>

#define GNTTAB_OPS_PER_ENTRY 64

/* One element of a batch at guest address uop: 0 or -EFAULT. */
typedef long (*gnttab_op_fn)(struct vcpu *v, gva_t uop);

/*
 * Each handler first writes the element's bytes back unchanged (the
 * status field or the whole element), so that a read-only or unmapped
 * output faults before anything happens: an operation that succeeded must
 * not be lost to an -EFAULT on its status.
 */
static long map_one(struct vcpu *v, gva_t uop)
{
	struct gnttab_map_grant_ref op;

	if (copy_from_guest(v, &op, uop, sizeof(op)) || copy_to_guest(v, uop, &op, sizeof(op)))
		return -EFAULT;
	gnttab_map(v->dom, &op);
	return copy_to_guest(v, uop, &op, sizeof(op)) ? -EFAULT : 0;
}

static long unmap_one(struct vcpu *v, gva_t uop)
{
	struct gnttab_unmap_grant_ref op;
	gva_t status = uop + offsetof(struct gnttab_unmap_grant_ref, status);

	if (copy_from_guest(v, &op, uop, sizeof(op)) ||
	    copy_to_guest(v, status, &op.status, sizeof(op.status)))
		return -EFAULT;
	gnttab_unmap(v->dom, &op);
	return copy_to_guest(v, status, &op.status, sizeof(op.status)) ? -EFAULT : 0;
}

static long copy_one(struct vcpu *v, gva_t uop)
{
	struct gnttab_copy op;
	gva_t status = uop + offsetof(struct gnttab_copy, status);

	if (copy_from_guest(v, &op, uop, sizeof(op)) ||
	    copy_to_guest(v, status, &op.status, sizeof(op.status)))
		return -EFAULT;
	op.status = gnttab_copy(v->dom, &op);
	return copy_to_guest(v, status, &op.status, sizeof(op.status)) ? -EFAULT : 0;
}

static long swap_one(struct vcpu *v, gva_t uop)
{
	struct gnttab_swap_grant_ref op;
	gva_t status = uop + offsetof(struct gnttab_swap_grant_ref, status);

	if (copy_from_guest(v, &op, uop, sizeof(op)) ||
	    copy_to_guest(v, status, &op.status, sizeof(op.status)))
		return -EFAULT;
	op.status = gnttab_swap(v->dom, op.ref_a, op.ref_b);
	return copy_to_guest(v, status, &op.status, sizeof(op.status)) ? -EFAULT : 0;
}

static long run_batch(struct vcpu *v, unsigned cmd, gva_t uop, unsigned count, size_t size,
		      gnttab_op_fn fn)
{
	for (unsigned i = 0; i < count; i++) {
		gva_t at = uop + (u64)i * size;
		long rc;

		if (i == GNTTAB_OPS_PER_ENTRY)
			return hypercall_continue(v, cmd, at, count - i, 0, 0);
		rc = fn(v, at);
		if (rc)
			return rc;
	}
	return 0;
}

static long setup_table(struct vcpu *v, gva_t uop, unsigned count)
{
	struct gnttab_setup_table op;
	gva_t status = uop + offsetof(struct gnttab_setup_table, status);
	struct domain *d;
	s16 st;

	if (count != 1)
		return -EINVAL;
	if (copy_from_guest(v, &op, uop, sizeof(op)))
		return -EFAULT;
	st = gnttab_target(v->dom, op.dom, &d);
	if (st == GNTST_okay)
		st = gnttab_setup(d, op.nr_frames);
	/* frame_list gets where each frame sits in the target's physical
	 * map (Xen gnttab_shared_gfn for a translated domain). */
	for (u32 i = 0; st == GNTST_okay && i < op.nr_frames; i++) {
		xen_pfn_t gfn = gnttab_frame_gfn(d, i);

		if (copy_to_guest(v, op.frame_list + (u64)i * sizeof(gfn), &gfn, sizeof(gfn)))
			st = GNTST_bad_virt_addr;
	}
	op.status = st;
	return copy_to_guest(v, status, &op.status, sizeof(op.status)) ? -EFAULT : 0;
}

static long query_size(struct vcpu *v, gva_t uop, unsigned count)
{
	struct gnttab_query_size op;
	struct domain *d;

	if (count != 1)
		return -EINVAL;
	if (copy_from_guest(v, &op, uop, sizeof(op)))
		return -EFAULT;
	op.status = gnttab_target(v->dom, op.dom, &d);
	if (op.status == GNTST_okay) {
		op.nr_frames = gnttab_nr_frames(d);
		op.max_nr_frames = GNTTAB_MAX_FRAMES;
	}
	return copy_to_guest(v, uop, &op, sizeof(op)) ? -EFAULT : 0;
}

/* Xen gnttab_set_version with max_version 1: 1 is a no-op, 2 is "not
 * available" as before set_version existed, anything else -EINVAL; the
 * current version is written back in every case. */
static long set_version(struct vcpu *v, gva_t uop)
{
	struct gnttab_set_version op;
	long rc;

	if (copy_from_guest(v, &op, uop, sizeof(op)))
		return -EFAULT;
	rc = op.version == 1 ? 0 : op.version == 2 ? -ENOSYS : -EINVAL;
	op.version = 1;
	return copy_to_guest(v, uop, &op, sizeof(op)) ? -EFAULT : rc;
}

/* Xen gnttab_get_version: errors as errno values, not statuses. */
static long get_version(struct vcpu *v, gva_t uop)
{
	struct gnttab_get_version op;
	struct domain *d;
	s16 st;

	if (copy_from_guest(v, &op, uop, sizeof(op)))
		return -EFAULT;
	st = gnttab_target(v->dom, op.dom, &d);
	if (st == GNTST_bad_domain)
		return -ESRCH;
	if (st != GNTST_okay)
		return -EPERM;
	op.version = 1;
	return copy_to_guest(v, uop + offsetof(struct gnttab_get_version, version), &op.version,
			     sizeof(op.version)) ? -EFAULT : 0;
}

long do_grant_table_op(struct vcpu *v, u64 a_cmd, u64 a_uop, u64 a_count, u64 a4, u64 a5)
{
	/* Xen's prototype takes unsigned int cmd and count: the upper
	 * halves of the registers are ignored. */
	unsigned cmd = (u32)a_cmd, count = (u32)a_count;
	gva_t uop = a_uop;
	(void)a4;
	(void)a5;

	/* The HVM filter compares the whole cmd, so Xen's continuation
	 * bits in cmd are refused too (Keel never uses them). */
	switch (cmd) {
	case GNTTABOP_map_grant_ref:
	case GNTTABOP_unmap_grant_ref:
	case GNTTABOP_setup_table:
	case GNTTABOP_copy:
	case GNTTABOP_query_size:
	case GNTTABOP_set_version:
	case GNTTABOP_get_version:
	case GNTTABOP_swap_grant_ref:
		break;
	default:
		return -ENOSYS;
	}
	if ((int)count < 0)
		return -EINVAL;

	switch (cmd) {
	case GNTTABOP_map_grant_ref:
		return run_batch(v, cmd, uop, count, sizeof(struct gnttab_map_grant_ref), map_one);
	case GNTTABOP_unmap_grant_ref:
		return run_batch(v, cmd, uop, count, sizeof(struct gnttab_unmap_grant_ref),
				 unmap_one);
	case GNTTABOP_copy:
		return run_batch(v, cmd, uop, count, sizeof(struct gnttab_copy), copy_one);
	case GNTTABOP_swap_grant_ref:
		return run_batch(v, cmd, uop, count, sizeof(struct gnttab_swap_grant_ref),
				 swap_one);
	case GNTTABOP_setup_table:
		return setup_table(v, uop, count);
	case GNTTABOP_query_size:
		return query_size(v, uop, count);
	case GNTTABOP_set_version:
		return set_version(v, uop);
	default: /* GNTTABOP_get_version */
		return get_version(v, uop);
	}
}
