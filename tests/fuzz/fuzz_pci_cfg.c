/*
 * dom0's filtered view of PCI configuration space (kernel/pci_cfg.c),
 * driven as a state machine through the handlers it registers: the
 * CONFIG_ADDRESS/CONFIG_DATA ports and the ECAM window, with accesses of
 * every size and alignment, by dom0 and by an unprivileged domain, while
 * the hypervisor maps and unmaps MSI/MSI-X (as kernel/pirq.c does).
 *
 * unit-sources: kernel/pci_cfg.c kernel/pci_bridge.c kernel/pci_reset.c
 *
 * The first bytes describe up to three functions the way pci_scan() would
 * have recorded them (header type, BARs of powers-of-two sizes, 64-bit
 * BARs only where the next register exists, MSI and MSI-X capabilities);
 * the rest is a sequence of accesses. Each function's config space is a
 * 4 KiB array; pci_conf_read/pci_conf_write keep kernel/pci.c's rules
 * (aligned, 1/2/4 bytes, nothing past 0xfff).
 *
 * Invariants (kernel/pci_cfg.c's header comment):
 *  - no access from a guest writes a BAR or ROM register of the device;
 *    only passthrough_bar_move() does, with an address aligned to the
 *    BAR's size (a sizing write is never taken for a move);
 *  - the MSI message address/data are never written from a guest;
 *  - the device's MSI enable bit is set exactly while the hypervisor has
 *    mapped a pirq for it, its MSI-X enable bit exactly while an entry is
 *    mapped, and MSI's multiple-message-enable stays 0;
 *  - an unprivileged domain changes nothing and reads all ones;
 *  - a bridge's memory window, once changed from its boot value, never
 *    covers a kept range (RAM below 1 GiB, the LAPIC/MSI window) in the
 *    device (kernel/pci_bridge.c);
 *  - after a reset dom0 starts (FLR, secondary bus reset, D3hot -> D0;
 *    the fake device forgets nothing), the write-back (kernel/pci_reset.c)
 *    writes a BAR only with the address the hypervisor keeps for it.
 */
#include <stdarg.h>

#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/io.h>
#include <keel/mmio.h>
#include <keel/passthrough.h>
#include <keel/pci.h>
#include <lib/pci_regs.h>

#include "fuzz.h"

#define NR_FUNCS 3
#define ECAM_BASE 0xe0000000ULL

struct pci_func pci_funcs[PCI_MAX_FUNCS];
unsigned pci_nr_funcs;

static u8 space[NR_FUNCS][4096];
static const struct io_port_handler *ports[2];
static struct mmio_handler ecam;
static unsigned msi_len[NR_FUNCS]; /* the MSI capability's length (PCI 3.0 6.8.1) */
static u16 msi_ro[NR_FUNCS];       /* its read-only control bits (64-bit, per-vector mask) */
static bool in_move;        /* passthrough_bar_move is running */
static const char *violation;
static u64 now_ns;          /* advanced by an operation */
static u32 boot_memwin[NR_FUNCS]; /* a bridge's memory window register at boot */

u64 time_now_ns(void)
{
	return now_ns;
}

bool passthrough_mmio_ok(u64 base, u64 len, const char **why)
{
	*why = "kept";
	return !(base < (1ULL << 30) || (base < 0xfef00000ULL && base + len > 0xfee00000ULL));
}

bool passthrough_io_ok(u64 first, u64 count, const char **why)
{
	*why = "kept";
	return first >= 0x1000 && first + count <= 0x10000;
}

/* As kernel/pirq.c: the hypervisor's enable bits back on while mapped. */
void pirq_msi_restore(struct pci_func *f)
{
	u16 ctl;
	in_move = true;
	if (f->msi_cap && f->msi_pirq) {
		memcpy(&ctl, &space[f - pci_funcs][f->msi_cap + 2], 2);
		pci_conf_write(f->bdf, f->msi_cap + 2, 2, ctl | PCI_MSI_FLAGS_ENABLE);
	}
	if (f->msix_cap && f->msix_nr_mapped) {
		memcpy(&ctl, &space[f - pci_funcs][f->msix_cap + 2], 2);
		pci_conf_write(f->bdf, f->msix_cap + 2, 2, ctl | PCI_MSIX_FLAGS_ENABLE);
	}
	in_move = false;
}

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static int func_index(u16 bdf)
{
	for (unsigned i = 0; i < pci_nr_funcs; i++)
		if (pci_funcs[i].bdf == bdf)
			return (int)i;
	return -1;
}

struct pci_func *pci_func_find(u16 bdf)
{
	int i = func_index(bdf);
	return i < 0 ? NULL : &pci_funcs[i];
}

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
	int i = func_index(bdf);
	u32 v = 0;

	if ((size != 1 && size != 2 && size != 4) || (reg & (size - 1)) || reg > 0xfff || i < 0)
		return 0xffffffffu;
	memcpy(&v, &space[i][reg], size);
	return v;
}

/* Which registers of function f a guest's write must never reach. */
static const char *protected_reg(const struct pci_func *f, unsigned reg)
{
	unsigned bars_end = PCI_BAR0 + 4u * f->nr_bars;

	if (reg >= PCI_BAR0 && reg < bars_end)
		return "a BAR";
	if ((f->header == 0 && reg >= PCI_ROM_ADDRESS && reg < PCI_ROM_ADDRESS + 4) ||
	    (f->header == 1 && reg >= PCI_ROM_ADDRESS1 && reg < PCI_ROM_ADDRESS1 + 4))
		return "the ROM BAR";
	if (f->msi_cap && reg >= f->msi_cap + 4u && reg < f->msi_cap + msi_len[f - pci_funcs])
		return "the MSI message";
	return NULL;
}

void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
	int i = func_index(bdf);

	if ((size != 1 && size != 2 && size != 4) || (reg & (size - 1)) || reg > 0xfff || i < 0)
		return;
	/* The reset write-back (kernel/pci_reset.c) rewrites a BAR register
	 * with exactly what the hypervisor keeps: that is no guest write. */
	const struct pci_func *pf = &pci_funcs[i];
	bool restore = false;
	if (size == 4 && reg >= PCI_BAR0 && reg < PCI_BAR0 + 4u * pf->nr_bars) {
		unsigned k = (reg - PCI_BAR0) / 4;
		const struct pci_bar *b = &pf->bar[k];
		if (b->size)
			restore = (val & ~0xfu) == ((u32)b->addr & ~0xfu) ||
				  (b->kind == PCI_BAR_IO32 && (val & ~3u) == ((u32)b->addr & ~3u));
		else if (k > 0 && pf->bar[k - 1].kind == PCI_BAR_MEM64 && pf->bar[k - 1].size)
			restore = val == (u32)(pf->bar[k - 1].addr >> 32);
	}
	for (unsigned b = 0; b < size && !in_move && !restore && !violation; b++)
		violation = protected_reg(&pci_funcs[i], reg + b);
	memcpy(&space[i][reg], &val, size);
	if (pci_funcs[i].msi_cap) { /* the capability bits of MSI control are read-only */
		u8 *c = &space[i][pci_funcs[i].msi_cap + 2];
		u16 ctl;
		memcpy(&ctl, c, 2);
		ctl = (ctl & ~(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT)) | msi_ro[i];
		memcpy(c, &ctl, 2);
	}
}

bool pci_ecam_window(paddr_t *base, u8 *start_bus, u8 *end_bus)
{
	*base = ECAM_BASE;
	*start_bus = 0;
	*end_bus = 1;
	return true;
}

static bool refuse_moves;

int passthrough_bar_move(struct domain *d, struct pci_func *f, unsigned i, u64 addr)
{
	(void)d;
	fuzz_check(i < f->nr_bars && f->bar[i].size, "move of BAR %u (size 0x%lx)", i,
		   (unsigned long)f->bar[i].size);
	fuzz_check(!(addr & (f->bar[i].size - 1)), "BAR %u moved to 0x%lx, size 0x%lx", i,
		   (unsigned long)addr, (unsigned long)f->bar[i].size);
	if (refuse_moves)
		return -EPERM;
	/* As the real one: reprogram the device, record the address. */
	in_move = true;
	pci_conf_write(f->bdf, PCI_BAR0 + 4 * i, 4, (u32)addr);
	if (f->bar[i].kind == PCI_BAR_MEM64)
		pci_conf_write(f->bdf, PCI_BAR0 + 4 * i + 4, 4, (u32)(addr >> 32));
	in_move = false;
	f->bar[i].addr = addr;
	return 0;
}

int io_register(const struct io_port_handler *h)
{
	ports[h->first == 0xcf8 ? 0 : 1] = h;
	return 0;
}

int mmio_register(const struct mmio_handler *h)
{
	ecam = *h;
	return 0;
}

/* ---- set-up: functions as pci_scan() records them ------------------------- */

static void add_function(struct fuzz_in *in, u16 bdf)
{
	struct pci_func *f = &pci_funcs[pci_nr_funcs];
	u8 *cfg = space[pci_nr_funcs];
	u8 shape = fuzz_u8(in);

	msi_ro[pci_nr_funcs] = 0;
	msi_len[pci_nr_funcs] = 0;

	memset(f, 0, sizeof(*f));
	memset(cfg, 0, 4096);
	f->bdf = bdf;
	f->header = shape & 1;
	f->nr_bars = f->header == 0 ? 6 : 2;
	for (unsigned i = 0; i < f->nr_bars; i++) {
		u8 b = fuzz_u8(in);
		struct pci_bar *bar = &f->bar[i];
		unsigned kind = b & 3, order = b >> 2; /* size 2^order, scaled below */
		u64 flags;
		if (kind == 0)
			continue; /* unimplemented */
		if (kind == 3 && i + 1 >= f->nr_bars)
			kind = PCI_BAR_MEM32;
		bar->kind = kind == 1 ? PCI_BAR_IO32 : kind == 2 ? PCI_BAR_MEM32 : PCI_BAR_MEM64;
		if (bar->kind == PCI_BAR_IO32)
			bar->size = 1ULL << (2 + order % 7);        /* 4 .. 256 ports */
		else if (bar->kind == PCI_BAR_MEM32)
			bar->size = 1ULL << (4 + order % 28);       /* 16 B .. 2 GiB */
		else
			bar->size = order == 63 ? 0 : 1ULL << (4 + order % 60); /* up to 2^63 */
		bar->addr = (fuzz_u64(in) & ~(bar->size - 1)) &
			    (bar->kind == PCI_BAR_IO32 ? 0xfffcULL : bar->kind == PCI_BAR_MEM32 ? 0xfffffff0ULL : ~0xfULL);
		flags = bar->kind == PCI_BAR_IO32 ? 1 : bar->kind == PCI_BAR_MEM64 ? 4 : 0;
		f->vbar[i] = (u32)bar->addr | (u32)flags;
		memcpy(cfg + PCI_BAR0 + 4 * i, &f->vbar[i], 4);
		if (bar->kind == PCI_BAR_MEM64) {
			f->vbar[i + 1] = (u32)(bar->addr >> 32);
			memcpy(cfg + PCI_BAR0 + 4 * i + 4, &f->vbar[i + 1], 4);
			f->bar[i + 1] = (struct pci_bar){ .kind = PCI_BAR_NONE };
			i++;
		}
	}
	if (shape & 2) {
		f->msi_cap = 0x40 + 4 * (fuzz_u8(in) % 8);
		cfg[f->msi_cap] = PCI_CAP_ID_MSI;
		u16 ctl = fuzz_u16(in) & (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 0xe);
		memcpy(cfg + f->msi_cap + 2, &ctl, 2);
		msi_ro[pci_nr_funcs] = ctl & (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
		msi_len[pci_nr_funcs] = 10 + (ctl & PCI_MSI_FLAGS_64BIT ? 4 : 0) +
					(ctl & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
	}
	if (shape & 4) {
		f->msix_cap = 0x80 + 4 * (fuzz_u8(in) % 16);
		cfg[f->msix_cap] = PCI_CAP_ID_MSIX;
	}
	if (shape & 8) { /* a PCIe capability (FLR) and power management */
		f->exp_cap = 0xc0;
		cfg[f->exp_cap] = PCI_CAP_ID_EXP;
		f->pm_cap = 0xd0;
		cfg[f->pm_cap] = PCI_CAP_ID_PM;
	}
	if (f->header == 1) {
		f->class = 0x060400;
		f->bus_primary = 0;
		f->bus_secondary = cfg[PCI_SECONDARY_BUS] = 1;
		f->bus_subordinate = cfg[PCI_SUBORDINATE_BUS] = 1;
		u32 w = fuzz_u32(in);
		memcpy(cfg + PCI_MEMORY_BASE, &w, 4);
		boot_memwin[pci_nr_funcs] = w;
	}
	cfg[PCI_ROM_ADDRESS] = 1;
	pci_nr_funcs++;
}

/* ---- invariants ------------------------------------------------------------- */

static void check_all(void)
{
	fuzz_check(!violation, "a guest access wrote %s", violation);
	for (unsigned i = 0; i < pci_nr_funcs; i++) {
		const struct pci_func *f = &pci_funcs[i];
		u16 ctl;
		if (f->msi_cap) {
			memcpy(&ctl, &space[i][f->msi_cap + 2], 2);
			fuzz_check(!!(ctl & PCI_MSI_FLAGS_ENABLE) == !!f->msi_pirq,
				   "function %u: MSI enable %d with pirq %u", i,
				   ctl & PCI_MSI_FLAGS_ENABLE, f->msi_pirq);
			fuzz_check(!(ctl & PCI_MSI_FLAGS_QSIZE), "function %u: MSI QSIZE %#x", i, ctl);
		}
		if (f->header == 1) {
			u32 w;
			memcpy(&w, &space[i][PCI_MEMORY_BASE], 4);
			u64 base = (u64)(w & 0xfff0) << 16, limit = ((u64)(w >> 16 & 0xfff0) << 16) | 0xfffff;
			const char *why;
			fuzz_check(w == boot_memwin[i] || base > limit ||
					   passthrough_mmio_ok(base, limit - base + 1, &why),
				   "function %u: memory window 0x%lx-0x%lx", i, (unsigned long)base,
				   (unsigned long)limit);
		}
		if (f->msix_cap) {
			memcpy(&ctl, &space[i][f->msix_cap + 2], 2);
			fuzz_check(!!(ctl & PCI_MSIX_FLAGS_ENABLE) == !!f->msix_nr_mapped,
				   "function %u: MSI-X enable %d with %u mapped", i,
				   !!(ctl & PCI_MSIX_FLAGS_ENABLE), f->msix_nr_mapped);
		}
	}
}

/* ---- operations --------------------------------------------------------------- */

static unsigned pick_size(struct fuzz_in *in, bool mmio)
{
	static const unsigned sizes[] = { 4, 4, 2, 1, 8, 3 };
	unsigned s = sizes[fuzz_u8(in) % ARRAY_SIZE(sizes)];
	return s == 8 && !mmio ? 4 : s == 3 ? 1 : s;
}

static u16 pick_bdf(struct fuzz_in *in)
{
	u8 b = fuzz_u8(in);
	return b < 0xf0 ? pci_funcs[b % pci_nr_funcs].bdf : (u16)(b & 0x0f);
}

static unsigned pick_reg(struct fuzz_in *in)
{
	u8 b = fuzz_u8(in);
	return b < 0xc0 ? b : b < 0xe0 ? 0x10 + (b & 0x1f) : fuzz_u16(in) & 0xfff;
}

static void one_op(struct fuzz_in *in, struct vcpu *v0, struct vcpu *vu)
{
	u8 op = fuzz_u8(in);
	struct vcpu *v = op & 0x80 ? vu : v0;

	switch (op % 8) {
	case 0: { /* CONFIG_ADDRESS, usually a proper one */
		u8 how = fuzz_u8(in);
		u32 val = how < 0xe0 ? 0x80000000u | (u32)pick_bdf(in) << 8 | (pick_reg(in) & 0xfc) :
			  fuzz_u32(in);
		ports[0]->write(v, 0xcf8 + (how & 3) * (how >= 0xf0), how >= 0xf0 ? 1 : 4, val);
		ports[0]->read(v, 0xcf8, 4);
		return;
	}
	case 1:
	case 2: { /* CONFIG_DATA */
		unsigned size = pick_size(in, false);
		u16 port = 0xcfc + (fuzz_u8(in) & 3);
		u32 val = fuzz_u32(in);
		if (op & 1) {
			u32 r = ports[1]->read(v, port, size);
			if (v == vu)
				fuzz_check(r == (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1),
					   "unprivileged read 0x%x", r);
		} else {
			ports[1]->write(v, port, size, val);
		}
		return;
	}
	case 3:
	case 4: { /* ECAM */
		unsigned size = pick_size(in, true);
		u64 off = (u64)pick_bdf(in) << 12 | pick_reg(in);
		u64 val = fuzz_u64(in);
		gpa_t gpa = ecam.base + off;
		if (gpa + size > ecam.base + ecam.len)
			return; /* kernel/mmio.c refuses accesses crossing the end */
		if (op & 1)
			ecam.read(v0, gpa, size);
		else
			ecam.write(v0, gpa, size, val);
		return;
	}
	case 5: { /* PHYSDEVOP_map_pirq / unmap_pirq for MSI (kernel/pirq.c) */
		struct pci_func *f = &pci_funcs[fuzz_u8(in) % pci_nr_funcs];
		if (!f->msi_cap)
			return;
		u16 ctl;
		memcpy(&ctl, &space[f - pci_funcs][f->msi_cap + 2], 2);
		in_move = true; /* the hypervisor's own writes */
		if (f->msi_pirq) {
			f->msi_pirq = 0;
			pci_conf_write(f->bdf, f->msi_cap + 2, 2, ctl & ~PCI_MSI_FLAGS_ENABLE);
		} else {
			f->msi_pirq = 16 + fuzz_u8(in) % 8;
			pci_conf_write(f->bdf, f->msi_cap + 4, 4, 0xfee00000u);
			pci_conf_write(f->bdf, f->msi_cap + 2, 2,
				       (ctl & ~PCI_MSI_FLAGS_QSIZE) | PCI_MSI_FLAGS_ENABLE);
		}
		in_move = false;
		return;
	}
	case 6: { /* MSI-X entries mapped / unmapped */
		struct pci_func *f = &pci_funcs[fuzz_u8(in) % pci_nr_funcs];
		if (!f->msix_cap)
			return;
		u16 ctl;
		memcpy(&ctl, &space[f - pci_funcs][f->msix_cap + 2], 2);
		/* PHYSDEVOP_map_pirq maps an entry only in a trapped table
		 * (kernel/msix.c); whether this one is trapped is the input's. */
		if (!f->msix_nr_mapped && !(f->msix_trapped = fuzz_u8(in) & 1))
			return;
		f->msix_nr_mapped = f->msix_nr_mapped ? 0 : 1;
		in_move = true;
		pci_conf_write(f->bdf, f->msix_cap + 2, 2,
			       f->msix_nr_mapped ? ctl | PCI_MSIX_FLAGS_ENABLE :
						   ctl & ~PCI_MSIX_FLAGS_ENABLE);
		in_move = false;
		return;
	}
	default:
		if (fuzz_u8(in) & 1)
			refuse_moves = !refuse_moves;
		else
			now_ns += PCI_RESET_SETTLE_NS; /* lets a reset settle */
		return;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static struct domain d0, du;
	static struct vcpu v0, vu;
	u8 saved[NR_FUNCS][4096];

	pci_nr_funcs = 0;
	violation = NULL;
	refuse_moves = false;
	add_function(&in, PCI_BDF(0, 1, 0));
	add_function(&in, PCI_BDF(0, 2, 0));
	add_function(&in, PCI_BDF(1, 0, 3));
	d0 = (struct domain){ .id = 0, .privileged = true };
	du = (struct domain){ .id = 1 };
	v0 = (struct vcpu){ .dom = &d0 };
	vu = (struct vcpu){ .dom = &du };
	pci_cfg_init(&d0);
	fuzz_check(ports[0] && ports[1] && ecam.read, "handlers not registered");
	/* A fresh CONFIG_ADDRESS for each input (it is static in pci_cfg.c). */
	ports[0]->write(&v0, 0xcf8, 4, 0);

	for (unsigned n = 0; fuzz_more(&in) && n < 4000; n++) {
		/* Port accesses by the unprivileged domain (ops 0-2 with bit
		 * 7) must change neither a device nor CONFIG_ADDRESS. */
		bool unpriv = (in.p[0] & 0x80) && in.p[0] % 8 <= 2;
		u32 latch = ports[0]->read(&v0, 0xcf8, 4);
		if (unpriv)
			memcpy(saved, space, sizeof(saved));
		one_op(&in, &v0, &vu);
		if (unpriv) {
			fuzz_check(memcmp(saved, space, sizeof(saved)) == 0,
				   "an unprivileged domain changed config space");
			fuzz_check(ports[0]->read(&v0, 0xcf8, 4) == latch,
				   "an unprivileged domain changed CONFIG_ADDRESS");
		}
		check_all();
	}
	return 0;
}
