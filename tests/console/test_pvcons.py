"""PV consoles for domUs (docs/dom0-event-loop.md, guest/dom0/console/):
dom0 gives each domU a console ring page and event channel (announced with
HVM_PARAM_CONSOLE_PFN/EVTCHN), its console backend drains the ring on its
event loop and mirrors it to Keel's console as "(dN)" lines, and what the
operator types after `console N` in dom0's shell goes into the domU's ring.
dom0's scenario `pvcons` (guest/dom0/test/console_test.c) drives it; this
test types on the serial console."""

import os
import re
import select
import shutil
import subprocess
import sys
import time

import keeltest
from keeltest import test, fail, clean, BUILD, RUN, FILES_DIR, LOG_DIR

CFG = ("cmdline console=com1,115200 loglvl=info\n"
       "module dom0 /dom0.elf test=domains scenario=pvcons\n"
       "module pvtest /pvtest.elf\n")


class Console:
    """The machine's serial console on a pipe: read it, type on it."""

    def __init__(self, name, timeout):
        root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        with open(os.path.join(root, "keel.cfg"), "w") as f:
            f.write(CFG)
        for rel in ("keel.efi", "keel.elf", "dom0.elf", "pvtest.elf"):
            if not os.path.exists(os.path.join(BUILD, rel)):
                fail("build/%s does not exist (did `make` fail?)" % rel)
            os.symlink(os.path.join(BUILD, rel), os.path.join(root, rel))
        os.makedirs(LOG_DIR, exist_ok=True)
        self.log_path = os.path.join(LOG_DIR, "%s.serial.log" % name)
        self.buf = b""
        self.proc = subprocess.Popen(
            [sys.executable, RUN, "--cfg", os.path.join(root, "keel.cfg"), "--root", root,
             "--timeout", str(timeout)], cwd=keeltest.TREE, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self, start=0):
        return clean(self.buf[start:].decode("utf-8", "replace"))

    def wait_for(self, pattern, timeout, start=0):
        """Reads until the regex matches a line after byte `start`."""
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.text(start))
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0:
                fail("no line matching /%s/ within %ds" % (pattern, timeout),
                     "console, last part:\n" + self.text()[-4000:])
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    fail("the console closed while waiting for /%s/" % pattern,
                         self.text()[-4000:])
                self.buf += chunk

    def read_to_end(self, timeout):
        """Reads until the machine has stopped and the console closed."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return
                self.buf += chunk
        fail("the machine did not stop within %ds" % timeout, self.text()[-3000:])

    def type(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with open(self.log_path, "wb") as f:
            f.write(self.buf)
        print("== serial log: %s" % self.log_path)


@test("console-pvcons-ring-burst-input-and-hostile", timeout=360)
def _():
    c = Console("console-pvcons-ring-burst-input-and-hostile", 300)
    try:
        m = c.wait_for(r"^\(d0\) dom0: pvcons: ready for input to d(\d+)", 240)
        good = m.group(1)
        mark = len(c.buf)
        c.type(b"console %s\r" % good.encode())
        c.wait_for(r"^\(d0\) dom0: console: attached to d%s" % good, 30, mark)
        c.type(b"hello-pv-console\r")
        c.wait_for(r"^\(d%s\) pvtest: pvcons: got input 'hello-pv-console'" % good, 30, mark)
        c.type(b"\x1d")
        c.wait_for(r"^keel: machine stop: ", 120, mark)
        c.read_to_end(30)
        log = c.text()
    finally:
        c.close()

    hostile = re.search(r"^keel: domain (\d+) \(pvcons-hostile\) created by dom0", log, re.M)
    if not hostile:
        fail("the hostile domU was not created", log[-3000:])
    bad = hostile.group(1)
    keeltest.expect_lines_in_order(log, [
        # d1's output arrives through its ring: its banner says console_io
        # is not used from there on, and dom0 counted the burst's bytes
        # from the ring itself (a tap on the backend), every line in order.
        r"^\(d0\) dom0: domains: check hostile-connection-dropped: 1 \(want 1\)$",
        r"^\(d%s\) pvtest: pvcons: console ring at gfn 0x\w+, port \d+; console_io unused" % good,
        r"^\(d0\) dom0: pvcons: d%s burst: 1600 lines, 102400 bytes through the ring, 0 out of "
        r"order or cut" % good,
        r"^\(d0\) dom0: domains: check burst-lines-in-order: 0 \(want 0\)$",
        r"^\(d%s\) pvtest: pvcons: got input 'hello-pv-console'" % good,
        r"^\(d0\) dom0: domains: check history-ends-with-last-line: 1 \(want 1\)$",
        r"^\(d0\) dom0: domains: check free-pages-back-to-before: (\d+) \(want \1\)$",
        r"^\(d0\) dom0: domains: pvcons: PASS",
        r"^keel: machine stop: poweroff",
    ])
    drops = re.findall(r"^\(d0\) dom0: console: d%s: output ring indices out of range .*"
                       r"connection dropped$" % bad, log, re.M)
    if len(drops) != 1:
        fail("expected exactly one 'connection dropped' line for d%s, got %d" % (bad, len(drops)),
             log[-3000:])
    keeltest.expect_no_line(log, r"MISMATCH", "every check of the scenario must hold")
    print("hostile d%s dropped with: %s" % (bad, drops[0]))
