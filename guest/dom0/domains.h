/*
 * The domain-control helpers of domains.c, for the scenarios kept in
 * files of their own (soak.c). Each one ends the scenario with a FAIL
 * line (dom0 crashes) when a control call fails, as in domains.c.
 */
#ifndef GUEST_DOM0_DOMAINS_H
#define GUEST_DOM0_DOMAINS_H

#include <public/domctl.h>
#include <public/start_info.h>

/* RAM of every domU the scenarios create (MiB, at guest-physical 0). */
#define DOMAINS_DOMU_RAM_MIB 4

/* A paused domU named `name` with its RAM. */
domid_t domains_domu_create(const char *name);

/* Loads the pvtest image into it with this command line. */
void domains_domu_build(domid_t id, const char *cmdline);

/* 0 once every domain in ids has shut down, else -ETIMEDOUT. */
int domains_wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns);

/* SHUTDOWN_* code of a shut-down domain; -1 while it runs. */
int domains_shutdown_code(domid_t id);

/* One "dom0: domains: check NAME: GOT (want WANT)" line, counted. */
void domains_check(const char *what, long got, long want);

/* Checks that failed so far. */
unsigned domains_nr_bad(void);

/* Prints one line of the domU's exit counters. */
void domains_print_exits(domid_t id);

/* "dom0: domains: MSG", then power off (ok) or crash. */
__noreturn __printf(2, 3) void domains_finish(bool ok, const char *fmt, ...);

/* The soak scenario (soak.c, `scenario=soak`). */
__noreturn void soak_run(const char *cmdline);

#endif
