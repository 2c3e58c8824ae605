/* printk: the hypervisor's console and log. */
#ifndef KEEL_PRINTK_H
#define KEEL_PRINTK_H

#include <lib/types.h>
#include <stdarg.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/*
 * printk(LOG_INFO, "fmt", ...) formats into the log ring (every level is
 * kept, for a later `dmesg`) and prints it on the console when `level` is
 * at or below the console level (cmdline loglvl=). Lines are not prefixed
 * automatically; hypervisor messages start with "keel: " by convention
 * (pr_* helpers below add it).
 * Formats: %d %i %u %x %X %p %s %c %%, with l/ll/z modifiers, width,
 * '0' and '-' flags, and precision for %s.
 */
__printf(2, 3) void printk(int level, const char *fmt, ...);
void vprintk(int level, const char *fmt, va_list ap);

#define pr_err(...) printk(LOG_ERR, "keel: " __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, "keel: " __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, "keel: " __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, "keel: " __VA_ARGS__)

/* Writes raw bytes to the console (no log ring); never dropped. */
void console_write(const char *s, size_t n);

/*
 * A domain's console text (kernel/guest_console.c): to the serial console
 * when the console level shows LOG_INFO, never into the log ring (which
 * keeps the hypervisor's lines). may_drop: when the console's transmit
 * queue is full, the text is dropped and false returned, instead of
 * waiting for the UART. True otherwise.
 */
bool console_guest_write(const char *s, size_t n, bool may_drop);

void printk_set_level(int level);

/* Copies up to `len` bytes of the most recent log text into buf (none
 * of what printk_clear_log dropped); returns how many. */
size_t printk_read_log(char *buf, size_t len);
/* Drops the log text written so far (`xl dmesg -c`): later reads return
 * only what is written after this call. */
void printk_clear_log(void);

/*
 * Stops the machine after a broken hypervisor invariant: prints the
 * message, a register dump of the caller and a stack trace, then
 * machine_stop(STOP_PANIC).
 */
__noreturn __printf(1, 2) void panic(const char *fmt, ...);

#define BUG_ON(c) do { if (c) panic("BUG at %s:%d: %s", __FILE__, __LINE__, #c); } while (0)

#endif
