/*
 * The domains scenario `domctl` (domains.c has the list): domain control's
 * own contract, and the errors dom0's mistakes get.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include <public/sched.h>
#include "domain/domain.h"
#include "domains.h"
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"

#define WAIT_NS DOMAINS_WAIT_NS

/* Domain control's own contract, and what dom0's mistakes get. */
void scenario_domctl(const struct hvm_start_info *si)
{
	(void)si;
	u64 before = sysctl_free_pages();
	struct xen_domctl op;
	struct xen_domctl_getdomaininfo info;
	domid_t id = 0;

	/* Bad ids, bad versions, bad commands. */
	domains_check("info-unknown-domid", domctl_getdomaininfo(63, &info), -ESRCH);
	domains_check("info-huge-domid", domctl_getdomaininfo(0x7ff0, &info), -ESRCH);
	domains_check("destroy-unknown-domid", domctl_destroy(999), -ESRCH);
	domains_check("destroy-self", domctl_destroy(0), -EINVAL);
	domains_check("pause-self", domctl_pause(0), -EINVAL);
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_getdomaininfo;
	op.interface_version = 0x18; /* Xen's: refused, the layouts differ */
	domains_check("bad-interface-version", HYPERVISOR_domctl(&op), -EACCES);
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.cmd = 0x7777;
	domains_check("unknown-command", HYPERVISOR_domctl(&op), -ENOSYS);
	domains_check("bad-pointer", HYPERVISOR_domctl((void *)0xffff800000000000ULL), -EFAULT);
	domains_check("create-0-vcpus", domctl_create(&id, 0, "x"), -EINVAL);
	domains_check("create-99-vcpus", domctl_create(&id, 99, "x"), -EINVAL);
	id = 100;
	domains_check("create-id-beyond-table", domctl_create(&id, 1, "x"), -EINVAL);
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_createdomain;
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.u.createdomain.max_vcpus = 1;
	op.u.createdomain.flags = 0x100;
	domains_check("create-unknown-flags", HYPERVISOR_domctl(&op), -EINVAL);
	domains_check("free-pages-unchanged-after-refusals", (long)sysctl_free_pages(), (long)before);

	/* A domain with the id we ask for. */
	id = 40;
	domains_check("create-id-40", domctl_create(&id, 2, "control"), 0);
	domains_check("created-id", id, 40);
	domid_t again = 40;
	domains_check("create-id-taken", domctl_create(&again, 1, "x"), -EEXIST);
	info = domains_info(id);
	domains_check("new-domain-paused", !!(info.flags & XEN_DOMINF_paused), 1);
	domains_check("new-domain-vcpus", info.max_vcpu_id, 1);
	domains_check("populate-beyond-max-mem", domctl_populate_ram(id, 0, 256), -ENOMEM);
	domains_check("max-mem-4m", domctl_max_mem(id, 4096), 0);
	domains_check("populate-misaligned", domctl_populate_ram(id, 0x123, 1), -EINVAL);
	domains_check("populate-zero-pages", domctl_populate_ram(id, 0, 0), -EINVAL);
	domains_check("populate-wrapping", domctl_populate_ram(id, ~0ULL << 12, 16), -EINVAL);
	domains_check("populate-huge-count", domctl_populate_ram(id, 0, 1ULL << 52), -EINVAL);
	domains_check("populate-2m", domctl_populate_ram(id, 0, 512), 0);
	domains_check("populate-overlapping", domctl_populate_ram(id, 0x100000, 512), -EEXIST);
	domains_check("populate-rest", domctl_populate_ram(id, 0x200000, 512), 0);
	domains_check("populate-beyond-max-again", domctl_populate_ram(id, 0x400000, 1), -ENOMEM);
	domains_check("max-mem-60g", domctl_max_mem(id, 60ULL << 20), 0);
	u64 mid = sysctl_free_pages();
	domains_check("populate-more-than-the-machine", domctl_populate_ram(id, 0x400000, 15ULL << 18),
	      -ENOMEM);
	domains_check("free-pages-unchanged-after-failed-populate", (long)sysctl_free_pages(), (long)mid);
	info = domains_info(id);
	domains_check("tot-pages", (long)info.tot_pages, 1024);

	domains_check("build-empty-image", domctl_pvh_build(id, domains_image, 0, ""), -EINVAL);
	domains_check("build-huge-image", domctl_pvh_build(id, domains_image, 1ULL << 40, ""), -EINVAL);
	domains_check("build-unreadable-image", domctl_pvh_build(id, (void *)0xffff800000000000ULL, 4096, ""),
	      -EFAULT);
	static const char not_elf[64] = "this is not an ELF file";
	domains_check("build-not-elf", domctl_pvh_build(id, not_elf, sizeof(not_elf), "") < 0, 1);
	static char long_cmdline[2048];
	memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
	domains_check("build-cmdline-too-long", domctl_pvh_build(id, domains_image, domains_image_size, long_cmdline), -E2BIG);
	/* Modules (public/domctl.h): every bad descriptor is refused with
	 * its error and the hypervisor keeps nothing. */
	static const u8 initrd[8192] = { 1, 2, 3 };
	struct keel_domctl_pvh_module mods[KEEL_DOMCTL_MODULES_MAX + 1];
	for (unsigned i = 0; i <= KEEL_DOMCTL_MODULES_MAX; i++)
		mods[i] = (struct keel_domctl_pvh_module){ (u64)(uintptr_t)initrd, sizeof(initrd), 0, 0, 0 };
	u64 free_before_mods = sysctl_free_pages();
#define BUILD_MODS(n) domctl_pvh_build_mods(id, domains_image, domains_image_size, "", mods, (n))
	domains_check("build-too-many-modules", BUILD_MODS(KEEL_DOMCTL_MODULES_MAX + 1), -E2BIG);
	domains_check("build-modules-unreadable-descriptors",
		      domctl_pvh_build_mods(id, domains_image, domains_image_size, "",
					    (void *)0xffff800000000000ULL, 1), -EFAULT);
	mods[1].size = 0;
	domains_check("build-module-empty", BUILD_MODS(2), -EINVAL);
	mods[1].size = sizeof(initrd);
	mods[1].reserved = 1;
	domains_check("build-module-reserved-set", BUILD_MODS(2), -EINVAL);
	mods[1].reserved = 0;
	mods[1].size = 1ULL << 40;
	domains_check("build-module-beyond-limit", BUILD_MODS(2), -ENOMEM);
	mods[1].size = 3ULL << 20; /* within the 4 MiB, not past the kernel at 2 MiB */
	domains_check("build-module-beyond-ram-end", BUILD_MODS(2), -ENOMEM);
	mods[1].size = sizeof(initrd);
	mods[1].buffer = 0xffff800000000000ULL;
	domains_check("build-module-unreadable", BUILD_MODS(2), -EFAULT);
	mods[1].buffer = ~0ULL - 100; /* buffer + size wraps */
	domains_check("build-module-wrapping", BUILD_MODS(2), -EFAULT);
	mods[1].buffer = (u64)(uintptr_t)initrd;
	mods[1].cmdline_len = KEEL_DOMCTL_CMDLINE_MAX;
	domains_check("build-module-cmdline-too-long", BUILD_MODS(2), -E2BIG);
	mods[1].cmdline_len = 0;
	domains_check("free-pages-unchanged-after-bad-modules", (long)sysctl_free_pages(),
		      (long)free_before_mods);
	domains_check("build-with-modules", BUILD_MODS(2), 0);
#undef BUILD_MODS
	domains_check("build", domctl_pvh_build(id, domains_image, domains_image_size, "role=work steps=2"), 0);

	struct xen_domctl_getvcpuinfo vi;
	domains_check("vcpuinfo-bad-vcpu", domctl_getvcpuinfo(id, 2, &vi), -ENOENT);
	domains_check("vcpuinfo-vcpu1", domctl_getvcpuinfo(id, 1, &vi), 0);
	domains_check("vcpu1-offline", vi.online, 0);
	u16 w = 0;
	domains_check("weight-set", domctl_set_weight(id, 512), 0);
	domains_check("weight-get", domctl_get_weight(id, &w), 0);
	domains_check("weight-is-512", w, 512);
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_DOMCTL_scheduler_op;
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.domain = id;
	op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
	op.u.scheduler_op.u.credit.cap = 50;
	domains_check("weight-cap-refused", HYPERVISOR_domctl(&op), -EINVAL);
	op.u.scheduler_op.sched_id = 6;
	domains_check("scheduler-not-credit", HYPERVISOR_domctl(&op), -EINVAL);

	/* Pause counting (Xen's): created paused once; one more pause needs
	 * one more unpause. */
	domains_check("pause", domctl_pause(id), 0);
	domains_check("unpause-1", domctl_unpause(id), 0);
	domains_check("still-paused", !!(domains_info(id).flags & XEN_DOMINF_paused), 1);
	domains_check("unpause-2-starts-it", domctl_unpause(id), 0);
	domains_check("unpause-3", domctl_unpause(id), -EINVAL);
	domains_check("build-after-start", domctl_pvh_build(id, domains_image, domains_image_size, ""), -EINVAL);
	domid_t ids[1] = { id };
	domains_check("runs-to-poweroff", domains_wait_shutdown(ids, 1, WAIT_NS), 0);
	info = domains_info(id);
	domains_check("powered-off", domains_info_shutdown_code(&info), SHUTDOWN_poweroff);
	domains_check("cpu-time-counted", info.cpu_time > 0, 1);
	domains_check("exits-counted", info.nr_exits > 0, 1);
	u64 counts[KEEL_EXIT_NR];
	domains_check("exit-counts-bad-buffer",
	      domctl_exit_counts(id, (u64 *)0xffff800000000000ULL, KEEL_EXIT_NR, NULL), -EFAULT);
	domains_check("exit-counts", domctl_exit_counts(id, counts, KEEL_EXIT_NR, NULL), 0);
	domains_check("hypercall-exits-counted", counts[KEEL_EXIT_HYPERCALL] > 0, 1);
	domctl_print_list();

	/* A second domain shut down by dom0 (SCHEDOP_remote_shutdown). */
	domid_t other = domains_domu_create("victim");
	domains_domu_build(other, "role=spin");
	domains_check("unpause-spinner", domctl_unpause(other), 0);
	struct sched_remote_shutdown rs = { .domain_id = other, .reason = SHUTDOWN_reboot };
	domains_check("remote-shutdown", HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), 0);
	info = domains_info(other);
	domains_check("remote-shutdown-reason", domains_info_shutdown_code(&info), SHUTDOWN_reboot);
	rs.domain_id = 999;
	domains_check("remote-shutdown-bad-domid", HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -ESRCH);

	/* sysctl. */
	struct xen_sysctl so;
	memset(&so, 0, sizeof(so));
	so.cmd = XEN_SYSCTL_physinfo;
	domains_check("sysctl-bad-version", HYPERVISOR_sysctl(&so), -EACCES);
	so.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	so.cmd = 99;
	domains_check("sysctl-unknown", HYPERVISOR_sysctl(&so), -ENOSYS);
	struct xen_domctl_getdomaininfo list[4];
	u32 n = 0;
	domains_check("domain-list", sysctl_domain_list(0, list, 4, &n), 0);
	domains_check("domain-list-count", n, 3);
	domains_check("domain-list-bad-buffer",
	      sysctl_domain_list(0, (void *)0xffff800000000000ULL, 4, &n), -EFAULT);

	domid_t both[2] = { id, other };
	domains_destroy_all(both, 2);
	domains_check("destroy-again", domctl_destroy(id), -ESRCH);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "domctl: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "domctl: PASS %u checks", domains_nr_checks());
}
