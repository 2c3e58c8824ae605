/*
 * Event channels for Keel's guests (guest/lib/evtchn.c): the shared_info
 * page, the callback vector, per-port handlers, a wrapper for every
 * EVTCHNOP, and ways to wait for events. Xen's 2-level ABI, used the way
 * Linux uses it (docs/xen-abi.md sections 3 and 4).
 *
 * Set-up (evtchn_init): shared_info is placed over a page of the guest's
 * own .bss with XENMEM_add_to_physmap, every port is masked, an IDT gate
 * for EVTCHN_UPCALL_VECTOR is installed and HVM_PARAM_CALLBACK_IRQ is set
 * to "vector, EVTCHN_UPCALL_VECTOR". From then on, whenever an unmasked
 * port goes pending and the guest runs with interrupts on, the vector
 * arrives and the upcall handler scans pending & ~mask (the way Linux
 * does), clears each port's pending bit and calls its handler.
 *
 * The library runs on vCPU 0 only (Keel's guests are single-vCPU), and
 * handlers run in interrupt context with interrupts off: keep them short.
 * Everything returns 0 or the hypervisor's negative errno.
 */
#ifndef GUEST_EVTCHN_H
#define GUEST_EVTCHN_H

#include <keel/types.h>
#include <public/event_channel.h>
#include <public/xen.h>

/* Linux's HYPERVISOR_CALLBACK_VECTOR. */
#define EVTCHN_UPCALL_VECTOR 0xF3

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

/* ---- set-up -------------------------------------------------------------- */

/* Maps shared_info, masks every port, installs the vector and sets the
 * callback. Idempotent. 0 or -errno (then the event functions below that
 * touch shared_info must not be used). */
int evtchn_init(void);

/* The mapped shared_info, or NULL before evtchn_init succeeded. */
struct shared_info *evtchn_shared_info(void);

/* vCPU 0's vcpu_info: its shared_info slot, or the registered area. */
struct vcpu_info *evtchn_vcpu_info(void);

/* VCPUOP_register_vcpu_info for vCPU 0 at `area` (identity-mapped, i.e.
 * guest-physical = virtual), which must hold a struct vcpu_info. */
int evtchn_register_vcpu_info(struct vcpu_info *area);

/* ---- handlers -------------------------------------------------------------- */

/* Calls fn(port, arg) from the upcall each time `port` fires (NULL
 * removes it). Does not unmask: see evtchn_unmask. -EINVAL for a port out
 * of range. */
int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);

/* Upcalls taken, and events found pending with no handler (they are
 * cleared and counted, nothing else). */
u64 evtchn_upcall_count(void);
u64 evtchn_unhandled_count(void);

/* ---- EVTCHNOP wrappers --------------------------------------------------------- */

int evtchn_alloc_unbound(domid_t dom, domid_t remote_dom, evtchn_port_t *port);
int evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port,
			    evtchn_port_t *local_port);
int evtchn_bind_virq(u32 virq, u32 vcpu, evtchn_port_t *port);
int evtchn_bind_ipi(u32 vcpu, evtchn_port_t *port);
int evtchn_close(evtchn_port_t port);
int evtchn_send(evtchn_port_t port);
int evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *out);
int evtchn_bind_vcpu(evtchn_port_t port, u32 vcpu);
/* EVTCHNOP_unmask: clears the mask bit and, if the port is pending,
 * delivers it. */
int evtchn_unmask(evtchn_port_t port);

/* ---- bits in shared_info (no hypercall) ------------------------------------------ */

void evtchn_mask(evtchn_port_t port);
bool evtchn_is_pending(evtchn_port_t port);
void evtchn_clear_pending(evtchn_port_t port);

/* ---- waiting --------------------------------------------------------------------- */

/* Enables interrupts and halts until an interrupt (the upcall) arrives:
 * STI;HLT, so no event slips in between. Returns with interrupts on. */
void evtchn_wait(void);

/* Runs evtchn_wait until *flag becomes true (set by a handler). */
void evtchn_wait_for(volatile bool *flag);

/* SCHEDOP_block: sleeps until an upcall is pending (interrupts stay as
 * they are: with IF = 0 the caller then inspects shared_info itself). */
long evtchn_block(void);

/* SCHEDOP_poll: sleeps until one of the ports is pending (masked or not),
 * or `timeout_ns` (absolute system time; 0 = none) passes. */
long evtchn_poll(const evtchn_port_t *ports, unsigned nr_ports, u64 timeout_ns);

/* Interrupts on / off. Enabling is STI plus one instruction, so that the
 * STI shadow is over and a pending upcall has been taken when it returns. */
static inline void evtchn_irq_enable(void) { asm volatile("sti; nop" ::: "memory"); }
static inline void evtchn_irq_disable(void) { asm volatile("cli" ::: "memory"); }

#endif
