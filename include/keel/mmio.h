/*
 * Emulated MMIO (kernel/mmio.c): guest-physical ranges that are absent
 * from a domain's p2m on purpose, so that every access faults (EXIT_NPF)
 * and a handler carries it out. Regions register themselves (STYLE.md
 * rule 8). The faulting instruction is decoded by asm/mmio_insn.h; a
 * domain whose access cannot be decoded is killed with a report, as for
 * any unhandled nested page fault.
 */
#ifndef KEEL_MMIO_H
#define KEEL_MMIO_H

#include <lib/types.h>
#include <keel/vmexit.h>

struct vcpu;
struct vm_exit;

#define MMIO_ANY_DOMAIN 0xffff

struct mmio_handler {
	gpa_t base;
	u64 len;
	u16 domid;        /* the domain it serves, or MMIO_ANY_DOMAIN */
	const char *name;
	/* size is 1, 2, 4 or 8 and [gpa, gpa+size) lies inside the region.
	 * read returns the value (low `size` bytes used). */
	u64 (*read)(struct vcpu *v, gpa_t gpa, unsigned size);
	void (*write)(struct vcpu *v, gpa_t gpa, unsigned size, u64 val);
};

/* Registers a region. 0, -EEXIST if it overlaps another one for the same
 * domain, -ENOSPC when the table is full, -EINVAL for an empty range. */
int mmio_register(const struct mmio_handler *h);

/* Removes the region registered at `base` for `domid` (e.g. an MSI-X
 * table whose BAR moved). 0, or -ENOENT when there is none. The caller
 * puts back or leaves out the p2m mapping as its policy says. */
int mmio_unregister(gpa_t base, u16 domid);

/*
 * For the EXIT_NPF handler: if e->npf.gpa lies in a region registered for
 * v's domain, emulates the access (decode, handler, RIP advance via
 * e->insn_len) and returns true with the run loop's verdict in *action.
 * Returns false when no region matches (the fault is the caller's).
 */
bool mmio_handle(struct vcpu *v, struct vm_exit *e, enum exit_action *action);

#endif
