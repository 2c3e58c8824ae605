/*
 * The control domain's xl-like commands (guest/dom0/cli/): what an admin
 * types at dom0's console, named, shaped and answering as `xl` does for
 * what Keel supports (docs/cli.md).
 *
 *   cli_files.c     where configs and images come from (/boot/NAME: the
 *                   boot modules; /esp/..., /fat/NAME/...: FAT volumes
 *                   on dom0's disks, fs/mount.h)
 *   cli_registry.c  the domains the CLI created: their configs, and the
 *                   on_poweroff/on_reboot/on_crash actions taken when one
 *                   shuts down by itself (VIRQ_DOM_EXC, domain/exc.c)
 *   cli_xl.c        the commands
 *   xlcfg.c, domcfg.c  the config files (docs/xlcfg.md)
 *
 *   cli_args.c      the argument rules (options, DOM, sizes; pure)
 *   cli_domops.c    rename, mem-set, mem-max, dmesg
 *   cli_detach.c    block-detach (waits for the frontend from the loop)
 *   cli_top.c       top (xentop)
 *
 * Everything runs from dom0's event loop (the shell's input handler):
 * commands are short and never wait for a guest by running the loop
 * themselves. The few that go on (block-detach until the frontend has
 * closed, top until `q`) return CLI_PENDING and finish from the loop.
 */
#ifndef GUEST_DOM0_CLI_H
#define GUEST_DOM0_CLI_H

#include <lib/types.h>
#include <public/start_info.h>
#include <public/xen.h>

/*
 * Runs one command line if its first word is a CLI command ("xl list",
 * or the bare "list"): its exit status (0 success, 1 failure, as xl's),
 * stored for cli_last_status(); -ENOENT if the word is no CLI command.
 */
int cli_run(const struct hvm_start_info *si, const char *line);
int cli_last_status(void);

/*
 * A command that goes on after cli_run returned (block-detach waiting for
 * the guest, top refreshing): cli_run returns CLI_PENDING and cli_busy()
 * is true until it ends. Meanwhile the shell holds its prompt back and
 * gives every typed byte to cli_key (`q` quits top); when the command
 * ends, the CLI stores its status and calls cli_finished (set by the
 * shell) from the loop.
 */
#define CLI_PENDING 256
bool cli_busy(void);
void cli_key(char c);
extern void (*cli_finished)(int status);
/*
 * Autostart: dom0's command line `autostart=CFG[,CFG...]` (keel.cfg:
 * `module dom0 /dom0.elf shell autostart=/boot/web.cfg`) creates those
 * guests in order, as `xl create CFG` each, printing what each did.
 * Returns how many failed.
 */
unsigned cli_autostart(const struct hvm_start_info *si);

/* One line per command, for the shell's help. */
void cli_help(void);

/* ---- files (cli_files.c) ---- */

/* The bytes of `path` in dom0's memory (read-only): "/boot/NAME" is the
 * boot module named NAME; "/esp/PATH" and "/fat/NAME/PATH" are read from
 * a FAT volume (fs/mount.h). 0, or -errno with the reason in err. Every
 * successful call is paired with cli_file_put (frees what a FAT read
 * allocated; nothing for a boot module). */
int cli_file(const struct hvm_start_info *si, const char *path, const void **data, u64 *size,
	     char *err, size_t errlen);
void cli_file_put(const struct hvm_start_info *si, const void *data, u64 size);
/* Whether cli_file would find `path`, without reading it: 0, or -errno
 * with the reason in err. */
int cli_file_check(const struct hvm_start_info *si, const char *path, char *err, size_t errlen);
/* The shell's `ls PATH`: /, /boot, /esp[/DIR], /fat[/NAME[/DIR]]. 0 or
 * -errno (the reason printed). */
int cli_ls(const struct hvm_start_info *si, const char *path);

/* ---- domains (cli_registry.c) ---- */

/* Looks up DOM as xl does: a name (xenstore /local/domain/N/name, else the
 * hypervisor's) or a number. 0 with *id, or -ENOENT. */
int cli_find_domain(const char *dom, domid_t *id);
/* The domain's name into buf ("Domain-0" for 0). */
void cli_domain_name(domid_t id, char *buf, size_t size);

/* Starts the VIRQ_DOM_EXC subscription that applies on_* actions. */
int cli_registry_init(void);

/* Set by the shell: attach the console to a domain (xl create -c,
 * xl console). 0 or -errno. */
extern int (*cli_console_attach)(domid_t id);

/* Set by the shell: around lines the CLI prints by itself, from the loop
 * (an on_* action, a shutdown reminder), while the prompt may be on the
 * screen with a half-typed line. begin ends that line; end draws the
 * prompt and the typed line again. Both do nothing while a command runs. */
extern void (*cli_async_begin)(void);
extern void (*cli_async_end)(void);

#endif
