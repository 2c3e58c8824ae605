/*
 * vcpu_op(cmd, vcpuid, arg) (Xen public/vcpu.h). Returns 0 or a negative
 * errno. Addresses in arguments are guest-virtual unless named gfn/mfn.
 */
#ifndef KEEL_PUBLIC_VCPU_H
#define KEEL_PUBLIC_VCPU_H

#include <lib/types.h>

#define VCPUOP_initialise                     0
#define VCPUOP_up                             1
#define VCPUOP_down                           2
#define VCPUOP_is_up                          3
#define VCPUOP_get_runstate_info              4
#define VCPUOP_register_runstate_memory_area  5
#define VCPUOP_set_periodic_timer             6
#define VCPUOP_stop_periodic_timer            7  /* arg NULL */
#define VCPUOP_set_singleshot_timer           8
#define VCPUOP_stop_singleshot_timer          9  /* arg NULL */
#define VCPUOP_register_vcpu_info            10
#define VCPUOP_send_nmi                      11
#define VCPUOP_get_physid                    12
#define VCPUOP_register_vcpu_time_memory_area 13
#define VCPUOP_register_runstate_phys_area   14
#define VCPUOP_register_vcpu_time_phys_area  15

#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3

#define XEN_RUNSTATE_UPDATE (1ULL << 63) /* in state_entry_time */

struct vcpu_runstate_info {
	int32_t state;             /* RUNSTATE_* */
	uint32_t pad;
	uint64_t state_entry_time; /* system time (ns) of the last change */
	uint64_t time[4];          /* ns spent in each RUNSTATE_* */
};
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "runstate_info size");
_Static_assert(offsetof(struct vcpu_runstate_info, state_entry_time) == 8, "entry_time");
_Static_assert(offsetof(struct vcpu_runstate_info, time) == 16, "time");

/* The hypervisor keeps *addr (guest-virtual) up to date. */
struct vcpu_register_runstate_memory_area {
	uint64_t addr;
};

struct vcpu_set_periodic_timer {
	uint64_t period_ns;
};

#define VCPU_SSHOTTMR_future (1U << 0) /* fail with -ETIME if in the past */

/* Fires VIRQ_TIMER at the absolute system time; a deadline already past
 * fires at once (unless VCPU_SSHOTTMR_future). */
struct vcpu_set_singleshot_timer {
	uint64_t timeout_abs_ns;
	uint32_t flags;            /* VCPU_SSHOTTMR_* */
	uint32_t pad;
};
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "singleshot size");

/* Moves this vCPU's vcpu_info to (mfn, offset) (guest frame number for an
 * auto-translated guest). */
struct vcpu_register_vcpu_info {
	uint64_t mfn;
	uint32_t offset;
	uint32_t rsvd;
};
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "register_vcpu_info size");

struct vcpu_get_physid {
	uint64_t phys_id;
};

struct vcpu_register_time_memory_area {
	uint64_t addr;             /* guest-virtual struct vcpu_time_info * */
};

#endif
