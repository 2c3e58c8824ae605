/*
 * Intel EPT (SDM vol. 3 29.3): the entry format the shared walker
 * (arch/x86/paging.c) uses for a domain's guest-physical tables, the EPT
 * pointer, invalidation (INVEPT / INVVPID, 29.4.3), and EPT violations and
 * misconfigurations.
 *
 * An EPT entry (29.3.2, tables 29-1 to 29-6):
 *   bit 0 read, bit 1 write, bit 2 execute ("present" = any of 0-2);
 *   leaves: bits 5:3 memory type (0 UC, 6 WB), bit 6 ignore PAT,
 *   bit 7 large page in a PDPTE (1 GiB) or PDE (2 MiB);
 *   bits 51:12 the physical address (of the table or page).
 * There is no user bit: PT_U means nothing here. Non-leaf entries grant
 * everything; a leaf's permissions are the mapping's.
 */
#include <lib/types.h>
#include <asm/paging.h>

#define EPT_R (1ULL << 0)
#define EPT_W (1ULL << 1)
#define EPT_X (1ULL << 2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK (7ULL << EPT_MT_SHIFT)
#define EPT_MT_UC 0ULL
#define EPT_MT_WB 6ULL
#define EPT_IGNORE_PAT (1ULL << 6)
#define EPT_LARGE (1ULL << 7)
#define EPT_ADDR_MASK 0x000ffffffffff000ULL
/* Bits 56:52 of a leaf are ignored (SDM vol. 3 table 29-6): what the
 * entry holds (PT_HELD_*, asm/paging.h). */
#define EPT_HELD_FOREIGN (1ULL << 52)
#define EPT_HELD_GRANT (1ULL << 53)

static u64 level_size(unsigned level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

/*
 * Permissions: PT_R/W/X have the same bit positions as EPT R/W/X. Write
 * without read, and execute without read on CPUs without execute-only
 * support, are misconfigurations (29.3.3.1): such requests are given read
 * access as well rather than building an entry the CPU rejects.
 */
static u64 ept_perm_bits(unsigned perms)
{
	u64 e = perms & EPT_RWX;

	if (e & (EPT_W | EPT_X))
		e |= EPT_R;
	return e;
}

bool ept_guest_pat;

/*
 * Memory types (SDM vol. 3 29.3.7.2, 12.5.2.2 table 12-7). The EPT type of
 * a leaf takes the place of the MTRRs; with "ignore PAT" clear it combines
 * with the type the guest's PAT picks for its own mapping, and with the
 * EPT type WB the guest's choice wins (WB+UC = UC, WB+WC = WC, ...). So:
 * - RAM: WB, the guest's PAT in force (ignore PAT clear) when the CPU
 *   loads the guest's IA32_PAT on entry (ept_guest_pat); without that
 *   control the hardware PAT would be the host's, and the guest's
 *   indexes would pick the host's types: then WB, PAT ignored.
 * - Device memory: UC with "ignore PAT", whatever the guest asks: a
 *   guest's WC mapping of a register page would let writes combine.
 */
static u64 ept_leaf(paddr_t pa, unsigned level, unsigned perms, enum memtype mt)
{
	u64 e = (pa & EPT_ADDR_MASK) | ept_perm_bits(perms);

	if (mt != MT_WB || !ept_guest_pat)
		e |= EPT_IGNORE_PAT;
	e |= (mt == MT_WB ? EPT_MT_WB : EPT_MT_UC) << EPT_MT_SHIFT;
	if (level > 1)
		e |= EPT_LARGE;
	if (perms & PT_HELD_FOREIGN)
		e |= EPT_HELD_FOREIGN;
	if (perms & PT_HELD_GRANT)
		e |= EPT_HELD_GRANT;
	return e;
}

/* Non-leaf: bits 7:3 are reserved (must be 0), all access granted here. */
static u64 ept_table(paddr_t pa)
{
	return (pa & EPT_ADDR_MASK) | EPT_RWX;
}

static bool ept_present(u64 e)
{
	return e & EPT_RWX;
}

static bool ept_is_large(u64 e)
{
	return e & EPT_LARGE;
}

static paddr_t ept_addr(u64 e, unsigned level)
{
	if (level > 1 && (e & EPT_LARGE))
		return e & EPT_ADDR_MASK & ~(level_size(level) - 1);
	return e & EPT_ADDR_MASK;
}

static unsigned ept_perms(u64 e)
{
	unsigned p = (unsigned)(e & EPT_RWX); /* PT_R/W/X share the positions */

	if (e & EPT_HELD_FOREIGN)
		p |= PT_HELD_FOREIGN;
	if (e & EPT_HELD_GRANT)
		p |= PT_HELD_GRANT;
	return p;
}

static enum memtype ept_memtype(u64 e)
{
	return ((e & EPT_MT_MASK) >> EPT_MT_SHIFT) == EPT_MT_WB ? MT_WB : MT_UC;
}

const struct pt_format ept_format = {
	.name = "EPT",
	.leaf = ept_leaf,
	.table = ept_table,
	.present = ept_present,
	.is_large = ept_is_large,
	.addr = ept_addr,
	.perms = ept_perms,
	.memtype = ept_memtype,
};

/* The host unit test (tests/unit/test_ept.c) compiles this file for the
 * entry format above only: what follows issues INVEPT/INVVPID and reads
 * the VMCS and the back end's state, which a user-mode test cannot link or
 * run. */
#ifndef UNIT_TEST

#include <keel/domain.h>
#include <keel/printk.h>
#include "vmcs.h"
#include "vmx.h"

/* EPTP (25.6.11): WB paging structures (bits 2:0 = 6), 4-level walk
 * (bits 5:3 = 3), no accessed/dirty flags, the PML4 address. */
u64 ept_pointer(const struct domain *d)
{
	return (d->arch.p2m.root & EPT_ADDR_MASK) | EPT_MT_WB | (3ULL << 3);
}

/*
 * Drops the guest-physical and combined translations cached for d's EPT
 * (29.4.3.1): single-context for that EPTP where the CPU can, else all
 * contexts. Linear-only mappings do not exist with EPT on, so INVVPID is
 * not needed for p2m changes.
 */
void vmx_p2m_flush(struct domain *d)
{
	bool ok;

	if (!d->arch.p2m.root)
		return;
	if (vmx.caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		ok = vmx_invept(INVEPT_SINGLE_CONTEXT, ept_pointer(d));
	else
		ok = vmx_invept(INVEPT_ALL_CONTEXT, 0);
	if (!ok)
		panic("VMX: INVEPT for d%u (EPTP 0x%lx) failed", d->id, ept_pointer(d));
}

static void flush_vpid(u16 vpid)
{
	bool ok;

	if (vmx.caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
		ok = vmx_invvpid(INVVPID_SINGLE_CONTEXT, vpid);
	else
		ok = vmx_invvpid(INVVPID_ALL_CONTEXT, 0);
	if (!ok)
		panic("VMX: INVVPID for VPID %u failed", vpid);
}

/*
 * Before a vCPU's first entry: its domain's EPTP and VPID may have been
 * used by an earlier domain whose tables were freed, so drop whatever is
 * cached for them. Also called when another vCPU of the same domain ran
 * last on this CPU: they share the VPID (d->arch.tag), but a guest expects
 * each vCPU's TLB to be its own.
 */
void vmx_flush_vcpu_first_entry(struct vcpu *v)
{
	vmx_p2m_flush(v->dom);
	if (vmx.vpid)
		flush_vpid((u16)v->dom->arch.tag);
	vmx_vcpu(v)->flushed = true;
}

void vmx_tlb_switch(struct vcpu *v)
{
	struct vcpu *prev = vmx_this_cpu.last_run;

	if (vmx.vpid && prev && prev != v && prev->dom == v->dom)
		flush_vpid((u16)v->dom->arch.tag);
}

void ept_npf_decode(u64 qual, struct npf_exit *npf)
{
	npf->access = ((qual & EPT_QUAL_READ) ? PT_R : 0) | ((qual & EPT_QUAL_WRITE) ? PT_W : 0) |
		      ((qual & EPT_QUAL_FETCH) ? PT_X : 0);
	/* Bits 3-5 are the access the translation granted; all clear means
	 * there was none (not present). */
	npf->present = qual & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE);
	npf->gva_valid = qual & EPT_QUAL_GLA_VALID;
}

/*
 * An EPT misconfiguration (29.3.3.1) means Keel wrote an entry the CPU
 * rejects (reserved bits, write-only, a bad memory type): a hypervisor
 * bug, never the guest's doing. Print the walk to the faulting address
 * and stop.
 */
void ept_misconfig(struct vcpu *v, gpa_t gpa)
{
	const struct pt *pt = &v->dom->arch.p2m;
	paddr_t table = pt->root;

	pr_err("VMX: EPT misconfiguration at guest-physical 0x%lx in d%u (EPTP 0x%lx):\n", gpa,
	       v->dom->id, ept_pointer(v->dom));
	for (unsigned level = 4; level >= 1 && table; level--) {
		unsigned idx = (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
		u64 e = ((const u64 *)pt_table_ptr(table))[idx];
		pr_err("  level %u entry %3u at 0x%lx: 0x%016lx\n", level, idx,
		       table + idx * 8, e);
		if (!ept_present(e) || level == 1 || ept_is_large(e))
			break;
		table = ept_addr(e, level);
	}
	panic("VMX: EPT misconfiguration: Keel built an invalid EPT entry (above)");
}

#endif /* !UNIT_TEST */
