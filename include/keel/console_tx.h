/*
 * The serial console's transmit queue (kernel/console_tx.c).
 *
 * At 115200 baud the UART takes a byte every 87 us, so writing a line
 * synchronously with interrupts off (as every console write did) cost
 * the whole machine about 11 ms per 128 bytes. Once the scheduler runs,
 * output is queued in memory instead and moved to the UART only as fast
 * as it takes it without waiting: a FIFO-full at a time (16 bytes when
 * THRE says the FIFO is empty), from the writer and from the scheduler
 * about every millisecond while anything is queued (sched.c), never more
 * than CONSOLE_TX_POLL_MAX bytes a call. Before the scheduler starts,
 * and when the machine stops, output is synchronous (nothing may be left
 * behind by a panic).
 *
 * Who may lose output when the queue is full: the hypervisor and dom0
 * never (the writer waits for room, as it always did); another domain's
 * line is dropped (its caller counts it: guest_console.c).
 */
#ifndef KEEL_CONSOLE_TX_H
#define KEEL_CONSOLE_TX_H

#include <lib/types.h>

#define CONSOLE_TX_RING 32768      /* bytes queued at most (a power of two) */
#define CONSOLE_TX_POLL_MAX 64     /* bytes one poll moves at most */
#define CONSOLE_TX_POLL_NS 1000000 /* poll period while output is queued */

/*
 * Queues n bytes ('\n' becomes "\r\n") and polls. may_drop: if the queue
 * has no room, return false and queue nothing; otherwise wait for room
 * (synchronous output). True when queued (or written).
 */
bool console_tx_queue(const char *s, size_t n, bool may_drop);

/* Moves what the UART takes now, bounded; never waits. */
void console_tx_poll(void);

/* When the scheduler should poll next (system time), given `now`; 0
 * when nothing is queued. */
u64 console_tx_next_poll(u64 now);

/* Output from now on is queued and polled (the scheduler calls it when
 * it starts; before, every write is synchronous). */
void console_tx_start_async(void);

/* Prints one line: how many bytes of the domains' (droppable) output were
 * queued and how many were written synchronously, i.e. with the CPU
 * waiting for the UART (0 while the queue works: a domain's line that
 * finds no room is dropped, not waited for). At machine stop. */
void console_tx_report(void);

/* Writes everything queued, waiting for the UART (machine stop, panic);
 * output stays synchronous afterwards. */
void console_tx_sync(void);

#endif
