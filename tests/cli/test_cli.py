"""The xl-like CLI at dom0's console (guest/dom0/cli/, docs/cli.md), typed
as an admin would: configs and the guest kernel come from boot modules
(/boot/NAME); the guests are pvtest role=guest, which watches
control/shutdown as Linux's xenbus does."""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

import keeltest
from keeltest import test, fail, RUN, BUILD, FILES_DIR, clean
from clicon import KeelCtl, list_rows

GUEST = ('name = "web"\ntype = "pvh"\nkernel = "/boot/pvtest"\nmemory = 4\nvcpus = 1\n'
         'cmdline = "role=guest"\non_poweroff = "destroy"\non_reboot = "restart"\n')
CRASHER = ('name = "crasher"\nkernel = "/boot/pvtest"\nmemory = 4\n'
           'cmdline = "role=guest crash_after_ms=300"\non_crash = "preserve"\n')
BAD = 'name = "bad"\nkernel = "/boot/pvtest"\nmemroy = 4\n'


class Console:
    """dom0's serial console through scripts/run, on pipes."""

    def __init__(self, modules, dom0_args="shell", extra_qemu=()):
        """modules: {name: config text} as /boot/NAME; None: boot
        configs/keel.cfg as `make run` does."""
        self.buf = b""
        if modules is None:
            self.proc = subprocess.Popen([sys.executable, RUN, "--timeout", "180"],
                                         cwd=keeltest.TREE, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            self.wait_for("dom0> ", 90)
            return
        name = keeltest.CURRENT.name if keeltest.CURRENT else "cli"
        root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        cfg = ["cmdline console=com1,115200 loglvl=info", "module dom0 /dom0.elf %s" % dom0_args,
               "module pvtest /pvtest.elf"]
        for f in ("keel.efi", "keel.elf", "dom0.elf", "pvtest.elf"):
            os.symlink(os.path.join(BUILD, f), os.path.join(root, f))
        for mod, text in modules.items():
            with open(os.path.join(root, mod), "w") as f:
                f.write(text)
            cfg.append("module %s /%s" % (mod, mod))
        with open(os.path.join(root, "keel.cfg"), "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.proc = subprocess.Popen(
            [sys.executable, RUN, "--cfg", os.path.join(root, "keel.cfg"), "--root", root,
             "--timeout", "240"] + (["--"] + list(extra_qemu) if extra_qemu else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.buf = b""
        self.wait_for("dom0> ", 90)

    def text(self, start=0):
        return clean(self.buf[start:].decode("utf-8", "replace"))

    def wait_for(self, needle, timeout, start=0):
        end = time.monotonic() + timeout
        while True:
            if isinstance(needle, str):
                if needle in self.text(start):
                    return
            elif needle.search(self.text(start)):
                return
            left = end - time.monotonic()
            if left <= 0:
                fail("no %r on the console within %ds" % (needle, timeout),
                     "console so far:\n" + self.text()[-4000:])
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    fail("the console closed while waiting for %r" % needle, self.text()[-4000:])
                self.buf += chunk

    def cmd(self, line, timeout=30, expect=None):
        """Types line, waits for the next prompt; returns what dom0 printed."""
        start = len(self.buf)
        self.proc.stdin.write(line.encode() + b"\r")
        self.proc.stdin.flush()
        self.wait_for("dom0> ", timeout, start + 1)
        out = self.text(start)
        # the echo and the prompt are dom0's (d0) lines; keep dom0's text
        out = "\n".join(l[5:] if l.startswith("(d0) ") else l for l in out.splitlines())
        if expect and expect not in out:
            fail("'%s' did not print %r" % (line, expect), "output:\n" + out)
        return out

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"poweroff\r")
                self.proc.stdin.flush()
                self.proc.wait(20)
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def free_pages(con):
    """The hypervisor's free pages, exactly (the shell's `domains`)."""
    out = con.cmd("domains", expect="pages free")
    return int(re.search(r"hypervisor: (\d+) pages free", out).group(1))


@test("cli-create-list-shutdown-destroy", timeout=400)
def _():
    con = Console({"web.cfg": GUEST, "bad.cfg": BAD, "crasher.cfg": CRASHER})
    try:
        out = con.cmd("xl info")
        for want in ("cpu_vendor             : AuthenticAMD", "virt_backend           : svm",
                     "xen_version            : 4.17"):
            if want not in out:
                fail("xl info lacks %r" % want, out)

        out = con.cmd("xl create /boot/web.cfg", expect="created web as domain")
        web = int(re.search(r"created web as domain (\d+)", out).group(1))
        con.wait_for("(d%d) pvtest: guest: up" % web, 30)
        rows = list_rows(con.cmd("xl list", expect="Name"))
        if "Domain-0" not in rows or rows.get("web", (None,))[0] != web:
            fail("xl list does not show Domain-0 and web (%d)" % web, str(rows))
        if rows["web"][1] != 4 or rows["web"][2] != 1:
            fail("web should have 4 MiB and 1 vCPU: %s" % (rows["web"],))
        # the bare form is the same command
        if "web" not in list_rows(con.cmd("list")):
            fail("bare 'list' did not list web")
        out = con.cmd("xl list -l web")
        js = json.loads(out[out.index("["):out.rindex("]") + 1])
        if len(js) != 1 or js[0]["domid"] != web or js[0]["name"] != "web" \
                or js[0]["config"]["cmdline"] != "role=guest":
            fail("xl list -l web: unexpected JSON", out)
        con.cmd("xl domid web", expect="\n%d\n" % web)
        con.cmd("xl domname %d" % web, expect="\nweb\n")
        # line editing on the serial line: a typo fixed with Home and Right,
        # then the history's last line again with Up
        con.cmd("xl dmid web\x1b[H" + "\x1b[C" * 4 + "o", expect="\n%d\n" % web)
        con.cmd("\x1b[A", expect="\n%d\n" % web)
        con.cmd("xl create /boot/web.cfg", expect="a domain named web already exists")
        # xl console replays what the guest printed, then Ctrl-] comes back
        start = len(con.buf)
        con.proc.stdin.write(b"xl console web\r")
        con.proc.stdin.flush()
        con.wait_for("console: --- live ---", 20, start)
        replay = con.text(start)
        if "(d0) pvtest: guest: up; watching control/shutdown" not in replay:
            fail("xl console did not replay the guest's earlier output", replay)
        con.proc.stdin.write(b"\x1d")
        con.proc.stdin.flush()
        con.wait_for("dom0: console: detached from d%d" % web, 20, start)
        con.wait_for("dom0> ", 20, con.buf.rfind(b"detached from"))

        con.cmd("xl pause web")
        if list_rows(con.cmd("xl list web"))["web"][3][2] != "p":
            fail("web is not shown paused after xl pause")
        con.cmd("xl unpause web")
        if list_rows(con.cmd("xl list web"))["web"][3][2] != "-":
            fail("web is still shown paused after xl unpause")

        # shutdown through control/shutdown; on_poweroff=destroy removes it
        start = len(con.buf)
        con.cmd("xl shutdown -w web", expect="Waiting for domain %d" % web)
        con.wait_for("(d%d) pvtest: guest: control/shutdown = poweroff" % web, 30, start)
        con.wait_for("xl: web (%d): poweroff; on_poweroff=destroy" % web, 30, start)
        if "web" in list_rows(con.cmd("xl list")):
            fail("web is still listed after it powered off with on_poweroff=destroy")
        # The baseline after a first guest: dom0's first foreign mapping set
        # up its grant table and mapping window, frames it keeps for good.
        free0 = free_pages(con)

        # overrides after the file; reboot restarts it (on_reboot=restart)
        out = con.cmd('xl create /boot/web.cfg name="web2" memory=8', expect="created web2")
        w2 = int(re.search(r"created web2 as domain (\d+)", out).group(1))
        con.wait_for("(d%d) pvtest: guest: up" % w2, 30)
        if list_rows(con.cmd("xl list"))["web2"][1] != 8:
            fail("memory=8 on the command line did not override the file's 4")
        start = len(con.buf)
        con.cmd("xl reboot web2")
        con.wait_for(re.compile(r"xl: web2 restarted as domain (\d+)"), 30, start)
        w3 = int(re.search(r"xl: web2 restarted as domain (\d+)", con.text(start)).group(1))
        con.wait_for("(d%d) pvtest: guest: up" % w3, 30)
        con.cmd("xl destroy web2")
        if "web2" in list_rows(con.cmd("xl list")):
            fail("web2 still listed after xl destroy")

        # a crash with on_crash=preserve stays, flagged c
        start = len(con.buf)
        out = con.cmd("xl create /boot/crasher.cfg", expect="created crasher")
        con.wait_for("on_crash=preserve", 30, start)
        rows = list_rows(con.cmd("xl list"))
        if rows.get("crasher", (0, 0, 0, "------"))[3][4] != "c":
            fail("the crashed, preserved domain is not listed with the c flag", str(rows))
        con.cmd("xl destroy crasher")

        # errors say what and where
        con.cmd("xl create /boot/bad.cfg", expect="bad.cfg:3: key 'memroy': unknown key")
        con.cmd("xl create /boot/none.cfg", expect="no boot module named none.cfg")
        con.cmd("xl destroy nosuch", expect="no domain 'nosuch'")
        con.cmd("xl frobnicate", expect="'frobnicate' is not a command Keel supports")
        con.cmd("xl destroy 0", expect="not on Domain-0")
        con.cmd("help list", expect="usage: xl list [-l] [DOM]")

        # everything the guests had is back
        time.sleep(1)
        free1 = free_pages(con)
        if free1 != free0:
            fail("%d free pages after the guests, %d before" % (free1, free0))
        print("hypervisor free pages before and after the guests: %d" % free0)
    finally:
        con.close()


@test("cli-make-run-demo-autostarted", timeout=300)
def _():
    """`make run`'s configuration (configs/keel.cfg) boots with dom0's bridge
    up and the demo guest (configs/guests/demo.cfg: pvtest with a disk and
    a vif) created before the prompt; the commands its comments suggest
    work as written."""
    con = Console(None)
    try:
        boot = con.text()
        if "dom0: network: bridge xenbr0 up" not in boot:
            fail("make run's dom0 has no bridge", boot[-3000:])
        m = re.search(r"created demo as domain (\d+)", boot)
        if not m:
            fail("make run did not autostart the demo guest", boot[-3000:])
        demo = int(m.group(1))
        con.wait_for("(d%d) pvtest: guest: up" % demo, 60)
        if list_rows(con.cmd("xl list")).get("demo", (None,))[0] != demo:
            fail("demo is not listed")
        out = con.cmd("xl block-list demo")
        if not re.search(r"^51712\s+0\s+51712\s+\d\s+vda\s", out, re.M):
            fail("xl block-list demo does not show its disk xvda on vda", out)
        out = con.cmd("xl network-list demo")
        if not re.search(r"^0\s+0\s+00:16:3e:00:00:de\s+0\s+\d\s+xenbr0\s", out, re.M):
            fail("xl network-list demo does not show its vif on xenbr0", out)
        start = len(con.buf)
        con.cmd("xl shutdown demo")
        con.wait_for("xl: demo (%d): poweroff; on_poweroff=destroy" % demo, 30, start)
        # the launcher's teardown of its disk runs dom0's loop while it waits
        # for the backend, so the prompt can answer before the domain is gone
        con.wait_for("keel: domain %d (demo) destroyed" % demo, 30, start)
        out = con.cmd("xl list")
        if "demo" in list_rows(out):
            fail("demo is still listed after it powered off", con.text(start))
        # and again by hand: its disk and vif were released
        out = con.cmd("xl create /boot/demo.cfg", expect="created demo as domain")
        again = int(re.search(r"created demo as domain (\d+)", out).group(1))
        con.wait_for("(d%d) pvtest: guest: up" % again, 60, start)
    finally:
        con.close()


@test("cli-autostart-two-guests", timeout=200)
def _():
    """dom0's command line autostart=A,B creates both at boot, in order."""
    a = GUEST.replace('"web"', '"alpha"')
    b = GUEST.replace('"web"', '"beta"').replace("vcpus = 1", "vcpus = 2")
    con = Console({"alpha.cfg": a, "beta.cfg": b},
                  dom0_args="shell autostart=/boot/alpha.cfg,/boot/beta.cfg")
    try:
        text = con.text()
        ia, ib = text.find("created alpha as domain"), text.find("created beta as domain")
        if ia < 0 or ib < 0 or ib < ia:
            fail("autostart did not create alpha then beta before the prompt", text[-3000:])
        rows = list_rows(con.cmd("xl list"))
        if "alpha" not in rows or "beta" not in rows:
            fail("xl list does not show alpha and beta", str(rows))
        # beta has two vCPUs (pvtest brings only vCPU 0 online, so list's
        # VCPUs column, the online count, says 1; vcpu-list shows both)
        out = con.cmd("xl vcpu-list beta")
        if len(re.findall(r"^beta\s+%d\s+\d+\s" % rows["beta"][0], out, re.M)) != 2:
            fail("xl vcpu-list beta does not show two vCPUs", out)
        for name in ("alpha", "beta"):
            con.wait_for("(d%d) pvtest: guest: up" % rows[name][0], 30)
    finally:
        con.close()


@test("cli-keelctl-scripts-from-the-host", timeout=300)
def _():
    """scripts/keelctl drives a running Keel's console over QEMU's socket:
    each command's output comes back and keelctl exits with its status."""
    k = KeelCtl({"web.cfg": GUEST}, timeout=240)
    try:
        web = k.create("web.cfg")
        rows = k.rows()
        if rows.get("web", (None,))[0] != web:
            fail("keelctl xl list does not show web", str(rows))
        if [d["name"] for d in k.json_list()] != ["Domain-0", "web"]:
            fail("xl list -l through keelctl is not the expected JSON")
        k.ctl("xl", "destroy", "nosuch", status=1, expect=r"no domain 'nosuch'")
        k.ctl("frobnicate", status=127, expect=r"unknown command 'frobnicate'")
        k.ctl("xl", "destroy", "web")
        if list(k.rows()) != ["Domain-0"]:
            fail("after destroy, list shows more than Domain-0")
        k.ctl("poweroff")
        k.proc.wait(60)
        if k.proc.returncode != 0:
            fail("scripts/run ended with %d after keelctl poweroff" % k.proc.returncode)
    finally:
        k.close()


@test("cli-create-guest-with-disk-and-vif", timeout=300)
def _():
    """A config with disk = [...] and vif = [...]: the CLI resolves the disk
    target in dom0 (a virtio-blk disk here), blkback serves it, the guest's
    blkfront writes and reads it back; block-list and network-list show the
    devices; after the guest powers off and is destroyed the host finds the
    guest's pattern in the image."""
    import array
    nbytes = 8 << 20
    img = os.path.join(FILES_DIR, keeltest.CURRENT.name, "disk.img")
    os.makedirs(os.path.dirname(img), exist_ok=True)
    with open(img, "wb") as f:
        f.write(bytes(nbytes))
    io_cfg = ('name = "io"\nkernel = "/boot/pvtest"\nmemory = 16\n'
              'cmdline = "role=blk devid=51712 limit_kib=512"\non_poweroff = "preserve"\n'
              "disk = [ 'phy:vda,xvda,w' ]\nvif = [ 'mac=00:16:3e:12:34:56,bridge=xenbr0' ]\n")
    con = Console({"io.cfg": io_cfg}, extra_qemu=[
        "-drive", "if=none,id=kd0,format=raw,file=%s" % img,
        "-device", "virtio-blk-pci,drive=kd0,serial=CLIDISK"])
    try:
        start = len(con.buf)
        out = con.cmd("xl create /boot/io.cfg", expect="created io as domain")
        io = int(re.search(r"created io as domain (\d+)", out).group(1))
        con.wait_for("(d%d) pvtest: blk: PASS" % io, 120, start)
        con.wait_for("xl: io (%d): poweroff; on_poweroff=preserve" % io, 30, start)
        out = con.cmd("xl block-list io")
        # state 6 (Closed): the guest closed its disk before powering off
        if not re.search(r"^51712\s+0\s+51712\s+6\s+vda\s", out, re.M):
            fail("xl block-list io does not show xvda (51712) on vda, closed (6)", out)
        out = con.cmd("xl network-list io")
        if not re.search(r"^0\s+0\s+00:16:3e:12:34:56\s+0\s+\d\s+xenbr0\s", out, re.M):
            fail("xl network-list io does not show its vif with its MAC on xenbr0", out)
        # hot attach to the (preserved) domain: a second vif, then away again;
        # the same disk read-only as xvdb
        con.cmd("xl network-attach io mac=00:16:3e:65:43:21 bridge=xenbr0",
                expect="vif 1 attached to io")
        out = con.cmd("xl network-list io")
        if not re.search(r"^1\s+0\s+00:16:3e:65:43:21\s", out, re.M):
            fail("network-attach: the second vif is not listed", out)
        con.cmd("xl network-detach io 1")
        if re.search(r"^1\s+0\s", con.cmd("xl network-list io"), re.M):
            fail("network-detach: vif 1 is still listed")
        con.cmd("xl network-detach io 5", expect="io has no vif 5")
        con.cmd("xl block-attach io phy:vda,xvdb,r")
        out = con.cmd("xl block-list io")
        if not re.search(r"^51728\s+0\s+51728\s+\d\s+vda\s", out, re.M):
            fail("block-attach: xvdb (51728) is not listed", out)
        con.cmd("xl block-attach io phy:vda,xvdb,r", expect="(that vdev is in use)")
        con.cmd("xl block-attach io phy:nosuch,xvdc,r", expect="no disk or partition 'nosuch'")
        con.cmd("xl network-attach 0", expect="not created by this CLI")
        con.cmd("xl destroy io")
        if "io" in list_rows(con.cmd("xl list")):
            fail("io is still listed after destroy")

    finally:
        con.close()
    with open(img, "rb") as f:
        got = f.read(512 << 10)
    want = array.array("I", ((((w + 2 * 0x10000000) * 2654435761) & 0xffffffff) ^
                             ((w >> 13) & 0xffffffff) for w in range((512 << 10) // 4))).tobytes()
    if got != want:
        fail("the guest's pattern is not in the first 512 KiB of the disk image")
