/* Emulated MMIO regions; contract in include/keel/mmio.h. */
#include <keel/domain.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/mmio.h>
#include <keel/pci.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/mmio_insn.h>
#include <asm/vendor.h>

/* ECAM and a few fixed regions, plus one MSI-X table per PCI function
 * the hypervisor tracks (kernel/msix.c): sized from PCI_MAX_FUNCS so that
 * no table is ever left untrapped for want of a slot. */
#define MMIO_HANDLERS_MAX (16 + PCI_MAX_FUNCS)

static struct mmio_handler handlers[MMIO_HANDLERS_MAX];
static unsigned nr_handlers;

int mmio_register(const struct mmio_handler *h)
{
	if (!h->len || h->base + h->len < h->base)
		return -EINVAL;
	if (nr_handlers == MMIO_HANDLERS_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < nr_handlers; i++) {
		const struct mmio_handler *o = &handlers[i];
		bool same_dom = o->domid == h->domid || o->domid == MMIO_ANY_DOMAIN ||
				h->domid == MMIO_ANY_DOMAIN;
		if (same_dom && h->base < o->base + o->len && o->base < h->base + h->len)
			return -EEXIST;
	}
	handlers[nr_handlers++] = *h;
	return 0;
}

int mmio_unregister(gpa_t base, u16 domid)
{
	for (unsigned i = 0; i < nr_handlers; i++) {
		if (handlers[i].base != base || handlers[i].domid != domid)
			continue;
		handlers[i] = handlers[--nr_handlers];
		return 0;
	}
	return -ENOENT;
}

static const struct mmio_handler *find(u16 domid, gpa_t gpa)
{
	for (unsigned i = 0; i < nr_handlers; i++) {
		const struct mmio_handler *h = &handlers[i];
		if ((h->domid == domid || h->domid == MMIO_ANY_DOMAIN) && gpa >= h->base &&
		    gpa - h->base < h->len)
			return h;
	}
	return NULL;
}

/* Fetches up to 15 instruction bytes at the guest's RIP, stopping at the
 * first page that is not mapped executable for it. Returns the count. */
static size_t fetch_insn(struct vcpu *v, u8 *buf)
{
	u64 rip = vendor->get_reg(v, VREG_RIP);
	size_t got = 0;

	while (got < 15) {
		size_t chunk = MIN(15 - got, PAGE_SIZE - ((rip + got) & (PAGE_SIZE - 1)));
		if (copy_from_guest(v, buf + got, rip + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

static bool in_64bit_mode(struct vcpu *v)
{
	struct vseg cs;
	vendor->get_seg(v, VSEG_CS, &cs);
	return (vendor->get_reg(v, VREG_EFER) & EFER_LMA) && (cs.attr & (1u << 9));
}

bool mmio_handle(struct vcpu *v, struct vm_exit *e, enum exit_action *action)
{
	const struct mmio_handler *h = find(v->dom->id, e->npf.gpa);
	struct mmio_insn in;
	char why[128];
	u8 bytes[15];

	if (!h)
		return false;
	*action = EXIT_STOP;
	if (e->npf.access & PT_X) {
		snprintf(why, sizeof(why), "instruction fetch from emulated MMIO (%s) at 0x%lx",
			 h->name, e->npf.gpa);
		domain_crash(v, why);
		return true;
	}
	if (!in_64bit_mode(v)) {
		snprintf(why, sizeof(why), "MMIO access to %s outside 64-bit mode is not emulated",
			 h->name);
		domain_crash(v, why);
		return true;
	}
	size_t n = fetch_insn(v, bytes);
	int rc = mmio_insn_decode(bytes, n, &in);
	if (rc) {
		snprintf(why, sizeof(why),
			 "cannot emulate the MMIO access to %s at 0x%lx (insn %02x %02x %02x %02x)",
			 h->name, e->npf.gpa, n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0,
			 n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0);
		domain_crash(v, why);
		return true;
	}
	/* The fault says read or write; the bytes we fetched must agree (a
	 * guest could rewrite its code between the fault and the fetch). */
	if (in.write != !!(e->npf.access & PT_W)) {
		domain_crash(v, "MMIO instruction does not match the faulting access");
		return true;
	}
	if (e->npf.gpa + in.size > h->base + h->len) {
		snprintf(why, sizeof(why), "MMIO access of %u bytes at 0x%lx crosses the end of %s",
			 in.size, e->npf.gpa, h->name);
		domain_crash(v, why);
		return true;
	}
	if (in.write) {
		if (h->write)
			h->write(v, e->npf.gpa, in.size, mmio_insn_store_value(&in, v->arch.gprs));
	} else {
		u64 val = h->read ? h->read(v, e->npf.gpa, in.size) : ~0ULL;
		mmio_insn_load_result(&in, v->arch.gprs, val);
	}
	e->insn_len = in.len;
	*action = EXIT_ADVANCE;
	return true;
}
