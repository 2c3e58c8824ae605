/*
 * sysctl(struct xen_sysctl *op) (hypercall 35): Keel's subset of Xen's
 * system-control interface (xen/include/public/sysctl.h), for dom0 only.
 * Frame and numbers are Xen's; physinfo has Xen's layout,
 * getdomaininfolist fills Keel's xen_domctl_getdomaininfo records
 * (public/domctl.h). docs/domctl.md describes both.
 */
#ifndef KEEL_PUBLIC_SYSCTL_H
#define KEEL_PUBLIC_SYSCTL_H

#include <lib/types.h>
#include <public/domctl.h>

#define XEN_SYSCTL_INTERFACE_VERSION 0x4b650001 /* Keel's, not Xen's */

#define XEN_SYSCTL_readconsole       1
#define XEN_SYSCTL_physinfo          3
#define XEN_SYSCTL_getdomaininfolist 6
/* Keel's own commands (numbers Xen does not use). */
#define KEEL_SYSCTL_BASE             0x4b00
#define KEEL_SYSCTL_counts           (KEEL_SYSCTL_BASE + 1)
#define KEEL_SYSCTL_irq_counts       (KEEL_SYSCTL_BASE + 2)

/* XEN_SYSCTL_physinfo (Xen's layout). free_pages is the frame
 * allocator's count, the figure that must come back to its old value
 * after a domain is destroyed. */
struct xen_sysctl_physinfo {
	uint32_t threads_per_core;
	uint32_t cores_per_socket;
	uint32_t nr_cpus;
	uint32_t max_cpu_id;
	uint32_t nr_nodes;
	uint32_t max_node_id;
	uint32_t cpu_khz;           /* the TSC rate */
	uint32_t capabilities;      /* XEN_SYSCTL_PHYSCAP_* */
	uint32_t arch_capabilities;
	uint32_t pad;
	uint64_t total_pages;
	uint64_t free_pages;
	uint64_t scrub_pages;
	uint64_t outstanding_pages;
	uint64_t max_mfn;
	uint32_t hw_cap[8];
};
#define XEN_SYSCTL_PHYSCAP_hvm (1U << 0)
#define XEN_SYSCTL_PHYSCAP_hap (1U << 2)
_Static_assert(offsetof(struct xen_sysctl_physinfo, total_pages) == 40, "total_pages");
_Static_assert(sizeof(struct xen_sysctl_physinfo) == 112, "physinfo size");

/* XEN_SYSCTL_getdomaininfolist: records for the existing domains with
 * id >= first_domain, in id order, at most max_domains of them.
 * num_domains (OUT) says how many were written. -EFAULT on a bad buffer. */
struct xen_sysctl_getdomaininfolist {
	domid_t first_domain;
	uint16_t pad;
	uint32_t max_domains;
	uint64_t buffer;      /* guest-virtual struct xen_domctl_getdomaininfo[] */
	uint32_t num_domains; /* OUT */
	uint32_t pad2;
};

/* XEN_SYSCTL_readconsole (Xen's layout): the most recent `count` bytes of
 * the hypervisor's log ring (every level, not only what the console
 * showed) into `buffer`; count (IN/OUT) is the size, then the bytes
 * written. clear = 1 drops the log text after the read (`xl dmesg -c`;
 * Keel reads the newest bytes, so all the text up to then goes);
 * incremental must be 0 and clear 0 or 1 (-EINVAL otherwise). */
struct xen_sysctl_readconsole {
	uint8_t clear;
	uint8_t incremental;
	uint8_t pad0, pad1;
	uint32_t index;
	uint64_t buffer;   /* guest-virtual char[count] */
	uint32_t count;    /* IN: buffer size; OUT: bytes written */
	uint32_t pad2;
};
_Static_assert(offsetof(struct xen_sysctl_readconsole, buffer) == 8, "readconsole buffer");
_Static_assert(offsetof(struct xen_sysctl_readconsole, count) == 16, "readconsole count");

/* KEEL_SYSCTL_counts: the hypervisor's totals of the resources domains
 * hold, for leak checks (make soak; docs/domctl.md). Every domain that
 * exists is counted, dying ones included. */
struct keel_sysctl_counts {
	uint64_t free_pages;     /* as physinfo's */
	uint32_t nr_domains;     /* dom0 included */
	uint32_t evtchn_ports;   /* ports in use (not free), port 0 excluded */
	uint32_t grant_frames;   /* grant-table frames */
	uint32_t grant_mappings; /* grant mappings held (maptrack handles in use) */
	uint32_t idle_wakeups;   /* times the CPU woke from its idle wait (mod 2^32) */
	uint32_t fast_picks;     /* scheduler picks by the fast pass (docs/sched.md; mod 2^32) */
};
_Static_assert(sizeof(struct keel_sysctl_counts) == 32, "keel_sysctl_counts size");

/* KEEL_SYSCTL_irq_counts: the host interrupts the hypervisor took since
 * boot (each mod 2^32), by source and by what the CPU was doing, for
 * finding where VM exits come from (docs/domctl.md).
 * One taken while a domain's vCPU has the CPU is that vCPU's
 * EXIT_EXTINT exit (or ends the hypervisor's own stretch between two
 * entries, then no exit). */
struct keel_sysctl_irqs {
	uint32_t timer_idle;    /* LAPIC timer: ended an idle wait */
	uint32_t timer_dom0;    /* ... while dom0's vCPU had the CPU */
	uint32_t timer_domu;    /* ... while a domU's vCPU had it */
	uint32_t timer_early;   /* of the last two: before the deadline the
				 * running vCPU was given (left pending from
				 * an earlier arming) */
	uint32_t device_idle;   /* device (pirq, MSI, console UART): ended an idle wait */
	uint32_t device_dom0;   /* ... while dom0's vCPU had the CPU */
	uint32_t device_domu;   /* ... while a domU's vCPU had it */
	uint32_t pad;
};
_Static_assert(sizeof(struct keel_sysctl_irqs) == 32, "keel_sysctl_irqs size");

struct xen_sysctl {
	uint32_t cmd;
	uint32_t interface_version; /* XEN_SYSCTL_INTERFACE_VERSION, else -EACCES */
	union {
		struct xen_sysctl_readconsole readconsole;
		struct xen_sysctl_physinfo physinfo;
		struct xen_sysctl_getdomaininfolist getdomaininfolist;
		struct keel_sysctl_counts counts;
		struct keel_sysctl_irqs irqs;
		uint8_t pad[128];
	} u;
};
_Static_assert(offsetof(struct xen_sysctl, u) == 8, "xen_sysctl.u");
_Static_assert(sizeof(struct xen_sysctl) == 136, "xen_sysctl size");

#endif
