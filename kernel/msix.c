/*
 * MSI-X tables: contract in include/keel/msix.h, policy in
 * docs/dom0-devices.md ("MSI-X").
 *
 * The hypervisor reaches a table through its own 1:1 mapping (the low
 * 4 GiB are mapped uncached at boot; a table above is mapped here). dom0
 * reaches it only through the MMIO handler registered for the table's
 * pages, which are left out of its p2m. A table is trapped whenever its
 * BAR has an address: at boot, and again each time dom0 assigns or moves
 * that BAR (passthrough_bar_move calls msix_unprotect before and
 * msix_protect after; it refuses to move the BAR while entries are
 * mapped, so a mapped entry always lives in a trapped table).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/io.h>
#include <lib/string.h>
#include <keel/mmio.h>
#include <keel/msi.h>
#include <keel/msix.h>
#include <keel/passthrough.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/hostpt.h>
#include <asm/p2m.h>
#include <asm/vendor.h>

/*
 * One trap per PCI function (a function has at most one MSI-X table), kept
 * in the order of pci_funcs: no other limit, so every table the hypervisor
 * knows of is trapped. `out` and `trapped` differ only when trapping
 * failed (no MMIO slot, no host mapping): the pages then stay out of
 * dom0's p2m all the same, and MSI-X is refused (f->msix_trapped false).
 */
struct msix_trap {
	bool out;      /* the table's pages are out of dom0's p2m */
	bool trapped;  /* ... and served by the MMIO handler */
	bool owner;    /* this trap registered the handler for [page, page+len) */
	u64 table;     /* physical address of entry 0 */
	unsigned nr;   /* entries */
	u64 page, len; /* the trapped pages */
};

static struct msix_trap traps[PCI_MAX_FUNCS];

static struct msix_trap *trap_of(const struct pci_func *f)
{
	return &traps[f - pci_funcs];
}

static bool table_reg(const struct pci_func *f, unsigned *bir, u32 *off, unsigned *nr)
{
	if (!f->msix_cap)
		return false;
	msix_table_layout((u16)pci_conf_read(f->bdf, f->msix_cap + 2, 2),
			  pci_conf_read(f->bdf, f->msix_cap + 4, 4), bir, off, nr);
	return true;
}

bool msix_table_info(const struct pci_func *f, unsigned *nr_entries, unsigned *bir)
{
	u32 off;

	if (!table_reg(f, bir, &off, nr_entries) || *bir >= 6)
		return false;
	const struct pci_bar *b = &f->bar[*bir];
	return b->size && b->addr && b->kind != PCI_BAR_IO32 &&
	       off + (u64)*nr_entries * PCI_MSIX_ENTRY_SIZE <= b->size;
}

static u64 table_addr(const struct pci_func *f)
{
	unsigned bir, nr;
	u32 off;

	table_reg(f, &bir, &off, &nr);
	return f->bar[bir].addr + off;
}

bool msix_bar_holds_table(const struct pci_func *f, unsigned bar)
{
	unsigned bir, nr;
	u32 off;
	return table_reg(f, &bir, &off, &nr) && bir == bar;
}

/* dom0's write of `size` bytes at gpa: which bytes reach the device, over
 * every trapped table whose pages hold gpa (two functions' sub-page BARs
 * may share a page, and then one handler serves both tables). *covered
 * says whether any does. */
static u8 pass_mask(gpa_t gpa, unsigned size, bool *covered)
{
	u8 m = (u8)((1u << size) - 1);

	*covered = false;
	for (unsigned i = 0; i < pci_nr_funcs; i++) {
		const struct msix_trap *t = &traps[i];
		if (!t->trapped || gpa < t->page || gpa - t->page >= t->len)
			continue;
		*covered = true;
		m &= msix_write_pass_mask(gpa, size, t->table, t->nr);
	}
	return m;
}

static u64 raw_read(u64 pa, unsigned size)
{
	volatile void *p = phys_to_virt(pa);
	switch (size) {
	case 1: return *(volatile u8 *)p;
	case 2: return *(volatile u16 *)p;
	case 4: return *(volatile u32 *)p;
	default: return *(volatile u64 *)p;
	}
}

static void raw_write(u64 pa, unsigned size, u64 val)
{
	volatile void *p = phys_to_virt(pa);
	switch (size) {
	case 1: *(volatile u8 *)p = (u8)val; break;
	case 2: *(volatile u16 *)p = (u16)val; break;
	case 4: *(volatile u32 *)p = (u32)val; break;
	default: *(volatile u64 *)p = val; break;
	}
}

/* dom0's reads: the real contents (the address and data read back as
 * the hypervisor wrote them; vector control and the PBA are live). */
static u64 msix_mmio_read(struct vcpu *v, gpa_t gpa, unsigned size)
{
	bool covered;
	(void)v;

	pass_mask(gpa, size, &covered);
	return covered ? raw_read(gpa, size) : ~0ULL;
}

/* dom0's writes: address and data dropped, the rest passed through. A
 * write mixing both (a qword over data and vector control) reaches the
 * device as the dwords it may write. */
static void msix_mmio_write(struct vcpu *v, gpa_t gpa, unsigned size, u64 val)
{
	bool covered;
	u8 pass = pass_mask(gpa, size, &covered);
	u8 all = (u8)((1u << size) - 1);
	(void)v;

	if (!covered)
		return;
	if (pass == all) {
		raw_write(gpa, size, val);
		return;
	}
	if (size == 8)
		for (unsigned h = 0; h < 2; h++)
			if (((pass >> (4 * h)) & 0xf) == 0xf)
				raw_write(gpa + 4 * h, 4, val >> (32 * h));
}

/* Another trapped table on exactly these pages, or NULL; `owner`: only
 * one whose handler serves them (registered by it, or handed to it).
 * Tables of different functions share pages only when both BARs are
 * smaller than a page and in the same one (BARs do not overlap:
 * passthrough_bar_move refuses it), so the ranges are then equal. */
static struct msix_trap *same_pages(const struct msix_trap *t, bool owner)
{
	for (unsigned i = 0; i < pci_nr_funcs; i++) {
		struct msix_trap *o = &traps[i];
		if (o != t && o->trapped && (o->owner || !owner) && o->page == t->page &&
		    o->len == t->len)
			return o;
	}
	return NULL;
}

int msix_protect(struct domain *d, struct pci_func *f)
{
	struct msix_trap *t = trap_of(f);
	unsigned nr, bir;
	int rc;

	msix_unprotect(d, f);
	if (!msix_table_info(f, &nr, &bir))
		return 0; /* no table, or its BAR unassigned: trapped when assigned */
	const char *why;
	if (!passthrough_mmio_ok(f->bar[bir].addr, f->bar[bir].size, &why)) {
		/* The firmware put the BAR where dom0 may not have it (over RAM,
		 * the LAPIC...): it was not given, and a handler there would
		 * pass dom0's other bytes on those pages through. No trap, no
		 * MSI-X, until dom0 moves the BAR somewhere acceptable. */
		pr_warn("pci %02x:%02x.%u: MSI-X table in BAR%u over %s: not trapped, MSI-X "
			"refused\n", PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), bir, why);
		return -EPERM;
	}
	t->table = table_addr(f);
	t->nr = nr;
	t->page = ALIGN_DOWN(t->table, PAGE_SIZE);
	t->len = ALIGN_UP(t->table + (u64)nr * PCI_MSIX_ENTRY_SIZE, PAGE_SIZE) - t->page;
	/* Out of dom0's p2m first: whatever fails below, dom0 never reaches
	 * the table directly (it faults there instead). */
	t->out = true;
	p2m_unmap(d, t->page, t->len);
	if ((rc = hostpt_map_mmio(t->page, t->len)))
		goto fail;
	if (!same_pages(t, true)) {
		struct mmio_handler h = {
			.base = t->page, .len = t->len, .domid = d->id, .name = "MSI-X table",
			.read = msix_mmio_read, .write = msix_mmio_write,
		};
		if ((rc = mmio_register(&h)))
			goto fail;
		t->owner = true;
	}
	t->trapped = f->msix_trapped = true;
	pr_info("pci %02x:%02x.%u: MSI-X table of %u entries at 0x%lx (BAR%u): trapped\n",
		PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), nr, t->table, bir);
	return 0;
fail:
	pr_err("pci %02x:%02x.%u: cannot trap the MSI-X table at 0x%lx (%d): its pages stay out "
	       "of dom0's p2m, MSI-X refused\n",
	       PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), t->table, rc);
	return rc;
}

void msix_unprotect(struct domain *d, struct pci_func *f)
{
	struct msix_trap *t = trap_of(f);

	if (!t->out)
		return;
	if (t->owner) {
		struct msix_trap *o = same_pages(t, false);
		if (o)
			o->owner = true; /* the other table keeps the handler */
		else
			mmio_unregister(t->page, d->id);
	}
	*t = (struct msix_trap){ 0 };
	f->msix_trapped = false;
}

void msix_reprotect(struct domain *d)
{
	for (unsigned i = 0; i < pci_nr_funcs; i++)
		if (traps[i].out)
			p2m_unmap(d, traps[i].page, traps[i].len);
}

int msix_entry_program(struct pci_func *f, unsigned entry, u8 vector)
{
	unsigned nr, bir;

	if (!msix_table_info(f, &nr, &bir) || entry >= nr)
		return -EINVAL;
	if (vector && !f->msix_trapped)
		return -EPERM; /* dom0 could rewrite the message */
	u64 e = table_addr(f) + (u64)entry * PCI_MSIX_ENTRY_SIZE;
	if (hostpt_map_mmio(e, PCI_MSIX_ENTRY_SIZE))
		return -ENOMEM;
	/* Masked while the message changes (PCI 3.0, 6.8.3.5). */
	raw_write(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4,
		  raw_read(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) | PCI_MSIX_ENTRY_CTRL_MASKBIT);
	if (!vector)
		return 0;
	struct cpuid_regs r;
	u32 w[4];
	cpuid(1, &r); /* the boot CPU's initial APIC ID, as for MSI */
	msix_compose_entry(r.ebx >> 24, vector, w);
	raw_write(e + PCI_MSIX_ENTRY_ADDR_LO, 4, w[0]);
	raw_write(e + PCI_MSIX_ENTRY_ADDR_HI, 4, w[1]);
	raw_write(e + PCI_MSIX_ENTRY_DATA, 4, w[2]);
	raw_write(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4,
		  (raw_read(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) & ~PCI_MSIX_ENTRY_CTRL_MASKBIT) | w[3]);
	return 0;
}
