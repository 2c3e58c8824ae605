/*
 * The hypervisor's own view on the serial console (kernel/debug_view.c),
 * for when dom0 is wedged: Ctrl-\ pressed three times in a row switches
 * the console's input from dom0 to the hypervisor and back (Xen's serial
 * console does the same with Ctrl-A, which QEMU's console multiplexer
 * keeps for itself, hence another key here). In the view, single keys print:
 *   d  domains: id, name, state, vCPUs, pages, run time, exits
 *   r  the run queue: each vCPU's state, credit and run time
 *   e  exit counters per reason for each domain
 *   m  memory: free frames
 *   h  these keys
 * Nothing typed in the view reaches dom0.
 */
#ifndef KEEL_DEBUG_VIEW_H
#define KEEL_DEBUG_VIEW_H

#include <lib/types.h>

/* One received byte: true if the view took it (a switch key, or a key
 * while the view is on), false if it belongs to dom0. */
bool debug_view_key(char c);

#endif
