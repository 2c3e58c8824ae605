/*
 * The domains scenarios' shared steps (domains.c), for the scenarios kept
 * in files of their own (domains_*.c, soak.c). They are the building
 * blocks of guest/dom0/domain/ with a test's policy on top: each ends the
 * scenario with a FAIL line (dom0 crashes) when a control call fails.
 */
#ifndef GUEST_DOM0_TEST_DOMAINS_H
#define GUEST_DOM0_TEST_DOMAINS_H

#include <public/domctl.h>
#include <public/start_info.h>

/* RAM of every domU the scenarios create (MiB, at guest-physical 0). */
#define DOMAINS_DOMU_RAM_MIB 4
/* How long a scenario waits for its domUs by default. */
#define DOMAINS_WAIT_NS (50 * 1000000000ULL)

/* The pvtest image (boot module "pvtest"). */
extern const void *domains_image;
extern u64 domains_image_size;

/* A paused domU named `name` with its RAM. */
domid_t domains_domu_create(const char *name);

/* Loads the pvtest image into it with this command line. */
void domains_domu_build(domid_t id, const char *cmdline);

/* The domain's info; true once it has shut down; the SHUTDOWN_* code in
 * a shut-down domain's info. */
struct xen_domctl_getdomaininfo domains_info(domid_t id);
bool domains_is_shut_down(domid_t id);
u32 domains_info_shutdown_code(const struct xen_domctl_getdomaininfo *i);

/* 0 once every domain in ids has shut down, else -ETIMEDOUT. */
int domains_wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns);

/* SHUTDOWN_* code of a shut-down domain; -1 while it runs. */
int domains_shutdown_code(domid_t id);

/* Destroys each domain and checks it is gone. */
void domains_destroy_all(const domid_t *ids, unsigned n);

/* Checks the hypervisor's free pages are back to `before`. */
void domains_check_free_pages(u64 before);

/* One "dom0: domains: check NAME: GOT (want WANT)" line, counted. */
void domains_check(const char *what, long got, long want);

/* Checks so far, and those that failed. */
unsigned domains_nr_checks(void);
unsigned domains_nr_bad(void);

/* Prints one line of the domU's exit counters. */
void domains_print_exits(domid_t id);

/* "dom0: domains: MSG", then power off (ok) or crash. */
__noreturn __printf(2, 3) void domains_finish(bool ok, const char *fmt, ...);

/* The scenarios (domains.c lists them; the others are static there). */
void scenario_foreign(const struct hvm_start_info *si);
void scenario_held(const struct hvm_start_info *si);
void scenario_flood(const struct hvm_start_info *si);
void scenario_domctl(const struct hvm_start_info *si);
void scenario_pvcons(const struct hvm_start_info *si);
void scenario_launch(const struct hvm_start_info *si);
void scenario_modules(const struct hvm_start_info *si);
void scenario_xenstore(const struct hvm_start_info *si);
void scenario_xsring(const struct hvm_start_info *si);
void scenario_pvblk(const struct hvm_start_info *si);
void scenario_pvnet(const struct hvm_start_info *si);
/* pvnet_mode=slowrx's run (domains_netslow.c), inside scenario_pvnet. */
void pvnet_slowrx(void);
/* pvnet_mode=bench's run (domains_netbench.c): `frames` frames per path. */
void pvnet_bench(unsigned frames);
/* Their steps (domains_netslow.c): a running pvtest domU `name` with vif 0
 * (MAC 02:00:00:00:00:<last>); the loop run until
 * /local/domain/<dom>/data/<key> reads k (false on time-out); that node
 * written (our node under the domU's directory: it may read it). */
struct launch_domain;
void pvnet_launch(struct launch_domain *d, const char *name, const char *cmd, u8 last);
bool pvnet_wait_node(domid_t dom, const char *key, unsigned k);
void pvnet_put_node(domid_t dom, const char *key, unsigned k);
void scenario_teardown(const struct hvm_start_info *si);

/* The soak scenario (soak.c, `scenario=soak`). */
__noreturn void soak_run(const char *cmdline);

#endif
