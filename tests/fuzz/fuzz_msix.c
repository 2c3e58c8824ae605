/*
 * The MSI-X table trap (kernel/msix.c): dom0's reads and writes of a
 * device's MSI-X table pages, through the MMIO handler msix_protect()
 * registers, while the hypervisor programs and masks entries
 * (msix_entry_program, as PHYSDEVOP_map_pirq does).
 *
 * msix.c is included (no unit-sources line; tests/fuzz/fuzz.mk names it as
 * a dependency) so that its static table list can start empty for each
 * input.
 *
 * Input: the capability's control word and table register (table size,
 * BIR 0-7, offset) and the BAR sizes, as a device reports them; then a
 * sequence of accesses. The BAR's memory is a heap buffer (the direct map
 * is the identity here), so an access outside it is an ASan report.
 *
 * Invariants (keel/msix.h): dom0 never changes an entry's message address
 * or data (they stay what the hypervisor last wrote); a dom0 write that
 * lies entirely outside the table, or is exactly one entry's vector
 * control dword, reaches the device; msix_table_info accepts only a table
 * inside a memory BAR.
 */
#include "../../kernel/msix.c"

#include "fuzz.h"

#define BAR_MAX (64u << 10)

static u8 cfg[256];
/* kernel/pci.c's table: msix.c keeps one trap per entry of it. */
struct pci_func pci_funcs[PCI_MAX_FUNCS];
unsigned pci_nr_funcs = 1;
static struct pci_func *const fn = &pci_funcs[0];
static struct mmio_handler trap;
static bool trapped;
static u8 *bar_mem;
static u32 shadow[1024][3]; /* what the hypervisor last wrote: addr lo, hi, data */

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
	u32 v = 0;
	(void)bdf;
	if (reg + size <= sizeof(cfg))
		memcpy(&v, cfg + reg, size);
	return v;
}

int hostpt_map_mmio(u64 pa, u64 len)
{
	(void)pa;
	(void)len;
	return 0;
}

int mmio_register(const struct mmio_handler *h)
{
	trap = *h;
	trapped = true;
	return 0;
}

bool passthrough_mmio_ok(u64 base, u64 len, const char **why)
{
	(void)base;
	(void)len;
	(void)why;
	return true;
}

int mmio_unregister(gpa_t base, u16 domid)
{
	(void)base;
	(void)domid;
	trapped = false;
	return 0;
}

int p2m_unmap(struct domain *d, gpa_t gpa, u64 size)
{
	(void)d;
	(void)gpa;
	(void)size;
	return 0;
}

static u32 rd32(u64 pa)
{
	u32 v;
	memcpy(&v, (void *)(uintptr_t)pa, 4);
	return v;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct domain d0;
	unsigned nr, bir;

	if (!bar_mem)
		bar_mem = aligned_alloc(4096, BAR_MAX);
	memset(traps, 0, sizeof(traps));
	trapped = false;
	memset(cfg, 0, sizeof(cfg));
	memset(fn, 0, sizeof(*fn));
	memset(bar_mem, 0, BAR_MAX);

	/* The device: capability at 0x80, BAR0-5 of fuzzed kinds and sizes;
	 * memory BARs all live in bar_mem (only one at a time matters). */
	fn->msix_cap = 0x80;
	fn->nr_bars = 6;
	u16 ctl = fuzz_u16(&in);
	u32 table_reg = fuzz_u32(&in);
	memcpy(cfg + 0x82, &ctl, 2);
	memcpy(cfg + 0x84, &table_reg, 4);
	for (unsigned i = 0; i < 6; i++) {
		u8 b = fuzz_u8(&in);
		fn->bar[i].kind = b & 3;
		fn->bar[i].size = (b & 3) ? 1ULL << (4 + (b >> 2) % 13) : 0; /* 16 B .. 64 KiB */
		fn->bar[i].addr = (b & 3) ? (u64)(uintptr_t)bar_mem : 0;
	}
	if (!msix_table_info(fn, &nr, &bir))
		return 0;
	const struct pci_bar *b = &fn->bar[bir];
	u64 table = b->addr + (table_reg & ~7u);
	fuzz_check(bir < 6 && b->kind != PCI_BAR_IO32 && b->size &&
			   (table_reg & ~7u) + (u64)nr * PCI_MSIX_ENTRY_SIZE <= b->size,
		   "table of %u entries at BAR%u+0x%x accepted", nr, bir, table_reg & ~7u);
	fuzz_check(msix_protect(&d0, fn) == 0 && trapped, "msix_protect");
	fuzz_check(trap.base <= table && table + nr * PCI_MSIX_ENTRY_SIZE <= trap.base + trap.len,
		   "trap 0x%lx+0x%lx does not cover the table", (unsigned long)trap.base,
		   (unsigned long)trap.len);
	/* The trapped pages may extend past the BAR (it can be smaller than
	 * a page): only touch what the harness's buffer holds. */
	u64 limit = (u64)(uintptr_t)bar_mem + BAR_MAX;
	for (unsigned e = 0; e < nr && e < 1024; e++)
		for (unsigned w = 0; w < 3; w++)
			shadow[e][w] = rd32(table + e * PCI_MSIX_ENTRY_SIZE + 4 * w);

	for (unsigned n = 0; fuzz_more(&in) && n < 2000; n++) {
		u8 op = fuzz_u8(&in);
		if (op % 4 == 3) { /* the hypervisor maps or masks an entry */
			unsigned e = fuzz_u16(&in) % (nr + 1);
			u8 vector = fuzz_u8(&in);
			if (msix_entry_program(fn, e, vector) == 0 && e < 1024)
				for (unsigned w = 0; w < 3; w++)
					shadow[e][w] = rd32(table + e * PCI_MSIX_ENTRY_SIZE + 4 * w);
			continue;
		}
		static const unsigned sizes[] = { 1, 2, 4, 8 };
		unsigned sz = sizes[fuzz_u8(&in) % 4];
		u8 where = fuzz_u8(&in);
		u64 gpa = where < 0xc0 ? table + (where % (nr + 2)) * PCI_MSIX_ENTRY_SIZE - 8 + fuzz_u8(&in) % 24 :
				   trap.base + fuzz_u16(&in) % trap.len;
		u64 val = fuzz_u64(&in);
		if (gpa < trap.base || gpa + sz > trap.base + trap.len || gpa + sz > limit ||
		    gpa < (u64)(uintptr_t)bar_mem)
			continue; /* kernel/mmio.c only calls inside the region */
		if (op % 4 == 2) {
			trap.read(NULL, gpa, sz);
			continue;
		}
		trap.write(NULL, gpa, sz, val);
		bool outside = gpa + sz <= table || gpa >= table + (u64)nr * PCI_MSIX_ENTRY_SIZE;
		bool vctrl = sz == 4 && gpa >= table && (gpa - table) % PCI_MSIX_ENTRY_SIZE == 12;
		if (outside || vctrl)
			fuzz_check(memcmp((void *)(uintptr_t)gpa, &val, sz) == 0,
				   "write of %u bytes at table%+ld did not reach the device", sz,
				   (long)(gpa - table));
		for (unsigned e = 0; e < nr && e < 1024; e++)
			for (unsigned w = 0; w < 3; w++)
				fuzz_check(rd32(table + e * PCI_MSIX_ENTRY_SIZE + 4 * w) == shadow[e][w],
					   "entry %u dword %u changed by a write of %u bytes at "
					   "table%+ld", e, w, sz, (long)(gpa - table));
	}
	return 0;
}
