/* Port I/O exits: dispatch to registered handlers; see include/keel/io.h.
 * IN/OUT and INS/OUTS (REP or not) alike; a port nobody registered reads
 * all ones and ignores writes, as in Xen (hvm/emulate.c null_read). */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/guest_console.h>
#include <keel/io.h>
#include <keel/printk.h>
#include <keel/vmexit.h>
#include <public/keel_test.h>
#include <lib/string.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/insn.h>
#include <asm/paging.h>
#include <asm/string_io.h>
#include <asm/vendor.h>

#define IO_HANDLERS_MAX 32

static struct io_port_handler handlers[IO_HANDLERS_MAX];
static unsigned nr_handlers;

/* One bit per port that some handler covers (8 KiB). Most intercepted
 * ports have no handler (Linux's port 0x80 delays, probes of absent
 * devices): the bit answers those in a few instructions instead of a
 * scan of every handler on each exit (docs/PERFORMANCE.md). */
static u64 port_handled[65536 / 64];

int io_register(const struct io_port_handler *h)
{
	if (nr_handlers >= IO_HANDLERS_MAX)
		return -ENOSPC;
	for (unsigned i = 0; i < nr_handlers; i++)
		if (h->first < handlers[i].first + handlers[i].count &&
		    handlers[i].first < h->first + h->count)
			return -EEXIST;
	handlers[nr_handlers++] = *h;
	for (u32 p = h->first; p < (u32)h->first + h->count && p < 65536; p++)
		port_handled[p / 64] |= 1ULL << (p % 64);
	return 0;
}

static __attribute__((noinline)) const struct io_port_handler *scan_handlers(u16 port)
{
	for (unsigned i = 0; i < nr_handlers; i++)
		if (port >= handlers[i].first && port < handlers[i].first + handlers[i].count)
			return &handlers[i];
	return NULL;
}

/* The bit first, inline: an unhandled port costs no call. */
static inline const struct io_port_handler *find_handler(u16 port)
{
	if (!(port_handled[port / 64] & (1ULL << (port % 64))))
		return NULL;
	return scan_handlers(port);
}

static u32 port_read(struct vcpu *v, u16 port, unsigned size)
{
	const struct io_port_handler *h = find_handler(port);
	u32 mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	/* No device: all ones, as Xen's null handler answers. */
	return (h && h->read ? h->read(v, port, size) : 0xffffffffu) & mask;
}

static void port_write(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	const struct io_port_handler *h = find_handler(port);

	if (h && h->write)
		h->write(v, port, size, val);
}

/* Elements one exit moves at most: a long REP INS/OUTS goes on from the
 * same RIP (RCX and RSI/RDI updated), so other work is not held up. */
#define STRING_IO_BATCH 4096

/*
 * INS/OUTS, with or without REP (SDM vol. 2 "INS", "OUTS", "REP"): each
 * element goes between the port's handler and guest memory at
 * segment base + RDI (INS, always ES) or RSI (OUTS, DS unless
 * overridden), of the address size the mode and a 67h prefix give;
 * RFLAGS.DF says the direction; RCX counts with REP. Linux's early
 * console uses REP OUTSB to port 0xE9 when console_io is refused.
 * Segment limits are not checked (64-bit mode has none; Keel's guests
 * use flat segments otherwise). An element the guest's page tables do not
 * allow gets the #PF (or #GP) a CPU would raise; one they allow but the
 * p2m does not (no RAM there) kills the domain, with the address.
 */
static __attribute__((noinline)) enum exit_action handle_string_io(struct vcpu *v,
								  struct vm_exit *e)
{
	const struct io_exit *io = &e->io;
	u64 *g = v->arch.gprs;
	struct string_io_insn insn;
	struct vseg cs, seg;
	u64 rip = vendor->get_reg(v, VREG_RIP);

	vendor->get_seg(v, VSEG_CS, &cs);
	bool lma = vendor->get_reg(v, VREG_EFER) & EFER_LMA;
	if (insn_fetch_decode(v, rip, string_io_decode, &insn) < 0) {
		domain_crash(v, "INS/OUTS: cannot fetch or decode the instruction");
		return EXIT_STOP;
	}
	unsigned asize = string_io_addr_size(cs.attr, lma, insn.addr_override);
	u64 amask = asize == 8 ? ~0ULL : (1ULL << (8 * asize)) - 1;
	int segid = io->in ? VSEG_ES : (insn.seg >= 0 ? insn.seg : VSEG_DS);
	bool l64 = lma && (cs.attr & (1u << 9));
	vendor->get_seg(v, segid, &seg);
	/* In 64-bit mode only FS and GS have a base (SDM vol. 1 3.7.4.1). */
	u64 base = (!l64 || segid == VSEG_FS || segid == VSEG_GS) ? seg.base : 0;

	int reg = io->in ? GPR_RDI : GPR_RSI;
	u64 count = io->rep ? (g[GPR_RCX] & amask) : 1;
	s64 step = (vendor->get_reg(v, VREG_RFLAGS) & RFLAGS_DF) ? -(s64)io->size : io->size;
	u64 n = count < STRING_IO_BATCH ? count : STRING_IO_BATCH;

	for (u64 i = 0; i < n; i++) {
		u64 off = g[reg] & amask;
		u64 lin = base + off;
		u32 val = 0;
		int rc;
		if (io->in) {
			/* The destination is checked, without a write, before
			 * the port is read, so a faulting INS consumes no data
			 * and leaves memory as it was; the copy then cannot
			 * fail. */
			rc = guest_check_writable(v, lin, io->size);
			if (!rc) {
				val = port_read(v, io->port, io->size);
				rc = copy_to_guest(v, lin, &val, io->size);
			}
		} else {
			rc = copy_from_guest(v, &val, lin, io->size);
			if (!rc)
				port_write(v, io->port, io->size, val);
		}
		if (rc) {
			/* The element faults as on a CPU: the registers keep
			 * the elements done so far, RIP stays on the
			 * instruction (SDM vol. 2 "REP": restartable). */
			if (guest_inject_access_fault(v, lin, io->size, io->in ? PT_W : PT_R))
				return EXIT_RETAIN;
			char why[96];
			snprintf(why, sizeof(why), "%s port 0x%x: guest address 0x%lx not %s RAM",
				 io->in ? "INS" : "OUTS", io->port, lin,
				 io->in ? "writable" : "readable");
			domain_crash(v, why);
			return EXIT_STOP;
		}
		/* Only the address-size bits of the register change (SDM
		 * vol. 1 3.6.1); a 32-bit address in 64-bit mode zero-extends
		 * as every 32-bit register write does. */
		u64 next = (off + (u64)step) & amask;
		g[reg] = asize == 4 ? next : (g[reg] & ~amask) | next;
		if (io->rep) {
			u64 c = ((g[GPR_RCX] & amask) - 1) & amask;
			g[GPR_RCX] = asize == 4 ? c : (g[GPR_RCX] & ~amask) | c;
		}
	}
	return count > n ? EXIT_RETAIN : EXIT_ADVANCE;
}

/* The merge of an IN's value into RAX (SDM vol. 2 "IN"): 32-bit results
 * zero-extend; 8 and 16 keep RAX's other bits. */
static inline void in_result(u64 *rax, unsigned size, u32 val)
{
	u32 mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	*rax = size == 4 ? val : (*rax & ~(u64)mask) | (val & mask);
}

/* IN/OUT of a port some handler covers. */
static __attribute__((noinline)) enum exit_action handle_port_io(struct vcpu *v,
								 struct vm_exit *e)
{
	const struct io_exit *io = &e->io;
	const struct io_port_handler *h = scan_handlers(io->port);
	u64 *rax = &v->arch.gprs[GPR_RAX];
	u32 mask = io->size == 4 ? 0xffffffffu : (1u << (8 * io->size)) - 1;

	/* As port_read/port_write, the bit already tested. */
	if (io->in)
		in_result(rax, io->size, h && h->read ? h->read(v, io->port, io->size) : 0xffffffffu);
	else if (h && h->write)
		h->write(v, io->port, io->size, (u32)*rax & mask);
	return EXIT_ADVANCE;
}

/* The common case, a port no handler covers, is a bit test and no call:
 * the other paths are out of line, so this one needs no stack frame. */
enum exit_action handle_io(struct vcpu *v, struct vm_exit *e)
{
	const struct io_exit *io = &e->io;

	if (io->string)
		return handle_string_io(v, e);
	if (port_handled[io->port / 64] & (1ULL << (io->port % 64)))
		return handle_port_io(v, e);
	/* No device: reads all ones, as Xen's null handler answers; writes
	 * are dropped. */
	if (io->in)
		in_result(&v->arch.gprs[GPR_RAX], io->size, 0xffffffffu);
	return EXIT_ADVANCE;
}

/* Port 0xE9: Bochs/QEMU's debug console. Linux falls back to it for
 * early output when console_io fails; Keel prints it as the domain's. */
static void e9_write(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	(void)port;
	char c = (char)val;
	if (size == 1)
		guest_console_write(v->dom, &c, 1);
}

/* The test port: a scratch register per domain (dom0 self-tests), kept
 * in struct domain so a new domain never sees an old one's value. */

static u32 test_port_read(struct vcpu *v, u16 port, unsigned size)
{
	(void)port;
	(void)size;
	return v->dom->test_port;
}

static void test_port_write(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	(void)port;
	(void)size;
	v->dom->test_port = val;
}

void io_init(void);
void io_init(void)
{
	static const struct io_port_handler builtin[] = {
		{ .first = 0xe9, .count = 1, .name = "debug console", .write = e9_write },
		{ .first = KEEL_TEST_PORT, .count = 4, .name = "Keel test port",
		  .read = test_port_read, .write = test_port_write },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(builtin); i++)
		BUG_ON(io_register(&builtin[i]) != 0);
}
