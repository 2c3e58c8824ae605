/*
 * The environment drivers/ expects (drivers/drv.h), provided by dom0:
 * logging through printf, DMA memory from the page allocator, device
 * memory through the identity map, time from PV time (or the TSC), and
 * device interrupts as pirq event channels (docs/dom0-devices.md).
 *
 * Time: PV time (vcpu_time_info) once shared_info is mapped; before
 * that the TSC read as if it ran at DRV_TSC_HZ_MAX. Real TSCs (and QEMU
 * TCG's, which follows the host's) run at most that fast, so that clock
 * runs fast or right, never slow: delays and time-outs last at least what
 * they say (drv.h's contract), at worst a few times longer.
 */
#include <lib/string.h>
#include "drv.h"
#include "evtchn.h"
#include "guest.h"
#include "hw.h"
#include "loop/loop.h"
#include "pages.h"
#include "pci/pci.h"
#include "physdev.h"
#include "pvclock.h"

#define DRV_TSC_HZ_MAX 4000000000ULL

int drv_log(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void *dma_alloc(size_t bytes, size_t align)
{
	if (!pages_total())
		pages_init(start_info());
	/* Page granularity: any smaller alignment comes for free. */
	return pages_alloc(ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT, MAX(align, PAGE_SIZE));
}

void dma_free(void *p, size_t bytes)
{
	if (p)
		pages_free(p, ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT);
}

/*
 * The low 4 GiB are identity-mapped at entry (the top GiB uncached, which
 * covers the 32-bit PCI hole). Above that, 2 MiB pages are added on
 * demand, uncached (PCD|PWT): 64-bit BARs live there.
 */
void *drv_map_mmio(u64 pa, u64 len)
{
	if (!len || pa + len < pa)
		return NULL;
	if (pa + len <= (4ULL << 30))
		return (void *)(uintptr_t)pa;
	for (u64 va = ALIGN_DOWN(MAX(pa, 4ULL << 30), SZ_2M); va < pa + len; va += SZ_2M)
		if (pt_map_2m(va, va, PTE_RW | PTE_PCD | PTE_PWT))
			return NULL;
	return (void *)(uintptr_t)pa;
}

static inline u64 rdtsc_now(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* The clock is chosen at the first call and never changes (deadlines
 * computed with one clock are compared with the same one): PV time if
 * the event-channel library has mapped shared_info by then (dom0_hw_init
 * makes sure it has), else the TSC bound. */
u64 drv_now_us(void)
{
	static int use_pvclock = -1;

	if (use_pvclock < 0)
		use_pvclock = evtchn_shared_info() && pvclock_now_ns() != 0;
	if (use_pvclock)
		return pvclock_now_ns() / 1000;
	return rdtsc_now() / (DRV_TSC_HZ_MAX / 1000000);
}

void drv_udelay(u64 us)
{
	u64 end = drv_now_us() + us;
	while (drv_now_us() < end)
		__asm__ volatile("pause");
}

/* ---- device interrupts ----------------------------------------------------- */

/*
 * Each device's pirq is bound to an event channel registered with dom0's
 * event loop (loop/loop.h): the upcall only marks it, and the
 * notification reaches the driver from the loop, never in interrupt
 * context. Two ways to take it:
 *   - asynchronously: drv_irq_set_handler's function runs from the loop
 *     each time the interrupt fires (services such as a block backend);
 *   - synchronously: drv_irq_wait sleeps in the loop's sleep (sti;
 *     hlt) until this port fires or the time-out passes (probing, the
 *     self-tests); other ports' events stay marked for the loop.
 * PHYSDEVOP_eoi follows once the driver has quieted the device.
 */
#define DRV_IRQ_MAX 16

struct drv_irq {
	u32 gsi, pirq;
	bool msi;          /* the device's MSI or MSI-X, not its INTx line */
	bool msix;         /* MSI-X (entry 0) */
	u16 bdf;           /* MSI: the function */
	evtchn_port_t port;
	bool needs_eoi;    /* the line is level: the hypervisor masked it */
	bool eoi_pending;  /* we took an interrupt and owe the EOI */
	bool fired;        /* the loop saw the port fire; not yet taken */
	void (*handler)(void *arg); /* drv_irq_set_handler's, from the loop */
	void *handler_arg;
	u64 count;
	char name[64];
};

static struct drv_irq irqs[DRV_IRQ_MAX];
static unsigned nr_irqs;
bool drv_msi_disabled; /* cmdline msi=off (guest/dom0/hw/hw.c) */

static bool take_event(struct drv_irq *irq);

/* The loop's handler of a device's port. With a handler set, the
 * interrupt is taken here, as drv_irq_wait would take it: counted, and a
 * level line's EOI owed, so that the driver's drv_irq_done (after the
 * handler has quieted the device) lets the line fire again. */
static void irq_event(evtchn_port_t port, void *arg)
{
	struct drv_irq *irq = arg;

	(void)port;
	irq->fired = true;
	if (irq->handler) {
		take_event(irq);
		irq->handler(irq->handler_arg);
	}
}

/* Hands the port to the loop. If that fails the port stays masked and
 * drv_irq_wait still wakes on it through SCHEDOP_poll. */
static void irq_bind(struct drv_irq *irq)
{
	int rc = loop_bind_port(irq->port, irq_event, irq);

	if (rc) {
		printf("%s: port %u: not on the event loop (%d): polled\n", guest_name, irq->port,
		       rc);
		evtchn_mask(irq->port);
	}
}

/* The function's MSI as a pirq bound to a port, or NULL (no MSI
 * capability, msi=off, or the hypervisor refused: the caller falls back
 * to INTx). The hypervisor writes the message and sets the enable bit in
 * PHYSDEVOP_map_pirq; dom0 never touches them. */
static struct drv_irq *attach_msi(struct pci_dev *d)
{
	u32 pirq;
	evtchn_port_t port;
	int rc;

	if (drv_msi_disabled || !pci_cap_find(d, PCI_CAP_ID_MSI, 0))
		return NULL;
	for (unsigned i = 0; i < nr_irqs; i++)
		if (irqs[i].msi && !irqs[i].msix && irqs[i].bdf == d->bdf)
			return &irqs[i];
	if ((rc = physdev_map_msi(d->bdf, &pirq))) {
		printf("%s: pci %02x:%02x.%u: MSI: PHYSDEVOP_map_pirq failed (%d): using INTx\n",
		       guest_name, PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf), rc);
		return NULL;
	}
	if ((rc = evtchn_bind_pirq(pirq, &port))) {
		printf("%s: pirq %u: EVTCHNOP_bind_pirq failed (%d): using INTx\n", guest_name, pirq,
		       rc);
		physdev_unmap_pirq(pirq);
		return NULL;
	}
	struct drv_irq *irq = &irqs[nr_irqs++];
	*irq = (struct drv_irq){ .msi = true, .bdf = d->bdf, .pirq = pirq, .port = port };
	irq_bind(irq);
	physdev_needs_eoi(pirq, &irq->needs_eoi); /* false: MSIs are edge */
	snprintf(irq->name, sizeof(irq->name), "MSI %02x:%02x.%u, pirq %u, port %u",
		 PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf), pirq, port);
	return irq;
}

/* Entry 0 of the function's MSI-X table as a pirq bound to a port, or
 * NULL (no MSI-X capability, msi=off, or refused: the caller tries MSI,
 * then INTx). The hypervisor writes the entry and sets the enable bit;
 * dom0 never touches the table's address and data. */
static struct drv_irq *attach_msix(struct pci_dev *d)
{
	u32 pirq;
	evtchn_port_t port;
	int rc;
	u8 cap;

	if (drv_msi_disabled || !(cap = pci_cap_find(d, PCI_CAP_ID_MSIX, 0)))
		return NULL;
	for (unsigned i = 0; i < nr_irqs; i++)
		if (irqs[i].msix && irqs[i].bdf == d->bdf)
			return &irqs[i];
	unsigned bir = pci_cfg_read(d, cap + 4, 4) & 7;
	if (bir > 5 || !d->bar[bir].size || d->bar[bir].io)
		return NULL;
	if ((rc = physdev_map_msix(d->bdf, 0, d->bar[bir].addr, &pirq))) {
		printf("%s: pci %02x:%02x.%u: MSI-X: PHYSDEVOP_map_pirq failed (%d)\n", guest_name,
		       PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf), rc);
		return NULL;
	}
	if ((rc = evtchn_bind_pirq(pirq, &port))) {
		printf("%s: pirq %u: EVTCHNOP_bind_pirq failed (%d)\n", guest_name, pirq, rc);
		physdev_unmap_pirq(pirq);
		return NULL;
	}
	struct drv_irq *irq = &irqs[nr_irqs++];
	*irq = (struct drv_irq){ .msi = true, .msix = true, .bdf = d->bdf, .pirq = pirq,
				 .port = port };
	irq_bind(irq);
	physdev_needs_eoi(pirq, &irq->needs_eoi); /* false: edge */
	snprintf(irq->name, sizeof(irq->name), "MSI-X %02x:%02x.%u entry 0, pirq %u, port %u",
		 PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf), pirq, port);
	return irq;
}

bool drv_irq_is_msix(const struct drv_irq *irq)
{
	return irq && irq->msix;
}

struct drv_irq *drv_irq_attach(struct pci_dev *d)
{
	u32 gsi, pirq;
	bool level, low;
	evtchn_port_t port;
	int rc;

	if (nr_irqs == DRV_IRQ_MAX)
		return NULL;
	if (evtchn_init())
		return NULL;
	struct drv_irq *msi = attach_msix(d);
	if (msi)
		return msi;
	if (nr_irqs == DRV_IRQ_MAX)
		return NULL;
	msi = attach_msi(d);
	if (msi)
		return msi;
	if (nr_irqs == DRV_IRQ_MAX || !pci_intx_route(d, &gsi, &level, &low))
		return NULL;
	/* Already set up (another function on the same line, or a second
	 * attach): share the pirq and its port. */
	for (unsigned i = 0; i < nr_irqs; i++)
		if (!irqs[i].msi && irqs[i].gsi == gsi)
			return &irqs[i];
	rc = physdev_setup_gsi(gsi, level, low);
	if (rc && rc != -EEXIST) {
		printf("%s: GSI %u: PHYSDEVOP_setup_gsi failed (%d)\n", guest_name, gsi, rc);
		return NULL;
	}
	if ((rc = physdev_map_gsi(gsi, &pirq))) {
		printf("%s: GSI %u: PHYSDEVOP_map_pirq failed (%d)\n", guest_name, gsi, rc);
		return NULL;
	}
	if ((rc = evtchn_bind_pirq(pirq, &port))) {
		printf("%s: pirq %u: EVTCHNOP_bind_pirq failed (%d)\n", guest_name, pirq, rc);
		return NULL;
	}
	struct drv_irq *irq = &irqs[nr_irqs++];
	*irq = (struct drv_irq){ .gsi = gsi, .pirq = pirq, .port = port };
	irq_bind(irq);
	physdev_needs_eoi(pirq, &irq->needs_eoi);
	snprintf(irq->name, sizeof(irq->name), "GSI %u %s, pirq %u, port %u", gsi,
		 level ? "level" : "edge", pirq, port);
	return irq;
}

/* Takes an interrupt the loop dispatched (fired), or one the loop has
 * marked but not dispatched yet, or (a port not on the loop) its pending
 * bit. */
static bool take_event(struct drv_irq *irq)
{
	bool got = irq->fired || loop_port_take(irq->port);

	if (!got && evtchn_is_masked(irq->port) && evtchn_is_pending(irq->port)) {
		evtchn_clear_pending(irq->port);
		got = true;
	}
	if (!got)
		return false;
	irq->fired = false;
	irq->count++;
	irq->eoi_pending = irq->needs_eoi;
	return true;
}

bool drv_irq_wait(struct drv_irq *irq, u64 us)
{
	if (!irq)
		return false;
	if (take_event(irq))
		return true;
	u64 now = pvclock_now_ns();
	if (!evtchn_is_masked(irq->port)) {
		/* loop_wait_port takes the port's mark itself. */
		if (loop_wait_port(irq->port, now ? now + us * 1000 : 0))
			irq->fired = true;
	} else {
		evtchn_poll(&irq->port, 1, now ? now + us * 1000 : 0);
	}
	return take_event(irq);
}

void drv_irq_set_handler(struct drv_irq *irq, void (*fn)(void *arg), void *arg)
{
	if (!irq)
		return;
	irq->handler = NULL;
	irq->handler_arg = arg;
	irq->handler = fn;
}

void drv_irq_done(struct drv_irq *irq)
{
	if (irq && irq->eoi_pending) {
		irq->eoi_pending = false;
		physdev_eoi(irq->pirq);
	}
}

u64 drv_irq_count(const struct drv_irq *irq)
{
	return irq ? irq->count : 0;
}

const char *drv_irq_name(const struct drv_irq *irq)
{
	return irq ? irq->name : "polled";
}
