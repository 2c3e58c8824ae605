/*
 * What dom0 and the hypervisor hold for domains, counted in one place so
 * leak checks compare the same things (guest/dom0/domain/counts.c): the
 * teardown scenario after every cycle, the shell's `counts` command
 * around a Linux guest's create and destroy (tests/linux).
 */
#ifndef GUEST_DOM0_COUNTS_H
#define GUEST_DOM0_COUNTS_H

#include <lib/types.h>

struct dom0_counts {
	u64 free_pages;  /* the hypervisor's free pages */
	u64 pool;        /* dom0's free pool pages (guest/lib/pages.h) */
	u64 store_bytes; /* xenstored's allocator, bytes in use */
	u32 ports;       /* event-channel ports in use, every domain */
	u32 grant_maps;  /* grant mappings held, every domain */
	u32 domains;
	u32 nodes;       /* xenstore nodes */
	u32 blk_devs;    /* blkback's devices */
	u32 vifs, mapped, channels; /* netback's vifs, ring mappings, channels */
	u32 br_ports;    /* xenbr0's ports (0 without the network service) */
};

/* Fills *k now. 0, or the -errno of the hypervisor's count sysctl. */
int dom0_counts_now(struct dom0_counts *k);

/* Prints k as two lines, each starting with `prefix`:
 *   PREFIXfree pages N, ports N, grant maps N, domains N, pool N, nodes N, store bytes N
 *   PREFIXblkback devices N, netback vifs N mapped N channels N, bridge ports N */
void dom0_counts_print(const char *prefix, const struct dom0_counts *k);

#endif
