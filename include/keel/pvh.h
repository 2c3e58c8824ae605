/*
 * The PVH domain builder (kernel/pvh.c): loads an ELF kernel into a
 * domain whose RAM (d->ram) is already populated and mapped, writes an
 * hvm_start_info (version 1, docs/misc/pvh.pandoc) and sets vCPU 0 to
 * the PVH entry state. Used for dom0 at boot and for domUs (domctl
 * KEEL_DOMCTL_pvh_build, through domain_build_pvh in domain_mem.c).
 */
#ifndef KEEL_PVH_H
#define KEEL_PVH_H

#include <keel/boot_info.h>
#include <lib/types.h>

struct domain;

struct pvh_module {
	gpa_t gpa;
	u64 size;
	const char *cmdline; /* copied into the guest */
};

/* A guest-physical range the builder must not overwrite (modules that
 * already sit in the domain's RAM). */
struct pvh_avoid {
	gpa_t base;
	u64 len;
};

struct pvh_params {
	const void *image; /* ELF, hypervisor-readable */
	u64 image_size;
	const char *cmdline;
	const struct pvh_module *modules;
	unsigned nr_modules;
	const struct boot_mem_range *memmap; /* the guest's E820 map */
	unsigned nr_memmap;
	const struct pvh_avoid *avoid;
	unsigned nr_avoid;
	u64 rsdp; /* guest-physical, 0 = none */
};

/* Returns 0, or -errno with a one-line reason in err. */
int pvh_build(struct domain *d, const struct pvh_params *p, char *err, size_t errlen);

#endif
