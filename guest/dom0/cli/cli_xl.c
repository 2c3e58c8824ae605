/*
 * The xl-like commands (contract in cli.h; docs/cli.md). Names, options
 * and output columns follow xl(1) of Xen 4.17 for what Keel supports;
 * what it does not support is refused with a sentence saying so.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/sysctl.h>
#include <public/version.h>
#include "cli_args.h"
#include "cli_internal.h"
#include "cpu.h"
#include "domain/domain.h"
#include "domctl.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "xsd/xsd.h"
#include "blkback/blkback.h"
#include "block/blkdev.h"
#include "storage/partition.h"

#define ARGS_MAX 16

int (*cli_console_attach)(domid_t id);
static int last_status;

struct xl_cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(const struct hvm_start_info *si, int argc, char **argv);
};

static int usage(const struct xl_cmd *c);
static const struct xl_cmd *find_cmd(const char *name);

/* ---- domains by name or id ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void cli_domain_name(domid_t id, char *buf, size_t size)
{
	char path[48];
	struct xen_domctl_getdomaininfo info;

	snprintf(path, sizeof(path), "/local/domain/%u/name", id);
	if (xsd_store() && xsd_read(path, buf, (u32)size) >= 0 && buf[0])
		return;
	if (id == 0) {
		snprintf(buf, size, "Domain-0");
		return;
	}
	if (!dom_info(id, &info)) {
		snprintf(buf, size, "%.*s", (int)sizeof(info.name), info.name);
		return;
	}
	snprintf(buf, size, "(d%u)", id);
}

#define LIST_MAX 64
static struct xen_domctl_getdomaininfo list_buf[LIST_MAX];

static u32 domain_list(void)
{
	u32 n = 0;

	if (sysctl_domain_list(0, list_buf, LIST_MAX, &n))
		return 0;
	return n;
}

const struct xen_domctl_getdomaininfo *cli_domains(u32 *n)
{
	*n = domain_list();
	return list_buf;
}

int cli_find_domain(const char *dom, domid_t *id)
{
	static char names[LIST_MAX][CLI_NAME_MAX];
	static const char *name_ptrs[LIST_MAX];
	static domid_t ids[LIST_MAX];
	u32 n = domain_list();

	for (u32 i = 0; i < n; i++) {
		ids[i] = list_buf[i].domain;
		cli_domain_name(ids[i], names[i], sizeof(names[i]));
		name_ptrs[i] = names[i];
	}
	return cli_match_domain(dom, ids, name_ptrs, n, id);
}

bool cli_domain_arg(const char *arg, domid_t *id)
{
	if (cli_find_domain(arg, id)) {
		printf("xl: no domain '%s' (xl list shows them)\n", arg);
		return false;
	}
	return true;
}

/* ---- list ---- */

static void state_flags(const struct xen_domctl_getdomaininfo *in, char *s)
{
	unsigned reason = (in->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
	bool down = in->flags & XEN_DOMINF_shutdown;

	s[0] = in->flags & XEN_DOMINF_running ? 'r' : '-';
	s[1] = in->flags & XEN_DOMINF_blocked ? 'b' : '-';
	s[2] = in->flags & XEN_DOMINF_paused ? 'p' : '-';
	s[3] = down && reason != SHUTDOWN_crash ? 's' : '-';
	s[4] = down && reason == SHUTDOWN_crash ? 'c' : '-';
	s[5] = in->flags & XEN_DOMINF_dying ? 'd' : '-';
	s[6] = 0;
}

static void print_json_string(const char *s)
{
	console_putc('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((u8)*s < 0x20)
			printf("\\u%04x", (u8)*s);
		else
			console_putc(*s);
	}
	console_putc('"');
}

static void list_long(const struct xen_domctl_getdomaininfo *in, const char *name, bool first)
{
	char st[8];
	struct cli_dom *d = cli_dom_by_id(in->domain);

	state_flags(in, st);
	printf("%s\n    {\n        \"domid\": %u,\n        \"name\": ", first ? "" : ",", in->domain);
	print_json_string(name);
	printf(",\n        \"state\": \"%s\",\n        \"memory_kb\": %lu,\n        \"max_memory_kb\": "
	       "%lu,\n        \"vcpus\": %u,\n        \"cpu_time_ns\": %lu", st, in->tot_pages * 4,
	       in->max_pages * 4, in->nr_online_vcpus, in->cpu_time);
	if (d) {
		printf(",\n        \"config\": {\n            \"type\": \"pvh\",\n            \"kernel\": ");
		print_json_string(d->cfg.kernel);
		printf(",\n            \"ramdisk\": ");
		print_json_string(d->cfg.ramdisk);
		printf(",\n            \"cmdline\": ");
		print_json_string(d->cfg.cmdline);
		printf(",\n            \"on_poweroff\": \"%s\",\n            \"on_reboot\": \"%s\",\n"
		       "            \"on_crash\": \"%s\",\n            \"disks\": [",
		       domcfg_action_name(d->cfg.on_poweroff), domcfg_action_name(d->cfg.on_reboot),
		       domcfg_action_name(d->cfg.on_crash));
		for (unsigned i = 0; i < d->cfg.nr_disks; i++) {
			printf("%s{ \"target\": ", i ? ", " : " ");
			print_json_string(d->cfg.disks[i].target);
			printf(", \"vdev\": \"%s\", \"readonly\": %s }", d->cfg.disks[i].vdev,
			       d->cfg.disks[i].readonly ? "true" : "false");
		}
		printf(" ],\n            \"vifs\": %u\n        }", d->cfg.nr_vifs);
	}
	printf("\n    }");
}

static int cmd_list(const struct hvm_start_info *si, int argc, char **argv)
{
	bool lng = false;
	const char *only = NULL;
	char name[DOMCFG_NAME_MAX + 8];
	(void)si;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "--long"))
			lng = true;
		else if (argv[i][0] == '-' || only)
			return usage(find_cmd("list"));
		else
			only = argv[i];
	}
	domid_t want = 0;
	if (only && !cli_domain_arg(only, &want))
		return 1;
	u32 n = domain_list();
	if (lng)
		printf("[");
	else
		printf("%-40s %5s %5s %5s     %-6s  %8s\n", "Name", "ID", "Mem", "VCPUs", "State",
		       "Time(s)");
	bool first = true;
	for (u32 i = 0; i < n; i++) {
		const struct xen_domctl_getdomaininfo *in = &list_buf[i];
		if (only && in->domain != want)
			continue;
		cli_domain_name(in->domain, name, sizeof(name));
		if (lng) {
			list_long(in, name, first);
			first = false;
			continue;
		}
		char st[8];
		state_flags(in, st);
		u64 t = in->cpu_time / 100000000ULL; /* tenths of a second */
		printf("%-40s %5u %5lu %5u     %s  %6lu.%lu\n", name, in->domain,
		       in->tot_pages / 256, in->nr_online_vcpus, st, t / 10, t % 10);
	}
	if (lng)
		printf("\n]\n");
	return 0;
}

/* ---- create ---- */

static struct xlcfg cfgbuf;
static struct domcfg dcfg;

static int cmd_create(const struct hvm_start_info *si, int argc, char **argv)
{
	bool paused = false, console = false;
	const char *file = NULL;
	char err[256];
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-p"))
			paused = true;
		else if (!strcmp(argv[i], "-c"))
			console = true;
		else {
			printf("xl create: option %s is not supported by Keel (-p, -c are)\n", argv[i]);
			return 1;
		}
	}
	if (i >= argc)
		return usage(find_cmd("create"));
	file = argv[i++];
	const void *text;
	u64 len;
	if (cli_file(si, file, &text, &len, err, sizeof(err))) {
		printf("xl create: %s\n", err);
		return 1;
	}
	int prc = xlcfg_parse(&cfgbuf, file, text, len, err, sizeof(err));
	cli_file_put(si, text, len); /* the settings are copied into cfgbuf */
	if (prc) {
		printf("xl create: %s\n", err);
		return 1;
	}
	/* KEY=VALUE after the file: xl's overrides, each a setting of its own. */
	for (; i < argc; i++) {
		if (!strchr(argv[i], '=')) {
			printf("xl create: '%s' is not KEY=VALUE\n", argv[i]);
			return 1;
		}
		if (xlcfg_override(&cfgbuf, argv[i], strlen(argv[i]), err, sizeof(err))) {
			printf("xl create: %s\n", err);
			return 1;
		}
	}
	if (domcfg_from_xlcfg(&cfgbuf, &dcfg, err, sizeof(err))) {
		printf("xl create: %s\n", err);
		return 1;
	}
	/* The files the config names, before anything is created, with the
	 * config's file, line and key (or "command line") in the message. */
	static const char *const file_keys[] = { "kernel", "ramdisk" };
	for (unsigned k = 0; k < ARRAY_SIZE(file_keys); k++) {
		const struct xlcfg_setting *s = xlcfg_find(&cfgbuf, file_keys[k]);
		const char *path = k ? dcfg.ramdisk : dcfg.kernel;
		if (s && path[0] && cli_file_check(si, path, err, sizeof(err))) {
			printf("xl create: %s:%u: key '%s': %s\n", xlcfg_origin(&cfgbuf, s), s->line,
			       file_keys[k], err);
			return 1;
		}
	}
	domid_t other;
	if (!cli_find_domain(dcfg.name, &other)) {
		const struct xlcfg_setting *s = xlcfg_find(&cfgbuf, "name");
		if (s)
			printf("xl create: %s:%u: key 'name': ", xlcfg_origin(&cfgbuf, s), s->line);
		else
			printf("xl create: ");
		printf("a domain named %s already exists (domain %u)\n", dcfg.name, other);
		return 1;
	}
	struct cli_dom *d;
	if (cli_dom_create(si, &dcfg, paused, &d, err, sizeof(err))) {
		printf("xl create: %s\n", err);
		return 1;
	}
	printf("Parsing config from %s\nxl: created %s as domain %u%s\n", file, dcfg.name, d->ld.id,
	       paused ? " (paused)" : "");
	if (console && cli_console_attach && cli_console_attach(d->ld.id))
		printf("xl create: the console of %u cannot be attached\n", d->ld.id);
	return 0;
}

/* ---- one-domain commands ---- */

static int one_dom(int argc, char **argv, domid_t *id, bool allow_dom0)
{
	if (argc != 2)
		return usage(find_cmd(argv[0]));
	if (!cli_domain_arg(argv[1], id))
		return 1;
	if (!*id && !allow_dom0) {
		printf("xl %s: not on Domain-0\n", argv[0]);
		return 1;
	}
	return 0;
}

static int cmd_destroy(const struct hvm_start_info *si, int argc, char **argv)
{
	domid_t id;
	int rc;
	(void)si;

	if ((rc = one_dom(argc, argv, &id, false)))
		return rc;
	if ((rc = cli_dom_destroy(id))) {
		printf("xl destroy: domain %u: error %d\n", id, rc);
		return 1;
	}
	return 0;
}

static int cmd_pause(const struct hvm_start_info *si, int argc, char **argv)
{
	domid_t id;
	int rc;
	(void)si;

	if ((rc = one_dom(argc, argv, &id, false)))
		return rc;
	rc = !strcmp(argv[0], "pause") ? domctl_pause(id) : domctl_unpause(id);
	if (rc) {
		printf("xl %s: domain %u: error %d\n", argv[0], id, rc);
		return 1;
	}
	return 0;
}

static int cmd_domid(const struct hvm_start_info *si, int argc, char **argv)
{
	domid_t id;
	(void)si;

	if (argc != 2)
		return usage(find_cmd("domid"));
	if (all_digits(argv[1]) || cli_find_domain(argv[1], &id)) {
		printf("xl domid: no domain named '%s'\n", argv[1]);
		return 1;
	}
	printf("%u\n", id);
	return 0;
}

static int cmd_domname(const struct hvm_start_info *si, int argc, char **argv)
{
	char name[DOMCFG_NAME_MAX + 8];
	domid_t id;
	(void)si;

	if (argc != 2)
		return usage(find_cmd("domname"));
	if (!all_digits(argv[1]) || cli_find_domain(argv[1], &id)) {
		printf("xl domname: no domain %s\n", argv[1]);
		return 1;
	}
	cli_domain_name(id, name, sizeof(name));
	printf("%s\n", name);
	return 0;
}

static int cmd_console(const struct hvm_start_info *si, int argc, char **argv)
{
	domid_t id;
	int rc;
	(void)si;

	if ((rc = one_dom(argc, argv, &id, false)))
		return rc;
	if (!cli_console_attach || cli_console_attach(id)) {
		printf("xl console: domain %u has no PV console served by dom0\n", id);
		return 1;
	}
	return 0;
}

static int cmd_vcpu_list(const struct hvm_start_info *si, int argc, char **argv)
{
	char name[DOMCFG_NAME_MAX + 8];
	domid_t want = 0;
	(void)si;

	if (argc > 2)
		return usage(find_cmd("vcpu-list"));
	if (argc == 2 && !cli_domain_arg(argv[1], &want))
		return 1;
	printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
	       "Affinity (Hard / Soft)");
	u32 n = domain_list();
	for (u32 i = 0; i < n; i++) {
		const struct xen_domctl_getdomaininfo *in = &list_buf[i];
		if (argc == 2 && in->domain != want)
			continue;
		cli_domain_name(in->domain, name, sizeof(name));
		for (u32 v = 0; v <= in->max_vcpu_id && v < 64; v++) {
			struct xen_domctl_getvcpuinfo vi;
			if (domctl_getvcpuinfo(in->domain, v, &vi))
				continue;
			const char *st = !vi.online ? "---" : vi.running ? "r--" : vi.blocked ? "-b-" : "---";
			u64 t = vi.cpu_time / 100000000ULL;
			printf("%-32s %5u %5u %5u %5s %7lu.%lu %s\n", name, in->domain, v, vi.cpu, st,
			       t / 10, t % 10, "all / all");
		}
	}
	return 0;
}

static void cpu_brand(char *out)
{
	struct cpuid_regs r = cpuid(0x80000000);
	if (r.eax < 0x80000004) {
		strlcpy(out, "unknown", 8);
		return;
	}
	for (u32 l = 0; l < 3; l++) {
		r = cpuid(0x80000002 + l);
		memcpy(out + 16 * l, &r.eax, 4);
		memcpy(out + 16 * l + 4, &r.ebx, 4);
		memcpy(out + 16 * l + 8, &r.ecx, 4);
		memcpy(out + 16 * l + 12, &r.edx, 4);
	}
	out[48] = 0;
	while (*out == ' ')
		memmove(out, out + 1, strlen(out));
}

static int cmd_info(const struct hvm_start_info *si, int argc, char **argv)
{
	struct xen_sysctl_physinfo pi;
	char vendor[13], brand[49], extra[16], cmdline[1024];
	(void)si;
	(void)argv;

	if (argc != 1)
		return usage(find_cmd("info"));
	if (sysctl_physinfo(&pi)) {
		puts("xl info: physinfo failed");
		return 1;
	}
	struct cpuid_regs r = cpuid(0);
	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = 0;
	cpu_brand(brand);
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);
	memset(extra, 0, sizeof(extra));
	HYPERVISOR_xen_version(XENVER_extraversion, extra);
	extra[15] = 0;
	memset(cmdline, 0, sizeof(cmdline));
	HYPERVISOR_xen_version(XENVER_commandline, cmdline);
	cmdline[sizeof(cmdline) - 1] = 0;
	bool amd = !strcmp(vendor, "AuthenticAMD");
	printf("host                   : keel\n");
	printf("machine                : x86_64\n");
	printf("nr_cpus                : %u\n", pi.nr_cpus);
	printf("cpu_vendor             : %s\n", vendor);
	printf("cpu_model              : %s\n", brand);
	printf("cpu_mhz                : %u.%03u\n", pi.cpu_khz / 1000, pi.cpu_khz % 1000);
	printf("virt_caps              : %s%s\n", pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm ? "pvh" : "",
	       pi.capabilities & XEN_SYSCTL_PHYSCAP_hap ? " hap" : "");
	printf("virt_backend           : %s (%s)\n", amd ? "svm" : "vmx",
	       amd ? "AMD-V with nested paging" : "Intel VT-x with EPT");
	printf("total_memory           : %lu\n", pi.total_pages / 256);
	printf("free_memory            : %lu\n", pi.free_pages / 256);
	printf("xen_major              : %ld\n", v >> 16);
	printf("xen_minor              : %ld\n", v & 0xffff);
	printf("xen_extra              : %s\n", extra);
	printf("xen_version            : %ld.%ld%s (Keel)\n", v >> 16, v & 0xffff, extra);
	printf("xen_commandline        : %s\n", cmdline);
	return 0;
}

static int cmd_uptime(const struct hvm_start_info *si, int argc, char **argv)
{
	char name[DOMCFG_NAME_MAX + 8], path[48], st[32];
	u64 now = pvclock_now_ns() / 1000000000ULL;
	(void)si;
	(void)argv;

	if (argc != 1)
		return usage(find_cmd("uptime"));
	printf("%-32s %5s %s\n", "Name", "ID", "Uptime");
	u32 n = domain_list();
	for (u32 i = 0; i < n; i++) {
		domid_t id = list_buf[i].domain;
		u64 start = 0;
		cli_domain_name(id, name, sizeof(name));
		snprintf(path, sizeof(path), "/vm/%u/start_time", id);
		if (id && xsd_store() && xsd_read(path, st, sizeof(st)) >= 0) {
			const char *end;
			parse_u64(st, &end, &start);
		}
		u64 up = now > start ? now - start : 0;
		printf("%-32s %5u %lu:%02lu:%02lu\n", name, id, up / 3600, up / 60 % 60, up % 60);
	}
	return 0;
}

/* The backend directories of a domain's devices of `type` ("vbd", "vif")
 * as libxl keeps them: /local/domain/0/backend/TYPE/DOMID/DEVID. */
static int devices(const char *type, domid_t id, char *names, u32 *len)
{
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", type, id);
	return xsd_call(XS_DIRECTORY, 0, path, (u32)strlen(path) + 1, names, len);
}

static void dev_node(const char *type, domid_t id, const char *dev, const char *key, char *v,
		     u32 size)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u/%s/%s", type, id, dev, key);
	if (xsd_read(path, v, size) < 0)
		snprintf(v, size, "-");
}

static int cmd_devlist(const struct hvm_start_info *si, int argc, char **argv)
{
	static char names[2048];
	bool blk = !strcmp(argv[0], "block-list");
	const char *type = blk ? "vbd" : "vif";
	char st[8], a[32], b[24];
	domid_t id;
	int rc;
	(void)si;

	if ((rc = one_dom(argc, argv, &id, false)))
		return rc;
	if (!xsd_store()) {
		printf("xl %s: no xenstore in dom0 yet\n", argv[0]);
		return 1;
	}
	if (blk)
		printf("%-8s %-4s %-6s %-5s %-16s %s\n", "Vdev", "BE", "handle", "state", "target",
		       "BE-path");
	else
		printf("%-4s %-4s %-18s %-6s %-5s %-8s %s\n", "Idx", "BE", "Mac Addr.", "handle",
		       "state", "bridge", "BE-path");
	u32 len = sizeof(names) - 1;
	if (devices(type, id, names, &len))
		return 0; /* none */
	names[len] = 0;
	for (u32 i = 0; i < len; i += (u32)strlen(names + i) + 1) {
		const char *dev = names + i;
		dev_node(type, id, dev, "state", st, sizeof(st));
		if (blk) {
			dev_node(type, id, dev, "params", a, sizeof(a));
			printf("%-8s %-4u %-6s %-5s %-16s /local/domain/0/backend/vbd/%u/%s\n", dev, 0,
			       dev, st, a, id, dev);
		} else {
			dev_node(type, id, dev, "mac", a, sizeof(a));
			dev_node(type, id, dev, "bridge", b, sizeof(b));
			printf("%-4s %-4u %-18s %-6s %-5s %-8s /local/domain/0/backend/vif/%u/%s\n", dev,
			       0, a, dev, st, b, id, dev);
		}
	}
	return 0;
}

/* The CLI's record of DOM (attach needs the launcher's state). */
static struct cli_dom *managed(const char *arg, const char *cmd)
{
	domid_t id;
	struct cli_dom *d;

	if (!cli_domain_arg(arg, &id))
		return NULL;
	if (!(d = cli_dom_by_id(id)))
		printf("xl %s: domain %u was not created by this CLI; its devices are not managed "
		       "here\n", cmd, id);
	return d;
}

static int cmd_block_attach(const struct hvm_start_info *si, int argc, char **argv)
{
	struct domcfg_disk spec;
	struct blkdev *bd;
	char err[160];
	int rc;
	(void)si;

	if (argc != 3)
		return usage(find_cmd("block-attach"));
	struct cli_dom *d = managed(argv[1], argv[0]);
	if (!d)
		return 1;
	if (domcfg_parse_disk(argv[2], &spec, err, sizeof(err))) {
		printf("xl block-attach: %s\n", err);
		return 1;
	}
	if (storage_lookup(spec.target, &bd)) {
		printf("xl block-attach: no disk or partition '%s' in dom0\n", spec.target);
		return 1;
	}
	if ((rc = xsd_init()) || (rc = blkback_init())) {
		printf("xl block-attach: the block backend cannot start: %d\n", rc);
		return 1;
	}
	struct launch_disk disk = { bd->name, spec.devid, spec.readonly };
	if ((rc = launch_vbd_attach(&d->ld, &disk))) {
		printf("xl block-attach: %s to %s: error %d%s\n", spec.vdev, d->cfg.name, rc,
		       rc == -EEXIST ? " (that vdev is in use)" : rc == -ENOSPC ? " (too many disks)" : "");
		return 1;
	}
	return 0;
}

static int cmd_network_attach(const struct hvm_start_info *si, int argc, char **argv)
{
	struct domcfg_vif spec;
	char err[160], joined[128] = "";
	int rc;
	(void)si;

	if (argc < 2)
		return usage(find_cmd("network-attach"));
	struct cli_dom *d = managed(argv[1], argv[0]);
	if (!d)
		return 1;
	for (int i = 2; i < argc; i++) { /* xl takes key=value words */
		size_t l = strlen(joined);
		snprintf(joined + l, sizeof(joined) - l, "%s%s", l ? "," : "", argv[i]);
	}
	if (domcfg_parse_vif(joined, &spec, err, sizeof(err))) {
		printf("xl network-attach: %s\n", err);
		return 1;
	}
	unsigned devid = 0;
	while (devid < LAUNCH_MAX_VIFS && (d->ld.vifs & (1u << devid)))
		devid++;
	if (devid == LAUNCH_MAX_VIFS) {
		printf("xl network-attach: %s has %u vifs already\n", d->cfg.name, LAUNCH_MAX_VIFS);
		return 1;
	}
	struct launch_vif vif = { .devid = devid, .bridge = spec.bridge };
	if (spec.has_mac)
		memcpy(vif.mac, spec.mac, 6);
	if ((rc = launch_vif_attach(&d->ld, &vif))) {
		printf("xl network-attach: error %d\n", rc);
		return 1;
	}
	printf("xl: vif %u attached to %s\n", devid, d->cfg.name);
	return 0;
}

static int cmd_help(const struct hvm_start_info *si, int argc, char **argv);

static const struct xl_cmd cmds[] = {
	{ "list", "list [-l] [DOM]", "list domains (-l: JSON)", cmd_list },
	{ "create", "create [-p] [-c] CFG [KEY=VALUE ...]", "create a domain from a config file",
	  cmd_create },
	{ "destroy", "destroy DOM", "stop a domain at once and free it", cmd_destroy },
	{ "shutdown", "shutdown [-w] DOM", "ask a domain to power off (control/shutdown)",
	  cli_cmd_shutdown },
	{ "reboot", "reboot [-w] DOM", "ask a domain to reboot (control/shutdown)", cli_cmd_shutdown },
	{ "pause", "pause DOM", "pause a domain", cmd_pause },
	{ "unpause", "unpause DOM", "unpause a domain", cmd_pause },
	{ "console", "console DOM", "attach to a domain's PV console (Ctrl-] detaches)",
	  cmd_console },
	{ "domid", "domid NAME", "a domain's id", cmd_domid },
	{ "domname", "domname ID", "a domain's name", cmd_domname },
	{ "block-attach", "block-attach DOM DISKSPEC", "give a running domain a disk (xl's disk syntax)",
	  cmd_block_attach },
	{ "network-attach", "network-attach DOM [mac=M] [bridge=B]", "give a running domain a vif",
	  cmd_network_attach },
	{ "network-detach", "network-detach DOM DEVID", "take a vif away (the frontend closes first)",
	  cli_cmd_network_detach },
	{ "vcpu-list", "vcpu-list [DOM]", "the vCPUs of each domain", cmd_vcpu_list },
	{ "block-list", "block-list DOM", "a domain's disks (backend nodes and states)", cmd_devlist },
	{ "network-list", "network-list DOM", "a domain's vifs (MAC, bridge, state)", cmd_devlist },
	{ "info", "info", "the host: CPU, virtualization, memory, version", cmd_info },
	{ "uptime", "uptime", "how long each domain has run", cmd_uptime },
	{ "block-detach", "block-detach [-f] DOM DEVID|VDEV",
	  "take a disk away once the guest has closed it (-f: at once)", cli_cmd_block_detach },
	{ "rename", "rename DOM NEWNAME", "give a domain another name", cli_cmd_rename },
	{ "mem-set", "mem-set DOM SIZE", "set a domain's memory target (MiB; k, m, g suffixes)",
	  cli_cmd_mem },
	{ "mem-max", "mem-max DOM SIZE", "set a domain's maximum memory (MiB; k, m, g suffixes)",
	  cli_cmd_mem },
	{ "dmesg", "dmesg [-c]", "the hypervisor's log (-c: then clear it)", cli_cmd_dmesg },
	{ "top", "top [-b] [-i N] [-d SECS]",
	  "domains' CPU, memory, disk and net, refreshed (q quits; -b: batch, N frames)",
	  cli_cmd_top },
	{ "help", "help [CMD]", "these commands, or one in detail", cmd_help },
};

static const struct xl_cmd *find_cmd(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int usage(const struct xl_cmd *c)
{
	printf("usage: xl %s\n", c ? c->usage : "COMMAND");
	return 1;
}

int cli_usage(const char *cmd)
{
	return usage(find_cmd(cmd));
}

/* ---- commands that go on from the loop (cli.h, CLI_PENDING) ---- */

void (*cli_finished)(int status);
static void (*bg_key)(char c);
static bool bg_busy;

bool cli_busy(void)
{
	return bg_busy;
}

void cli_key(char c)
{
	if (bg_busy && bg_key)
		bg_key(c);
}

void cli_bg_start(void (*on_key)(char c))
{
	bg_busy = true;
	bg_key = on_key;
}

void cli_bg_end(int status)
{
	if (!bg_busy)
		return;
	bg_busy = false;
	bg_key = NULL;
	last_status = status;
	if (cli_finished)
		cli_finished(status);
}

static int cmd_help(const struct hvm_start_info *si, int argc, char **argv)
{
	(void)si;
	if (argc == 2) {
		const struct xl_cmd *c = find_cmd(argv[1]);
		if (!c) {
			printf("xl help: no command '%s'\n", argv[1]);
			return 1;
		}
		printf("usage: xl %s\n  %s\n", c->usage, c->help);
		return 0;
	}
	cli_help();
	return 0;
}

void cli_help(void)
{
	puts("xl commands (also without the 'xl '; 'reboot' alone reboots the machine):");
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++)
		printf("  xl %-36s %s\n", cmds[i].usage, cmds[i].help);
}

int cli_run(const struct hvm_start_info *si, const char *line)
{
	static char buf[256];
	char *argv[ARGS_MAX];
	int argc = 0;

	if (strlen(line) >= sizeof(buf)) {
		puts("xl: command line too long");
		return last_status = 1;
	}
	strlcpy(buf, line, sizeof(buf));
	for (char *p = buf; *p;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		if (argc == ARGS_MAX) {
			puts("xl: too many arguments");
			return last_status = 1;
		}
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	if (!argc)
		return -ENOENT;
	bool prefixed = !strcmp(argv[0], "xl");
	if (prefixed) {
		if (argc == 1) {
			cli_help();
			return last_status = 0;
		}
		for (int i = 1; i < argc; i++)
			argv[i - 1] = argv[i];
		argc--;
	}
	const struct xl_cmd *c = find_cmd(argv[0]);
	if (!c) {
		if (!prefixed)
			return -ENOENT;
		printf("xl: '%s' is not a command Keel supports (xl help lists them)\n", argv[0]);
		return last_status = 1;
	}
	if (bg_busy) { /* the shell does not let this happen; autostart neither */
		puts("xl: a command is still running");
		return last_status = 1;
	}
	int rc = c->run(si, argc, argv);
	if (rc == CLI_PENDING)
		return rc; /* its status comes with cli_bg_end */
	return last_status = rc;
}

unsigned cli_autostart(const struct hvm_start_info *si)
{
	char list[512], line[300];
	unsigned failed = 0;

	if (!cmdline_get(si_cmdline(si), "autostart", list, sizeof(list)))
		return 0;
	for (char *p = list; *p;) {
		char *end = strchr(p, ',');
		if (end)
			*end = 0;
		if (*p) {
			printf("dom0: autostart: xl create %s\n", p);
			snprintf(line, sizeof(line), "xl create %s", p);
			if (cli_run(si, line))
				failed++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return failed;
}

int cli_last_status(void)
{
	return last_status;
}
