/* console_io (Xen public/xen.h CONSOLEIO_*): guest text to the console. */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/guest_console.h>
#include <keel/hypercall.h>
#include <asm/guest_mem.h>
#include <public/xen.h>

/* Bound the work one call can make the hypervisor do. */
#define CONSOLE_IO_MAX (64 * 1024)

long do_console_io(struct vcpu *v, u64 cmd, u64 count, u64 buf, u64 a4, u64 a5)
{
	char chunk[128];
	(void)a4;
	(void)a5;

	if (cmd != CONSOLEIO_write)
		return -ENOSYS; /* reading the hypervisor console: not for guests yet */
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
