/* xen_version (Xen public/version.h). */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/hypercall.h>
#include <lib/string.h>
#include <asm/guest_mem.h>
#include <public/features.h>
#include <public/version.h>

#define KEEL_XEN_VERSION ((4u << 16) | 17u) /* matches CPUID base+1 */

long do_xen_version(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5)
{
	(void)a3;
	(void)a4;
	(void)a5;

	switch (cmd) {
	case XENVER_version:
		return KEEL_XEN_VERSION;
	case XENVER_extraversion: {
		char extra[16] = ".0-keel";
		return copy_to_guest(v, arg, extra, sizeof(extra)) ? -EFAULT : 0;
	}
	case XENVER_get_features: {
		struct xen_feature_info fi;
		if (copy_from_guest(v, &fi, arg, sizeof(fi)))
			return -EFAULT;
		/* Submap 0 only: auto-translated physmap (PVH guests never see
		 * machine frames), the HVM callback vector and safe pvclock
		 * (docs/xen-abi.md section 1). Not hvm_pirqs. */
		fi.submap = 0;
		if (fi.submap_idx == 0)
			fi.submap = (1u << XENFEAT_auto_translated_physmap) |
				    (1u << XENFEAT_hvm_callback_vector) |
				    (1u << XENFEAT_hvm_safe_pvclock);
		return copy_to_guest(v, arg, &fi, sizeof(fi)) ? -EFAULT : 0;
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	default:
		return -ENOSYS;
	}
}
