/*
 * dom0's PV console backend against a hostile guest
 * (guest/dom0/console/cons_ring.c): the guest rewrites any byte of its
 * ring page, including every index, between the backend's reads and
 * writes.
 *
 * unit-sources: guest/dom0/console/cons_ring.c
 *
 * The page is a heap buffer of exactly sizeof(struct xencons_interface)
 * bytes, so a read or write outside it is an ASan report.
 *
 * Input: a sequence of operations: the guest writes an index or a run of
 * bytes anywhere in the page; the backend reads output (up to a size) or
 * writes input. Invariants: a read returns -EIO exactly when out_prod -
 * out_cons exceeds the ring, else min(that, max) bytes, which are the
 * ring's bytes at those (masked) positions, and out_cons advances by as
 * many; -EIO changes nothing; input likewise, never more than the room.
 */
#include <lib/errno.h>
#include "../../guest/dom0/console/cons_ring.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct xencons_interface *r = calloc(1, sizeof(*r));
	static char buf[4096], before[2048];

	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in) % 6;
		switch (op) {
		case 0: { /* the guest sets an index */
			u32 v = fuzz_u32(&in);
			XENCONS_RING_IDX *idx[] = { &r->in_cons, &r->in_prod, &r->out_cons,
						    &r->out_prod };
			*idx[fuzz_u8(&in) % 4] = v;
			break;
		}
		case 1: { /* the guest writes bytes somewhere in the page */
			u16 at = fuzz_u16(&in) % sizeof(*r);
			u8 n = fuzz_u8(&in);
			for (unsigned i = 0; i < n && at + i < sizeof(*r); i++)
				((u8 *)r)[at + i] = fuzz_u8(&in);
			break;
		}
		case 2:
		case 3: { /* the backend drains output */
			size_t max = fuzz_u16(&in) % (sizeof(buf) + 1);
			u32 cons = r->out_cons, prod = r->out_prod;
			memcpy(before, r->out, sizeof(before));
			int got = cons_ring_read_out(r, buf, max);
			if (prod - cons > sizeof(r->out)) {
				fuzz_check(got == -EIO, "read %d from a corrupt ring", got);
				fuzz_check(r->out_cons == cons, "out_cons moved on -EIO");
				break;
			}
			u32 want = prod - cons < max ? prod - cons : (u32)max;
			fuzz_check(got == (int)want, "read %d, want %u", got, want);
			for (int i = 0; i < got; i++)
				fuzz_check(buf[i] == before[MASK_XENCONS_IDX(cons + i, r->out)],
					   "byte %d differs", i);
			fuzz_check(r->out_cons == cons + want, "out_cons not advanced by %u", want);
			break;
		}
		case 4:
		case 5: { /* the backend writes input */
			u16 n = fuzz_u16(&in) % 3000;
			memset(buf, 'i', sizeof(buf) < n ? sizeof(buf) : n);
			u32 cons = r->in_cons, prod = r->in_prod;
			int put = cons_ring_write_in(r, buf, n);
			if (prod - cons > sizeof(r->in)) {
				fuzz_check(put == -EIO, "wrote %d into a corrupt ring", put);
				fuzz_check(r->in_prod == prod, "in_prod moved on -EIO");
				break;
			}
			u32 room = (u32)sizeof(r->in) - (prod - cons);
			fuzz_check(put == (int)(room < n ? room : n), "wrote %d, room %u, n %u", put,
				   room, n);
			fuzz_check(r->in_prod == prod + (u32)put, "in_prod not advanced");
			fuzz_check(r->in_prod - r->in_cons <= sizeof(r->in), "overfilled");
			break;
		}
		}
	}
	free(r);
	return 0;
}
