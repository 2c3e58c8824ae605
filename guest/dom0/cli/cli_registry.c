/*
 * The domains the CLI created, and what happens when one stops by itself
 * (contract in cli_internal.h). As xl's daemonised "xl create" does: on
 * VIRQ_DOM_EXC the shut-down domain's reason picks on_poweroff,
 * on_reboot or on_crash from its config (xl.cfg(5)): destroy, restart
 * (destroy, then create again from the same config), preserve (keep it
 * for inspection), rename-restart (keep it under a new name and create a
 * fresh one).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "cli_internal.h"
#include "domain/domain.h"
#include "domctl.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvclock.h"
#include "storage/partition.h"
#include "blkback/blkback.h"
#include "block/blkdev.h"
#include "xsd/xsd.h"

static struct cli_dom doms[CLI_MAX_DOMAINS];
void (*cli_async_begin)(void);
void (*cli_async_end)(void);
static bool async_open; /* cli_async_begin called in this handler run */

/* A line the CLI prints by itself (not as a command's answer). */
static __printf(1, 2) void say(const char *fmt, ...)
{
	va_list ap;

	if (!async_open && cli_async_begin)
		cli_async_begin();
	async_open = true;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* At the end of a handler run: the prompt again, if say() was used. */
static void said(void)
{
	if (async_open && cli_async_end)
		cli_async_end();
	async_open = false;
}

static const struct hvm_start_info *boot_si;
static struct loop_timer reminder;

struct cli_dom *cli_dom_by_id(domid_t id)
{
	for (unsigned i = 0; i < CLI_MAX_DOMAINS; i++)
		if (doms[i].used && doms[i].ld.id == id)
			return &doms[i];
	return NULL;
}

/* cli_dom_create with the kernel and ramdisk read (the launcher copies
 * them into the new domain, so the caller frees them afterwards). */
static int create_loaded(const struct domcfg *cfg, bool paused, domid_t domid, const void *kernel,
			 u64 ksize, const void *ramdisk, u64 rsize, struct cli_dom **out, char *err,
			 size_t errlen)
{
	struct launch_module mod;
	struct cli_dom *d = NULL;
	int rc;

	for (unsigned i = 0; i < CLI_MAX_DOMAINS && !d; i++)
		if (!doms[i].used)
			d = &doms[i];
	if (!d) {
		snprintf(err, errlen, "%s: the CLI manages at most %u domains", cfg->name,
			 CLI_MAX_DOMAINS);
		return -ENOSPC;
	}
	if (ramdisk)
		mod = (struct launch_module){ ramdisk, rsize, NULL };
	struct launch_disk disks[DOMCFG_MAX_DISKS];
	struct launch_vif vifs[DOMCFG_MAX_VIFS];
	if (cfg->nr_disks > LAUNCH_MAX_DISKS || cfg->nr_vifs > LAUNCH_MAX_VIFS) {
		snprintf(err, errlen, "%s: Keel takes at most %u disks and %u vifs per domain",
			 cfg->name, LAUNCH_MAX_DISKS, LAUNCH_MAX_VIFS);
		return -E2BIG;
	}
	if (cfg->nr_disks && ((rc = xsd_init()) || (rc = blkback_init()))) {
		snprintf(err, errlen, "%s: the block backend cannot start: %d", cfg->name, rc);
		return rc;
	}
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		/* The target names a disk or partition dom0 owns
		 * (storage_lookup: "vda", "vda2", "vda:2", "name=data", ...). */
		struct blkdev *bd;
		if (storage_lookup(cfg->disks[i].target, &bd)) {
			snprintf(err, errlen, "%s: disk %s: no disk or partition '%s' in dom0",
				 cfg->name, cfg->disks[i].vdev, cfg->disks[i].target);
			return -ENOENT;
		}
		disks[i] = (struct launch_disk){ bd->name, cfg->disks[i].devid,
						 cfg->disks[i].readonly };
	}
	for (unsigned i = 0; i < cfg->nr_vifs; i++) {
		vifs[i] = (struct launch_vif){ .devid = i, .bridge = cfg->vifs[i].bridge };
		if (cfg->vifs[i].has_mac)
			memcpy(vifs[i].mac, cfg->vifs[i].mac, 6);
	}
	struct launch_params p = {
		.disks = cfg->nr_disks ? disks : NULL, .nr_disks = cfg->nr_disks,
		.vifs = cfg->nr_vifs ? vifs : NULL, .nr_vifs = cfg->nr_vifs,
		.name = cfg->name, .domid = domid, .mem_mib = cfg->memory_mib, .max_mem_mib = cfg->maxmem_mib,
		.vcpus = cfg->vcpus, .image = kernel, .image_size = ksize,
		.cmdline = cfg->cmdline, .modules = ramdisk ? &mod : NULL,
		.nr_modules = ramdisk ? 1 : 0, .paused = paused,
	};
	memset(d, 0, sizeof(*d));
	if ((rc = launch_domain(&p, &d->ld, err, errlen)))
		return rc;
	d->cfg = *cfg;
	d->used = true;
	d->created_ns = pvclock_now_ns();
	if ((rc = cli_registry_init()))
		printf("xl: warning: no VIRQ_DOM_EXC (%d): on_poweroff/on_reboot/on_crash will not "
		       "be applied\n", rc);
	*out = d;
	return 0;
}

/* cli_dom_create with a chosen domain id (0: the hypervisor's choice). */
static int create_as(const struct hvm_start_info *si, const struct domcfg *cfg, bool paused,
		     domid_t domid, struct cli_dom **out, char *err, size_t errlen)
{
	const void *kernel, *ramdisk = NULL;
	u64 ksize, rsize = 0;
	int rc;

	boot_si = si;
	if ((rc = cli_file(si, cfg->kernel, &kernel, &ksize, err, errlen)))
		return rc;
	if (cfg->ramdisk[0] && (rc = cli_file(si, cfg->ramdisk, &ramdisk, &rsize, err, errlen))) {
		cli_file_put(si, kernel, ksize);
		return rc;
	}
	rc = create_loaded(cfg, paused, domid, kernel, ksize, ramdisk, rsize, out, err, errlen);
	cli_file_put(si, kernel, ksize);
	cli_file_put(si, ramdisk, rsize);
	return rc;
}

int cli_dom_create(const struct hvm_start_info *si, const struct domcfg *cfg, bool paused,
		   struct cli_dom **out, char *err, size_t errlen)
{
	return create_as(si, cfg, paused, 0, out, err, errlen);
}

/*
 * A restarted guest gets a new domain id, as under Xen (whose ids come
 * from a rover that moves on): the first free id after the old one.
 * Keel's hypervisor hands out the lowest free id, which would be the old
 * one again; past its last id the create is refused, and the hypervisor
 * picks after all.
 */
static int restart(const struct domcfg *cfg, domid_t old, struct cli_dom **out, char *err,
		   size_t errlen)
{
	struct xen_domctl_getdomaininfo info;
	domid_t next = (domid_t)(old + 1);

	while (next < DOMID_FIRST_RESERVED && !dom_info(next, &info))
		next++;
	if (next < DOMID_FIRST_RESERVED && !create_as(boot_si, cfg, false, next, out, err, errlen))
		return 0;
	return create_as(boot_si, cfg, false, 0, out, err, errlen);
}

int cli_dom_destroy(domid_t id)
{
	struct cli_dom *d = cli_dom_by_id(id);
	int rc;

	if (!d)
		return domctl_destroy(id);
	rc = launch_destroy(&d->ld);
	d->used = false;
	return rc;
}

static void remind(void *arg);

int cli_dom_request(domid_t id, const char *what, bool wait, unsigned grace_s)
{
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", id);
	if ((rc = xsd_write(path, what)))
		return rc;
	struct cli_dom *d = cli_dom_by_id(id);
	if (d) {
		d->shutdown_deadline = pvclock_now_ns() + (u64)grace_s * 1000000000ULL;
		d->wait_report = wait;
		reminder.fn = remind;
		loop_timer_arm(&reminder, pvclock_now_ns() + 1000000000ULL);
	}
	return 0;
}

/* Once a second while a shutdown request is outstanding: a guest that
 * does not answer is named once (xl leaves it running, so do we). */
static void remind(void *arg)
{
	bool pending = false;
	u64 now = pvclock_now_ns();

	(void)arg;
	for (unsigned i = 0; i < CLI_MAX_DOMAINS; i++) {
		struct cli_dom *d = &doms[i];
		if (!d->used || !d->shutdown_deadline)
			continue;
		if (now >= d->shutdown_deadline) {
			say("xl: %s (%u) has not shut down after the request; does it watch "
			       "control/shutdown? ('xl destroy %s' stops it)\n", d->cfg.name, d->ld.id,
			       d->cfg.name);
			d->shutdown_deadline = 0;
			continue;
		}
		pending = true;
	}
	if (pending)
		loop_timer_arm(&reminder, now + 1000000000ULL);
	said();
}

static const char *reason_name(unsigned r)
{
	static const char *const names[] = { "poweroff", "reboot", "suspend", "crash",
					     "watchdog", "soft_reset" };
	return r < ARRAY_SIZE(names) ? names[r] : "unknown";
}

static void act(struct cli_dom *d, unsigned reason)
{
	u8 action = reason == SHUTDOWN_reboot ? d->cfg.on_reboot :
		    reason == SHUTDOWN_crash || reason == SHUTDOWN_watchdog ? d->cfg.on_crash :
		    d->cfg.on_poweroff;
	const char *key = reason == SHUTDOWN_reboot ? "on_reboot" :
			  reason == SHUTDOWN_crash || reason == SHUTDOWN_watchdog ? "on_crash" :
			  "on_poweroff";
	domid_t id = d->ld.id;
	struct domcfg cfg = d->cfg;
	/* xl's guard against a guest that dies at once, again and again. */
	u32 quick = pvclock_now_ns() - d->created_ns < 10000000000ULL ? d->quick_restarts + 1 : 0;
	char err[160];

	if (d->wait_report)
		say("xl: domain %s (%u) has shut down (%s)\n", cfg.name, id, reason_name(reason));
	d->shutdown_deadline = 0;
	d->wait_report = false;
	say("xl: %s (%u): %s; %s=%s\n", cfg.name, id, reason_name(reason), key,
	       domcfg_action_name(action));
	if (action == DOMCFG_PRESERVE) {
		d->preserved = true;
		return;
	}
	if (action == DOMCFG_RENAME_RESTART) {
		/* The old one stays under "NAME-ID" (xenstore, as xl renames it);
		 * the CLI forgets it and starts a fresh one. */
		char path[64], name[DOMCFG_NAME_MAX + 8];
		snprintf(path, sizeof(path), "/local/domain/%u/name", id);
		snprintf(name, sizeof(name), "%s-%u", cfg.name, id);
		xsd_write(path, name);
		d->used = false;
		say("xl: %s (%u) kept as %s\n", cfg.name, id, name);
	} else {
		int rc = cli_dom_destroy(id);
		if (rc)
			say("xl: destroying %s (%u) failed: %d\n", cfg.name, id, rc);
	}
	if (action == DOMCFG_DESTROY)
		return;
	if (quick > 5) {
		say("xl: %s is restarting too fast (6 runs under 10 s each): not restarted\n",
		       cfg.name);
		return;
	}
	struct cli_dom *n;
	if (restart(&cfg, id, &n, err, sizeof(err))) {
		say("xl: restarting %s failed: %s\n", cfg.name, err);
		return;
	}
	n->quick_restarts = quick;
	say("xl: %s restarted as domain %u\n", cfg.name, n->ld.id);
}

static void on_dom_exc(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < CLI_MAX_DOMAINS; i++) {
		struct cli_dom *d = &doms[i];
		struct xen_domctl_getdomaininfo info;
		if (!d->used || d->preserved)
			continue;
		int rc = dom_info(d->ld.id, &info);
		if (rc == -ESRCH) {
			/* Destroyed behind our back: release what dom0 held. */
			say("xl: %s (%u) was destroyed\n", d->cfg.name, d->ld.id);
			launch_destroy(&d->ld);
			d->used = false;
			continue;
		}
		if (!rc && (info.flags & XEN_DOMINF_shutdown))
			act(d, (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
	}
	said();
}

int cli_registry_init(void)
{
	static bool done;
	int rc;

	if (done)
		return 0;
	if ((rc = dom_exc_init()) || (rc = dom_exc_subscribe(on_dom_exc, NULL)))
		return rc;
	done = true;
	return 0;
}
