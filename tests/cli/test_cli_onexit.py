"""What the CLI does when a guest stops by itself (docs/cli.md, "What
happens when a guest stops by itself"), through scripts/keelctl: the
config's on_crash / on_poweroff actions and `shutdown -w`. The guests
are pvtest role=guest (watches control/shutdown; crash_after_ms=N
crashes it)."""

import re
import time

from keeltest import test, fail
from clicon import KeelCtl

GUEST = ('name = "{name}"\nkernel = "/boot/pvtest"\nmemory = 4\n'
         'cmdline = "role=guest{extra}"\non_poweroff = "destroy"\non_crash = "restart"\n')


@test("cli-on-crash-restart", timeout=400)
def _():
    """on_crash=restart: a guest that crashes is created again from its
    config, under the same name with a new domain id; one that crashes at
    once, again and again, is given up after six quick runs."""
    k = KeelCtl({"crasher.cfg": GUEST.format(name="crasher", extra=" crash_after_ms=8000"),
                 "fast.cfg": GUEST.format(name="fast", extra=" crash_after_ms=100")})
    try:
        first = k.create("crasher.cfg")
        start = len(k.log())
        k.wait_serial("(d%d) pvtest: guest: up" % first, 60)
        # a line half typed at the prompt when the CLI reports by itself:
        # the report gets lines of its own, then the prompt and the typed
        # part come back, and typing goes on
        seen = k.typed([(b"xl li", "dom0> xl li"), (b"st\r", "dom0> ")], timeout=60)
        at = seen.find("xl: crasher (%d): crash; on_crash=restart" % first)
        if at < 0 or seen.find("dom0> xl li", at) < 0:
            fail("the half-typed line was not drawn again after the CLI's report", seen[-2000:])
        if "\n(d0) xl: crasher (%d): crash" % first not in seen:
            fail("the CLI's report did not start a line of its own", seen[-2000:])
        if not re.search(r"^\(d0\) crasher\s+\d+\s", seen, re.M):
            fail("the line completed after the redraw did not run as xl list", seen[-2000:])
        k.wait_serial("xl: crasher (%d): crash; on_crash=restart" % first, 60, start)
        line = k.wait_serial(re.compile(r"xl: crasher restarted as domain \d+"), 30, start)
        second = int(line.split()[-1])
        if second == first:
            fail("crasher restarted under the same domain id %d" % first)
        rows = k.rows()
        if "crasher" not in rows or rows["crasher"][0] == first:
            fail("xl list: crasher is not listed under a new id (was %d)" % first, str(rows))
        if first in [r[0] for r in rows.values()]:
            fail("the crashed domain %d is still listed" % first, str(rows))
        k.wait_serial("(d%d) pvtest: guest: up" % second, 60, start)
        k.ctl("xl", "destroy", "crasher")

        start = len(k.log())
        k.create("fast.cfg")
        k.wait_serial("xl: fast is restarting too fast (6 runs under 10 s each): not restarted",
                      120, start)
        if "fast" in k.rows():
            fail("fast is still listed after the CLI gave up restarting it")
    finally:
        k.close()


@test("cli-shutdown-w-waits-then-on-poweroff-destroy", timeout=400)
def _():
    """shutdown -w: the request goes through control/shutdown, the CLI says
    it waits, and keelctl returns only after the CLI has reported that
    the guest has shut down (the command goes on from dom0's loop); then
    on_poweroff=destroy has removed it."""
    k = KeelCtl({"web.cfg": GUEST.format(name="web", extra="")})
    try:
        web = k.create("web.cfg")
        k.wait_serial("(d%d) pvtest: guest: up" % web, 60)
        start = len(k.log())
        out = k.ctl("xl", "shutdown", "-w", "web",
                    expect=r"Waiting for domain %d to shut down" % web)
        # keelctl is back: the guest's answer and the CLI's report are
        # already there, in keelctl's output and on the console.
        log = k.log()[start:]
        for line in ["(d%d) pvtest: guest: control/shutdown = poweroff" % web,
                     "xl: domain web (%d) has shut down (poweroff)" % web,
                     "xl: web (%d): poweroff; on_poweroff=destroy" % web]:
            if line not in log:
                fail("keelctl xl shutdown -w returned before %r was printed" % line, log[-2000:])
        if "has shut down (poweroff)" not in out:
            fail("keelctl's output of shutdown -w lacks the shut-down report", out)
        if log.index("has shut down (poweroff)") > log.index("on_poweroff=destroy"):
            fail("the wait's report came after the domain was destroyed", log[-2000:])
        if list(k.rows()) != ["Domain-0"]:
            fail("web is still listed after on_poweroff=destroy")
        k.ctl("xl", "shutdown", "web", status=1, expect=r"no domain 'web'")
    finally:
        k.close()


@test("cli-shutdown-w-and-network-detach-time-out", timeout=400)
def _():
    """A guest that answers nothing (role=spin: no control/shutdown watch,
    no netfront): network-detach waits for its frontend from dom0's loop,
    then after 10 s says it did not close, removes the vif anyway and
    exits 1; shutdown -w waits 30 s, says the domain is still running and
    exits 1; dom0 answered other commands before and after."""
    cfg = ('name = "mute"\nkernel = "/boot/pvtest"\nmemory = 4\ncmdline = "role=spin"\n'
           "vif = [ 'mac=00:16:3e:00:00:21,bridge=xenbr0' ]\n")
    k = KeelCtl({"mute.cfg": cfg})
    try:
        mute = k.create("mute.cfg")
        out = k.ctl("xl", "network-list", "mute")
        if not re.search(r"^0\s+0\s+00:16:3e:00:00:21\s", out, re.M):
            fail("the vif of mute is not listed", out)
        t0 = time.monotonic()
        k.ctl("xl", "network-detach", "mute", "0", status=1,
              expect=r"vif 0 of mute did not close within 10 s .*: removed anyway")
        took = time.monotonic() - t0
        if took < 10:
            fail("network-detach returned after %.1f s, before its 10 s bound" % took)
        if re.search(r"^0\s+0\s", k.ctl("xl", "network-list", "mute"), re.M):
            fail("network-detach: vif 0 is still listed after the forced removal")
        t0 = time.monotonic()
        # keelctl's own step bound well above dom0's 30 s (guest time runs
        # slower than the host's under a loaded TCG)
        k.ctl("--timeout", "150", "xl", "shutdown", "-w", "mute", status=1, timeout=180,
              expect=r"mute \(%d\) has not shut down within 30 s of the request; it is still "
                     r"running" % mute)
        took = time.monotonic() - t0
        if took < 30:
            fail("shutdown -w returned after %.1f s, before its 30 s bound" % took)
        if "mute" not in k.rows():
            fail("mute is not listed after shutdown -w timed out")
        k.ctl("xl", "destroy", "mute")
        if list(k.rows()) != ["Domain-0"]:
            fail("mute is still listed after destroy")
    finally:
        k.close()


@test("cli-network-detach-waits-for-the-frontend", timeout=400)
def _():
    """network-detach of a running guest's connected vif goes through the
    xenbus handshake from dom0's loop: the backend goes Closing, the
    guest's netfront closes (role=guest vif=1), netback reaches Closed,
    and only then is the vif removed and keelctl returns (well inside the
    10 s bound, status 0); a second detach is refused as xl does."""
    cfg = ('name = "nic"\nkernel = "/boot/pvtest"\nmemory = 4\ncmdline = "role=guest vif=1"\n'
           "vif = [ 'mac=00:16:3e:00:00:22,bridge=xenbr0' ]\n")
    k = KeelCtl({"nic.cfg": cfg})
    try:
        nic = k.create("nic.cfg")
        k.wait_serial("(d%d) pvtest: guest: vif 0 connected" % nic, 60)
        out = k.ctl("xl", "network-list", "nic")
        if not re.search(r"^0\s+0\s+00:16:3e:00:00:22\s+0\s+4\s", out, re.M):
            fail("the vif of nic is not listed Connected (4)", out)
        start = len(k.log())
        t0 = time.monotonic()
        k.ctl("xl", "network-detach", "nic", "0")
        took = time.monotonic() - t0
        log = k.log()[start:]
        if "(d%d) pvtest: guest: vif 0 closed on the backend's Closing" % nic not in log:
            fail("keelctl network-detach returned before the guest closed its vif", log[-2000:])
        if "did not close" in log or took >= 10:
            fail("network-detach waited for its bound (%.1f s) instead of the handshake" % took,
                 log[-2000:])
        if re.search(r"^0\s+0\s", k.ctl("xl", "network-list", "nic"), re.M):
            fail("network-detach: vif 0 is still listed")
        k.ctl("xl", "network-detach", "nic", "0", status=1, expect=r"nic has no vif 0")
        k.ctl("xl", "destroy", "nic")
    finally:
        k.close()
