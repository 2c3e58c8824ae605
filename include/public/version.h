/*
 * xen_version(cmd, arg) (Xen public/version.h).
 * XENVER_version returns (major << 16) | minor in RAX (arg unused); the
 * others fill the buffer at `arg` and return 0 or a negative errno.
 */
#ifndef KEEL_PUBLIC_VERSION_H
#define KEEL_PUBLIC_VERSION_H

#include <lib/types.h>

#define XENVER_version             0
#define XENVER_extraversion        1  /* xen_extraversion_t */
#define XENVER_compile_info        2  /* struct xen_compile_info */
#define XENVER_capabilities        3  /* xen_capabilities_info_t */
#define XENVER_changeset           4  /* xen_changeset_info_t */
#define XENVER_platform_parameters 5  /* struct xen_platform_parameters */
#define XENVER_get_features        6  /* struct xen_feature_info */
#define XENVER_pagesize            7  /* returns the page size */
#define XENVER_guest_handle        8  /* xen_domain_handle_t */
#define XENVER_commandline         9  /* xen_commandline_t */
#define XENVER_build_id            10
#define XENVER_extraversion2       11
#define XENVER_capabilities2       12
#define XENVER_changeset2          13
#define XENVER_commandline2        14

typedef char xen_extraversion_t[16];
typedef char xen_capabilities_info_t[1024];
typedef char xen_changeset_info_t[64];
typedef char xen_commandline_t[1024];
typedef uint8_t xen_domain_handle_t[16];

struct xen_compile_info {
	char compiler[64];
	char compile_by[16];
	char compile_domain[32];
	char compile_date[32];
};
_Static_assert(sizeof(struct xen_compile_info) == 144, "xen_compile_info size");

struct xen_platform_parameters {
	uint64_t virt_start;
};

/* IN submap_idx (0 = features 0..31), OUT submap: bit n = XENFEAT_ n
 * (features.h). */
struct xen_feature_info {
	uint32_t submap_idx;
	uint32_t submap;
};
_Static_assert(sizeof(struct xen_feature_info) == 8, "xen_feature_info size");

#endif
