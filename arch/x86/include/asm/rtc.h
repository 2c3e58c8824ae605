/* The PC's CMOS real-time clock (arch/x86/rtc.c), read once at boot for
 * the guests' wallclock. */
#ifndef ASM_RTC_H
#define ASM_RTC_H

#include <lib/types.h>

/* The RTC's time as seconds since 1970 (the RTC is taken to hold UTC, as
 * QEMU's and Bochs's do by default), or 0 if it reads as nonsense. */
u64 rtc_read_unix(void);

#endif
