/*
 * Emulated I/O ports (kernel/io.c). Devices register themselves
 * (STYLE.md rule 8); a port nobody registered reads as all ones and
 * ignores writes, as Xen's null handler does.
 */
#ifndef KEEL_IO_H
#define KEEL_IO_H

#include <lib/types.h>

struct vcpu;

struct io_port_handler {
	u16 first;
	u16 count;
	const char *name;
	/* size is 1, 2 or 4; reads return the value (only `size` bytes). */
	u32 (*read)(struct vcpu *v, u16 port, unsigned size);
	void (*write)(struct vcpu *v, u16 port, unsigned size, u32 val);
};

/* Registers a handler for [first, first+count). 0, -EEXIST if the range
 * overlaps another handler, -ENOSPC when the table is full. */
int io_register(const struct io_port_handler *h);

#endif
