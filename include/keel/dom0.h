/* Building the control domain at boot (kernel/dom0.c). */
#ifndef KEEL_DOM0_H
#define KEEL_DOM0_H

#include <keel/boot_info.h>
#include <keel/cmdline.h>

/*
 * Validates the boot module named "dom0" as a PVH ELF. Returns it, or NULL
 * after printing "keel: module 'dom0': <reason>" (missing or corrupt).
 */
const struct boot_module *dom0_check_module(const struct boot_info *bi);

/*
 * Builds dom0: gives it RAM 1:1 (guest-physical = host-physical) from the
 * frames the hypervisor does not use (opts->dom0_mem or the default),
 * plus the boot modules, which it receives as PVH modules; its memory map
 * marks everything else reserved. Loads the kernel and makes vCPU 0
 * runnable. Returns 0 or -errno (reason printed).
 */
int dom0_build(const struct boot_info *bi, const struct boot_mem_range *map, unsigned nmap,
	       const struct keel_options *opts);

#endif
