/*
 * sched_op(cmd, arg): scheduler operations (Xen public/sched.h).
 * Returns 0 or a negative errno; SCHEDOP_shutdown does not return when it
 * succeeds for the calling domain.
 */
#ifndef KEEL_PUBLIC_SCHED_H
#define KEEL_PUBLIC_SCHED_H

#include <lib/types.h>

#define SCHEDOP_yield           0 /* arg 0 */
#define SCHEDOP_block           1 /* arg 0: wait for an event, enabling upcalls */
#define SCHEDOP_shutdown        2 /* arg: struct sched_shutdown * */
#define SCHEDOP_poll            3 /* arg: struct sched_poll * */
#define SCHEDOP_remote_shutdown 4 /* arg: struct sched_remote_shutdown * */
#define SCHEDOP_shutdown_code   5 /* arg: struct sched_shutdown * */
#define SCHEDOP_watchdog        6 /* arg: struct sched_watchdog * */
#define SCHEDOP_pin_override    7 /* arg: struct sched_pin_override * */

/* Shutdown reasons (the same numbers as enum shutdown_reason, keel/domain.h). */
#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5
#define SHUTDOWN_MAX        5

struct sched_shutdown {
	uint32_t reason; /* SHUTDOWN_* */
};
_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown size");

/* Blocks until one of the ports is pending or the timeout (absolute system
 * time in ns, 0 = none) passes; a masked port counts too. */
struct sched_poll {
	uint64_t ports;    /* guest handle: evtchn_port_t[nr_ports] */
	uint32_t nr_ports;
	uint32_t pad;
	uint64_t timeout;
};
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll size");
_Static_assert(offsetof(struct sched_poll, nr_ports) == 8, "sched_poll nr_ports");
_Static_assert(offsetof(struct sched_poll, timeout) == 16, "sched_poll timeout");

struct sched_remote_shutdown {
	uint16_t domain_id;
	uint16_t pad;
	uint32_t reason;
};
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "sched_remote_shutdown size");

struct sched_watchdog {
	uint32_t id;      /* 0 = allocate a new watchdog; returns its id */
	uint32_t timeout; /* seconds; 0 = destroy */
};

struct sched_pin_override {
	int32_t pcpu;
};

#endif
