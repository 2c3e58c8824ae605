/*
 * hvm_op(cmd, arg) (Xen public/hvm/hvm_op.h). Returns 0 or a negative
 * errno. Parameter indices are in params.h.
 */
#ifndef KEEL_PUBLIC_HVM_OP_H
#define KEEL_PUBLIC_HVM_OP_H

#include <lib/types.h>
#include <public/xen.h>

#define HVMOP_set_param                 0
#define HVMOP_get_param                 1
#define HVMOP_set_pci_intx_level        2
#define HVMOP_set_isa_irq_level         3
#define HVMOP_set_pci_link_route        4
#define HVMOP_flush_tlbs                5
#define HVMOP_pagetable_dying           9 /* Linux probes; < 0 stops it */
#define HVMOP_get_time                 10
#define HVMOP_xentrace                 11
#define HVMOP_set_mem_access           12
#define HVMOP_get_mem_access           13
#define HVMOP_get_mem_type             15
#define HVMOP_set_evtchn_upcall_vector 23
#define HVMOP_guest_request_vm_event   24
#define HVMOP_altp2m                   25

struct xen_hvm_param {
	domid_t domid;    /* IN: DOMID_SELF */
	uint16_t pad;
	uint32_t index;   /* IN: HVM_PARAM_* */
	uint64_t value;   /* IN (set) / OUT (get) */
};
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param size");
_Static_assert(offsetof(struct xen_hvm_param, index) == 4, "param index");
_Static_assert(offsetof(struct xen_hvm_param, value) == 8, "param value");

struct xen_hvm_pagetable_dying {
	domid_t domid;
	uint16_t pad[3];
	uint64_t gpa;
};
_Static_assert(sizeof(struct xen_hvm_pagetable_dying) == 16, "pagetable_dying size");

struct xen_hvm_get_time {
	uint64_t now;     /* OUT: system time, ns */
};

/* Per-vCPU upcall vector, delivered as a LAPIC edge interrupt (the guest
 * EOIs it). Only used when CPUID base+4 advertises UPCALL_VECTOR. */
struct xen_hvm_evtchn_upcall_vector {
	uint32_t vcpu;
	uint8_t vector;
	uint8_t pad[3];
};
_Static_assert(sizeof(struct xen_hvm_evtchn_upcall_vector) == 8, "upcall_vector size");

#endif
