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

/* A module the builder copies into the domain (a domU's initrd): it
 * places it page-aligned past the kernel and past the modules before it,
 * and lists it in the modlist after `modules`. read() copies bytes
 * [off, off+len) of it into buf (len <= PAGE_SIZE): 0 or -EFAULT. */
#define PVH_LOAD_MAX 4
struct pvh_load_module {
	u64 size; /* > 0 */
	const char *cmdline;
	int (*read)(const struct pvh_load_module *m, u64 off, void *buf, u64 len);
	void *ctx;
	u64 addr;
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
	const struct pvh_load_module *load; /* copied in by the builder */
	unsigned nr_load;
	/* 0, or the address every load module and the command line must
	 * end below (a domU's: 4 GiB, Linux keeps 32-bit pointers). */
	u64 module_limit;
	bool preloaded; /* segments already in RAM: checked, not written */
};

/* Returns 0, or -errno with a one-line reason in err. Everything that
 * can be checked without reading a load module's bytes (placement in
 * RAM, sizes, the start-info area) is checked before the domain's RAM is
 * written; a failing read() (-EFAULT) may leave it partly written. */
int pvh_build(struct domain *d, const struct pvh_params *p, char *err, size_t errlen);

#endif
