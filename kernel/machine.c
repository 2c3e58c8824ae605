/* Power-off, reboot and halt of the whole machine. */
#include <keel/console_tx.h>
#include <keel/machine.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/traps.h>

static u16 debugexit_port;

void machine_set_debugexit(u16 port)
{
	debugexit_port = port;
}

static const char *const stop_names[] = {
	[STOP_POWEROFF] = "poweroff",
	[STOP_REBOOT] = "reboot",
	[STOP_CRASH] = "crash",
	[STOP_PANIC] = "panic",
};

void machine_stop(enum stop_reason why)
{
	irq_disable();
	console_tx_report();
	printk(LOG_ERR, "keel: machine stop: %s\n", stop_names[why]);
	console_tx_sync(); /* everything queued reaches the UART first */
	if (debugexit_port)
		outl(debugexit_port, why); /* QEMU exits: status 2*why+1 */
	if (why == STOP_REBOOT) {
		/* Pulse the reset line through the 8042 keyboard controller
		 * (the PC/AT way; ACPI reset registers come with ACPI). */
		for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
			cpu_relax();
		outb(0x64, 0xfe);
	}
	/* Power-off needs ACPI S5 (AML); until then a powered-off machine
	 * halts, which the line above announces. */
	cpu_halt_forever();
}

void panic(const char *fmt, ...)
{
	va_list ap;
	u64 rbp;

	irq_disable();
	printk(LOG_ERR, "keel: PANIC: ");
	va_start(ap, fmt);
	vprintk(LOG_ERR, fmt, ap);
	va_end(ap);
	printk(LOG_ERR, "\n");
	__asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
	print_stack_trace(rbp);
	machine_stop(STOP_PANIC);
}
