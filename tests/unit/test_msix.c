/*
 * MSI-X table traps (kernel/msix.c): every table is trapped however many
 * functions have one, a failed trap still keeps the pages out of dom0's
 * p2m and leaves MSI-X refused, a table in a refused or unassigned BAR is
 * not trapped, two tables sharing a page are both filtered by one handler,
 * and the hypervisor writes a message only into a trapped table.
 *
 * unit-sources: kernel/msix.c
 *
 * The "MMIO" is host memory: BAR addresses are addresses of page-aligned
 * buffers, so the hypervisor's 1:1 accesses (phys_to_virt) and the trap
 * handler's pass-through land in them. Each function's config space is a
 * 256-byte array holding an MSI-X capability at 0x70.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/mmio.h>
#include <keel/msix.h>
#include <keel/passthrough.h>
#include <keel/pci.h>
#include <asm/hostpt.h>
#include <asm/p2m.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- the machine around msix.c ---------------------------------------------- */

struct pci_func pci_funcs[PCI_MAX_FUNCS];
unsigned pci_nr_funcs;

static u8 cfgs[PCI_MAX_FUNCS][256];
static struct domain dom0;

static struct mmio_handler handlers[2 * PCI_MAX_FUNCS];
static unsigned nr_handlers;
static int mmio_fail; /* mmio_register's error when nonzero */

static u64 unmapped[4 * PCI_MAX_FUNCS]; /* p2m_unmap calls: gpa */
static unsigned nr_unmapped;
static bool refuse_bars; /* passthrough_mmio_ok says no */

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
	u32 v = 0;
	memcpy(&v, &cfgs[PCI_DEV(bdf)][reg], size);
	return v;
}

int mmio_register(const struct mmio_handler *h)
{
	if (mmio_fail)
		return mmio_fail;
	for (unsigned i = 0; i < nr_handlers; i++)
		if (h->base < handlers[i].base + handlers[i].len &&
		    handlers[i].base < h->base + h->len)
			return -EEXIST;
	handlers[nr_handlers++] = *h;
	return 0;
}

int mmio_unregister(gpa_t base, u16 domid)
{
	for (unsigned i = 0; i < nr_handlers; i++)
		if (handlers[i].base == base && handlers[i].domid == domid) {
			handlers[i] = handlers[--nr_handlers];
			return 0;
		}
	return -ENOENT;
}

static const struct mmio_handler *handler_at(u64 gpa)
{
	for (unsigned i = 0; i < nr_handlers; i++)
		if (gpa >= handlers[i].base && gpa - handlers[i].base < handlers[i].len)
			return &handlers[i];
	return NULL;
}

int p2m_unmap(struct domain *d, gpa_t gpa, u64 size)
{
	(void)d;
	(void)size;
	if (nr_unmapped < sizeof(unmapped) / sizeof(unmapped[0]))
		unmapped[nr_unmapped++] = gpa;
	return 0;
}

static bool was_unmapped(u64 gpa)
{
	for (unsigned i = 0; i < nr_unmapped; i++)
		if (unmapped[i] == gpa)
			return true;
	return false;
}

int hostpt_map_mmio(u64 pa, u64 len)
{
	(void)pa;
	(void)len;
	return 0;
}

bool passthrough_mmio_ok(u64 base, u64 len, const char **why)
{
	(void)base;
	(void)len;
	*why = "RAM";
	return !refuse_bars;
}

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* Function n: device n on bus 0, MSI-X capability at 0x70 with `entries`
 * entries at offset `off` of BAR1, BAR1 of `size` bytes at `addr`. */
static struct pci_func *add_func(unsigned n, u64 addr, u64 size, u32 off, unsigned entries)
{
	struct pci_func *f = &pci_funcs[n];
	memset(f, 0, sizeof(*f));
	memset(cfgs[n], 0, sizeof(cfgs[n]));
	f->bdf = PCI_BDF(0, n, 0);
	f->header = 0;
	f->nr_bars = 6;
	f->msix_cap = 0x70;
	f->bar[1] = (struct pci_bar){ .kind = PCI_BAR_MEM32, .addr = addr, .size = size };
	cfgs[n][0x70] = PCI_CAP_ID_MSIX;
	u16 ctl = (u16)(entries - 1);
	u32 treg = off | 1; /* BIR 1 */
	memcpy(&cfgs[n][0x72], &ctl, 2);
	memcpy(&cfgs[n][0x74], &treg, 4);
	if (n + 1 > pci_nr_funcs)
		pci_nr_funcs = n + 1;
	return f;
}

static void reset(void)
{
	memset(pci_funcs, 0, sizeof(pci_funcs));
	pci_nr_funcs = 0;
	nr_handlers = 0;
	nr_unmapped = 0;
	mmio_fail = 0;
	refuse_bars = false;
	dom0.id = 0;
}

static u8 *pages(unsigned n)
{
	u8 *p = aligned_alloc(4096, 4096 * n);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4096 * n);
	return p;
}

static u32 rd32(const u8 *p)
{
	u32 v;
	memcpy(&v, p, 4);
	return v;
}

/* ---- the cases ----------------------------------------------------------------- */

START_TEST(msix_every_table_trapped_past_16)
{
	unsigned n = 40;
	u8 *mem = pages(n);
	reset();
	for (unsigned i = 0; i < n; i++)
		add_func(i, (u64)(uintptr_t)(mem + 4096 * i), 4096, 0, 4);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(msix_protect(&dom0, &pci_funcs[i]), 0);
	ck_assert_uint_eq(nr_handlers, n);
	for (unsigned i = 0; i < n; i++) {
		ck_assert(pci_funcs[i].msix_trapped);
		ck_assert(was_unmapped((u64)(uintptr_t)(mem + 4096 * i)));
	}
	free(mem);
}
END_TEST

START_TEST(msix_failed_trap_keeps_pages_out_and_refuses)
{
	u8 *mem = pages(1);
	reset();
	struct pci_func *f = add_func(0, (u64)(uintptr_t)mem, 4096, 0, 4);
	mmio_fail = -ENOSPC;
	ck_assert_int_eq(msix_protect(&dom0, f), -ENOSPC);
	ck_assert(!f->msix_trapped);
	ck_assert(was_unmapped((u64)(uintptr_t)mem));
	/* After the BAR mappings are rebuilt, the pages leave again. */
	nr_unmapped = 0;
	msix_reprotect(&dom0);
	ck_assert(was_unmapped((u64)(uintptr_t)mem));
	/* No message is written into an untrapped table. */
	ck_assert_int_eq(msix_entry_program(f, 0, 0xb0), -EPERM);
	ck_assert_uint_eq(rd32(mem), 0);
	free(mem);
}
END_TEST

START_TEST(msix_no_trap_for_unassigned_or_refused_bar)
{
	u8 *mem = pages(1);
	reset();
	/* Unassigned at boot: nothing trapped, nothing to unmap... */
	struct pci_func *f = add_func(0, 0, 4096, 0, 4);
	ck_assert_int_eq(msix_protect(&dom0, f), 0);
	ck_assert(!f->msix_trapped);
	ck_assert_uint_eq(nr_handlers + nr_unmapped, 0);
	ck_assert(msix_bar_holds_table(f, 1));
	/* ...until dom0 assigns it: trapped there. */
	f->bar[1].addr = (u64)(uintptr_t)mem;
	ck_assert_int_eq(msix_protect(&dom0, f), 0);
	ck_assert(f->msix_trapped);
	ck_assert_uint_eq(handlers[0].base, (u64)(uintptr_t)mem);
	/* Moved away (unprotect, new address, protect): the old handler goes. */
	msix_unprotect(&dom0, f);
	ck_assert(!f->msix_trapped);
	ck_assert_uint_eq(nr_handlers, 0);
	/* A BAR the policy refuses (over RAM): no handler there. */
	refuse_bars = true;
	nr_unmapped = 0;
	ck_assert_int_eq(msix_protect(&dom0, f), -EPERM);
	ck_assert(!f->msix_trapped);
	ck_assert_uint_eq(nr_handlers + nr_unmapped, 0);
	free(mem);
}
END_TEST

START_TEST(msix_shared_page_filters_both_tables)
{
	u8 *mem = pages(1);
	u64 page = (u64)(uintptr_t)mem;
	reset();
	/* Two 256-byte BARs in one page, each with a 4-entry table at 0. */
	struct pci_func *a = add_func(0, page, 0x100, 0, 4);
	struct pci_func *b = add_func(1, page + 0x100, 0x100, 0, 4);
	ck_assert_int_eq(msix_protect(&dom0, a), 0);
	ck_assert_int_eq(msix_protect(&dom0, b), 0);
	ck_assert(a->msix_trapped && b->msix_trapped);
	ck_assert_uint_eq(nr_handlers, 1);
	const struct mmio_handler *h = handler_at(page + 0x100);
	ck_assert_ptr_nonnull(h);
	/* B's address dropped, B's vector control and A's spare bytes pass. */
	h->write(NULL, page + 0x100, 4, 0x12345678);
	h->write(NULL, page + 0x10c, 4, 1);
	h->write(NULL, page + 0x80, 4, 0xabcd);
	h->write(NULL, page + 0x8, 4, 0x55);
	ck_assert_uint_eq(rd32(mem + 0x100), 0);
	ck_assert_uint_eq(rd32(mem + 0x10c), 1);
	ck_assert_uint_eq(rd32(mem + 0x80), 0xabcd);
	ck_assert_uint_eq(rd32(mem + 0x8), 0);
	ck_assert_uint_eq(h->read(NULL, page + 0x10c, 4), 1);
	/* A goes (its BAR moves): the handler stays for B. */
	msix_unprotect(&dom0, a);
	ck_assert_uint_eq(nr_handlers, 1);
	h = handler_at(page + 0x100);
	h->write(NULL, page + 0x104, 4, 0x9);
	ck_assert_uint_eq(rd32(mem + 0x104), 0);
	h->write(NULL, page + 0x8, 4, 0x55); /* no longer A's table */
	ck_assert_uint_eq(rd32(mem + 0x8), 0x55);
	msix_unprotect(&dom0, b);
	ck_assert_uint_eq(nr_handlers, 0);
	free(mem);
}
END_TEST

START_TEST(msix_entry_programmed_in_trapped_table)
{
	u8 *mem = pages(1);
	reset();
	struct pci_func *f = add_func(0, (u64)(uintptr_t)mem, 4096, 0x800, 8);
	ck_assert_int_eq(msix_protect(&dom0, f), 0);
	ck_assert_int_eq(msix_entry_program(f, 2, 0xb3), 0);
	ck_assert_uint_eq(rd32(mem + 0x820) & 0xfff00000u, 0xfee00000u);
	ck_assert_uint_eq(rd32(mem + 0x828), 0xb3);
	ck_assert_uint_eq(rd32(mem + 0x82c) & 1, 0);
	ck_assert_int_eq(msix_entry_program(f, 8, 0xb3), -EINVAL);
	/* Masking needs no trap. */
	ck_assert_int_eq(msix_entry_program(f, 2, 0), 0);
	ck_assert_uint_eq(rd32(mem + 0x82c) & 1, 1);
	free(mem);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "msix-every-table-trapped-past-16", &msix_every_table_trapped_past_16_ttest },
	{ "msix-failed-trap-keeps-pages-out-and-refuses", &msix_failed_trap_keeps_pages_out_and_refuses_ttest },
	{ "msix-no-trap-for-unassigned-or-refused-bar", &msix_no_trap_for_unassigned_or_refused_bar_ttest },
	{ "msix-shared-page-filters-both-tables", &msix_shared_page_filters_both_tables_ttest },
	{ "msix-entry-programmed-in-trapped-table", &msix_entry_programmed_in_trapped_table_ttest },
	{ 0 },
};
