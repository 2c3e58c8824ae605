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

/* A domain's name as the CLI prints it: DOMCFG_NAME_MAX plus room for a
 * rename-restart's "-ID". */
#define CLI_NAME_MAX (DOMCFG_NAME_MAX + 8)

/* The domain named by `arg` (name or id), or a message and false. */
bool cli_domain_arg(const char *arg, domid_t *id);
/* Prints "usage: xl CMD's usage"; returns 1. */
int cli_usage(const char *cmd);
/* Every domain's record (sysctl getdomaininfolist): *n of them in the
 * CLI's buffer, valid until the next call. */
const struct xen_domctl_getdomaininfo *cli_domains(u32 *n);

/* A command that goes on from the loop (cli.h, CLI_PENDING): start
 * before returning CLI_PENDING, with the handler typed keys go to; end
 * (once) with the command's status. */
void cli_bg_start(void (*on_key)(char c));
void cli_bg_end(int status);

/* Commands outside cli_xl.c (whose table lists them). */
typedef int cli_cmd_fn(const struct hvm_start_info *si, int argc, char **argv);
cli_cmd_fn cli_cmd_rename, cli_cmd_mem, cli_cmd_dmesg, cli_cmd_block_detach, cli_cmd_top;
cli_cmd_fn cli_cmd_shutdown, cli_cmd_network_detach;

#endif
