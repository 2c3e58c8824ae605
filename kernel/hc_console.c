/* console_io (Xen public/xen.h CONSOLEIO_*): guest text to the console. */
#include <keel/console_rx.h>
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/guest_console.h>
#include <keel/hypercall.h>
#include <keel/priv.h>
#include <keel/uart.h>
#include <asm/guest_mem.h>
#include <public/xen.h>

/* Longest write accepted in one call (it is printed in chunks). */
#define CONSOLE_IO_MAX (64 * 1024)

/*
 * CONSOLEIO_read: the control domain reads what the operator typed on the
 * hypervisor's serial console (Xen gives dom0 the serial input the same
 * way). Non-blocking: returns the number of bytes read, 0 when nothing is
 * waiting; VIRQ_CONSOLE tells dom0 when there is something
 * (keel/console_rx.h), so it need not poll. Other domains have their own
 * consoles through the console backend, so they get -EPERM here.
 */
static long console_read(struct vcpu *v, u64 count, u64 buf)
{
	char chunk[64];
	u64 n = 0;

	if (!is_control_domain(v->dom))
		return -EPERM;
	if (count > CONSOLE_IO_MAX)
		return -EINVAL;
	guest_console_show_partial(v->dom); /* the prompt, echoed keys */
	while (n < count) {
		size_t got = console_rx_read(chunk, MIN(sizeof(chunk), count - n));
		if (!got)
			break;
		if (copy_to_guest(v, buf + n, chunk, got))
			return n ? (long)n : -EFAULT; /* this chunk is lost */
		n += got;
	}
	return (long)n;
}

long do_console_io(struct vcpu *v, u64 cmd, u64 count, u64 buf, u64 a4, u64 a5)
{
	char chunk[128];
	(void)a4;
	(void)a5;

	if (cmd == CONSOLEIO_read)
		return console_read(v, count, buf);
	if (cmd != CONSOLEIO_write)
		return -ENOSYS;
	if (count > CONSOLE_IO_MAX)
		return -EINVAL;
	/*
	 * The serial console is slow (about 87 us a byte at 115200 baud) and
	 * printing is synchronous, so one call prints at most one chunk and
	 * continues itself for the rest (Xen does the same): the scheduler
	 * can run others between chunks, and a domain flooding the console
	 * only slows itself. Each chunk is copied whole before any of it is
	 * printed, so a buffer that runs into unmapped memory fails with
	 * -EFAULT; what earlier chunks printed stays printed, as on Xen.
	 */
	u64 n = count < sizeof(chunk) ? count : sizeof(chunk);
	if (copy_from_guest(v, chunk, buf, n))
		return -EFAULT;
	guest_console_write(v->dom, chunk, n);
	if (n < count)
		return hypercall_continue(v, cmd, count - n, buf + n, a4, a5);
	return 0;
}
