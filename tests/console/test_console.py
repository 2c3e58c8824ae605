"""The operator's console: `make run`'s default configuration ends at dom0's
shell on the serial console; what is typed there reaches dom0 through
console_io(CONSOLEIO_read), and dom0's answers come back prefixed (d0)."""

import os
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
