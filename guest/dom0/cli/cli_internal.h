/* Shared by the CLI's files (guest/dom0/cli/); the public side is cli.h. */
#ifndef GUEST_DOM0_CLI_INTERNAL_H
#define GUEST_DOM0_CLI_INTERNAL_H

#include "cli.h"
#include "domain/launch.h"
#include "domcfg.h"

#define CLI_MAX_DOMAINS 16

/* A domain the CLI created: its config for restarts and actions. */
struct cli_dom {
	bool used;
	bool preserved;          /* shut down and kept (on_* = preserve) */
	struct launch_domain ld;
	struct domcfg cfg;
	u64 shutdown_deadline;   /* xl shutdown/reboot sent: when to complain (0: none) */
	bool wait_report;        /* shutdown -w: say when it is down */
	u64 created_ns;
	u32 quick_restarts;      /* restarts in a row of runs shorter than 10 s */
};

/*
 * Launches a domain from cfg (kernel and ramdisk resolved with
 * cli_file): 0 with *out, or -errno with "what failed" in err; nothing
 * is left behind on failure.
 */
int cli_dom_create(const struct hvm_start_info *si, const struct domcfg *cfg, bool paused,
		   struct cli_dom **out, char *err, size_t errlen);
struct cli_dom *cli_dom_by_id(domid_t id);
/* Destroys a domain: through the launcher if the CLI created it (its
 * console, store entries and connection go too), else domctl_destroy. */
int cli_dom_destroy(domid_t id);
/* Asks the guest to power off or reboot through control/shutdown, as xl
 * does; a reminder is printed if it is still up after `grace_s`. */
int cli_dom_request(domid_t id, const char *what, bool wait, unsigned grace_s);

#endif
