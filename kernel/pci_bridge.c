/*
 * dom0's view of a PCI-to-PCI bridge's address windows; contract at
 * pci_bridge_window_* in include/keel/pci.h, policy in
 * docs/dom0-devices.md ("Bridge windows").
 *
 * A window forwards [base, limit] from the bridge's primary side to its
 * secondary side (PCI-to-PCI Bridge Architecture 1.2, 3.2.5.6-3.2.5.10).
 * One over the LAPIC/MSI window would keep the MSIs of the devices behind
 * the bridge from going upstream; one over an IOAPIC, the HPET or the ECAM
 * window competes with the chipset's decoding of them; an I/O window over
 * ports 0x0-0xfff claims the PIT, the PICs, CF8/CFC and Keel's UART; one
 * over RAM turns DMA to that RAM into peer-to-peer traffic. So no window
 * the device decodes may cover RAM or anything the hypervisor keeps: the
 * same checks as a BAR move (passthrough_mmio_ok / passthrough_io_ok).
 *
 * The window registers are emulated, like BARs: dom0 reads and writes a
 * copy (f->vwin), and the hypervisor programs the device with each window
 * the copy describes when it is disabled (base > limit) or acceptable,
 * and with that window disabled otherwise. A window is reprogrammed in
 * several writes (Linux's pci_setup_bridge_mmio_pref: upper limit 0, base
 * and limit, upper base, upper limit) whose intermediate states may be
 * unacceptable while the final one is fine; with the copy, an
 * intermediate state costs only a moment of the window being off, and
 * the final state lands whatever the order. A window whose range the
 * device decodes already (the firmware's, even over a kept range) is left
 * alone.
 *
 * The hypervisor writes a window in an order that never passes through a
 * wider one: disabled first, then the low base/limit, the upper base, the
 * upper limit (every intermediate state is off or inside the final one).
 *
 * MSI-X traps need nothing here: a trap is a hole in dom0's p2m and an
 * MMIO handler at the table's CPU physical address, which no window
 * changes; a window that stops covering a device's BAR only makes the
 * device unreachable, to dom0 and Keel alike.
 */
#include <lib/string.h>
#include <keel/passthrough.h>
#include <keel/pci.h>
#include <keel/printk.h>

#define WIN_FIRST PCI_IO_BASE
#define WIN_END (PCI_IO_LIMIT_UPPER16 + 2) /* 0x1c..0x33 */

/* The window registers, byte by byte (index reg - WIN_FIRST). */
struct win_regs {
	u8 b[WIN_END - WIN_FIRST];
};

static u32 rd(const struct win_regs *w, unsigned reg, unsigned size)
{
	u32 v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (u32)w->b[reg - WIN_FIRST + i] << (8 * i);
	return v;
}

struct window {
	const char *name;
	bool io;
	bool on;        /* base <= limit */
	u64 base, limit;
};

/* The three windows the registers describe (bridge spec 3.2.5.6 I/O,
 * 3.2.5.8 memory, 3.2.5.9 prefetchable). The type nibbles are read-only
 * and say whether the upper registers take part. */
static void decode(const struct win_regs *w, struct window out[3])
{
	u8 iob = (u8)rd(w, PCI_IO_BASE, 1), iol = (u8)rd(w, PCI_IO_LIMIT, 1);
	u64 base = (u64)(iob & 0xf0) << 8, limit = ((u64)(iol & 0xf0) << 8) | 0xfff;
	if ((iob & PCI_IO_RANGE_TYPE_MASK) == PCI_IO_RANGE_TYPE_32) {
		base |= (u64)rd(w, PCI_IO_BASE_UPPER16, 2) << 16;
		limit |= (u64)rd(w, PCI_IO_LIMIT_UPPER16, 2) << 16;
	}
	out[0] = (struct window){ "I/O", true, base <= limit, base, limit };

	base = (u64)(rd(w, PCI_MEMORY_BASE, 2) & 0xfff0) << 16;
	limit = ((u64)(rd(w, PCI_MEMORY_LIMIT, 2) & 0xfff0) << 16) | 0xfffff;
	out[1] = (struct window){ "memory", false, base <= limit, base, limit };

	u16 pb = (u16)rd(w, PCI_PREF_MEMORY_BASE, 2), pl = (u16)rd(w, PCI_PREF_MEMORY_LIMIT, 2);
	base = (u64)(pb & 0xfff0) << 16;
	limit = ((u64)(pl & 0xfff0) << 16) | 0xfffff;
	if ((pb & PCI_PREF_RANGE_TYPE_MASK) == PCI_PREF_RANGE_TYPE_64) {
		base |= (u64)rd(w, PCI_PREF_BASE_UPPER32, 4) << 32;
		limit |= (u64)rd(w, PCI_PREF_LIMIT_UPPER32, 4) << 32;
	}
	out[2] = (struct window){ "prefetchable", false, base <= limit, base, limit };
}

static bool window_reg(unsigned r)
{
	/* 0x1e-0x1f is the secondary status, not part of any window. */
	return r >= WIN_FIRST && r < WIN_END && r != PCI_SEC_STATUS && r != PCI_SEC_STATUS + 1;
}

static u8 window_bytes(unsigned reg, unsigned size)
{
	u8 bytes = 0;
	for (unsigned i = 0; i < size; i++)
		if (window_reg(reg + i))
			bytes |= (u8)(1u << i);
	return bytes;
}

static void hw_read(const struct pci_func *f, struct win_regs *w)
{
	for (unsigned r = WIN_FIRST; r < WIN_END; r += 4) {
		u32 v = pci_conf_read(f->bdf, r, 4);
		for (unsigned i = 0; i < 4; i++)
			w->b[r - WIN_FIRST + i] = (u8)(v >> (8 * i));
	}
}

static void vwin_load(struct pci_func *f)
{
	struct win_regs w;

	if (f->vwin_valid)
		return;
	hw_read(f, &w);
	memcpy(f->vwin, w.b, sizeof(w.b));
	f->vwin_valid = true;
}

static bool same_range(const struct window *a, const struct window *b)
{
	return a->on == b->on && (!a->on || (a->base == b->base && a->limit == b->limit));
}

static void put(struct win_regs *w, unsigned reg, unsigned size, u32 v)
{
	for (unsigned i = 0; i < size; i++)
		w->b[reg - WIN_FIRST + i] = (u8)(v >> (8 * i));
}

/* The registers of window k, from `from`, into `to`. */
static void copy_window(struct win_regs *to, const struct win_regs *from, unsigned k)
{
	static const struct { u8 reg, len; } parts[3][3] = {
		{ { PCI_IO_BASE, 2 }, { PCI_IO_BASE_UPPER16, 4 }, { 0, 0 } },
		{ { PCI_MEMORY_BASE, 4 }, { 0, 0 }, { 0, 0 } },
		{ { PCI_PREF_MEMORY_BASE, 4 }, { PCI_PREF_BASE_UPPER32, 8 }, { 0, 0 } },
	};
	for (unsigned p = 0; p < 3 && parts[k][p].len; p++)
		for (unsigned i = 0; i < parts[k][p].len; i++)
			to->b[parts[k][p].reg - WIN_FIRST + i] = from->b[parts[k][p].reg - WIN_FIRST + i];
}

/* Window k of `w` made empty (base above limit), type nibbles kept. */
static void disable_window(struct win_regs *w, unsigned k)
{
	u8 *b = w->b;
	switch (k) {
	case 0:
		b[PCI_IO_BASE - WIN_FIRST] = 0xf0 | (b[PCI_IO_BASE - WIN_FIRST] & 0x0f);
		b[PCI_IO_LIMIT - WIN_FIRST] &= 0x0f;
		put(w, PCI_IO_BASE_UPPER16, 2, 0xffff);
		put(w, PCI_IO_LIMIT_UPPER16, 2, 0);
		break;
	case 1:
		put(w, PCI_MEMORY_BASE, 2, 0xfff0);
		put(w, PCI_MEMORY_LIMIT, 2, 0);
		break;
	default:
		b[PCI_PREF_MEMORY_BASE - WIN_FIRST] |= 0xf0;
		b[PCI_PREF_MEMORY_BASE + 1 - WIN_FIRST] = 0xff;
		b[PCI_PREF_MEMORY_LIMIT - WIN_FIRST] &= 0x0f;
		b[PCI_PREF_MEMORY_LIMIT + 1 - WIN_FIRST] = 0;
		put(w, PCI_PREF_BASE_UPPER32, 4, 0xffffffffu);
		put(w, PCI_PREF_LIMIT_UPPER32, 4, 0);
		break;
	}
}

/* Programs window k of the device as `want` says, never through a wider
 * window: disabled, then low base/limit, upper base, upper limit. */
static void program_window(struct pci_func *f, const struct win_regs *want, unsigned k)
{
	struct win_regs off = *want;

	disable_window(&off, k);
	if (k == 0) {
		pci_conf_write(f->bdf, PCI_IO_BASE_UPPER16, 4, rd(&off, PCI_IO_BASE_UPPER16, 4));
		pci_conf_write(f->bdf, PCI_IO_BASE, 2, rd(want, PCI_IO_BASE, 2));
		pci_conf_write(f->bdf, PCI_IO_BASE_UPPER16, 4, rd(want, PCI_IO_BASE_UPPER16, 4));
	} else if (k == 1) {
		pci_conf_write(f->bdf, PCI_MEMORY_BASE, 4, rd(want, PCI_MEMORY_BASE, 4));
	} else {
		pci_conf_write(f->bdf, PCI_PREF_BASE_UPPER32, 4, rd(&off, PCI_PREF_BASE_UPPER32, 4));
		pci_conf_write(f->bdf, PCI_PREF_LIMIT_UPPER32, 4, 0);
		pci_conf_write(f->bdf, PCI_PREF_MEMORY_BASE, 4, rd(want, PCI_PREF_MEMORY_BASE, 4));
		pci_conf_write(f->bdf, PCI_PREF_BASE_UPPER32, 4, rd(want, PCI_PREF_BASE_UPPER32, 4));
		pci_conf_write(f->bdf, PCI_PREF_LIMIT_UPPER32, 4, rd(want, PCI_PREF_LIMIT_UPPER32, 4));
	}
}

u8 pci_bridge_window_write(struct pci_func *f, unsigned reg, unsigned size, u32 val)
{
	struct win_regs v, now, want;
	struct window dv[3], dn[3];
	u8 bytes;

	if (f->header != PCI_HEADER_TYPE_BRIDGE || !(bytes = window_bytes(reg, size)))
		return 0;
	vwin_load(f);
	memcpy(v.b, f->vwin, sizeof(v.b));
	hw_read(f, &now);
	for (unsigned i = 0; i < size; i++)
		if (bytes & (1u << i))
			v.b[reg + i - WIN_FIRST] = (u8)(val >> (8 * i));
	/* The type nibbles are read-only: the device's. */
	v.b[PCI_IO_BASE - WIN_FIRST] = (v.b[PCI_IO_BASE - WIN_FIRST] & 0xf0) |
				       (now.b[PCI_IO_BASE - WIN_FIRST] & 0x0f);
	v.b[PCI_IO_LIMIT - WIN_FIRST] = (v.b[PCI_IO_LIMIT - WIN_FIRST] & 0xf0) |
					(now.b[PCI_IO_LIMIT - WIN_FIRST] & 0x0f);
	v.b[PCI_PREF_MEMORY_BASE - WIN_FIRST] = (v.b[PCI_PREF_MEMORY_BASE - WIN_FIRST] & 0xf0) |
						(now.b[PCI_PREF_MEMORY_BASE - WIN_FIRST] & 0x0f);
	v.b[PCI_PREF_MEMORY_LIMIT - WIN_FIRST] = (v.b[PCI_PREF_MEMORY_LIMIT - WIN_FIRST] & 0xf0) |
						 (now.b[PCI_PREF_MEMORY_LIMIT - WIN_FIRST] & 0x0f);
	memcpy(f->vwin, v.b, sizeof(v.b));
	decode(&v, dv);
	decode(&now, dn);
	want = now;
	for (unsigned k = 0; k < 3; k++) {
		const char *why;
		if (same_range(&dv[k], &dn[k]))
			continue; /* decoded already: nothing to do */
		u64 len = dv[k].limit - dv[k].base + 1;
		bool ok = !dv[k].on || (dv[k].io ? passthrough_io_ok(dv[k].base, len, &why)
						 : passthrough_mmio_ok(dv[k].base, len, &why));
		if (ok) {
			copy_window(&want, &v, k);
		} else {
			if (!(f->cfg_refused_logged & PCI_CFG_LOGGED_WINDOW)) {
				f->cfg_refused_logged |= PCI_CFG_LOGGED_WINDOW;
				pr_warn("pci %02x:%02x.%u: dom0 setting the bridge's %s window to "
					"0x%lx-0x%lx refused: over %s (the window is off until dom0 "
					"moves it)\n",
					PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), dv[k].name,
					dv[k].base, dv[k].limit, why);
			}
			if (!dn[k].on)
				continue; /* off in the device: stays off */
			disable_window(&want, k);
		}
		program_window(f, &want, k);
	}
	return bytes;
}

u32 pci_bridge_window_read(struct pci_func *f, unsigned reg, unsigned size, u32 hw)
{
	u8 bytes;

	if (f->header != PCI_HEADER_TYPE_BRIDGE || !(bytes = window_bytes(reg, size)))
		return hw;
	vwin_load(f);
	for (unsigned i = 0; i < size; i++)
		if (bytes & (1u << i))
			hw = (hw & ~(0xffu << (8 * i))) | ((u32)f->vwin[reg + i - WIN_FIRST] << (8 * i));
	return hw;
}
