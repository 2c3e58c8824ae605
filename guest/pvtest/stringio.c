/*
 * role=stringio: INS/OUTS whose memory operand the guest's own page tables
 * refuse get the fault a CPU raises (kernel/io.c, guest_inject_access_fault
 * in arch/x86/guest_mem.c), and the domain lives on:
 *  - REP INSB backwards (DF=1) from a writable 2 MiB mapping into a
 *    read-only one below it: the two elements in the writable page land,
 *    the third raises #PF with error code P|W and CR2 = its address; RCX
 *    and RDI count the two done (the instruction is restartable).
 *  - REP OUTSB from an address nothing maps: #PF, error code 0 (not
 *    present, read, supervisor), CR2 = RSI, RCX untouched.
 *  - OUTSB from a non-canonical address: #GP(0).
 * The 2 MiB aliases map guest-physical 0 (below the image, unused by
 * pvtest); the two bytes written there are checked and put back.
 */
#include <public/keel_test.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"
#include "pvtest.h"

#define ALIAS      0x0000008000000000ULL /* PML4 slot 1: nothing else there */
#define UNMAPPED   0x0000400000000000ULL /* PML4 slot 128: never mapped */
#define NONCANON   0x8000000000001000ULL
#define PORT_BYTE  0xa5

struct string_result {
	int vector;
	u64 error, cr2, rcx, rsi_rdi;
};

#define EX_TABLE ".pushsection .ex_table, \"a\"\n.balign 8\n.quad 1b, 2b\n.popsection\n"

/* REP INSB from port into [rdi], DF as given; what the fault left. */
static struct string_result rep_insb(u16 port, u64 rdi, u64 count, bool backwards)
{
	struct string_result r;
	u64 rax;

	trap_fixup_vector = -1;
	asm volatile("cmpb $0, %b[bw]\n\tje 3f\n\tstd\n3:\n"
		     "1: rep insb\n2:\n\tcld\n" EX_TABLE
		     : "+D"(rdi), "+c"(count), "=a"(rax)
		     : "d"(port), [bw] "q"((u8)backwards) : "memory", "cc");
	r = (struct string_result){ trap_fixup_vector, trap_fixup_error, trap_fixup_cr2, count,
				    rdi };
	return r;
}

/* REP OUTSB of count bytes at [rsi] to port. */
static struct string_result rep_outsb(u16 port, u64 rsi, u64 count)
{
	struct string_result r;
	u64 rax;

	trap_fixup_vector = -1;
	asm volatile("1: rep outsb\n2:\n" EX_TABLE
		     : "+S"(rsi), "+c"(count), "=a"(rax) : "d"(port) : "memory", "cc");
	r = (struct string_result){ trap_fixup_vector, trap_fixup_error, trap_fixup_cr2, count,
				    rsi };
	return r;
}

static void expect_fault(const char *what, const struct string_result *r, int vector, u64 error,
			 u64 cr2, u64 rcx, u64 reg)
{
	if (r->vector != vector || r->error != error || r->cr2 != cr2 || r->rcx != rcx ||
	    r->rsi_rdi != reg)
		fail("%s: vector %d error 0x%lx CR2 0x%lx RCX %lu RSI/RDI 0x%lx; want vector %d "
		     "error 0x%lx CR2 0x%lx RCX %lu RSI/RDI 0x%lx", what, r->vector, r->error,
		     r->cr2, r->rcx, r->rsi_rdi, vector, error, cr2, rcx, reg);
	printf("pvtest: stringio: %s: %s error 0x%lx CR2 0x%lx, RCX %lu left\n", what,
	       trap_name((unsigned)vector), error, cr2, rcx);
}

void role_stringio(void)
{
	volatile u8 *low = (volatile u8 *)(uintptr_t)ALIAS + SZ_2M; /* = guest-physical 0 */
	u8 saved[2];

	/* ALIAS: read-only view of guest-physical 0; ALIAS + 2 MiB: writable. */
	if (pt_map_2m(ALIAS, 0, 0) || pt_map_2m(ALIAS + SZ_2M, 0, PTE_RW))
		fail("cannot build the 2 MiB aliases of guest-physical 0");
	saved[0] = low[0];
	saved[1] = low[1];
	outl(KEEL_TEST_PORT, PORT_BYTE);

	struct string_result r = rep_insb(KEEL_TEST_PORT, ALIAS + SZ_2M + 1, 4, true);
	expect_fault("REP INSB into a read-only page", &r, 14, 3, ALIAS + SZ_2M - 1, 2,
		     ALIAS + SZ_2M - 1);
	if (low[0] != PORT_BYTE || low[1] != PORT_BYTE)
		fail("REP INSB: the elements before the fault wrote 0x%x 0x%x, want 0x%x", low[0],
		     low[1], PORT_BYTE);
	low[0] = saved[0];
	low[1] = saved[1];

	r = rep_outsb(0xe9, UNMAPPED, 3);
	expect_fault("REP OUTSB from an unmapped page", &r, 14, 0, UNMAPPED, 3, UNMAPPED);

	r = rep_outsb(0xe9, NONCANON, 1);
	expect_fault("OUTSB from a non-canonical address", &r, 13, 0, 0, 1, NONCANON);

	pt_unmap_2m(ALIAS);
	pt_unmap_2m(ALIAS + SZ_2M);
	printf("pvtest: stringio: PASS every fault as a CPU raises it; the domain lives on\n");
}
