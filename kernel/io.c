/* Port I/O exits: dispatch to registered handlers; see include/keel/io.h. */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/guest_console.h>
#include <keel/io.h>
#include <keel/printk.h>
#include <keel/vmexit.h>
#include <public/keel_test.h>

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

static const struct io_port_handler *find_handler(u16 port)
{
	if (!(port_handled[port / 64] & (1ULL << (port % 64))))
		return NULL;
	for (unsigned i = 0; i < nr_handlers; i++)
		if (port >= handlers[i].first && port < handlers[i].first + handlers[i].count)
			return &handlers[i];
	return NULL;
}

enum exit_action handle_io(struct vcpu *v, struct vm_exit *e)
{
	const struct io_exit *io = &e->io;
	u64 *rax = &v->arch.gprs[GPR_RAX];
	u32 mask = io->size == 4 ? 0xffffffffu : (1u << (8 * io->size)) - 1;

	if (io->string) {
		/* INS/OUTS need the guest's segments and RSI/RDI walked
		 * through its page tables; no Keel device needs them yet. */
		domain_crash(v, "string port I/O (INS/OUTS) is not emulated");
		return EXIT_STOP;
	}
	const struct io_port_handler *h = find_handler(io->port);
	if (io->in) {
		u32 val = h && h->read ? h->read(v, io->port, io->size) : 0xffffffffu;
		*rax = (*rax & ~(u64)mask) | (val & mask);
		if (io->size == 4)
			*rax &= 0xffffffffu; /* 32-bit results zero-extend */
	} else if (h && h->write) {
		h->write(v, io->port, io->size, (u32)*rax & mask);
	}
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
