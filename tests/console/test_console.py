"""The operator's console: `make run`'s default configuration ends at dom0's
shell on the serial console; what is typed there reaches dom0 through
console_io(CONSOLEIO_read), and dom0's answers come back prefixed (d0)."""

import os
import re
import select
import subprocess
import sys
import time

from keeltest import test, fail, TREE, RUN, clean


def _read_until(proc, buf, needle, timeout, start=0):
    """Reads the console into buf[0] until `needle` appears after byte `start`."""
    end = time.monotonic() + timeout
    while needle not in clean(buf[0][start:].decode("utf-8", "replace")):
        left = end - time.monotonic()
        if left <= 0:
            fail("no %r on the console within %ds" % (needle, timeout),
                 "console so far:\n" + clean(buf[0].decode("utf-8", "replace"))[-3000:])
        r, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                fail("the console closed while waiting for %r" % needle,
                     clean(buf[0].decode("utf-8", "replace"))[-3000:])
            buf[0] += chunk


@test("console-dom0-shell", timeout=120)
def _():
    # The default configuration, as `make run` boots it, but with the
    # serial console on a pipe instead of a terminal.
    proc = subprocess.Popen([sys.executable, RUN, "--timeout", "90"], cwd=TREE,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    buf = [b""]
    try:
        _read_until(proc, buf, "dom0> ", 60)
        # make run's demo guest (autostarted) prints its first lines after
        # dom0's first prompt, in the middle of that line: once it is up,
        # an empty line gives a prompt of its own
        _read_until(proc, buf, "pvtest: guest: up", 60)
        start = len(buf[0])
        proc.stdin.write(b"\r")
        proc.stdin.flush()
        _read_until(proc, buf, "dom0> ", 20, start)
        for cmd, answer in (("help", "poweroff   power the machine off"),
                            ("version", "Xen-compatible ABI 4.17"),
                            ("frobnicate", "unknown command 'frobnicate' (try help)")):
            start = len(buf[0])
            proc.stdin.write(cmd.encode() + b"\r")
            proc.stdin.flush()
            _read_until(proc, buf, "dom0> ", 20, start)
            out = clean(buf[0][start:].decode("utf-8", "replace"))
            if answer not in out:
                fail("'%s' did not answer %r" % (cmd, answer), "console:\n" + out)
            if "(d0) dom0> %s" % cmd not in clean(buf[0].decode("utf-8", "replace")):
                fail("the typed command '%s' was not echoed after the prompt" % cmd, out)
        # The hypervisor's log ring, read back through sysctl. Last, since
        # the ring holds earlier prompts and answers: only the power-off
        # that follows can mark the end of its output.
        start = len(buf[0])
        proc.stdin.write(b"dmesg\r")
        proc.stdin.flush()
        _read_until(proc, buf, "(d0) keel: starting dom0", 20, start)
        proc.stdin.write(b"poweroff\r")
        proc.stdin.flush()
        _read_until(proc, buf, "keel: machine stop: poweroff", 20, len(buf[0]))
        status = proc.wait(20)
        if status != 0:
            fail("scripts/run status %d after poweroff, expected 0" % status)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# How many VM exits per second an idle dom0 with the shell open may take:
# "a few". It sleeps in its event loop (SCHEDOP_block) until VIRQ_CONSOLE
# says something was typed; the old shell, which yielded in a loop around
# console_io(CONSOLEIO_read), took thousands.
IDLE_EXITS_PER_SECOND_MAX = 5
IDLE_SECONDS = 5
# And how often the hypervisor itself may leave its idle wait meanwhile:
# the UART's receive interrupt wakes it for input, so only the console's
# 1 s safety-net poll and dom0's own timer remain (polling the UART every
# 5 ms, as before, woke it about 200 times a second).
IDLE_WAKEUPS_PER_SECOND_MAX = 5


@test("console-dom0-shell-idle-exits", timeout=150)
def _():
    proc = subprocess.Popen([sys.executable, RUN, "--timeout", "120"], cwd=TREE,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    buf = [b""]
    try:
        _read_until(proc, buf, "dom0> ", 60)
        # dom0 measures itself: it reads its exit counters (domctl exit
        # counts), sleeps IDLE_SECONDS in its event loop with the shell's
        # VIRQ_CONSOLE port bound, reads them again and prints the rate.
        start = len(buf[0])
        proc.stdin.write(b"idle %d\r" % IDLE_SECONDS)
        proc.stdin.flush()
        _read_until(proc, buf, "dom0> ", IDLE_SECONDS + 30, start)
        out = clean(buf[0][start:].decode("utf-8", "replace"))
        m = re.search(r"dom0: idle (\d+) s: (\d+) exits, (\d+)\.(\d+) per second; "
                      r"loop blocked (\d+) times", out)
        if not m:
            fail("no idle report from dom0", "console:\n" + out)
        exits = int(m.group(2))
        rate = int(m.group(3)) + int(m.group(4)) / 100.0
        print("idle dom0 with the shell open: %d exits in %s s (%.2f per second, at most %d "
              "allowed); loop blocked %s times" % (exits, m.group(1), rate,
                                                   IDLE_EXITS_PER_SECOND_MAX, m.group(5)))
        if rate > IDLE_EXITS_PER_SECOND_MAX:
            fail("idle dom0 took %.2f exits per second (at most %d allowed)"
                 % (rate, IDLE_EXITS_PER_SECOND_MAX), "console:\n" + out)
        m = re.search(r"dom0: idle \d+ s: the CPU woke (\d+) times, (\d+)\.(\d+) per second", out)
        if not m:
            fail("no hypervisor wake-up report from dom0", "console:\n" + out)
        wrate = int(m.group(2)) + int(m.group(3)) / 100.0
        print("the hypervisor left its idle wait %s times (%.2f per second, at most %d allowed)"
              % (m.group(1), wrate, IDLE_WAKEUPS_PER_SECOND_MAX))
        if wrate > IDLE_WAKEUPS_PER_SECOND_MAX:
            fail("the idle machine woke %.2f times per second (at most %d allowed)"
                 % (wrate, IDLE_WAKEUPS_PER_SECOND_MAX), "console:\n" + out)
        if "console: UART input by interrupt" not in clean(buf[0].decode("utf-8", "replace")):
            fail("the hypervisor did not route the UART's interrupt", "console:\n" + out)
        # And the shell still answers by event afterwards.
        start = len(buf[0])
        proc.stdin.write(b"version\r")
        proc.stdin.flush()
        _read_until(proc, buf, "Xen-compatible ABI 4.17", 20, start)
        proc.stdin.write(b"poweroff\r")
        proc.stdin.flush()
        _read_until(proc, buf, "keel: machine stop: poweroff", 20, len(buf[0]))
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@test("console-hypervisor-view-key-sequence", timeout=150)
def _():
    """Ctrl-\\ three times switches the serial console's input to the
    hypervisor's own view (for a wedged dom0) and back; keys typed there
    never reach dom0."""
    proc = subprocess.Popen([sys.executable, RUN, "--timeout", "120"], cwd=TREE,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    buf = [b""]

    def send(b):
        proc.stdin.write(b)
        proc.stdin.flush()

    try:
        _read_until(proc, buf, "dom0> ", 60)
        start = len(buf[0])
        send(b"\x1c\x1c\x1c")
        _read_until(proc, buf, "view: console input now goes to the hypervisor", 20, start)
        send(b"d")
        _read_until(proc, buf, "view: id", 20, start)
        _read_until(proc, buf, "dom0", 20, buf[0].rfind(b"view: id"))
        send(b"m")
        _read_until(proc, buf, "frames free", 20, start)
        send(b"e")
        _read_until(proc, buf, "view: d0 ", 20, start)
        send(b"version\r")  # taken by the view: dom0 must not answer
        time.sleep(2)
        if "Xen-compatible ABI" in clean(buf[0][start:].decode("utf-8", "replace")):
            fail("a key typed in the hypervisor's view reached dom0")
        start = len(buf[0])
        send(b"\x1c\x1c\x1c")
        _read_until(proc, buf, "view: console input now goes to dom0", 20, start)
        send(b"\rversion\r")
        _read_until(proc, buf, "Xen-compatible ABI 4.17", 20, start)
        send(b"poweroff\r")
        _read_until(proc, buf, "keel: machine stop: poweroff", 20, len(buf[0]))
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
