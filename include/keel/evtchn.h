/*
 * Event channels, 2-level ABI (Xen public/event_channel.h, public/xen.h;
 * semantics of Xen's common/event_channel.c and common/event_2l.c).
 *
 * A domain has ports 1 .. NR_EVENT_CHANNELS-1; port 0 is reserved and
 * never bound. A port is free, unbound (waiting for `remote_dom` to bind
 * to it), interdomain (connected to a port of another - or the same -
 * domain), bound to a VIRQ, or an IPI. Signalling a port sets its bit in
 * shared_info.evtchn_pending; the 2-level algorithm (evtchn_2l_*) then
 * sets the notify vCPU's evtchn_pending_sel bit and evtchn_upcall_pending,
 * and the vCPU gets the callback vector before its next VM entry
 * (evtchn_upcall_deliver) and is woken if it sleeps (vcpu_kick).
 *
 * Files: kernel/evtchn.c (port state machine, the API below),
 * kernel/evtchn_2l.c (pending/mask bits, pure), kernel/shared_info.c
 * (shared_info and vcpu_info pages), kernel/evtchn_block.c (blocking,
 * polling, upcall injection), kernel/hc_evtchn.c (the hypercall).
 *
 * Locking: one physical CPU, interrupts off in the hypervisor, so none
 * yet. The bit operations on guest-shared words are atomic already,
 * because with SMP the guest changes them concurrently.
 */
#ifndef KEEL_EVTCHN_H
#define KEEL_EVTCHN_H

#include <lib/types.h>
#include <public/event_channel.h>
#include <public/xen.h>

struct domain;
struct vcpu;

/* Port states (Xen's ECS_* numbering, for reading dumps side by side). */
enum evtchn_state {
	ECS_FREE = 0,
	ECS_RESERVED = 1,    /* port 0 */
	ECS_UNBOUND = 2,
	ECS_INTERDOMAIN = 3,
	ECS_PIRQ = 4,        /* dom0's physical IRQs (kernel/pirq.c) */
	ECS_VIRQ = 5,
	ECS_IPI = 6,
};

/* One port: 8 bytes, 4096 of them = 32 KiB per domain. */
struct evtchn {
	u8 state;             /* enum evtchn_state */
	u8 notify_vcpu;       /* vCPU whose pending_sel/upcall gets the event */
	u16 remote_dom;       /* UNBOUND: who may bind; INTERDOMAIN: the peer */
	union {
		u32 remote_port;  /* INTERDOMAIN */
		u32 virq;         /* VIRQ */
		u32 pirq;         /* PIRQ */
	} u;
};

/* Ports are "valid" (Xen's valid_evtchns) in buckets of this many: Xen
 * allocates struct evtchn (64 bytes, aligned) a page at a time, and which
 * ports count as valid decides between -EINVAL and a "closed" status. */
#define EVTCHN_BUCKET 64

#define GFN_NONE (~0ULL)

/* Per-domain event state, embedded in struct domain as `ev`. */
struct evtchn_domain {
	struct evtchn *port;          /* [NR_EVENT_CHANNELS], NULL = not set up */
	unsigned valid;               /* ports below this are valid */
	struct shared_info *shared_info; /* host-virtual (direct map) */
	paddr_t shared_info_pa;       /* the frame, owned by the domain */
	u64 shared_info_gfn;          /* where the guest placed it, GFN_NONE */
	u32 poll_mask;                /* vCPUs sleeping in SCHEDOP_poll */
	/* HVM_PARAM_CALLBACK_IRQ of type vector (Xen's callback_via). */
	bool callback_vector_set;
	u8 callback_vector;
};

/* Per-vCPU event state, embedded in struct vcpu as `ev`. */
struct evtchn_vcpu {
	struct vcpu_info *vcpu_info;  /* NULL: shared_info->vcpu_info[id] */
	paddr_t vcpu_info_frame;      /* registered area's frame (ref held), 0 */
	u16 virq_port[NR_VIRQS];      /* VIRQ -> port; global VIRQs on vCPU 0 */
	int poll_port;                /* SCHEDOP_poll: 0 none, -1 any, else port */
	u64 poll_deadline;            /* absolute system time (ns), 0 = none */
	u8 upcall_vector;             /* HVMOP_set_evtchn_upcall_vector, 0 = none */
	bool upcall_window;           /* we asked the vendor for an intr window */
	bool tpr_window;              /* ... or for a TPR window (upcall_vector) */
	gva_t runstate_gva;           /* VCPUOP_register_runstate_memory_area, 0 */
	gva_t time_area_gva;          /* VCPUOP_register_vcpu_time_memory_area, 0 */
	gva_t time_area_written;      /* the address last written whole (kernel/time.c) */
};

/* ---- for the rest of the hypervisor ----------------------------------- */

/*
 * Sets up d's ports (port 0 reserved) and allocates its shared_info page
 * (owned by d, zeroed as in Xen: no port masked, upcall_mask 0). Called
 * by domain_create. 0 or -ENOMEM (nothing left allocated).
 */
int evtchn_domain_init(struct domain *d);

/*
 * Closes every port of d (interdomain peers go back to unbound, as
 * EVTCHNOP_close does), drops the hypervisor's references on registered
 * vcpu_info frames and on the shared_info frame, and clears d->ev.
 * Idempotent. For domain destruction (d->state == DOM_DYING), after d's
 * vCPUs have stopped for good: d's owner reference on shared_info is then
 * left to domain_release_memory like any page d owns. Called on a domain
 * that is not dying (domain_create's failure path), it drops that too.
 */
void evtchn_domain_destroy(struct domain *d);

/* Ports of d in use (any state but free; port 0 not counted). 0 for a
 * domain without ports. For KEEL_SYSCTL_counts. */
unsigned evtchn_nr_bound(const struct domain *d);

/* d's shared_info (host pointer), NULL before evtchn_domain_init. The
 * time code writes wallclock and vcpu_info[0].time through it. */
struct shared_info *domain_shared_info(struct domain *d);

/* v's current vcpu_info: the registered area, else its slot in
 * shared_info. Never NULL once the domain is initialised. */
struct vcpu_info *vcpu_info(struct vcpu *v);

/*
 * Raises per-vCPU VIRQ `virq` (VIRQ_TIMER, VIRQ_DEBUG, ...) on v: if v
 * bound it, the port goes pending on v. Nothing happens if it is not
 * bound. Safe from any hypervisor context (not from an interrupt handler:
 * call it at the safe point the timer code uses).
 */
void evtchn_send_virq(struct vcpu *v, unsigned virq);

/*
 * Raises a global or per-domain VIRQ (VIRQ_DOM_EXC, VIRQ_CONSOLE, ...) in
 * domain d (e.g. dom0), on the vCPU its port notifies. d may be NULL
 * (nothing happens), as may an unbound VIRQ.
 */
void evtchn_send_global_virq(struct domain *d, unsigned virq);

/*
 * The toolstack path (console/xenstore rings): allocates an unbound port
 * in d that domain `remote` may bind to, without the caller's permission
 * checks. 0 and *port, or -ENOSPC / -EINVAL (d not set up or dying).
 */
int evtchn_alloc_unbound_for(struct domain *d, u16 remote, u32 *port);

/*
 * Wakes v if it sleeps (HLT, SCHEDOP_block, SCHEDOP_poll): it becomes
 * runnable and, if an upcall is pending, takes the callback vector at its
 * next entry. The scheduler runs it in its turn. The timer code calls it
 * when v->ev.poll_deadline passes for a polling vCPU.
 */
void vcpu_kick(struct vcpu *v);

/* ---- the hypercall (kernel/hc_evtchn.c) and blocking ------------------ */

/* EVTCHNOP_* on behalf of vCPU `cur`, with Xen's checks and errno. The
 * argument structures are already copied in; OUT fields are filled on
 * success only. */
int evtchn_op_alloc_unbound(struct vcpu *cur, struct evtchn_alloc_unbound *a);
int evtchn_op_bind_interdomain(struct vcpu *cur, struct evtchn_bind_interdomain *b);
int evtchn_op_bind_virq(struct vcpu *cur, struct evtchn_bind_virq *b);
int evtchn_op_bind_ipi(struct vcpu *cur, struct evtchn_bind_ipi *b);
/* dom0 only in effect (kernel/pirq.c decides): -EINVAL for a pirq that is
 * not mapped, -EEXIST if it is bound already. */
int evtchn_op_bind_pirq(struct vcpu *cur, struct evtchn_bind_pirq *b);
/* A pirq's interrupt arrived (kernel/pirq.c, at the safe point): marks
 * its port pending in d. */
void evtchn_send_pirq(struct domain *d, u32 port);
int evtchn_op_close(struct domain *d, u32 port);
int evtchn_op_send(struct domain *d, u32 port);
int evtchn_op_status(struct vcpu *cur, struct evtchn_status *s);
int evtchn_op_bind_vcpu(struct domain *d, u32 port, u32 vcpu);
int evtchn_op_unmask(struct domain *d, u32 port);
int evtchn_op_reset(struct vcpu *cur, domid_t dom);
int evtchn_op_set_priority(struct domain *d, u32 port);

/* SCHEDOP_poll's test of one port: 1 pending (masked or not), 0 not,
 * -EINVAL for an invalid or unbound-to-anything (free/reserved) port. */
int evtchn_port_poll(struct domain *d, u32 port);

/* Sets upcall_pending on v's vcpu_info and kicks v if it was clear (Xen's
 * vcpu_mark_events_pending). */
void vcpu_mark_events_pending(struct vcpu *v);

/* True if v has an event-channel upcall it can be given: upcall_pending
 * set and a callback vector configured (domain-wide or per vCPU). */
bool evtchn_upcall_deliverable(struct vcpu *v);

/* Before each VM entry (kernel/vcpu_run.c): injects the callback vector
 * while upcall_pending is set and the guest can take an interrupt, else
 * asks for an interrupt window. Bypasses any (virtual) LAPIC: no EOI. */
void evtchn_upcall_deliver(struct vcpu *v);

/* SCHEDOP_block / SCHEDOP_poll for v (kernel/hc_sched.c calls them). */
long evtchn_sched_block(struct vcpu *v);
long evtchn_sched_poll(struct vcpu *v, gva_t arg);

/* HLT with RFLAGS.IF = 1: sleeps unless an upcall is deliverable. */
void evtchn_hlt(struct vcpu *v);

/* Applies HVM_PARAM_CALLBACK_IRQ `via` to d (only the vector type does
 * anything: Keel has no virtual IOAPIC/PIC, and Xen ignores the other
 * types for PVH) and re-asserts pending upcalls. */
void evtchn_set_callback_via(struct domain *d, u64 via);

/* Per-vCPU upcall vector (HVMOP_set_evtchn_upcall_vector). */
void evtchn_set_upcall_vector(struct vcpu *v, u8 vector);

/* ---- shared_info and vcpu_info pages (kernel/shared_info.c) ------------ */

/* Allocates d's zeroed shared_info frame, owned by d, with a second
 * reference held by the hypervisor. 0 or -ENOMEM. */
int shared_info_alloc(struct domain *d);

/* Unmaps shared_info from d's p2m if placed and drops the hypervisor's
 * reference (and the owner's unless d is DOM_DYING: see
 * evtchn_domain_destroy). */
void shared_info_free(struct domain *d);

/* Drops v's registered vcpu_info area (the frame reference); v's
 * vcpu_info is then its shared_info slot again. */
void vcpu_info_release(struct vcpu *v);

/*
 * VCPUOP_register_vcpu_info for vCPU v (any vCPU of the caller's domain:
 * Linux registers its APs from the BSP): moves v's vcpu_info to guest
 * frame `gfn` + `offset`, copying the old contents, then sets pending_sel
 * to ~0 and upcall_pending so nothing pending is lost. Xen's errors:
 * -EINVAL (offset past the page, not RAM of the domain), -ENXIO (crosses
 * the page or not 8-byte aligned), -EBUSY (already registered), -EACCES
 * (read-only).
 */
int register_vcpu_info(struct vcpu *v, u64 gfn, u32 offset);

/* ---- the 2-level bit logic (kernel/evtchn_2l.c), pure ----------------- */

/*
 * Marks `port` pending in s (Xen's evtchn_2l_set_pending, docs/xen-abi.md 3):
 * test-and-set the pending bit and stop if it was set; if the port is not
 * masked, set bit port/64 of vi->evtchn_pending_sel and, if that bit was
 * clear, returns true: the caller must then set upcall_pending (and kick).
 */
bool evtchn_2l_set_pending(struct shared_info *s, struct vcpu_info *vi, unsigned port);

/* Clears the mask bit; if it was set and the port is pending, sets the
 * pending_sel bit and returns true when that was clear (as above). */
bool evtchn_2l_unmask(struct shared_info *s, struct vcpu_info *vi, unsigned port);

void evtchn_2l_clear_pending(struct shared_info *s, unsigned port);
bool evtchn_2l_is_pending(const struct shared_info *s, unsigned port);
bool evtchn_2l_is_masked(const struct shared_info *s, unsigned port);

/* Sets vi->evtchn_upcall_pending; returns true if it was 0. */
bool evtchn_2l_mark_upcall(struct vcpu_info *vi);

#endif
