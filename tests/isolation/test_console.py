"""Console isolation: a domU flooding the console (console_io and port
0xE9) must not delay other domains or push the hypervisor's messages out
of its log ring (kernel/console_tx.c, kernel/guest_console.c; dom0
scenario `flood` in guest/dom0/test/domains_console.c, pvtest roles flood and ticker
in guest/pvtest/flood.c)."""

import re

from keeltest import (boot, expect_domains_sound, expect_lines_in_order, expect_no_line, expect_status, fail, test,
                      POWEROFF)

T = 300


def run_flood(extra="", loader="uefi", timeout=T):
    r = boot("cmdline console=com1,115200 loglvl=info\n"
             "module dom0 /dom0.elf test=domains scenario=flood %s\n"
             "module pvtest /pvtest.elf\n" % extra, loader=loader, timeout=timeout)
    expect_domains_sound(r)
    return r


def created(r, name):
    """(id, offset in the log) of the domU dom0 created under `name`."""
    m = re.search(r"^keel: domain (\d+) \(%s\) created by dom0" % name, r.log, re.M)
    if not m:
        fail("the hypervisor did not report creating domain '%s'" % name, r.tail(60))
    return m.group(1), m.end()


def ticker_lateness(r, name):
    """(ticks, worst us, mean us, ticks over 1 ms) the ticker domU `name`
    reported (ids are reused: the report after its creation)."""
    dom, at = created(r, name)
    m = re.compile(r"^\(d%s\) pvtest: ticker: (\d+) ticks of (\d+) ms in (\d+) ms: worst (\d+) us "
                   r"late, mean (\d+) us, (\d+) over 1 ms" % dom, re.M).search(r.log, at)
    if not m:
        fail("the ticker domU '%s' did not report its timers' lateness" % name, r.tail(60))
    ticks, worst, mean, over = int(m.group(1)), int(m.group(4)), int(m.group(5)), int(m.group(6))
    print("%s: %d ticks, worst %d us late, mean %d us, %d over 1 ms"
          % (name, ticks, worst, mean, over))
    return ticks, worst, mean, over


def flooder_lines(r):
    return len(re.findall(r"^\(d%s\) flood: line" % created(r, "flooder")[0], r.log, re.M))


@test("isolation-console-flood-throttled", timeout=T + 60)
def _():
    """A domU writes 1 MiB through console_io and 64 KiB through port 0xE9
    as fast as it can while a second domU arms a 5 ms timer again and
    again (before that, for reference, the same next to a domU that only
    computes). The flood is rate-limited (a fraction of it reaches the
    serial line; 'console: N bytes dropped' lines count the rest), the
    second domU's timers are no later than next to the computing domU,
    and dom0's dmesg (sysctl
    readconsole) still holds the hypervisor's lines from before and after
    the flood."""
    r = run_flood("bytes=1048576 e9=65536 baseline_ticks=400")
    expect_lines_in_order(r.log, [
        r"^keel: domain \d+ \(ticker\) created by dom0",
        r"^keel: domain \d+ \(flooder\) created by dom0",
        r"^keel: domain \d+ \(flooder\): console: \d+ bytes dropped \(rate limit",
        r"^\(d\d+\) pvtest: flood: PASS 1048576 bytes through console_io",
        r"^\(d0\) dom0: domains: check dmesg-has-ticker-created: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check dmesg-has-flooder-created: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check dmesg-has-dropped-bytes-line: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check dmesg-has-flooder-shut-down: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: flood: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    # The mechanism, not the emulator's timing: QEMU's UART takes every
    # byte at once, so writing the flood synchronously with interrupts
    # off (the old console_io) costs almost nothing in time there and the
    # lateness check below cannot see it. The hypervisor counts the
    # domains' bytes it wrote synchronously (each one, on a real 115200
    # baud UART, 87 us of the CPU with interrupts off): none may be.
    c = re.search(r"^keel: console: domains' output: (\d+) bytes queued, (\d+) bytes written "
                  r"synchronously$", r.log, re.M)
    if not c:
        fail("the hypervisor did not report its console counters", r.tail(30))
    queued_b, sync_b = int(c.group(1)), int(c.group(2))
    print("console: domains' output %d bytes queued, %d written synchronously" % (queued_b, sync_b))
    if sync_b:
        fail("%d bytes of the domains' console output were written synchronously (the CPU "
             "waiting for the UART with interrupts off)" % sync_b)
    if queued_b < 4096:
        fail("only %d bytes of the domains' output were queued" % queued_b)
    dropped = sum(int(x) for x in re.findall(
        r"^keel: domain \d+ \(flooder\): console: (\d+) bytes dropped", r.log, re.M))
    shown = flooder_lines(r)
    print("flood: %d of 16384 console_io lines shown, %d bytes dropped" % (shown, dropped))
    if shown > 16384 // 8:
        fail("%d of the flood's 16384 lines reached the serial console: not throttled" % shown)
    if dropped < (1 << 20) * 3 // 4:
        fail("only %d bytes of the 1 MiB + 64 KiB flood were counted as dropped" % dropped)
    # The ticker's lateness next to the flood, against the same ticker
    # next to a domU that only computes (the scheduler's own share of
    # lateness, and the TCG host's noise, are in both).
    _, b_worst, b_mean, _ = ticker_lateness(r, "ticker0")
    ticks, worst, mean, _ = ticker_lateness(r, "ticker")
    if ticks < 20:
        fail("the ticker ticked only %d times during the flood" % ticks)
    if mean > 2 * b_mean + 1000:
        fail("the flood made another domU's timers late: mean %d us, %d us next to a "
             "computing domU" % (mean, b_mean))

