/*
 * dom0's grant-table self-test (cmdline `test=grant`): grant_table_op and
 * XENMEM_add_to_physmap from inside a guest, with dom0 granting pages to
 * itself (Xen lets a domain map and copy its own grants, and Keel
 * follows). One line per check,
 *
 *     dom0: test grant-<name>: PASS|FAIL <detail>
 *
 * then `dom0: tests done: N passed, M failed`, then power-off. Statuses
 * are Xen's GNTST_* values; tests/grant/test_grant.py reads the lines.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "dom0.h"
#include "selftests.h"
#include "gnttab.h"
#include "guest.h"
#include "selftest.h"
#include "pages.h"
#include "hypercall.h"

#define SELF 0 /* dom0's own id, as a grant entry names it */

static struct selftest tally = { .prefix = "grant-" };

/* Pages of dom0's own RAM (identity-mapped, 1:1 with host memory). */
static u8 page_a[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_b[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_c[PAGE_SIZE] __aligned(PAGE_SIZE);

/* Batches: module-level so they stay off the small stack. */
static struct gnttab_map_grant_ref maps[64];
static struct gnttab_unmap_grant_ref unmaps[64];
static struct gnttab_copy copies[200];

#define check(name, ok, ...) selftest_check(&tally, name, ok, __VA_ARGS__)

/* An address no page table maps: hypercall arguments there fault. */
#define UNMAPPED_VA 0x00007f0000000000ULL

/* One map; returns the status, *h the handle. */
static int map1(grant_ref_t ref, domid_t dom, u64 gpa, u32 flags, grant_handle_t *h,
		u64 *bus)
{
	struct gnttab_map_grant_ref op;
	long rc;

	gnttab_set_map_op(&op, gpa, flags, ref, dom);
	rc = gnttab_map_refs(&op, 1);
	if (rc)
		return (int)rc - 1000; /* distinguishable from a GNTST_* */
	if (h)
		*h = op.handle;
	if (bus)
		*bus = op.dev_bus_addr;
	return op.status;
}

static int unmap1(u64 gpa, grant_handle_t h)
{
	struct gnttab_unmap_grant_ref op;
	long rc;

	gnttab_set_unmap_op(&op, gpa, h);
	rc = gnttab_unmap_refs(&op, 1);
	return rc ? (int)rc - 1000 : op.status;
}

static struct gnttab_copy copy_op(u64 src, domid_t sdom, u16 soff, u64 dst, domid_t ddom,
				  u16 doff, u16 len, u16 flags)
{
	struct gnttab_copy op;

	memset(&op, 0, sizeof(op));
	if (flags & GNTCOPY_source_gref)
		op.source.u.ref = (grant_ref_t)src;
	else
		op.source.u.gmfn = src;
	if (flags & GNTCOPY_dest_gref)
		op.dest.u.ref = (grant_ref_t)dst;
	else
		op.dest.u.gmfn = dst;
	op.source.domid = sdom;
	op.source.offset = soff;
	op.dest.domid = ddom;
	op.dest.offset = doff;
	op.len = len;
	op.flags = flags;
	op.status = 99;
	return op;
}

static int copy1(struct gnttab_copy op)
{
	long rc = gnttab_copy(&op, 1);

	return rc ? (int)rc - 1000 : op.status;
}

/* ---- the checks ------------------------------------------------------------ */

static void test_query_size(void)
{
	struct gnttab_query_size qs;
	long rc, rc0, bad, cnt, fault;
	int st0;

	rc = gnttab_query_size(DOMID_SELF, &qs);
	check("query-size", rc == 0 && qs.status == GNTST_okay && qs.nr_frames >= 1 &&
	      qs.max_nr_frames == 32, "rc %ld status %d nr_frames %u max %u", rc, qs.status,
	      qs.nr_frames, qs.max_nr_frames);

	rc0 = gnttab_query_size(SELF, &qs);
	st0 = qs.status;
	bad = gnttab_query_size(1234, &qs);
	check("query-size-bad-domain", rc0 == 0 && st0 == GNTST_okay && bad == 0 &&
	      qs.status == GNTST_bad_domain, "own id: rc %ld status %d; dom 1234: rc %ld %s",
	      rc0, st0, bad, gntst_name(qs.status));

	cnt = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 2);
	fault = HYPERVISOR_grant_table_op(GNTTABOP_query_size, (void *)UNMAPPED_VA, 1);
	check("query-size-bad-call", cnt == -EINVAL && fault == -EFAULT,
	      "count 2: %ld (want %d); unmapped: %ld (want %d)", cnt, -EINVAL, fault, -EFAULT);
}

static void test_versions(void)
{
	struct gnttab_set_version sv;
	struct gnttab_get_version gv;
	long r1, r2, r0, rg, rbad;
	u32 v1;

	sv.version = 1;
	r1 = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1);
	v1 = sv.version;
	sv.version = 2;
	r2 = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1);
	sv.version = 0;
	r0 = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1);
	check("set-version", r1 == 0 && v1 == 1 && r2 == -ENOSYS && r0 == -EINVAL &&
	      sv.version == 1, "v1: %ld (version %u); v2: %ld (want %d); v0: %ld (want %d)",
	      r1, v1, r2, -ENOSYS, r0, -EINVAL);

	memset(&gv, 0, sizeof(gv));
	gv.dom = DOMID_SELF;
	rg = HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1);
	gv.dom = 1234;
	rbad = HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1);
	check("get-version", rg == 0 && gv.version == 1 && rbad == -ESRCH,
	      "self: %ld version %u; dom 1234: %ld (want %d)", rg, gv.version, rbad, -ESRCH);
}

static bool test_init(const struct hvm_start_info *si)
{
	int rc = gnttab_init(si, 2);

	check("add-to-physmap", rc == 0 && gnttab_nr_frames() == 2,
	      "gnttab_init: %d; 2 frames at gpa 0x%lx", rc, gnttab_area_gpa());
	return rc == 0;
}

static void test_setup_table(void)
{
	static xen_pfn_t frames[4];
	struct gnttab_setup_table st;
	u64 base = gnttab_area_gpa() >> PAGE_SHIFT;
	long rc, rc_big, rc_dom, rc_fault, rc_cnt;
	int s_big, s_dom, s_fault;

	memset(&st, 0, sizeof(st));
	st.dom = DOMID_SELF;
	st.nr_frames = 2;
	st.frame_list = (u64)(uintptr_t)frames;
	rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	check("setup-table", rc == 0 && st.status == GNTST_okay && frames[0] == base &&
	      frames[1] == base + 1, "rc %ld status %d frames 0x%lx 0x%lx (placed at 0x%lx)",
	      rc, st.status, frames[0], frames[1], base);

	st.nr_frames = 33;
	rc_big = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	s_big = st.status;
	st.nr_frames = 1;
	st.dom = 1234;
	rc_dom = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	s_dom = st.status;
	st.dom = DOMID_SELF;
	st.frame_list = UNMAPPED_VA;
	rc_fault = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	s_fault = st.status;
	rc_cnt = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 0);
	check("setup-table-bad-input", rc_big == 0 && s_big == GNTST_general_error &&
	      rc_dom == 0 && s_dom == GNTST_bad_domain && rc_fault == 0 &&
	      s_fault == GNTST_bad_virt_addr && rc_cnt == -EINVAL,
	      "33 frames %s; d1234 %s; bad frame_list %s; count 0 %ld",
	      gntst_name(s_big), gntst_name(s_dom), gntst_name(s_fault), rc_cnt);
}

static void test_map_self(void)
{
	grant_ref_t ref;
	grant_handle_t h = 0;
	u64 bus = 0;
	u16 in_use, after;
	bool ended_while_mapped, ended, same = true;
	volatile u8 *slot = gnttab_slot_va(0);
	int st, ust;
	int r = gnttab_grant_access(SELF, virt_to_gfn(page_a), false);

	if (r < 0) {
		check("map-self", false, "no free ref: %d", r);
		return;
	}
	ref = (grant_ref_t)r;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		page_a[i] = (u8)(i ^ 0x5a);
	st = map1(ref, SELF, gnttab_slot_gpa(0), GNTMAP_host_map, &h, &bus);
	in_use = gnttab_flags(ref);
	if (st == GNTST_okay) {
		for (unsigned i = 0; i < PAGE_SIZE; i++)
			same &= slot[i] == (u8)(i ^ 0x5a);
		slot[100] = 0xc3; /* through the mapping, seen in the page */
		same &= page_a[100] == 0xc3;
	}
	ended_while_mapped = gnttab_end_access(ref);
	ust = st == GNTST_okay ? unmap1(gnttab_slot_gpa(0), h) : -99;
	after = gnttab_flags(ref);
	ended = gnttab_end_access(ref);
	gnttab_free_ref(ref);
	check("map-self", st == GNTST_okay && bus == virt_to_phys(page_a) && same &&
	      in_use == (GTF_permit_access | GTF_reading | GTF_writing) && !ended_while_mapped &&
	      ust == GNTST_okay && after == GTF_permit_access && ended,
	      "map %s, bus 0x%lx (page 0x%lx), data %s, flags 0x%x then 0x%x, "
	      "end %s/%s, unmap %s", gntst_name(st), bus, virt_to_phys(page_a),
	      same ? "ok" : "BAD", in_use, after, ended_while_mapped ? "REVOKED" : "refused",
	      ended ? "revoked" : "REFUSED", gntst_name(ust));
}

static void test_map_readonly(void)
{
	int r = gnttab_grant_access(SELF, virt_to_gfn(page_b), true);
	grant_handle_t h = 0;
	u16 f_refused, f_mapped, f_after;
	int st_rw, st_ro, ust = -99;
	bool same = false;

	if (r < 0) {
		check("map-readonly", false, "no free ref: %d", r);
		return;
	}
	page_b[7] = 0x77;
	st_rw = map1((grant_ref_t)r, SELF, gnttab_slot_gpa(1), GNTMAP_host_map, NULL, NULL);
	f_refused = gnttab_flags((grant_ref_t)r);
	st_ro = map1((grant_ref_t)r, SELF, gnttab_slot_gpa(1), GNTMAP_host_map | GNTMAP_readonly,
		     &h, NULL);
	f_mapped = gnttab_flags((grant_ref_t)r);
	if (st_ro == GNTST_okay) {
		same = ((volatile u8 *)gnttab_slot_va(1))[7] == 0x77;
		ust = unmap1(gnttab_slot_gpa(1), h);
	}
	f_after = gnttab_flags((grant_ref_t)r);
	gnttab_end_access((grant_ref_t)r);
	gnttab_free_ref((grant_ref_t)r);
	check("map-readonly", st_rw == GNTST_general_error &&
	      f_refused == (GTF_permit_access | GTF_readonly) && st_ro == GNTST_okay && same &&
	      f_mapped == (GTF_permit_access | GTF_readonly | GTF_reading) &&
	      ust == GNTST_okay && f_after == (GTF_permit_access | GTF_readonly),
	      "rw map %s (flags 0x%x), ro map %s (0x%x, data %s), unmap %s (0x%x)",
	      gntst_name(st_rw), f_refused, gntst_name(st_ro), f_mapped, same ? "ok" : "BAD",
	      gntst_name(ust), f_after);
}

static void test_bad_ref_status(void)
{
	int good = gnttab_grant_access(SELF, virt_to_gfn(page_c), false);
	int other = gnttab_grant_access(7, virt_to_gfn(page_c), false);
	int unused = gnttab_alloc_ref(); /* entry never filled: GTF_invalid */
	u64 slot = gnttab_slot_gpa(2);
	grant_handle_t h = 0;
	int st[10], ust[4];

	/* Printed in this order: a ref beyond the table, no map flags,
	 * device_map, dom 1234, an entry never filled, an entry granted to d7,
	 * a gpa over dom0's own RAM, DOMID_SELF as the granter. */
	st[0] = map1(gnttab_nr_refs(), SELF, slot, GNTMAP_host_map, NULL, NULL);
	st[1] = map1((grant_ref_t)good, SELF, slot, 0, NULL, NULL);
	st[2] = map1((grant_ref_t)good, SELF, slot, GNTMAP_host_map | GNTMAP_device_map, NULL,
		     NULL);
	st[3] = map1((grant_ref_t)good, 1234, slot, GNTMAP_host_map, NULL, NULL);
	st[4] = map1((grant_ref_t)unused, SELF, slot, GNTMAP_host_map, NULL, NULL);
	st[5] = map1((grant_ref_t)other, SELF, slot, GNTMAP_host_map, NULL, NULL);
	/* Over dom0's own RAM: only holes take grant mappings. */
	st[6] = map1((grant_ref_t)good, SELF, virt_to_phys(page_b), GNTMAP_host_map, NULL, NULL);
	st[7] = map1((grant_ref_t)good, DOMID_SELF, slot, GNTMAP_host_map, NULL, NULL);
	check("bad-ref-status",
	      st[0] == GNTST_bad_gntref && st[1] == GNTST_bad_gntref &&
	      st[2] == GNTST_general_error && st[3] == GNTST_bad_domain &&
	      st[4] == GNTST_general_error && st[5] == GNTST_general_error &&
	      st[6] == GNTST_general_error && st[7] == GNTST_bad_domain &&
	      gnttab_flags((grant_ref_t)good) == GTF_permit_access,
	      "%d %d %d %d %d %d %d %d (want -3 -3 -1 -2 -1 -1 -1 -2)", st[0], st[1], st[2],
	      st[3], st[4], st[5], st[6], st[7]);

	st[8] = map1((grant_ref_t)good, SELF, slot, GNTMAP_host_map, &h, NULL);
	ust[0] = unmap1(slot, 9999);
	ust[1] = unmap1(slot + PAGE_SIZE, h);
	ust[2] = unmap1(slot, h);
	ust[3] = unmap1(slot, h);
	check("unmap-bad-handle", st[8] == GNTST_okay && ust[0] == GNTST_bad_handle &&
	      ust[1] == GNTST_general_error && ust[2] == GNTST_okay &&
	      ust[3] == GNTST_bad_handle && gnttab_flags((grant_ref_t)good) == GTF_permit_access,
	      "map %s; handle 9999 %s; wrong gpa %s; unmap %s; again %s", gntst_name(st[8]),
	      gntst_name(ust[0]), gntst_name(ust[1]), gntst_name(ust[2]), gntst_name(ust[3]));

	gnttab_end_access((grant_ref_t)good);
	gnttab_end_access((grant_ref_t)other);
	gnttab_free_ref((grant_ref_t)good);
	gnttab_free_ref((grant_ref_t)other);
	gnttab_free_ref((grant_ref_t)unused);
}

static void test_batch(void)
{
	int r = gnttab_grant_access(SELF, virt_to_gfn(page_c), true);
	long rc, urc;

	gnttab_set_map_op(&maps[0], gnttab_slot_gpa(3), GNTMAP_host_map | GNTMAP_readonly,
			  (grant_ref_t)r, SELF);
	gnttab_set_map_op(&maps[1], gnttab_slot_gpa(4), GNTMAP_host_map | GNTMAP_readonly,
			  0xffffff, SELF);
	gnttab_set_map_op(&maps[2], gnttab_slot_gpa(5), GNTMAP_host_map | GNTMAP_readonly,
			  (grant_ref_t)r, SELF);
	rc = gnttab_map_refs(maps, 3);
	gnttab_set_unmap_op(&unmaps[0], gnttab_slot_gpa(3), maps[0].handle);
	gnttab_set_unmap_op(&unmaps[1], gnttab_slot_gpa(5), maps[2].handle);
	urc = gnttab_unmap_refs(unmaps, 2);
	check("batch-statuses", rc == 0 && maps[0].status == GNTST_okay &&
	      maps[1].status == GNTST_bad_gntref && maps[2].status == GNTST_okay &&
	      maps[0].handle != maps[2].handle && urc == 0 && unmaps[0].status == GNTST_okay &&
	      unmaps[1].status == GNTST_okay && gnttab_flags((grant_ref_t)r) ==
	      (GTF_permit_access | GTF_readonly),
	      "map rc %ld: %s %s %s; unmap rc %ld: %s %s", rc, gntst_name(maps[0].status),
	      gntst_name(maps[1].status), gntst_name(maps[2].status), urc,
	      gntst_name(unmaps[0].status), gntst_name(unmaps[1].status));
	gnttab_end_access((grant_ref_t)r);
	gnttab_free_ref((grant_ref_t)r);
}

static void test_copy(void)
{
	u64 ga = virt_to_gfn(page_a), gb = virt_to_gfn(page_b);
	int ro = gnttab_grant_access(SELF, ga, true);
	int rw = gnttab_grant_access(SELF, gb, false);
	int st[10];
	bool same_frames = true, same_gref = true;

	for (unsigned i = 0; i < PAGE_SIZE; i++) {
		page_a[i] = (u8)(i * 13 + 1);
		page_b[i] = 0;
	}
	st[0] = copy1(copy_op(ga, DOMID_SELF, 0, gb, DOMID_SELF, 0, PAGE_SIZE, 0));
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		same_frames &= page_b[i] == page_a[i];
	check("copy-self", st[0] == GNTST_okay && same_frames, "frame to frame: %s, bytes %s",
	      gntst_name(st[0]), same_frames ? "copied" : "DIFFER");

	memset(page_c, 0, PAGE_SIZE);
	st[1] = copy1(copy_op((grant_ref_t)ro, SELF, 10, virt_to_gfn(page_c), DOMID_SELF, 20,
			      100, GNTCOPY_source_gref));
	st[2] = copy1(copy_op(virt_to_gfn(page_c), DOMID_SELF, 20, (grant_ref_t)rw, SELF, 3000,
			      100, GNTCOPY_dest_gref));
	for (unsigned i = 0; i < 100; i++)
		same_gref &= page_c[20 + i] == page_a[10 + i] && page_b[3000 + i] == page_a[10 + i];
	check("copy-gref", st[1] == GNTST_okay && st[2] == GNTST_okay && same_gref &&
	      gnttab_flags((grant_ref_t)ro) == (GTF_permit_access | GTF_readonly) &&
	      gnttab_flags((grant_ref_t)rw) == GTF_permit_access,
	      "from ro grant %s, into grant %s, data %s, flags after 0x%x 0x%x",
	      gntst_name(st[1]), gntst_name(st[2]), same_gref ? "copied" : "DIFFER",
	      gnttab_flags((grant_ref_t)ro), gnttab_flags((grant_ref_t)rw));

	/* Printed in this order: into a read-only grant, a frame named by
	 * dom0's id (only DOMID_SELF may name frames), source and destination
	 * beyond the page, a ref beyond the table, a frame that is a hole, len
	 * 0 with garbage elsewhere. */
	st[3] = copy1(copy_op(ga, DOMID_SELF, 0, (grant_ref_t)ro, SELF, 0, 8, GNTCOPY_dest_gref));
	st[4] = copy1(copy_op(ga, SELF, 0, gb, DOMID_SELF, 0, 8, 0));
	st[5] = copy1(copy_op(ga, DOMID_SELF, 4000, gb, DOMID_SELF, 0, 200, 0));
	st[6] = copy1(copy_op(ga, DOMID_SELF, 0, gb, DOMID_SELF, 4095, 2, 0));
	st[7] = copy1(copy_op(gnttab_nr_refs() + 5, SELF, 0, gb, DOMID_SELF, 0, 8,
			      GNTCOPY_source_gref));
	st[8] = copy1(copy_op(gnttab_slot_gpa(9) >> PAGE_SHIFT, DOMID_SELF, 0, gb, DOMID_SELF,
			      0, 8, 0));
	st[9] = copy1(copy_op(0x123456789ULL, 999, 0, 1, 999, 0, 0, 0));
	check("copy-bad-input", st[3] == GNTST_general_error &&
	      st[4] == GNTST_permission_denied && st[5] == GNTST_bad_copy_arg &&
	      st[6] == GNTST_bad_copy_arg && st[7] == GNTST_bad_gntref &&
	      st[8] == GNTST_bad_page && st[9] == GNTST_okay,
	      "%d %d %d %d %d %d %d (want -1 -8 -10 -10 -3 -9 0)", st[3], st[4], st[5], st[6],
	      st[7], st[8], st[9]);

	gnttab_end_access((grant_ref_t)ro);
	gnttab_end_access((grant_ref_t)rw);
	gnttab_free_ref((grant_ref_t)ro);
	gnttab_free_ref((grant_ref_t)rw);
}

/* More operations than the hypervisor does per entry: the call goes on
 * in continuations and every element is done. */
static void test_copy_continuation(void)
{
	unsigned n = ARRAY_SIZE(copies), ok = 0;
	long rc;
	bool same = true;

	for (unsigned i = 0; i < PAGE_SIZE; i++) {
		page_a[i] = (u8)(i * 3 + 7);
		page_c[i] = 0;
	}
	for (unsigned i = 0; i < n; i++)
		copies[i] = copy_op(virt_to_gfn(page_a), DOMID_SELF, (u16)(i * 16),
				    virt_to_gfn(page_c), DOMID_SELF, (u16)(i * 16), 16, 0);
	rc = gnttab_copy(copies, n);
	for (unsigned i = 0; i < n; i++)
		ok += copies[i].status == GNTST_okay;
	for (unsigned i = 0; i < n * 16; i++)
		same &= page_c[i] == page_a[i];
	check("copy-continuation", rc == 0 && ok == n && same,
	      "%u copies in one call: rc %ld, %u okay, bytes %s", n, rc, ok,
	      same ? "copied" : "DIFFER");
}

static void test_hostile_counts(void)
{
	long neg, fault, unknown, opaque, zero;

	/* Printed in this order: count 2^31 (negative as int), 2^31-1 ops at
	 * an unmapped address, GNTTABOP_transfer (not for PVH), a cmd with
	 * Xen's continuation bits, count 0 at an unmapped address. */
	neg = HYPERVISOR_grant_table_op(GNTTABOP_copy, copies, 0x80000000u);
	fault = HYPERVISOR_grant_table_op(GNTTABOP_copy, (void *)UNMAPPED_VA, 0x7fffffffu);
	unknown = HYPERVISOR_grant_table_op(GNTTABOP_transfer, copies, 1);
	opaque = HYPERVISOR_grant_table_op(GNTTABOP_copy | (1u << 12), copies, 1);
	zero = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, (void *)UNMAPPED_VA, 0);
	check("hostile-counts", neg == -EINVAL && fault == -EFAULT && unknown == -ENOSYS &&
	      opaque == -ENOSYS && zero == 0,
	      "%ld %ld %ld %ld %ld (want -22 -14 -38 -38 0)", neg, fault, unknown, opaque, zero);
}

/*
 * Keel keeps 10,240 mappings for dom0 (1024 for an unprivileged domain):
 * map one read-only grant until the handles run out (GNTST_no_space), at
 * holes above the window, then unmap them all; the entry's in-use flag
 * follows.
 */
static struct {
	u64 gpa;
	grant_handle_t handle;
} held[10240 + 64];

static void test_handle_exhaustion(void)
{
	int r = gnttab_grant_access(SELF, virt_to_gfn(page_c), true);
	u64 base = gnttab_area_gpa() + GNTTAB_AREA_SIZE, next = base;
	unsigned mapped = 0, unmapped = 0;
	int last = GNTST_okay;
	long rc = 0;
	u16 f_full;

	while (last == GNTST_okay && mapped + ARRAY_SIZE(maps) <= ARRAY_SIZE(held)) {
		for (unsigned i = 0; i < ARRAY_SIZE(maps); i++, next += PAGE_SIZE)
			gnttab_set_map_op(&maps[i], next, GNTMAP_host_map | GNTMAP_readonly,
					  (grant_ref_t)r, SELF);
		rc = gnttab_map_refs(maps, ARRAY_SIZE(maps));
		if (rc)
			break;
		for (unsigned i = 0; i < ARRAY_SIZE(maps); i++) {
			if (maps[i].status == GNTST_okay) {
				held[mapped].gpa = maps[i].host_addr;
				held[mapped++].handle = maps[i].handle;
			} else if (last == GNTST_okay) {
				last = maps[i].status;
			}
		}
	}
	f_full = gnttab_flags((grant_ref_t)r);
	for (unsigned i = 0; i < mapped; i++)
		unmapped += unmap1(held[i].gpa, held[i].handle) == GNTST_okay;
	check("handle-exhaustion", rc == 0 && mapped == 10240 && last == GNTST_no_space &&
	      unmapped == mapped && f_full == (GTF_permit_access | GTF_readonly | GTF_reading) &&
	      gnttab_flags((grant_ref_t)r) == (GTF_permit_access | GTF_readonly),
	      "%u maps, then %s (rc %ld); %u unmapped; flags 0x%x then 0x%x", mapped,
	      gntst_name(last), rc, unmapped, f_full, gnttab_flags((grant_ref_t)r));
	gnttab_end_access((grant_ref_t)r);
	gnttab_free_ref((grant_ref_t)r);
}

static void test_swap(void)
{
	struct gnttab_swap_grant_ref sw = { .ref_a = 100, .ref_b = 101, .status = 99 };
	long rc;

	gnttab_grant_access_ref(100, SELF, 0x1111, true);
	gnttab_grant_access_ref(101, 5, 0x2222, false);
	rc = HYPERVISOR_grant_table_op(GNTTABOP_swap_grant_ref, &sw, 1);
	check("swap", rc == 0 && sw.status == GNTST_okay && gnttab_entry(100)->domid == 5 &&
	      gnttab_entry(100)->frame == 0x2222 && gnttab_entry(101)->frame == 0x1111,
	      "rc %ld %s; entry 100 now d%u frame 0x%x", rc, gntst_name(sw.status),
	      gnttab_entry(100)->domid, gnttab_entry(100)->frame);
	gnttab_end_access(100);
	gnttab_end_access(101);
}

__noreturn void grant_test_run(const struct hvm_start_info *si, const char *which)
{
	(void)which;
	puts("dom0: grant-table self-test");
	test_query_size();
	test_versions();
	if (test_init(si)) {
		test_setup_table();
		test_map_self();
		test_map_readonly();
		test_bad_ref_status();
		test_batch();
		test_copy();
		test_copy_continuation();
		test_hostile_counts();
		test_handle_exhaustion();
		test_swap();
	}
	printf("dom0: tests done: %u passed, %u failed\n", tally.passed, tally.failed);
	guest_poweroff();
}
