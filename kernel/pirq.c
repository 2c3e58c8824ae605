/*
 * dom0's physical interrupts: the model is in include/keel/pirq.h, the
 * subset and its reasons in docs/dom0-devices.md ("Interrupts").
 *
 * Interrupt context does the least: mask a level line, EOI the LAPIC,
 * note the pirq in a bitmap and ask the running vCPU to return to the
 * scheduler. Turning that into an event (which touches shared_info and
 * may wake a vCPU) happens at the scheduler's safe point, like the timer.
 */
#include <keel/acpi.h>
#include <keel/console_rx.h>
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <lib/string.h>
#include <keel/hypercall.h>
#include <keel/msix.h>
#include <keel/pci.h>
#include <keel/pirq.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/sched.h>
#include <keel/uart.h>
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/ioapic.h>
#include <asm/traps.h>

struct pirq_info {
	bool mapped;      /* PHYSDEVOP_map_pirq done: routed, vector set */
	bool configured;  /* PHYSDEVOP_setup_gsi gave trigger and polarity */
	bool level, active_low;
	bool reserved;    /* the hypervisor's own line: never given */
	bool masked;      /* masked by the handler, waiting for PHYSDEVOP_eoi */
	bool msi;         /* an MSI pirq (NR_PIRQS + slot): edge, no IOAPIC pin */
	bool msix;        /* ... of an MSI-X table entry */
	u16 bdf;          /* MSI: the function */
	u16 entry;        /* MSI-X: the table entry */
	u32 port;         /* bound event channel in dom0, 0 = none */
	u64 count;        /* interrupts delivered */
};

/* dom0's pirqs; below NR_PIRQS the pirq number is the GSI, above it an
 * MSI slot. */
static struct pirq_info pirqs[NR_ALL_PIRQS];
static volatile u64 pending[NR_ALL_PIRQS / 64];
static u64 msi_vectors_used; /* slots of the MSI vector range */

_Static_assert(PIRQ_VECTOR_BASE + NR_PIRQS <= MSI_VECTOR_BASE, "GSI and MSI vectors overlap");
_Static_assert(MSI_VECTOR_BASE + NR_MSI_VECTORS <= APIC_VECTOR_TIMER, "MSI vectors reach the LAPIC's");
_Static_assert(NR_ALL_PIRQS % 64 == 0 && NR_MSI_VECTORS <= 64, "pirq bitmaps");
static unsigned nr_bound;

/* ---- interrupt context ---------------------------------------------------- */

static void pirq_interrupt(struct trap_frame *f)
{
	u32 gsi = (u32)f->vector - PIRQ_VECTOR_BASE;

	if (gsi < NR_PIRQS) {
		struct pirq_info *p = &pirqs[gsi];
		/* Masking before the EOI: the LAPIC's EOI clears the
		 * IOAPIC's remote IRR, and a still-asserted level line would
		 * fire again at once. */
		if (p->level) {
			ioapic_mask(gsi);
			p->masked = true;
		}
		pending[gsi / 64] |= 1ULL << (gsi % 64);
	}
	apic_eoi();
	sched_softirq_raise();
}

/* An MSI: edge, nothing to mask; the pirq is NR_PIRQS + the slot. */
static void msi_interrupt(struct trap_frame *f)
{
	u32 slot = (u32)f->vector - MSI_VECTOR_BASE;

	if (slot < NR_MSI_VECTORS) {
		u32 pirq = PIRQ_MSI_BASE + slot;
		pending[pirq / 64] |= 1ULL << (pirq % 64);
	}
	apic_eoi();
	sched_softirq_raise();
}

/* ---- the safe point ---------------------------------------------------------- */

void pirq_deliver_pending(void)
{
	struct domain *d0 = control_domain();

	for (unsigned w = 0; w < ARRAY_SIZE(pending); w++) {
		if (!pending[w])
			continue;
		/* Interrupts are off in the hypervisor here: no bit can be
		 * added between the read and the clear. */
		u64 bits = pending[w];
		pending[w] = 0;
		for (unsigned b = 0; b < 64; b++) {
			if (!(bits & (1ULL << b)))
				continue;
			struct pirq_info *p = &pirqs[w * 64 + b];
			if (!p->port || !d0) {
				/* Unbound meanwhile: leave a level line masked
				 * (nobody would EOI it). */
				continue;
			}
			p->count++;
			evtchn_send_pirq(d0, p->port);
		}
	}
}

bool pirq_any_bound(void)
{
	return nr_bound != 0;
}

/* ---- binding (EVTCHNOP_bind_pirq / close) ------------------------------------- */

static struct pirq_info *dom0_pirq(struct domain *d, u32 pirq)
{
	if (!is_control_domain(d) || pirq >= NR_ALL_PIRQS)
		return NULL;
	return &pirqs[pirq];
}

int pirq_check_bind(struct domain *d, u32 pirq)
{
	struct pirq_info *p = dom0_pirq(d, pirq);

	if (!p || !p->mapped)
		return -EINVAL;
	if (p->port)
		return -EEXIST;
	return 0;
}

void pirq_bound(struct domain *d, u32 pirq, u32 port)
{
	struct pirq_info *p = dom0_pirq(d, pirq);

	if (!p)
		return;
	p->port = port;
	p->masked = false;
	nr_bound++;
	if (!p->msi)
		ioapic_unmask(pirq);
}

void pirq_unbound(struct domain *d, u32 pirq)
{
	struct pirq_info *p = dom0_pirq(d, pirq);

	if (!p || !p->port)
		return;
	if (!p->msi)
		ioapic_mask(pirq);
	p->port = 0;
	p->masked = false;
	pending[pirq / 64] &= ~(1ULL << (pirq % 64));
	nr_bound--;
}

/* ---- PHYSDEVOP_* ------------------------------------------------------------- */

/* The wiring of a GSI nobody described: the MADT's override for an ISA
 * IRQ (MPS INTI flags: polarity bits 0-1, 3 = active low; trigger bits
 * 2-3, 3 = level), ISA defaults (edge, high) below 16, PCI's (level,
 * low) above. */
static void default_wiring(u32 gsi, bool *level, bool *active_low)
{
	*level = gsi >= 16;
	*active_low = gsi >= 16;
	for (unsigned i = 0; i < acpi.nr_iso; i++) {
		if (acpi.iso[i].gsi != gsi)
			continue;
		u16 pol = acpi.iso[i].flags & 3, trig = (acpi.iso[i].flags >> 2) & 3;
		if (pol)
			*active_low = pol == 3;
		if (trig)
			*level = trig == 3;
	}
}

/* Writes the function's MSI capability: message address and data for
 * `vector`, one message, per-vector mask clear, then enable (or, with
 * vector 0, just clears the enable bit). */
static void msi_program(struct pci_func *f, u8 vector)
{
	u8 cap = f->msi_cap;
	u16 ctl = pci_conf_read(f->bdf, cap + 2, 2);
	unsigned lo, hi, data;

	ctl &= ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	pci_conf_write(f->bdf, cap + 2, 2, ctl);
	if (!vector)
		return;
	struct cpuid_regs r;
	cpuid(1, &r); /* the boot CPU's initial APIC ID, as ioapic_route */
	msi_cap_layout(ctl, &lo, &hi, &data);
	pci_conf_write(f->bdf, cap + lo, 4, msi_compose_addr(r.ebx >> 24));
	if (hi)
		pci_conf_write(f->bdf, cap + hi, 4, 0);
	pci_conf_write(f->bdf, cap + data, 2, msi_compose_data(vector));
	if (ctl & PCI_MSI_FLAGS_MASKBIT)
		pci_conf_write(f->bdf, cap + data + 4, 4, 0);
	pci_conf_write(f->bdf, cap + 2, 2, ctl | PCI_MSI_FLAGS_ENABLE);
}

/* Sets or clears the MSI-X enable bit (the function mask cleared). Only
 * with a mapped entry, hence a trapped table (map_msix). */
static void msix_enable(struct pci_func *f, bool on)
{
	on = on && f->msix_trapped;
	u16 ctl = pci_conf_read(f->bdf, f->msix_cap + 2, 2);
	ctl &= ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_conf_write(f->bdf, f->msix_cap + 2, 2, ctl | (on ? PCI_MSIX_FLAGS_ENABLE : 0));
}

void pirq_msi_restore(struct pci_func *f)
{
	if (f->msi_cap && f->msi_pirq)
		msi_program(f, (u8)(MSI_VECTOR_BASE + (f->msi_pirq - PIRQ_MSI_BASE)));
	if (!f->msix_cap || !f->msix_nr_mapped)
		return;
	/* The table answers only with memory decoding on; the BARs are back
	 * at the addresses Keel checked (pci_reset_settle), so turning it on
	 * for these writes exposes nothing new. dom0 sets its own command
	 * register afterwards. */
	u16 cmd = pci_conf_read(f->bdf, PCI_COMMAND, 2);
	pci_conf_write(f->bdf, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
	for (u32 q = PIRQ_MSI_BASE; q < NR_ALL_PIRQS; q++) {
		const struct pirq_info *p = &pirqs[q];
		if (p->mapped && p->msix && p->bdf == f->bdf)
			msix_entry_program(f, p->entry, (u8)(MSI_VECTOR_BASE + (q - PIRQ_MSI_BASE)));
	}
	msix_enable(f, true);
	pci_conf_write(f->bdf, PCI_COMMAND, 2, cmd);
}

/* Xen's MSI-X convention: MAP_PIRQ_TYPE_MSI with table_base (the
 * address of the BAR holding the table) != 0 and entry_nr the entry. */
static long map_msix(struct physdev_map_pirq *m, struct pci_func *f)
{
	unsigned nr, bir;

	/* Only a trapped table: otherwise dom0 could rewrite the message
	 * the hypervisor writes (an unassigned BAR, or a trap that failed). */
	if (!f || !f->msix_cap || !msix_table_info(f, &nr, &bir) || !f->msix_trapped)
		return -ENODEV;
	if (m->entry_nr < 0 || (unsigned)m->entry_nr >= nr || m->table_base != f->bar[bir].addr)
		return -EINVAL;
	if (f->msi_pirq)
		return -EBUSY; /* MSI and MSI-X are exclusive */
	if (!(pci_conf_read(f->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY))
		return -EINVAL; /* the table is unreachable: enable memory decoding first */
	for (u32 q = PIRQ_MSI_BASE; q < NR_ALL_PIRQS; q++) {
		struct pirq_info *p = &pirqs[q];
		if (p->mapped && p->msix && p->bdf == f->bdf && p->entry == m->entry_nr) {
			if (m->pirq != -1 && m->pirq != (int)q)
				return -EINVAL;
			m->pirq = (int32_t)q; /* mapped already: the same pirq */
			return 0;
		}
	}
	if (m->pirq != -1)
		return -EINVAL;
	int slot = msi_vector_alloc(&msi_vectors_used);
	if (slot < 0)
		return -ENOSPC;
	u32 pirq = PIRQ_MSI_BASE + (u32)slot;
	u8 vector = (u8)(MSI_VECTOR_BASE + slot);
	int rc = msix_entry_program(f, (unsigned)m->entry_nr, vector);
	if (rc) {
		msi_vector_free(&msi_vectors_used, slot);
		return rc;
	}
	pirqs[pirq] = (struct pirq_info){ .mapped = true, .msi = true, .msix = true,
					  .bdf = f->bdf, .entry = (u16)m->entry_nr };
	f->msix_nr_mapped++;
	msix_enable(f, true);
	pr_info("pirq %u: MSI-X entry %u of %02x:%02x.%u -> vector 0x%x, edge\n", pirq,
		m->entry_nr, PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), vector);
	m->pirq = (int32_t)pirq;
	return 0;
}

static long map_msi(struct physdev_map_pirq *m)
{
	if (m->type != MAP_PIRQ_TYPE_MSI)
		return -EOPNOTSUPP; /* segments, multi-message */
	if (m->bus < 0 || m->bus > 255 || m->devfn < 0 || m->devfn > 255)
		return -EINVAL;
	u16 bdf = PCI_BDF((u32)m->bus, (u32)m->devfn >> 3, (u32)m->devfn & 7);
	struct pci_func *f = pci_func_find(bdf);
	if (m->table_base)
		return map_msix(m, f);
	if (m->entry_nr != 0)
		return -EINVAL;
	if (!f || !f->msi_cap)
		return -ENODEV;
	if (f->msix_nr_mapped)
		return -EBUSY; /* MSI and MSI-X are exclusive */
	if (f->msi_pirq) { /* mapped already: the same pirq */
		if (m->pirq != -1 && m->pirq != f->msi_pirq)
			return -EINVAL;
		m->pirq = f->msi_pirq;
		return 0;
	}
	if (m->pirq != -1)
		return -EINVAL; /* Keel chooses MSI pirqs */
	int slot = msi_vector_alloc(&msi_vectors_used);
	if (slot < 0)
		return -ENOSPC;
	u32 pirq = PIRQ_MSI_BASE + (u32)slot;
	u8 vector = (u8)(MSI_VECTOR_BASE + slot);
	struct pirq_info *p = &pirqs[pirq];
	*p = (struct pirq_info){ .mapped = true, .msi = true, .bdf = bdf };
	f->msi_pirq = (u16)pirq;
	msi_program(f, vector);
	pr_info("pirq %u: MSI of %02x:%02x.%u -> vector 0x%x, edge\n", pirq, PCI_BUS(bdf),
		PCI_DEV(bdf), PCI_FN(bdf), vector);
	m->pirq = (int32_t)pirq;
	return 0;
}

static long map_pirq(struct vcpu *v, struct physdev_map_pirq *m)
{
	if (!domid_is_self(v->dom, m->domid))
		return -EPERM; /* pirqs for other domains: not implemented */
	if (m->type == MAP_PIRQ_TYPE_MSI || m->type == MAP_PIRQ_TYPE_MSI_SEG ||
	    m->type == MAP_PIRQ_TYPE_MULTI_MSI)
		return map_msi(m);
	if (m->type != MAP_PIRQ_TYPE_GSI)
		return -EINVAL;
	if (m->index < 0 || m->index >= NR_PIRQS || !ioapic_has_gsi((u32)m->index))
		return -EINVAL;
	u32 gsi = (u32)m->index;
	/* Keel's pirq for a GSI is the GSI itself. */
	if (m->pirq != -1 && m->pirq != m->index)
		return -EINVAL;
	struct pirq_info *p = &pirqs[gsi];
	if (p->reserved)
		return -EPERM;
	if (!p->mapped) {
		if (!p->configured)
			default_wiring(gsi, &p->level, &p->active_low);
		if (ioapic_route(gsi, (u8)(PIRQ_VECTOR_BASE + gsi), p->level, p->active_low))
			return -EINVAL;
		irq_register((u8)(PIRQ_VECTOR_BASE + gsi), pirq_interrupt);
		p->mapped = true;
		pr_info("pirq %u: GSI %u -> vector 0x%x, %s, active %s\n", gsi, gsi,
			PIRQ_VECTOR_BASE + gsi, p->level ? "level" : "edge",
			p->active_low ? "low" : "high");
	}
	m->pirq = (int32_t)gsi;
	return 0;
}

static long unmap_pirq(struct vcpu *v, const struct physdev_unmap_pirq *u)
{
	if (!domid_is_self(v->dom, u->domid))
		return -EPERM;
	if (u->pirq < 0 || u->pirq >= NR_ALL_PIRQS || !pirqs[u->pirq].mapped)
		return -EINVAL;
	struct pirq_info *p = &pirqs[u->pirq];
	if (p->port)
		return -EBUSY; /* close the event channel first */
	if (p->msi) {
		struct pci_func *f = pci_func_find(p->bdf);
		if (f && p->msix) {
			msix_entry_program(f, p->entry, 0); /* masked */
			if (f->msix_nr_mapped && !--f->msix_nr_mapped)
				msix_enable(f, false);
		} else if (f) {
			msi_program(f, 0);
			f->msi_pirq = 0;
		}
		int slot = u->pirq - PIRQ_MSI_BASE;
		msi_vector_free(&msi_vectors_used, slot);
		p->msi = p->msix = false;
	} else {
		ioapic_mask((u32)u->pirq);
	}
	p->mapped = false;
	p->masked = false;
	return 0;
}

static long setup_gsi(const struct physdev_setup_gsi *s)
{
	if (s->gsi < 0 || s->gsi >= NR_PIRQS || !ioapic_has_gsi((u32)s->gsi) ||
	    s->triggering > 1 || s->polarity > 1)
		return -EINVAL;
	struct pirq_info *p = &pirqs[s->gsi];
	if (p->reserved)
		return -EPERM;
	if (p->mapped)
		return -EEXIST; /* Xen: already set up */
	p->configured = true;
	p->level = s->triggering;
	p->active_low = s->polarity;
	return 0;
}

static long eoi(u32 irq)
{
	if (irq >= NR_ALL_PIRQS || !pirqs[irq].mapped)
		return -EINVAL;
	struct pirq_info *p = &pirqs[irq];
	if (p->masked && p->port && !p->msi) {
		p->masked = false;
		ioapic_unmask(irq);
	}
	return 0;
}

/* ---- PHYSDEVOP_*: one function per sub-op, and who may call it ----------- */

static long physdev_eoi(struct vcpu *v, u64 arg)
{
	struct physdev_eoi e;
	if (copy_from_guest(v, &e, arg, sizeof(e)))
		return -EFAULT;
	return eoi(e.irq);
}

static long physdev_irq_status_query(struct vcpu *v, u64 arg)
{
	struct physdev_irq_status_query q;
	if (copy_from_guest(v, &q, arg, sizeof(q)))
		return -EFAULT;
	if (q.irq >= NR_ALL_PIRQS)
		return -EINVAL;
	q.flags = pirqs[q.irq].mapped && pirqs[q.irq].level ? XENIRQSTAT_needs_eoi : 0;
	return copy_to_guest(v, arg, &q, sizeof(q)) ? -EFAULT : 0;
}

static long physdev_map_pirq(struct vcpu *v, u64 arg)
{
	struct physdev_map_pirq m;
	if (copy_from_guest(v, &m, arg, sizeof(m)))
		return -EFAULT;
	long rc = map_pirq(v, &m);
	if (rc == 0 && copy_to_guest(v, arg, &m, sizeof(m)))
		return -EFAULT;
	return rc;
}

static long physdev_unmap_pirq(struct vcpu *v, u64 arg)
{
	struct physdev_unmap_pirq u;
	if (copy_from_guest(v, &u, arg, sizeof(u)))
		return -EFAULT;
	return unmap_pirq(v, &u);
}

static long physdev_setup_gsi(struct vcpu *v, u64 arg)
{
	struct physdev_setup_gsi s;
	if (copy_from_guest(v, &s, arg, sizeof(s)))
		return -EFAULT;
	return setup_gsi(&s);
}

/* Every sub-op is the control domain's (it owns the pirqs), so the
 * hypercall table gates physdev_op as HC_DOM0_ONLY as well. */
static const struct {
	long (*fn)(struct vcpu *v, u64 arg);
	enum hc_caller who; /* hc_check_caller() */
} physdev_table[] = {
	[PHYSDEVOP_eoi] = { .fn = physdev_eoi, .who = HC_DOM0_ONLY },
	[PHYSDEVOP_irq_status_query] = { .fn = physdev_irq_status_query, .who = HC_DOM0_ONLY },
	[PHYSDEVOP_map_pirq] = { .fn = physdev_map_pirq, .who = HC_DOM0_ONLY },
	[PHYSDEVOP_unmap_pirq] = { .fn = physdev_unmap_pirq, .who = HC_DOM0_ONLY },
	[PHYSDEVOP_setup_gsi] = { .fn = physdev_setup_gsi, .who = HC_DOM0_ONLY },
};

long do_physdev_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5)
{
	(void)a3;
	(void)a4;
	(void)a5;
	if (cmd >= ARRAY_SIZE(physdev_table) || !physdev_table[cmd].fn)
		return -ENOSYS;
	if (hc_check_caller(physdev_table[cmd].who, v->dom))
		return -EPERM;
	return physdev_table[cmd].fn(v, arg);
}

/*
 * The console UART's interrupt: only wakes the scheduler, which reads the
 * bytes (console_rx_poll before every pick), so nothing runs in interrupt
 * context. An edge-triggered ISA line: the UART lowers it once its
 * receive buffer has been read empty and raises a new edge for the next
 * byte (PC16550D datasheet, IIR priorities; FIFO trigger level 1).
 */
static void console_uart_interrupt(struct trap_frame *f)
{
	(void)f;
	apic_eoi();
	sched_softirq_raise();
}

/* Routes the console UART's line (ISA IRQ `isa`, through the MADT's
 * override if any) to the hypervisor and turns on its receive interrupt.
 * A level-triggered or absent line keeps the polling. */
static void console_irq_init(u8 isa)
{
	const struct acpi_iso *iso = acpi_iso_of_irq(&acpi, isa);
	u32 gsi = iso ? iso->gsi : isa;
	bool level, low;

	if (gsi >= NR_PIRQS || !ioapic_has_gsi(gsi))
		return;
	pirqs[gsi].reserved = true;
	default_wiring(gsi, &level, &low);
	if (level || ioapic_route(gsi, (u8)(PIRQ_VECTOR_BASE + gsi), level, low)) {
		pr_info("console: UART input polled (GSI %u is %s)\n", gsi,
			level ? "level-triggered" : "not routable");
		return;
	}
	irq_register((u8)(PIRQ_VECTOR_BASE + gsi), console_uart_interrupt);
	ioapic_unmask(gsi);
	uart_rx_irq_enable();
	console_rx_irq_on();
	pr_info("console: UART input by interrupt: ISA IRQ %u, GSI %u, vector 0x%x\n", isa, gsi,
		PIRQ_VECTOR_BASE + gsi);
}

void pirq_init(u16 console_port)
{
	unsigned gsis = ioapic_init();
	u8 isa = 0;

	/* The hypervisor's own lines: the PIT/timer (ISA IRQ 0, usually GSI
	 * 2) and its console UART's IRQ (COM1/COM3: 4, COM2/COM4: 3), which
	 * dom0 never gets. */
	pirqs[0].reserved = pirqs[2].reserved = true;
	if (console_port == 0x3f8 || console_port == 0x3e8)
		isa = 4;
	else if (console_port == 0x2f8 || console_port == 0x2e8)
		isa = 3;
	if (isa) {
		pirqs[isa].reserved = true;
		console_irq_init(isa);
	}
	pr_info("pirq: %u GSIs for dom0's devices, vectors 0x%x-0x%x\n", MIN(gsis, (unsigned)NR_PIRQS),
		PIRQ_VECTOR_BASE, PIRQ_VECTOR_BASE + MIN(gsis, (unsigned)NR_PIRQS) - 1);
	/* The MSI range, all handled from the start: an MSI still in flight
	 * after unmap_pirq finds a handler (and no port). */
	for (unsigned s = 0; s < NR_MSI_VECTORS; s++)
		irq_register((u8)(MSI_VECTOR_BASE + s), msi_interrupt);
	pr_info("pirq: MSI pirqs %u-%u, vectors 0x%x-0x%x\n", PIRQ_MSI_BASE,
		PIRQ_MSI_BASE + NR_MSI_VECTORS - 1, MSI_VECTOR_BASE, MSI_VECTOR_BASE + NR_MSI_VECTORS - 1);
}
