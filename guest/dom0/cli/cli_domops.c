/*
 * xl rename, mem-set, mem-max and dmesg (cli.h; docs/cli.md), answering
 * as xl(1) of Xen 4.17 does where Keel can, and saying why where not.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli_args.h"
#include "cli_internal.h"
#include "domain/domain.h"
#include "domctl.h"
#include "guest.h"
#include "xsd/xsd.h"

/* Options and operands of argv per spec, or the reason and usage. */
static bool args(int argc, char **argv, const char *spec, int min, int max, struct cli_args *a)
{
	char err[120];

	if (cli_args_parse(argc, argv, spec, min, max, a, err, sizeof(err))) {
		printf("xl %s: %s\n", argv[0], err);
		cli_usage(argv[0]);
		return false;
	}
	return true;
}

/* ---- rename ---- */

/*
 * libxl_domain_rename: the name lives in xenstore (/local/domain/N/name,
 * and the VM entry /vm/N/name); a name another domain has is refused.
 * The CLI's own record follows, so on_* restarts use the new name. The
 * hypervisor keeps the name given at creation (only its own debug view
 * shows it), as Xen's does not know names at all.
 */
int cli_cmd_rename(const struct hvm_start_info *si, int argc, char **argv)
{
	struct cli_args a;
	char path[48], old[CLI_NAME_MAX];
	domid_t id, other;
	int rc;
	(void)si;

	if (!args(argc, argv, "", 2, 2, &a))
		return 1;
	if (!cli_domain_arg(a.pos[0], &id))
		return 1;
	const char *name = a.pos[1];
	if (!id) {
		puts("xl rename: Domain-0 keeps its name");
		return 1;
	}
	if (!domcfg_name_ok(name)) {
		printf("xl rename: '%s' is not a domain name (letters, digits, '-', '_' and '.', "
		       "at most %u)\n", name, DOMCFG_NAME_MAX - 1);
		return 1;
	}
	/* All digits would read as an id everywhere a domain is named. */
	bool digits = true;
	for (const char *p = name; *p; p++)
		digits &= *p >= '0' && *p <= '9';
	if (digits) {
		printf("xl rename: '%s' would be taken for a domain id\n", name);
		return 1;
	}
	if (!cli_find_domain(name, &other)) {
		if (other == id)
			return 0; /* already so named: nothing to do, as libxl */
		printf("xl rename: domain with name \"%s\" already exists (domain %u)\n", name,
		       other);
		return 1;
	}
	cli_domain_name(id, old, sizeof(old));
	snprintf(path, sizeof(path), "/local/domain/%u/name", id);
	if ((rc = xsd_write(path, name))) {
		printf("xl rename: %s: cannot write %s (%d)\n", old, path, rc);
		return 1;
	}
	/* /vm/N exists for the domains the launcher made. */
	snprintf(path, sizeof(path), "/vm/%u/name", id);
	char v[8];
	if (xsd_read(path, v, sizeof(v)) != -ENOENT && (rc = xsd_write(path, name)))
		printf("xl rename: warning: cannot write %s (%d)\n", path, rc);
	struct cli_dom *d = cli_dom_by_id(id);
	if (d)
		strlcpy(d->cfg.name, name, sizeof(d->cfg.name));
	printf("xl: domain %u renamed from %s to %s\n", id, old, name);
	return 0;
}

/* ---- mem-set, mem-max ---- */

/* A number from the domain's xenstore directory (KiB), or 0. */
static u64 store_kib(domid_t id, const char *node)
{
	char path[64], v[24];
	const char *end;
	u64 kib = 0;

	snprintf(path, sizeof(path), "/local/domain/%u/%s", id, node);
	if (xsd_read(path, v, sizeof(v)) < 0 || parse_u64(v, &end, &kib) || *end)
		return 0;
	return kib;
}

static int store_put_kib(domid_t id, const char *node, u64 kib)
{
	char path[64], v[24];

	snprintf(path, sizeof(path), "/local/domain/%u/%s", id, node);
	snprintf(v, sizeof(v), "%lu", kib);
	return xsd_write(path, v);
}

/*
 * The launcher gives a domain room for two pages past its RAM (the
 * console and store rings, domain/launch.c): max_mem is static-max plus
 * those 8 KiB, as libxl adds LIBXL_MAXMEM_CONSTANT.
 */
#define MAXMEM_SLACK_KIB 8

/*
 * mem-max DOM SIZE: libxl_domain_setmaxmem. The hypervisor's limit
 * (XEN_DOMCTL_max_mem) and memory/static-max; refused below the target
 * (libxl: "memory_static_max must be greater than or equal to
 * memory_dynamic_max") and below what the domain holds already, which a
 * lower limit could not take back.
 *
 * mem-set DOM SIZE: libxl_set_memory_target. memory/target, which the
 * guest's balloon driver watches; refused above static-max. A guest
 * without a balloon driver (Linux's writes control/feature-balloon)
 * keeps what it has: the target is written all the same, as xl does,
 * and the CLI says so.
 */
int cli_cmd_mem(const struct hvm_start_info *si, int argc, char **argv)
{
	struct xen_domctl_getdomaininfo info;
	struct xen_sysctl_physinfo pi;
	struct cli_args a;
	char name[CLI_NAME_MAX], v[8], path[64];
	bool set = !strcmp(argv[0], "mem-set");
	u64 kib;
	domid_t id;
	int rc;
	(void)si;

	if (!args(argc, argv, "", 2, 2, &a))
		return 1;
	if (!cli_domain_arg(a.pos[0], &id))
		return 1;
	if (!id) {
		printf("xl %s: Domain-0's memory is fixed at boot on Keel (mapped 1:1 for its "
		       "drivers)\n", argv[0]);
		return 1;
	}
	if ((rc = cli_parse_mem_kib(a.pos[1], &kib)) || !kib) {
		printf("xl %s: '%s' is not a memory size (MiB, or a number with k, m or g)\n",
		       argv[0], a.pos[1]);
		return 1;
	}
	if ((rc = dom_info(id, &info))) {
		printf("xl %s: domain %u: error %d\n", argv[0], id, rc);
		return 1;
	}
	cli_domain_name(id, name, sizeof(name));
	u64 has = info.tot_pages * 4;
	u64 target = store_kib(id, "memory/target");
	u64 max = store_kib(id, "memory/static-max");
	if (!max) /* not launched by dom0's launcher: the hypervisor's limit */
		max = info.max_pages * 4 > MAXMEM_SLACK_KIB ? info.max_pages * 4 - MAXMEM_SLACK_KIB : 0;

	if (set) {
		if (kib > max) {
			printf("xl mem-set: %lu KiB is above %s's maximum of %lu KiB (xl mem-max "
			       "raises it)\n", kib, name, max);
			return 1;
		}
		if ((rc = store_put_kib(id, "memory/target", kib))) {
			printf("xl mem-set: %s: cannot write memory/target (%d)\n", name, rc);
			return 1;
		}
		snprintf(path, sizeof(path), "/local/domain/%u/control/feature-balloon", id);
		if (xsd_read(path, v, sizeof(v)) < 0 || strcmp(v, "1"))
			printf("xl mem-set: %s has no balloon driver (no control/feature-balloon): "
			       "memory/target is %lu KiB, but it keeps the %lu KiB it has\n", name,
			       kib, has);
		return 0;
	}
	if (kib < has || kib < target) {
		printf("xl mem-max: %lu KiB is below what %s has (%lu KiB, target %lu KiB)\n",
		       kib, name, has, target);
		return 1;
	}
	if (!sysctl_physinfo(&pi) && kib > pi.total_pages * 4) {
		printf("xl mem-max: %lu KiB is more than the host's %lu KiB\n", kib,
		       pi.total_pages * 4);
		return 1;
	}
	if ((rc = domctl_max_mem(id, kib + MAXMEM_SLACK_KIB))) {
		printf("xl mem-max: %s: XEN_DOMCTL_max_mem failed (%d)\n", name, rc);
		return 1;
	}
	if ((rc = store_put_kib(id, "memory/static-max", kib)))
		printf("xl mem-max: warning: %s: cannot write memory/static-max (%d)\n", name, rc);
	return 0;
}

/* ---- dmesg ---- */

/* The hypervisor's log ring (every level), as Xen's `xl dmesg`: the
 * newest 16 KiB (the size one sysctl returns); -c clears it afterwards
 * (XEN_SYSCTL_readconsole with clear = 1). */
int cli_cmd_dmesg(const struct hvm_start_info *si, int argc, char **argv)
{
	static char text[16 * 1024];
	struct cli_args a;
	u32 n = 0;
	(void)si;

	if (!args(argc, argv, "c", 0, 0, &a))
		return 1;
	int rc = cli_args_has(&a, 'c') ? sysctl_readconsole_clear(text, sizeof(text), &n) :
					 sysctl_readconsole(text, sizeof(text), &n);
	if (rc) {
		printf("xl dmesg: sysctl readconsole failed (%d)\n", rc);
		return 1;
	}
	/* Start at a line boundary: the oldest line in a full buffer may be cut. */
	u32 start = 0;
	if (n == sizeof(text))
		while (start < n && text[start++] != '\n')
			;
	console_write(text + start, n - start);
	console_flush();
	return 0;
}
