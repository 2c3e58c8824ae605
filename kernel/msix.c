/*
 * MSI-X tables: contract in include/keel/msix.h, policy in
 * docs/dom0-devices.md ("MSI-X").
 *
 * The hypervisor reaches a table through its own 1:1 mapping (the low
 * 4 GiB are mapped uncached at boot; a table above is mapped here). dom0
 * reaches it only through the MMIO handler registered for the table's
 * pages, which are left out of its p2m. BARs holding a table do not move
 * (passthrough_bar_move refuses), so the trapped pages stay put.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/frame.h>
#include <keel/io.h>
#include <keel/lib.h>
#include <keel/mmio.h>
#include <keel/msi.h>
#include <keel/msix.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/hostpt.h>
#include <asm/p2m.h>
#include <asm/vendor.h>

struct msix_table {
	u16 bdf;
	u64 table;     /* physical address of entry 0 */
	unsigned nr;   /* entries */
	u64 page, len; /* the trapped pages */
};

#define MSIX_TABLES_MAX 16
static struct msix_table tables[MSIX_TABLES_MAX];
static unsigned nr_tables;

bool msix_table_info(const struct pci_func *f, unsigned *nr_entries, unsigned *bir)
{
	u32 off;

	if (!f->msix_cap)
		return false;
	msix_table_layout((u16)pci_conf_read(f->bdf, f->msix_cap + 2, 2),
			  pci_conf_read(f->bdf, f->msix_cap + 4, 4), bir, &off, nr_entries);
	/* BIR 6 and 7 are reserved (PCI 3.0, 6.8.2.4): no such BAR, and
	 * f->bar[] must not even be indexed with them (fuzz_msix). */
	if (*bir >= 6)
		return false;
	const struct pci_bar *b = &f->bar[*bir];
	return b->size && b->addr && b->kind != PCI_BAR_IO32 &&
	       off + (u64)*nr_entries * PCI_MSIX_ENTRY_SIZE <= b->size;
}

static u64 table_addr(const struct pci_func *f)
{
	unsigned bir, nr;
	u32 off;

	msix_table_layout((u16)pci_conf_read(f->bdf, f->msix_cap + 2, 2),
			  pci_conf_read(f->bdf, f->msix_cap + 4, 4), &bir, &off, &nr);
	return f->bar[bir].addr + off;
}

bool msix_bar_holds_table(const struct pci_func *f, unsigned bar)
{
	unsigned nr, bir;
	return msix_table_info(f, &nr, &bir) && bir == bar;
}

static const struct msix_table *table_at(gpa_t gpa)
{
	for (unsigned i = 0; i < nr_tables; i++)
		if (gpa >= tables[i].page && gpa - tables[i].page < tables[i].len)
			return &tables[i];
	return NULL;
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
	(void)v;
	return table_at(gpa) ? raw_read(gpa, size) : ~0ULL;
}

/* dom0's writes: address and data dropped, the rest passed through. A
 * write mixing both (a qword over data and vector control) reaches the
 * device as the dwords it may write. */
static void msix_mmio_write(struct vcpu *v, gpa_t gpa, unsigned size, u64 val)
{
	const struct msix_table *t = table_at(gpa);
	(void)v;

	if (!t)
		return;
	u8 pass = msix_write_pass_mask(gpa, size, t->table, t->nr);
	u8 all = (u8)((1u << size) - 1);
	if (pass == all) {
		raw_write(gpa, size, val);
		return;
	}
	if (size == 8)
		for (unsigned h = 0; h < 2; h++)
			if (((pass >> (4 * h)) & 0xf) == 0xf)
				raw_write(gpa + 4 * h, 4, val >> (32 * h));
}

int msix_protect(struct domain *d, struct pci_func *f)
{
	unsigned nr, bir;
	int rc;

	if (!msix_table_info(f, &nr, &bir))
		return 0;
	if (nr_tables == MSIX_TABLES_MAX)
		return -ENOSPC;
	struct msix_table *t = &tables[nr_tables];
	t->bdf = f->bdf;
	t->table = table_addr(f);
	t->nr = nr;
	t->page = ALIGN_DOWN(t->table, PAGE_SIZE);
	t->len = ALIGN_UP(t->table + (u64)nr * PCI_MSIX_ENTRY_SIZE, PAGE_SIZE) - t->page;
	if ((rc = hostpt_map_mmio(t->page, t->len)))
		return rc;
	struct mmio_handler h = {
		.base = t->page, .len = t->len, .domid = d->id, .name = "MSI-X table",
		.read = msix_mmio_read, .write = msix_mmio_write,
	};
	if ((rc = mmio_register(&h)))
		return rc;
	nr_tables++;
	p2m_unmap(d, t->page, t->len);
	pr_info("pci %02x:%02x.%u: MSI-X table of %u entries at 0x%lx (BAR%u): trapped\n",
		PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), nr, t->table, bir);
	return 0;
}

void msix_reprotect(struct domain *d)
{
	for (unsigned i = 0; i < nr_tables; i++)
		p2m_unmap(d, tables[i].page, tables[i].len);
}

int msix_entry_program(struct pci_func *f, unsigned entry, u8 vector)
{
	unsigned nr, bir;

	if (!msix_table_info(f, &nr, &bir) || entry >= nr)
		return -EINVAL;
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
