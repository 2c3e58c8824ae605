/*
 * The legacy 8259A PICs. Keel never uses them, but firmware may leave them
 * unmasked, and their default vectors (IRQ 0 = vector 8 after a BIOS boot)
 * collide with CPU exceptions: a timer tick would look like a double fault.
 * Remap them above the exceptions and mask every line (Intel 8259A data
 * sheet, ICW1-ICW4; OCW1 for the masks).
 */
#include <asm/cpu.h>
#include <asm/pic.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);  /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20); /* ICW2: vectors 0x20-0x27 */
	outb(PIC2_DATA, 0x28); /*       and 0x28-0x2f */
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff); /* OCW1: mask everything */
	outb(PIC2_DATA, 0xff);
}
