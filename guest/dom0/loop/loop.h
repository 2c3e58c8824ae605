/*
 * dom0's event loop (docs/dom0-event-loop.md): the one place dom0 waits.
 *
 * Services register what wakes them: event-channel ports (interdomain
 * channels, VIRQs, device pirqs), timers on the PV clock, and idle work.
 * The upcall only marks a registered port pending in the loop's own
 * bitmap; the loop then runs the handlers in ordinary context, with
 * interrupts on, one after another. When nothing is pending, no timer is
 * due and no idle work wants to run, the loop halts the vCPU ("sti; hlt")
 * after a last look at the bitmap with interrupts off, so an event that
 * arrives in between ends the halt instead of being slept through (the
 * hypervisor does not sleep on HLT while an upcall is deliverable). The
 * next timer's deadline is the vCPU's single-shot timer.
 *
 * Rules for handlers: run to completion quickly, never block the loop
 * (no loop_wait_port, no synchronous driver I/O), split long work into
 * steps (return and let idle work or a timer continue). A handler that
 * must wait (a CLI command waiting for a frontend, unpacking a kernel)
 * may run the loop itself (loop_run_until, loop_run_once): the other
 * handlers run meanwhile, but never its own or any other handler
 * already on the stack (their events wait until it returns). Everything
 * runs on vCPU 0; nothing here is reentrant from the upcall except the
 * marking. Every call returns 0 or a negative errno.
 */
#ifndef GUEST_DOM0_LOOP_H
#define GUEST_DOM0_LOOP_H

#include <lib/types.h>
#include <public/event_channel.h>

typedef void (*loop_port_fn)(evtchn_port_t port, void *arg);

/* Sets up event channels (evtchn_init) and the loop; idempotent. */
int loop_init(void);

/*
 * Registers `fn(port, arg)` for `port` and unmasks it: from now on the
 * port's events run fn from the loop. An event already pending is seen
 * on the next iteration. -EINVAL for a bad port, -EBUSY if it is taken.
 */
int loop_bind_port(evtchn_port_t port, loop_port_fn fn, void *arg);

/* Masks `port` and forgets its handler (events already marked are
 * dropped). The caller still owns the port (EVTCHNOP_close is its job). */
void loop_unbind_port(evtchn_port_t port);

/*
 * Synchronous waiting, for code that runs outside the loop's handlers
 * (driver probing, self-tests): takes the port's mark if set (true), or
 * sleeps until the port fires (true) or the system time `deadline_ns`
 * passes (false; 0 = no deadline). Events of other ports stay marked for
 * the loop. Never call it from a handler.
 */
bool loop_port_take(evtchn_port_t port);
bool loop_wait_port(evtchn_port_t port, u64 deadline_ns);

/* Marks `port` as if it had fired: its handler runs again on the next
 * iteration (a handler that stopped at its budget with work left). */
void loop_port_kick(evtchn_port_t port);

/*
 * For scenario and start-up code outside the handlers: runs iterations
 * until cond(arg) is true (checked after each) or the system time
 * `deadline_ns` passes. Returns cond's last value.
 */
bool loop_run_until(bool (*cond)(void *arg), void *arg, u64 deadline_ns);

/* A timer: fn(arg) runs once from the loop when the PV clock reaches
 * `deadline` (system time, ns). The struct is the caller's (static or
 * inside its service state) and must live while armed. */
struct loop_timer {
	u64 deadline;
	void (*fn)(void *arg);
	void *arg;
	bool armed;
	struct loop_timer *next;
};

/* Arms (or re-arms) t for `deadline_ns`. */
void loop_timer_arm(struct loop_timer *t, u64 deadline_ns);
void loop_timer_cancel(struct loop_timer *t);

/*
 * Idle work: fn(arg) runs once per loop iteration after the events and
 * timers; it returns true if it did something and wants to run again
 * soon (the loop then does not block), false when it has nothing to do.
 * At most LOOP_MAX_IDLE of them. -ENOSPC when full.
 */
#define LOOP_MAX_IDLE 8
int loop_add_idle(bool (*fn)(void *arg), void *arg);

/*
 * Before sleeping: fn(arg, may_work) runs just before dom0 would sleep,
 * for a service that keeps its devices from interrupting while dom0 is
 * awake and polls them instead (blkback): it lets them interrupt again.
 * In the loop's own sleep (loop_run_once) may_work is true: fn may then
 * poll, and returns true if it found work, and the loop goes round again
 * instead of sleeping. In a wait inside a handler (loop_wait_port)
 * may_work is false: fn must only let the devices interrupt (its result
 * is ignored). At most LOOP_MAX_IDLE of them. -ENOSPC when full.
 */
int loop_add_before_sleep(bool (*fn)(void *arg, bool may_work), void *arg);

/* One iteration: handlers of marked ports, due timers, idle work; then,
 * if `may_block` and nothing wanted to run, blocks until an event or the
 * next timer. Returns true if any handler, timer or idle work ran. */
bool loop_run_once(bool may_block);

/*
 * Control ports: those whose handlers start or end domains (the console's
 * commands, VIRQ_DOM_EXC's on_poweroff/on_reboot actions). Marked after
 * loop_bind_port; unbinding clears it.
 */
void loop_set_control(evtchn_port_t port);

/*
 * One iteration, not blocking, for code in the middle of building a
 * domain (the kernel loader between megabytes): the services run, but the
 * control ports' handlers do not (their events wait until the next
 * ordinary iteration), so no second create or restart starts inside a
 * half-done one. Returns what loop_run_once returns.
 */
bool loop_run_services(void);

/* Runs the loop for ever. */
__noreturn void loop_run(void);

/* Counters for reports and tests: iterations, sleeps (HLT),
 * handler calls. */
struct loop_stats {
	u64 iterations, blocks, handled, timers;
};
void loop_get_stats(struct loop_stats *s);

#endif
