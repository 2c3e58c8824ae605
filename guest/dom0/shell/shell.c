/*
 * dom0's console shell: what an operator gets on the serial console after
 * boot (dom0 cmdline `shell`). One service on dom0's event loop
 * (loop/loop.h): input comes from the hypervisor's serial port through
 * console_io(CONSOLEIO_read) when VIRQ_CONSOLE says there is some; while
 * nothing is typed dom0 sleeps. Commands run from the loop, so each must
 * be short (the loop serves every other service meanwhile). Commands
 * grow with the control domain.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/xen.h>
#include "dom0.h"
#include "domctl.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "bridge/netsvc.h"
#include "cli/cli.h"
#include "console/backend.h"
#include "domain/counts.h"
#include "fs/mount.h"
#include "block/blkdev.h"
#include "storage/blkread.h"
#include "xsd/xsd.h"
#include "loop/loop.h"
#include "pvclock.h"
#include "lineedit.h"


struct command {
	const char *name;
	const char *help;
	void (*run)(const struct hvm_start_info *si, const char *args);
};

static void cmd_help(const struct hvm_start_info *si, const char *args);
static void cmd_idle(const struct hvm_start_info *si, const char *args);

static void cmd_mem(const struct hvm_start_info *si, const char *args)
{
	(void)args;
	dom0_print_memmap(si);
}

static void cmd_modules(const struct hvm_start_info *si, const char *args)
{
	(void)args;
	dom0_print_modules(si);
}

static void cmd_version(const struct hvm_start_info *si, const char *args)
{
	char extra[16];
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);
	(void)si;
	(void)args;
	memset(extra, 0, sizeof(extra));
	HYPERVISOR_xen_version(XENVER_extraversion, extra);
	extra[15] = 0;
	printf("Xen-compatible ABI %ld.%ld%s\n", v >> 16, v & 0xffff, extra);
}

static void cmd_poweroff(const struct hvm_start_info *si, const char *args)
{
	(void)si;
	(void)args;
	puts("dom0: powering off");
	guest_poweroff();
}

static void cmd_reboot(const struct hvm_start_info *si, const char *args)
{
	(void)si;
	(void)args;
	puts("dom0: rebooting");
	guest_reboot();
}

static void cmd_domains(const struct hvm_start_info *si, const char *args)
{
	(void)si;
	(void)args;
	domctl_print_list();
	printf("  hypervisor: %lu pages free\n", sysctl_free_pages());
}

/* The bridge's per-port counters and dom0's endpoint (bridge/netsvc.h). */
static void cmd_bridge(const struct hvm_start_info *si, const char *args)
{
	(void)si;
	(void)args;
	if (!netsvc_bridge()) {
		puts("bridge: no network service (boot dom0 with ip=A.B.C.D[/N] or bridge)");
		return;
	}
	netsvc_report();
}

/* A shell command's exit status when it has one (ls: 1 for a path it
 * could not list); the others leave it 0. */
static int cmd_status;

static void cmd_ls(const struct hvm_start_info *si, const char *args)
{
	cmd_status = cli_ls(si, args) ? 1 : 0;
}

/* What the hypervisor and dom0 hold for domains (domain/counts.h): the
 * figures a leak check compares before a create and after a destroy. */
static void cmd_counts(const struct hvm_start_info *si, const char *args)
{
	struct dom0_counts k;
	int rc;

	(void)si;
	(void)args;
	if ((rc = dom0_counts_now(&k))) {
		printf("counts: the hypervisor's counts: %d\n", rc);
		cmd_status = 1;
		return;
	}
	dom0_counts_print("counts: ", &k);
}

/* xenstore-read PATH, as in a Xen dom0: one node of dom0's xenstore
 * (what the CLI wrote: /vm/N/name, control/shutdown, backend nodes). */
static void cmd_xenstore_read(const struct hvm_start_info *si, const char *args)
{
	static char val[1024];
	(void)si;
	if (!*args || strchr(args, ' ')) {
		puts("usage: xenstore-read PATH");
		cmd_status = 1;
		return;
	}
	if (!xsd_store() || xsd_read(args, val, sizeof(val)) < 0) {
		printf("xenstore-read: %s: no such node\n", args);
		cmd_status = 1;
		return;
	}
	puts(val);
}

/* The next word of *p as a non-zero number: 1 (*p moves past it), 0 if
 * there is none, -1 if it is not one. */
static int next_u64(const char **p, u64 *v)
{
	const char *end;

	while (**p == ' ')
		(*p)++;
	if (!**p)
		return 0;
	if (parse_u64(*p, &end, v) || !*v || (*end && *end != ' '))
		return -1;
	*p = end;
	return 1;
}

/* blkread DEV [MIB [KIB]]: reads the first MIB MiB of disk DEV (all of
 * it by default) as `dd bs=1M` would, in requests of KIB KiB (1 MiB by
 * default; 128 is what Linux's blkfront sends: storage/blkread.h), and
 * prints the bytes and dom0's time, the native side of `make bench`'s
 * Linux dd figure. The loop waits meanwhile: run it while no guest uses
 * the disk. */
static void cmd_blkread(const struct hvm_start_info *si, const char *args)
{
	char name[16];
	const char *p = args;
	struct blkread_result r;
	struct blkdev *bd;
	u64 mib = 0, kib = 0, extra, bytes;
	size_t n = 0;
	int rc;

	(void)si;
	cmd_status = 1;
	while (*p && *p != ' ' && n + 1 < sizeof(name))
		name[n++] = *p++;
	name[n] = 0;
	if (!n || next_u64(&p, &mib) < 0 || next_u64(&p, &kib) < 0 ||
	    next_u64(&p, &extra) != 0 || kib > (BLKREAD_CHUNK >> 10)) {
		puts("usage: blkread DEV [MIB [KIB]] (KIB: the request size, 1 to 1024)");
		return;
	}
	if (!(bd = blkdev_by_name(name))) {
		printf("blkread: %s: no such disk\n", name);
		return;
	}
	bytes = bd->sectors * bd->sector_size;
	if (mib) {
		if (mib > bytes >> 20) {
			printf("blkread: %s: %lu MiB is past its end (%lu bytes)\n", name, mib, bytes);
			return;
		}
		bytes = mib << 20;
	}
	if ((rc = blkread_seq(bd, bytes, (u32)(kib << 10), &r))) {
		printf("blkread: %s: failed: %d\n", name, rc);
		return;
	}
	/* KiB/s rather than MiB/s: under -icount a virtio disk reads at
	 * GiB/s of virtual time, and the figure wants more than 3 digits. */
	printf("blkread: %s: %lu bytes in %lu ns, %lu requests, %lu KiB/s\n", name, r.bytes, r.ns,
	       r.requests, r.ns ? (u64)(r.bytes / 1024 * 1000000000ULL / r.ns) : 0);
	cmd_status = 0;
}

static const struct command commands[] = {
	{ "help", "list commands", cmd_help },
	{ "mem", "dom0's memory map", cmd_mem },
	{ "modules", "boot modules handed to dom0", cmd_modules },
	{ "ls", "ls PATH: files in /boot, /esp, /fat/NAME", cmd_ls },
	{ "xenstore-read", "xenstore-read PATH: a node of the xenstore", cmd_xenstore_read },
	{ "version", "hypervisor ABI version", cmd_version },
	{ "bridge", "xenbr0's ports and counters, dom0's address", cmd_bridge },
	{ "domains", "list domains: state, pages, vCPU time, exits", cmd_domains },
	{ "counts", "pages, ports, grant maps, store nodes, backends, bridge ports", cmd_counts },
	{ "blkread", "blkread DEV [MIB [KIB]]: read a disk in order (KIB-KiB requests, 1 MiB); time it",
	  cmd_blkread },
	{ "idle", "sleep N s in the event loop, then count dom0's exits", cmd_idle },
	{ "status", "the last command's exit status (0 success)", NULL },
	{ "poweroff", "power the machine off", cmd_poweroff },
	{ "reboot", "reboot the machine", cmd_reboot },
};

static void cmd_help(const struct hvm_start_info *si, const char *args)
{
	(void)si;
	if (*args) { /* help CMD: the xl command's own help */
		char line[96];
		snprintf(line, sizeof(line), "help %s", args);
		cli_run(si, line);
		return;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	cli_help();
}

/* The exit status of the last command: xl's (0 or 1), 0 for the shell's
 * own, 127 for an unknown one (as a Unix shell). `status` prints it. */
static int last_status;

static void run_line(const struct hvm_start_info *si, char *line)
{
	char *p = line;
	while (*p == ' ')
		p++;
	if (!*p)
		return;
	char *args = p;
	while (*args && *args != ' ')
		args++;
	if (*args)
		*args++ = 0;
	if (!strcmp(p, "status")) { /* the last command's, for scripts/keelctl */
		printf("status %d\n", last_status);
		return;
	}
	if (strcmp(p, "xl")) {
		for (unsigned i = 0; i < ARRAY_SIZE(commands); i++) {
			if (strcmp(p, commands[i].name) == 0) {
				cmd_status = 0;
				commands[i].run(si, args);
				last_status = cmd_status;
				return;
			}
		}
	}
	/* xl's commands, with or without "xl " (cli/cli.h). */
	if (*args)
		args[-1] = ' ';
	int rc = cli_run(si, p);
	if (rc == CLI_PENDING)
		return; /* cli_done sets the status and the prompt */
	if (rc != -ENOENT) {
		last_status = rc;
		return;
	}
	if (*args)
		args[-1] = 0;
	printf("unknown command '%s' (try help)\n", p);
	last_status = 127;
}

/* ---- input, by event ------------------------------------------------------ */

/*
 * The line being typed. Input arrives as VIRQ_CONSOLE (the hypervisor
 * raises it when serial input is buffered for dom0, keel/console_rx.h);
 * the loop runs on_console_input, which takes everything waiting with
 * console_io(CONSOLEIO_read) and feeds it to the line editor. Between
 * keystrokes dom0 sleeps in the loop: no polling.
 */
static const struct hvm_start_info *shell_si;
static struct lineedit editor;
static void hold_prompt_line(void); /* below, with the prompt line */
static evtchn_port_t console_port;
static struct loop_timer poll_timer; /* only without VIRQ_CONSOLE */

/* `idle N`: the measurement in progress. */
static struct loop_timer idle_timer;
static u64 idle_exits_before, idle_start_ns, idle_seconds;
static u32 idle_wakeups_before;
static struct loop_stats idle_loop_before;
static bool idle_running;

/* The hypervisor holds a domain's output until a newline, except that a
 * console_io read shows dom0's partial line (kernel/hc_console.c): a read
 * of 0 bytes puts the prompt and the echoed keys on the screen now. */
static void show_partial(void)
{
	char none;

	console_flush();
	HYPERVISOR_console_io(CONSOLEIO_read, 0, &none);
}

static void prompt(void)
{
	printf("dom0> ");
	show_partial();
}

/* Every exit dom0 has taken since boot, summed over the reasons. */
static u64 dom0_exits(void)
{
	u64 c[KEEL_EXIT_NR], sum = 0;
	u32 total;

	if (domctl_exit_counts(0, c, KEEL_EXIT_NR, &total))
		return 0;
	for (unsigned i = 0; i < KEEL_EXIT_NR; i++)
		sum += c[i];
	return sum;
}

static void idle_done(void *arg)
{
	u64 exits = dom0_exits() - idle_exits_before;
	u64 ns = pvclock_now_ns() - idle_start_ns;
	struct loop_stats now;
	(void)arg;

	loop_get_stats(&now);
	/* Per second, in hundredths, from the time that really passed. */
	u64 centi = ns ? exits * 100 * 1000000000ULL / ns : 0;
	printf("dom0: idle %lu s: %lu exits, %lu.%02lu per second; loop blocked %lu times, "
	       "ran %lu handlers\n", idle_seconds, exits, centi / 100, centi % 100,
	       now.blocks - idle_loop_before.blocks, now.handled - idle_loop_before.handled);
	/* The hypervisor's side: how often the CPU left its idle wait. */
	struct keel_sysctl_counts c;
	if (!sysctl_counts(&c)) {
		u64 w = (u32)(c.idle_wakeups - idle_wakeups_before);
		centi = ns ? w * 100 * 1000000000ULL / ns : 0;
		printf("dom0: idle %lu s: the CPU woke %lu times, %lu.%02lu per second\n",
		       idle_seconds, w, centi / 100, centi % 100);
	}
	idle_running = false;
	prompt();
	hold_prompt_line();
}

/* Sleeps in the loop for N seconds, then reports dom0's exits meanwhile:
 * what an idle dom0 with the shell open costs the machine. */
static void cmd_idle(const struct hvm_start_info *si, const char *args)
{
	const char *end;
	u64 secs;
	(void)si;
	if (parse_u64(args, &end, &secs) || *end || !secs || secs > 600) {
		puts("usage: idle SECONDS (1-600)");
		return;
	}
	printf("dom0: idle for %lu s\n", secs);
	console_flush();
	idle_seconds = secs;
	idle_running = true;
	loop_get_stats(&idle_loop_before);
	idle_exits_before = dom0_exits();
	struct keel_sysctl_counts c;
	idle_wakeups_before = sysctl_counts(&c) ? 0 : c.idle_wakeups;
	idle_start_ns = pvclock_now_ns();
	idle_timer.fn = idle_done;
	loop_timer_arm(&idle_timer, idle_start_ns + secs * 1000000000ULL);
}

/* `console N`: typed bytes go to domain N's PV console until Ctrl-]
 * (as `xl console`); 0 = the shell has them. */
#define DETACH_KEY 0x1d
static domid_t attached;

/* xl console / xl create -c (cli/cli.h): typed bytes go to the domain's
 * ring until Ctrl-]. */
static int console_attach(domid_t id)
{
	struct cons_back_stats st;

	if (!id || id >= DOMID_FIRST_RESERVED || cons_back_stats(id, &st) || !st.attached)
		return -ENOENT;
	attached = id;
	printf("dom0: console: attached to d%u; Ctrl-] detaches\n", attached);
	/* xl console shows what the guest printed before, then live: the
	 * last few KiB of the history the backend keeps. */
	static char hist[8192];
	size_t n = cons_back_history(id, hist, sizeof(hist));
	if (n) {
		puts("dom0: console: --- recent output ---");
		console_write(hist, n);
		if (hist[n - 1] != '\n')
			console_putc('\n');
		puts("dom0: console: --- live ---");
	}
	return 0;
}

/* A byte typed while attached: to the domain's ring, or detach. */
static void forward_char(char c)
{
	if (c == DETACH_KEY) {
		printf("\ndom0: console: detached from d%u\n", attached);
		attached = 0;
		prompt();
		return;
	}
	if (cons_back_input(attached, &c, 1) <= 0) {
		/* Full (the guest does not read) or gone: say so once, stay. */
		static domid_t warned;
		if (warned != attached)
			printf("dom0: console: d%u does not take input\n", attached);
		warned = attached;
	}
}

/* A command is running (run_line): the CLI's own lines are its output. */
static bool in_command;

/* The prompt's line is on the screen (no command, console or `idle`
 * has the terminal). It is held (guest.h, console_hold_line) while the
 * shell waits for keys: a line another of dom0's services prints ends it
 * first instead of landing after the typed keys, which then go on on a
 * line of their own (as when the hypervisor ends the line for another
 * domain's output). The prompt is not drawn again for a key: a second
 * prompt after a script typed its command would look to it (keelctl, the
 * tests) like the end of that command. */
static bool prompt_line_shown(void)
{
	return !in_command && !attached && !idle_running && !cli_busy();
}

static void prompt_line_ended(void)
{
}

static void hold_prompt_line(void)
{
	if (prompt_line_shown())
		console_hold_line(prompt_line_ended);
}

static void redraw_prompt_line(void)
{
	printf("dom0> %.*s", (int)editor.len, editor.line);
	for (unsigned i = editor.pos; i < editor.len; i++)
		printf("\x1b[D");
}

/* One typed byte: to the line editor; a finished line runs. */
static void take_char(char c)
{
	if (!le_feed(&editor, c))
		return;
	in_command = true;
	run_line(shell_si, editor.line);
	in_command = false;
	if (!idle_running && !attached && !cli_busy())
		prompt();
}

/* An xl command that went on from the loop (cli.h) has ended. */
static void cli_done(int status)
{
	last_status = status;
	prompt();
	hold_prompt_line();
}

/* The CLI prints by itself (cli.h): end the prompt's line first... */
static void async_begin(void)
{
	console_break_line();
}

/* ...and draw the prompt, the half-typed line and the cursor again
 * after. Only for a half-typed line: a prompt of its own, arriving at any
 * moment, would look to a script waiting for the prompt (keelctl, the
 * tests) like the end of the command it typed meanwhile. */
static void async_end(void)
{
	if (!prompt_line_shown() || !editor.len)
		return; /* an empty prompt comes back with the next key */
	redraw_prompt_line();
	show_partial();
	hold_prompt_line();
}

static void editor_out(const char *s, size_t n, void *arg)
{
	(void)arg;
	console_write(s, n);
}

/* Takes everything typed so far. */
static void drain_input(void)
{
	char buf[64];
	long n;

	console_release_line(); /* the shell writes now: echo, commands */
	while ((n = HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf)) > 0) {
		/* While `idle` measures, typing would spoil it: keys are
		 * read (so the buffer cannot fill) but ignored. */
		for (long i = 0; i < n && !idle_running; i++) {
			if (attached)
				forward_char(buf[i]);
			else if (cli_busy()) /* top's `q`, ... */
				cli_key(buf[i]);
			else
				take_char(buf[i]);
		}
	}
	if (n < 0) {
		printf("dom0: console read failed (%ld); no interactive console\n", n);
		guest_poweroff();
	}
	show_partial(); /* echoed keys */
	hold_prompt_line();
}

static void on_console_input(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	drain_input();
}

/* Without VIRQ_CONSOLE (a hypervisor that does not raise it), the shell
 * falls back to looking every 20 ms: still from the loop, never spinning. */
static void poll_input(void *arg)
{
	(void)arg;
	if (!in_command) /* a build runs the loop (loop.h): keys wait for it */
		drain_input();
	loop_timer_arm(&poll_timer, pvclock_now_ns() + 20000000ULL);
}

int dom0_shell_start(const struct hvm_start_info *si)
{
	int rc;

	shell_si = si;
	cli_console_attach = console_attach;
	cli_finished = cli_done;
	cli_async_begin = async_begin;
	cli_async_end = async_end;
	le_init(&editor, "dom0> ", editor_out, NULL);
	if ((rc = loop_init())) {
		printf("dom0: shell: no event channels (%d)\n", rc);
		return rc;
	}
	if ((rc = evtchn_bind_virq(VIRQ_CONSOLE, 0, &console_port)) ||
	    (rc = loop_bind_port(console_port, on_console_input, NULL))) {
		printf("dom0: shell: VIRQ_CONSOLE unavailable (%d): polling the console\n", rc);
		poll_timer.fn = poll_input;
		loop_timer_arm(&poll_timer, pvclock_now_ns());
	} else {
		/* Commands create domains: not inside a build (loop.h). */
		loop_set_control(console_port);
	}
	fs_mount_all(); /* /esp, /fat: before autostart, which may name them */
	/* Autostart is a command too: keys typed meanwhile wait for it. */
	in_command = true;
	cli_autostart(si);
	in_command = false;
	puts("dom0: console ready; type 'help'");
	prompt();
	drain_input(); /* typed before the port was bound */
	return 0;
}

__noreturn void dom0_shell(const struct hvm_start_info *si)
{
	if (dom0_shell_start(si))
		guest_poweroff();
	loop_run();
}
