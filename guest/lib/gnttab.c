/*
 * Grant tables v1 from a Keel guest (contract in gnttab.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include "cpu.h"
#include "gnttab.h"
#include "guest.h"

#define MAX_REFS (GNTTAB_TABLE_SLOTS * GNTTAB_ENTRIES_PER_FRAME)

static u64 area;           /* guest-physical = virtual base of the window */
static unsigned nr_frames; /* table frames placed */
static u64 ref_used[MAX_REFS / 64];

/* ---- the window --------------------------------------------------------- */

/* Does [a, a + len) touch any memory-map entry? Then the entry's start. */
static bool overlaps_map(const struct hvm_start_info *si, u64 a, u64 len, u64 *entry_start)
{
	const struct hvm_memmap_table_entry *map;
	unsigned n;

	map = si_memmap(si, &n);
	for (unsigned i = 0; i < n; i++) {
		if (a < map[i].addr + map[i].size && map[i].addr < a + len) {
			*entry_start = map[i].addr;
			return true;
		}
	}
	return false;
}

/* End of the highest RAM entry. */
static u64 ram_end(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *map;
	unsigned n;
	u64 end = 0;

	map = si_memmap(si, &n);
	for (unsigned i = 0; i < n; i++)
		if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
			end = MAX(end, map[i].addr + map[i].size);
	return end;
}

/*
 * A hole for the window (GNTTAB_AREA_SIZE): the highest 1 GiB-aligned place below
 * MAXPHYADDR (and below 256 TiB, what 4-level paging reaches) that no
 * memory-map entry touches, above 4 GiB and above RAM. High rather than
 * just above RAM: firmware puts the 64-bit PCI window just above RAM, and
 * a 1:1 dom0 may have device memory there; reserved ranges high up (QEMU
 * lists one below 1 TiB on AMD) are stepped over. 0 if none.
 */
static u64 find_area(const struct hvm_start_info *si)
{
	unsigned bits = 36;
	u64 a, floor, start;

	if (cpuid(0x80000000).eax >= 0x80000008)
		bits = cpuid(0x80000008).eax & 0xff;
	bits = MIN(bits, 48u);
	floor = MAX(4 * SZ_1G, ALIGN_UP(ram_end(si), SZ_1G));
	if ((1ULL << bits) < floor + SZ_1G)
		return 0;
	a = (1ULL << bits) - SZ_1G;
	while (a >= floor && overlaps_map(si, a, GNTTAB_AREA_SIZE, &start))
		a = start >= SZ_1G ? ALIGN_DOWN(start, SZ_1G) - SZ_1G : 0;
	return a >= floor ? a : 0;
}

/* Places table frame idx at guest frame gfn (Xen XENMEM_add_to_physmap,
 * XENMAPSPACE_grant_table). */
static long add_to_physmap_grant(unsigned idx, u64 gfn)
{
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_grant_table,
		.idx = idx,
		.gpfn = gfn,
	};

	return hypercall6(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (u64)(uintptr_t)&x,
			  0, 0, 0);
}

long gnttab_query_size(domid_t dom, struct gnttab_query_size *out)
{
	memset(out, 0, sizeof(*out));
	out->dom = dom;
	return HYPERVISOR_grant_table_op(GNTTABOP_query_size, out, 1);
}

int gnttab_init(const struct hvm_start_info *si, unsigned want)
{
	struct gnttab_query_size qs;
	long rc;

	if (want == 0 || want > GNTTAB_TABLE_SLOTS)
		return -EINVAL;
	rc = gnttab_query_size(DOMID_SELF, &qs);
	if (rc)
		return (int)rc;
	if (qs.status != GNTST_okay || qs.max_nr_frames < want)
		return -EINVAL;
	if (!area) {
		u64 a = find_area(si);

		if (!a)
			return -ENOSPC;
		for (u64 o = 0; o < GNTTAB_AREA_SIZE; o += SZ_2M)
			if (pt_map_2m(a + o, a + o, PTE_RW))
				return -ENOMEM;
		area = a;
	}
	/* Linux PVH: every frame with add_to_physmap, at frames it chose. */
	for (unsigned i = nr_frames; i < want; i++) {
		rc = add_to_physmap_grant(i, (area >> PAGE_SHIFT) + i);
		if (rc)
			return (int)rc;
		nr_frames = i + 1;
	}
	return 0;
}

u64 gnttab_area_gpa(void)
{
	return area;
}

unsigned gnttab_nr_frames(void)
{
	return nr_frames;
}

unsigned gnttab_nr_refs(void)
{
	return nr_frames * GNTTAB_ENTRIES_PER_FRAME;
}

struct grant_entry_v1 *gnttab_entry(grant_ref_t ref)
{
	return (struct grant_entry_v1 *)(uintptr_t)area + ref;
}

u64 gnttab_slot_gpa(unsigned i)
{
	return area + (u64)(GNTTAB_TABLE_SLOTS + i) * PAGE_SIZE;
}

void *gnttab_slot_va(unsigned i)
{
	return (void *)(uintptr_t)gnttab_slot_gpa(i);
}

/* ---- granting ------------------------------------------------------------- */

int gnttab_alloc_ref(void)
{
	/* A word at a time (a frontend with hundreds of grants out, as
	 * blkfront at queue depth 32, would otherwise scan them bit by bit
	 * for every page it grants); the reserved refs count as used. */
	for (unsigned w = 0; w * 64 < gnttab_nr_refs(); w++) {
		u64 used = ref_used[w];
		if (w == 0)
			used |= (1ULL << GNTTAB_NR_RESERVED_ENTRIES) - 1;
		if (used == ~0ULL)
			continue;
		unsigned r = w * 64 + (unsigned)__builtin_ctzll(~used);
		if (r >= gnttab_nr_refs())
			break;
		ref_used[w] |= 1ULL << (r % 64);
		return (int)r;
	}
	return -ENOSPC;
}

void gnttab_free_ref(grant_ref_t ref)
{
	if (ref < MAX_REFS)
		ref_used[ref / 64] &= ~(1ULL << (ref % 64));
}

void gnttab_grant_access_ref(grant_ref_t ref, domid_t domid, u64 gfn, bool readonly)
{
	struct grant_entry_v1 *e = gnttab_entry(ref);

	__atomic_store_n(&e->domid, domid, __ATOMIC_RELAXED);
	__atomic_store_n(&e->frame, (u32)gfn, __ATOMIC_RELAXED);
	/* wmb(): domid and frame are visible before the entry is valid. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->flags, (u16)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
			 __ATOMIC_RELAXED);
}

int gnttab_grant_access(domid_t domid, u64 gfn, bool readonly)
{
	int ref = gnttab_alloc_ref();

	if (ref >= 0)
		gnttab_grant_access_ref((grant_ref_t)ref, domid, gfn, readonly);
	return ref;
}

bool gnttab_end_access(grant_ref_t ref)
{
	u16 *flags = &gnttab_entry(ref)->flags;
	u16 old = __atomic_load_n(flags, __ATOMIC_ACQUIRE);

	/* The hypervisor sets GTF_reading/GTF_writing with its own
	 * compare-and-exchange: whichever wins, the other sees it. */
	do {
		if (old & (GTF_reading | GTF_writing))
			return false;
	} while (!__atomic_compare_exchange_n(flags, &old, 0, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return true;
}

u16 gnttab_flags(grant_ref_t ref)
{
	return __atomic_load_n(&gnttab_entry(ref)->flags, __ATOMIC_ACQUIRE);
}

/* ---- operations --------------------------------------------------------------- */

void gnttab_set_map_op(struct gnttab_map_grant_ref *op, u64 addr, u32 flags,
		       grant_ref_t ref, domid_t dom)
{
	memset(op, 0, sizeof(*op));
	op->host_addr = addr;
	op->flags = flags;
	op->ref = ref;
	op->dom = dom;
	op->status = GNTST_general_error; /* until the hypervisor says otherwise */
}

void gnttab_set_unmap_op(struct gnttab_unmap_grant_ref *op, u64 addr, grant_handle_t handle)
{
	memset(op, 0, sizeof(*op));
	op->host_addr = addr;
	op->handle = handle;
	op->status = GNTST_general_error;
}

long gnttab_map_refs(struct gnttab_map_grant_ref *ops, unsigned n)
{
	return HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, ops, n);
}

long gnttab_unmap_refs(struct gnttab_unmap_grant_ref *ops, unsigned n)
{
	return HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, ops, n);
}

long gnttab_copy(struct gnttab_copy *ops, unsigned n)
{
	return HYPERVISOR_grant_table_op(GNTTABOP_copy, ops, n);
}

const char *gntst_name(int status)
{
	static const char *const names[] = {
		"okay", "general_error", "bad_domain", "bad_gntref", "bad_handle",
		"bad_virt_addr", "bad_dev_addr", "no_device_space", "permission_denied",
		"bad_page", "bad_copy_arg", "address_too_big", "eagain", "no_space",
	};

	return status <= 0 && -status < (int)ARRAY_SIZE(names) ? names[-status] : "unknown";
}
