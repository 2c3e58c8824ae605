/*
 * Loading a kernel file into a new domain (guest/dom0/image/load.c), as
 * xl's domain builder does: unpack it (image.h: ELF, bzImage, compressed
 * ELF), write its loadable segments into the domain's RAM through
 * foreign mappings, one page at a time through one slot of dom0's
 * mapping window (so the size is bounded by the domain's RAM and
 * IMAGE_MAX, not by a hypervisor buffer), then run the hypervisor's PVH
 * builder on the compact ELF (KEEL_PVH_BUILD_PRELOADED) with the
 * modules, which it copies in after the kernel.
 *
 * image_build_domain: `id` must be created, populated and not started.
 * Returns 0, or -errno with one line in err saying what failed and why
 * (the unpacker's, the ELF check's, the mapping's or the builder's
 * error). Decompressed memory is released before it returns. On a
 * failure the domain's RAM may be partly written; the caller destroys
 * it (launch.c does). Between megabytes and pages it runs dom0's loop
 * services (loop_run_services: not the control ports, so no create or
 * restart starts meanwhile); a call while one is under way gets -EBUSY.
 */
#ifndef DOM0_IMAGE_LOAD_H
#define DOM0_IMAGE_LOAD_H

#include <public/domctl.h>

int image_build_domain(domid_t id, const void *data, u64 size, const char *cmdline,
		       const struct keel_domctl_pvh_module *mods, unsigned nr_mods, char *err,
		       size_t errlen);

#endif
