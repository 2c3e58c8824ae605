/*
 * dom0's console shell: what an operator gets on the serial console after
 * boot (dom0 cmdline `shell`). Input comes from the hypervisor's serial
 * port through console_io(CONSOLEIO_read), which is non-blocking; while
 * nothing is typed dom0 yields the CPU. Commands grow with the control
 * domain (domain management comes with the domain-control work).
 */
#include <keel/lib.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/xen.h>
#include "dom0.h"
#include "domctl.h"
#include "guest.h"
#include "hypercall.h"

#define LINE_MAX 128

struct command {
	const char *name;
	const char *help;
	void (*run)(const struct hvm_start_info *si, const char *args);
};

static void cmd_help(const struct hvm_start_info *si, const char *args);

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

static void cmd_destroy(const struct hvm_start_info *si, const char *args)
{
	const char *end;
	u64 id;
	(void)si;
	if (parse_u64(args, &end, &id) || *end || id > 0xffff) {
		puts("usage: destroy ID");
		return;
	}
	int rc = domctl_destroy((domid_t)id);
	if (rc)
		printf("destroy d%lu: error %d\n", id, rc);
}

/* The hypervisor's log ring (every level), as Xen's `xl dmesg`. */
static void cmd_dmesg(const struct hvm_start_info *si, const char *args)
{
	static char text[16 * 1024];
	u32 n = 0;
	(void)si;
	(void)args;
	int rc = sysctl_readconsole(text, sizeof(text), &n);
	if (rc) {
		printf("dmesg: sysctl readconsole failed (%d)\n", rc);
		return;
	}
	/* Start at a line boundary: the ring's oldest line may be cut. */
	u32 start = 0;
	if (n == sizeof(text))
		while (start < n && text[start++] != '\n')
			;
	console_write(text + start, n - start);
	console_flush();
}

static const struct command commands[] = {
	{ "help", "list commands", cmd_help },
	{ "mem", "dom0's memory map", cmd_mem },
	{ "modules", "boot modules handed to dom0", cmd_modules },
	{ "version", "hypervisor ABI version", cmd_version },
	{ "dmesg", "the hypervisor's log", cmd_dmesg },
	{ "domains", "list domains: state, pages, vCPU time, exits", cmd_domains },
	{ "destroy", "destroy domain ID (every page back)", cmd_destroy },
	{ "poweroff", "power the machine off", cmd_poweroff },
	{ "reboot", "reboot the machine", cmd_reboot },
};

static void cmd_help(const struct hvm_start_info *si, const char *args)
{
	(void)si;
	(void)args;
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
}

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
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(p, commands[i].name) == 0) {
			commands[i].run(si, args);
			return;
		}
	}
	printf("unknown command '%s' (try help)\n", p);
}

/* Reads one line, echoing it; returns its length. */
static size_t read_line(char *buf, size_t size)
{
	size_t len = 0;
	for (;;) {
		char c;
		long n = HYPERVISOR_console_io(CONSOLEIO_read, 1, &c);
		if (n < 0) {
			printf("dom0: console read failed (%ld); no interactive console\n", n);
			guest_poweroff();
		}
		if (n == 0) {
			console_flush(); /* the prompt and echoed keys */
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
			continue;
		}
		if (c == '\r' || c == '\n') {
			console_putc('\n');
			buf[len] = 0;
			return len;
		}
		if (c == 0x7f || c == '\b') {
			if (len) {
				len--;
				printf("\b \b");
			}
			continue;
		}
		if (c < 0x20 || len + 1 >= size)
			continue;
		buf[len++] = c;
		console_putc(c);
	}
}

__noreturn void dom0_shell(const struct hvm_start_info *si)
{
	char line[LINE_MAX];

	puts("dom0: console ready; type 'help'");
	for (;;) {
		printf("dom0> ");
		read_line(line, sizeof(line));
		run_line(si, line);
	}
}
