/* console_io (Xen public/xen.h CONSOLEIO_*): guest text to the console. */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/guest_console.h>
#include <keel/hypercall.h>
#include <keel/uart.h>
#include <asm/guest_mem.h>
#include <public/xen.h>

/* Bound the work one call can make the hypervisor do. */
#define CONSOLE_IO_MAX (64 * 1024)

/*
 * CONSOLEIO_read: the control domain reads what the operator typed on the
 * hypervisor's serial console (Xen gives dom0 the serial input the same
 * way; hvc_xen in a Linux dom0 polls it). Non-blocking: returns the number
 * of bytes read, 0 when nothing is waiting. Other domains have their own
 * consoles through the console backend, so they get -EPERM here.
 */
static long console_read(struct vcpu *v, u64 count, u64 buf)
{
	char chunk[64];
	u64 n = 0;

	if (!v->dom->privileged)
		return -EPERM;
	if (count > CONSOLE_IO_MAX)
		return -EINVAL;
	guest_console_show_partial(v->dom); /* the prompt, echoed keys */
	while (n < count) {
		size_t got = 0;
		int c;
		while (got < sizeof(chunk) && n + got < count && (c = uart_getc()) >= 0)
			chunk[got++] = (char)c;
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
	/* Copy everything first: a buffer that runs into unmapped memory
	 * must fail with -EFAULT before any of it is printed. */
	for (u64 done = 0; done < count; done += sizeof(chunk)) {
		u64 n = count - done < sizeof(chunk) ? count - done : sizeof(chunk);
		if (copy_from_guest(v, chunk, buf + done, n))
			return -EFAULT;
	}
	for (u64 done = 0; done < count; done += sizeof(chunk)) {
		u64 n = count - done < sizeof(chunk) ? count - done : sizeof(chunk);
		if (copy_from_guest(v, chunk, buf + done, n))
			return -EFAULT; /* the guest changed its mappings meanwhile */
		guest_console_write(v->dom, chunk, n);
	}
	return 0;
}
