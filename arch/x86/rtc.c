/*
 * The MC146818-compatible CMOS clock every PC has (ports 0x70/0x71).
 * Register 0x0a bit 7 is "update in progress"; register 0x0b bit 2 says
 * binary (else BCD), bit 1 says 24-hour (else bit 7 of the hour is PM).
 * The century is not standard (ACPI FADT names its register); years below
 * 70 are taken as 20xx.
 */
#include <keel/vtimer.h>
#include <asm/cpu.h>
#include <asm/rtc.h>

struct rtc_time {
	u8 sec, min, hour, day, mon, year;
};

static u8 cmos_read(u8 reg)
{
	outb(0x70, reg); /* bit 7 = 0 keeps NMIs enabled */
	return inb(0x71);
}

static void rtc_snapshot(struct rtc_time *t)
{
	for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
		cpu_relax();
	t->sec = cmos_read(0x00);
	t->min = cmos_read(0x02);
	t->hour = cmos_read(0x04);
	t->day = cmos_read(0x07);
	t->mon = cmos_read(0x08);
	t->year = cmos_read(0x09);
}

static unsigned bcd(u8 v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

u64 rtc_read_unix(void)
{
	struct rtc_time a, b;

	/* Read until two snapshots agree, so that no field is taken from
	 * either side of a second boundary. */
	rtc_snapshot(&b);
	for (unsigned tries = 0; tries < 10; tries++) {
		a = b;
		rtc_snapshot(&b);
		if (a.sec == b.sec && a.min == b.min && a.hour == b.hour && a.day == b.day &&
		    a.mon == b.mon && a.year == b.year)
			break;
	}
	u8 regb = cmos_read(0x0b);
	bool pm = !(regb & 0x02) && (b.hour & 0x80);
	unsigned hour = b.hour & 0x7f;
	unsigned sec = b.sec, min = b.min, day = b.day, mon = b.mon, year = b.year;
	if (!(regb & 0x04)) {
		sec = bcd((u8)sec), min = bcd((u8)min), hour = bcd((u8)hour);
		day = bcd((u8)day), mon = bcd((u8)mon), year = bcd((u8)year);
	}
	if (!(regb & 0x02))
		hour = hour % 12 + (pm ? 12 : 0);
	year += year < 70 ? 2000 : 1900;
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 || mon < 1 || mon > 12)
		return 0;
	return time_civil_to_unix(year, mon, day, hour, min, sec);
}
