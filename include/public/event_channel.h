/*
 * event_channel_op(cmd, arg) (Xen public/event_channel.h). Returns 0 or a
 * negative errno; OUT fields are written back to `arg`. Keel implements
 * the 2-level ABI (shared_info.evtchn_pending/mask); EVTCHNOP_init_control
 * (FIFO ABI) returning -ENOSYS makes Linux use 2-level.
 */
#ifndef KEEL_PUBLIC_EVENT_CHANNEL_H
#define KEEL_PUBLIC_EVENT_CHANNEL_H

#include <lib/types.h>
#include <public/xen.h>

#define EVTCHNOP_bind_interdomain  0
#define EVTCHNOP_bind_virq         1
#define EVTCHNOP_bind_pirq         2
#define EVTCHNOP_close             3
#define EVTCHNOP_send              4
#define EVTCHNOP_status            5
#define EVTCHNOP_alloc_unbound     6
#define EVTCHNOP_bind_ipi          7
#define EVTCHNOP_bind_vcpu         8
#define EVTCHNOP_unmask            9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11
#define EVTCHNOP_expand_array     12
#define EVTCHNOP_set_priority     13
#define EVTCHNOP_reset_cont       14

typedef uint32_t evtchn_port_t; /* port 0 is never valid */

/* A port in `dom` that `remote_dom` may bind to. */
struct evtchn_alloc_unbound {
	domid_t dom;          /* IN: DOMID_SELF or (dom0) another domain */
	domid_t remote_dom;   /* IN */
	evtchn_port_t port;   /* OUT */
};
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound size");
_Static_assert(offsetof(struct evtchn_alloc_unbound, port) == 4, "alloc_unbound port");

/* Xen also marks the new local port pending. */
struct evtchn_bind_interdomain {
	domid_t remote_dom;          /* IN */
	uint16_t pad;
	evtchn_port_t remote_port;   /* IN */
	evtchn_port_t local_port;    /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdomain size");
_Static_assert(offsetof(struct evtchn_bind_interdomain, remote_port) == 4, "remote_port");
_Static_assert(offsetof(struct evtchn_bind_interdomain, local_port) == 8, "local_port");

struct evtchn_bind_virq {
	uint32_t virq;        /* IN: VIRQ_* */
	uint32_t vcpu;        /* IN */
	evtchn_port_t port;   /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq size");

#define BIND_PIRQ__WILL_SHARE 1
struct evtchn_bind_pirq {
	uint32_t pirq;
	uint32_t flags;       /* BIND_PIRQ__* */
	evtchn_port_t port;   /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "bind_pirq size");

struct evtchn_bind_ipi {
	uint32_t vcpu;        /* IN */
	evtchn_port_t port;   /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi size");

struct evtchn_close {
	evtchn_port_t port;
};

/* Sending on an unbound port is silently dropped. */
struct evtchn_send {
	evtchn_port_t port;
};

#define EVTCHNSTAT_closed       0
#define EVTCHNSTAT_unbound      1
#define EVTCHNSTAT_interdomain  2
#define EVTCHNSTAT_pirq         3
#define EVTCHNSTAT_virq         4
#define EVTCHNSTAT_ipi          5

struct evtchn_status {
	domid_t dom;          /* IN */
	uint16_t pad;
	evtchn_port_t port;   /* IN */
	uint32_t status;      /* OUT: EVTCHNSTAT_* */
	uint32_t vcpu;        /* OUT: notify vCPU */
	union {
		struct {
			domid_t dom;
		} unbound;
		struct {
			domid_t dom;
			uint16_t pad;
			evtchn_port_t port;
		} interdomain;
		uint32_t pirq;
		uint32_t virq;
	} u;
};
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status size");
_Static_assert(offsetof(struct evtchn_status, port) == 4, "status port");
_Static_assert(offsetof(struct evtchn_status, status) == 8, "status status");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "status u");

struct evtchn_bind_vcpu {
	evtchn_port_t port;
	uint32_t vcpu;
};

struct evtchn_unmask {
	evtchn_port_t port;
};

struct evtchn_reset {
	domid_t dom;
};

/* FIFO ABI (not implemented by Keel: -ENOSYS). */
struct evtchn_init_control {
	uint64_t control_gfn;
	uint32_t offset;
	uint32_t vcpu;
	uint8_t link_bits;    /* OUT */
	uint8_t pad[7];
};
_Static_assert(sizeof(struct evtchn_init_control) == 24, "init_control size");

struct evtchn_expand_array {
	uint64_t array_gfn;
};

struct evtchn_set_priority {
	evtchn_port_t port;
	uint32_t priority;
};

#endif
