/*
 * The backend's side of one PV console ring (include/public/io/
 * console.h), as pure functions over the shared page so that the host
 * tests them (tests/unit/test_cons_ring.c). The page is the guest's: it
 * may rewrite any index at any time. Each call reads the indices once,
 * refuses a ring whose producer claims more than the ring holds (or a
 * consumer past its producer), and only ever touches bytes inside the
 * page (indices are masked).
 */
#ifndef GUEST_DOM0_CONS_RING_H
#define GUEST_DOM0_CONS_RING_H

#include <lib/types.h>
#include <public/io/console.h>

/* Takes up to `max` bytes the guest wrote (out[]) into dst and advances
 * out_cons. Returns how many, or -EIO if the indices are out of range
 * (out_prod - out_cons > sizeof(out)); then nothing is read or changed. */
int cons_ring_read_out(struct xencons_interface *r, char *dst, size_t max);

/* Puts up to n bytes of input for the guest into in[] and advances
 * in_prod. Returns how many fitted, or -EIO if the indices are out of
 * range (in_prod - in_cons > sizeof(in)). */
int cons_ring_write_in(struct xencons_interface *r, const char *src, size_t n);

#endif
