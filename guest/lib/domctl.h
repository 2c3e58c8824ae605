/*
 * Domain control from dom0 (guest/lib/domctl.c): thin wrappers over the
 * domctl (36) and sysctl (35) hypercalls of include/public/domctl.h and
 * sysctl.h, which fill in the interface version and return 0 or the
 * hypervisor's negative errno. A domU calling any of them gets -EPERM.
 * Pointers are the caller's own (guest-virtual) addresses.
 */
#ifndef GUEST_DOMCTL_H
#define GUEST_DOMCTL_H

#include <lib/types.h>
#include <public/domctl.h>
#include <public/sysctl.h>

/* The raw hypercalls: op->interface_version must be set by the caller. */
long HYPERVISOR_domctl(struct xen_domctl *op);
long HYPERVISOR_sysctl(struct xen_sysctl *op);

/* A new paused domain with `vcpus` vCPUs; *domid = the id chosen (pass
 * *domid = 0 for any). */
int domctl_create(domid_t *domid, unsigned vcpus, const char *name);
int domctl_destroy(domid_t domid);
int domctl_pause(domid_t domid);
int domctl_unpause(domid_t domid);
int domctl_max_mem(domid_t domid, u64 max_kb);
int domctl_populate_ram(domid_t domid, u64 gpa, u64 nr_pages);
/* Builds the PVH ELF at image (size bytes) into the domain with cmdline. */
int domctl_pvh_build(domid_t domid, const void *image, u64 size, const char *cmdline);
/* The same with nr descriptors of modules (public/domctl.h: copied into
 * the domain past the kernel and listed in its start info's modlist). */
int domctl_pvh_build_mods(domid_t domid, const void *image, u64 size, const char *cmdline,
			  const struct keel_domctl_pvh_module *mods, u32 nr);
/* The same with KEEL_PVH_BUILD_* flags (PRELOADED: image is a compact ELF
 * whose segments the caller already wrote into the domain). */
int domctl_pvh_build_flags(domid_t domid, const void *image, u64 size, const char *cmdline,
			   const struct keel_domctl_pvh_module *mods, u32 nr, u32 flags);
int domctl_getdomaininfo(domid_t domid, struct xen_domctl_getdomaininfo *info);
int domctl_getvcpuinfo(domid_t domid, u32 vcpu, struct xen_domctl_getvcpuinfo *info);
int domctl_set_weight(domid_t domid, u16 weight);
int domctl_get_weight(domid_t domid, u16 *weight);
/* Copies up to nr exit counters (indexed by KEEL_EXIT_*); *total = how
 * many reasons there are. */
int domctl_exit_counts(domid_t domid, u64 *counts, u32 nr, u32 *total);
/* Shows len (<= KEEL_DOMCTL_CONSOLE_MAX) bytes on Keel's console as
 * domain domid's output ("(dN) ..."): the PV console backend's mirror. */
int domctl_console_write(domid_t domid, const char *buf, u32 len);

int sysctl_physinfo(struct xen_sysctl_physinfo *info);
/* Up to max records for domains with id >= first; *n = how many. */
int sysctl_domain_list(domid_t first, struct xen_domctl_getdomaininfo *buf, u32 max, u32 *n);

/* The newest `size` bytes of the hypervisor's log ring into buf; *n gets
 * the count. 0 or -errno. */
int sysctl_readconsole(char *buf, u32 size, u32 *n);
/* The same, then the log is cleared (Xen's readconsole clear = 1, `xl
 * dmesg -c`): a later read starts after what this one returned. */
int sysctl_readconsole_clear(char *buf, u32 size, u32 *n);

/* KEEL_SYSCTL_counts: free frames, domains, event-channel ports and
 * grant frames/mappings held by all domains. 0 or -errno. */
int sysctl_counts(struct keel_sysctl_counts *c);

/* KEEL_SYSCTL_irq_counts: the hypervisor's host interrupts by source and
 * by what ran. 0 or the hypercall's error. */
int sysctl_irq_counts(struct keel_sysctl_irqs *k);

/* The hypervisor's free frames (sysctl physinfo free_pages), or 0. */
u64 sysctl_free_pages(void);

/* "running", "blocked", "paused", "shutdown(poweroff)", "crashed",
 * "dying" ... for a getdomaininfo record (static buffer). */
const char *domctl_state_name(const struct xen_domctl_getdomaininfo *info);

/* Prints one line per domain: id, name, state, pages, vCPU time, exits. */
void domctl_print_list(void);

#endif
