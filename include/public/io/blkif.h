/*
 * The PV block protocol (Xen public/io/blkif.h): Keel's own header with
 * Xen's layouts and numbers, for blkback (guest/dom0/blkback/) and
 * blkfront (guest/lib/blkfront.h). docs/pvblk.md describes the protocol
 * as Keel implements it; sizes and offsets below are x86-64's and are
 * checked at compile time.
 *
 * Units: sector_number, first_sect/last_sect and nr_sectors are always
 * 512-byte sectors (Xen's blkif.h, "sector-size" only constrains
 * alignment); a segment is one granted 4 KiB page, of which sectors
 * first_sect..last_sect (inclusive, both < 8) are transferred.
 *
 * Xenstore nodes (see docs/pvblk.md for who writes which and when):
 *   backend:  sectors, sector-size, physical-sector-size, info (VDISK_*),
 *             feature-flush-cache, feature-barrier, feature-discard,
 *             discard-granularity, discard-alignment,
 *             feature-max-indirect-segments, max-ring-page-order, state
 *   frontend: ring-ref or ring-ref%u (with ring-page-order), event-channel,
 *             protocol ("x86_64-abi"), state
 */
#ifndef KEEL_PUBLIC_IO_BLKIF_H
#define KEEL_PUBLIC_IO_BLKIF_H

#include <lib/types.h>
#include <public/grant_table.h>
#include "ring.h"

typedef uint16_t blkif_vdev_t;
typedef uint64_t blkif_sector_t;

#define BLKIF_OP_READ            0
#define BLKIF_OP_WRITE           1
#define BLKIF_OP_WRITE_BARRIER   2 /* "feature-barrier" (Keel: not offered) */
#define BLKIF_OP_FLUSH_DISKCACHE 3 /* "feature-flush-cache" */
#define BLKIF_OP_RESERVED_1      4 /* was blktap's */
#define BLKIF_OP_DISCARD         5 /* "feature-discard" */
#define BLKIF_OP_INDIRECT        6 /* "feature-max-indirect-segments" */

/* Segments in a direct request (so that 32 requests fit one page). */
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
/* Pages of segments an indirect request may name. */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* Sectors (of 512 bytes) per 4 KiB segment page. */
#define BLKIF_SECTOR_SIZE 512
#define BLKIF_SECTORS_PER_PAGE 8

struct blkif_request_segment {
	grant_ref_t gref;   /* the granted page */
	uint8_t first_sect; /* first sector in the page (inclusive) */
	uint8_t last_sect;  /* last sector in the page (inclusive) */
};

struct blkif_request {
	uint8_t operation;   /* BLKIF_OP_* */
	uint8_t nr_segments; /* 1..BLKIF_MAX_SEGMENTS_PER_REQUEST for read/write */
	blkif_vdev_t handle;
	uint64_t id;         /* echoed in the response */
	blkif_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

/* operation == BLKIF_OP_DISCARD. */
struct blkif_request_discard {
	uint8_t operation;
	uint8_t flag;        /* BLKIF_DISCARD_SECURE or 0 */
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	uint64_t nr_sectors;
};
#define BLKIF_DISCARD_SECURE (1 << 0)

/* operation == BLKIF_OP_INDIRECT: the segments are in the pages
 * indirect_grefs[0..ceil(nr_segments / BLKIF_SEGS_PER_INDIRECT_FRAME)). */
struct blkif_request_indirect {
	uint8_t operation;   /* BLKIF_OP_INDIRECT */
	uint8_t indirect_op; /* BLKIF_OP_READ or BLKIF_OP_WRITE */
	uint16_t nr_segments;
	uint64_t id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

#define BLKIF_SEGS_PER_INDIRECT_FRAME (4096 / sizeof(struct blkif_request_segment))

struct blkif_response {
	uint64_t id;       /* the request's */
	uint8_t operation; /* the request's */
	int16_t status;    /* BLKIF_RSP_* */
};

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR      (-1)
#define BLKIF_RSP_OKAY       0

DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response);

/* The backend's `info` node. */
#define VDISK_CDROM     0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY  0x4

/* The only ABI Keel's backend speaks (frontend `protocol` node). */
#define XEN_IO_PROTO_ABI_X86_64 "x86_64-abi"

_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request size");
_Static_assert(offsetof(struct blkif_request, nr_segments) == 1, "blkif nr_segments");
_Static_assert(offsetof(struct blkif_request, handle) == 2, "blkif handle");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif sector");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif seg");
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif discard size");
_Static_assert(offsetof(struct blkif_request_discard, flag) == 1, "discard flag");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "discard nr_sectors");
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif indirect size");
_Static_assert(offsetof(struct blkif_request_indirect, nr_segments) == 2, "indirect nr_segments");
_Static_assert(offsetof(struct blkif_request_indirect, id) == 8, "indirect id");
_Static_assert(offsetof(struct blkif_request_indirect, sector_number) == 16, "indirect sector");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "indirect handle");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "indirect grefs");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response size");
_Static_assert(offsetof(struct blkif_response, operation) == 8, "rsp operation");
_Static_assert(offsetof(struct blkif_response, status) == 10, "rsp status");
_Static_assert(__CONST_RING_SIZE(blkif, 4096) == 32, "blkif ring slots per page");
_Static_assert(BLKIF_SEGS_PER_INDIRECT_FRAME == 512, "segments per indirect page");

#endif
