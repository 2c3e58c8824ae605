/* The scheduler (kernel/sched.c). */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

/* Runs domains until dom0 stops, then stops the machine. */
__attribute__((noreturn)) void sched_run(void);

#endif
