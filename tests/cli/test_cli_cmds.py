"""xl block-detach, rename, mem-set/mem-max, dmesg and top (guest/dom0/cli/,
docs/cli.md), each typed through scripts/keelctl at a booted Keel's console
socket, as a script on the host would; the guests are pvtest roles."""

import json
import os
import re
import time

import keeltest
from keeltest import test, fail, FILES_DIR
from clicon import KeelCtl as Keel

TOP_COLS = ["NAME", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "MAXMEM(k)", "MAXMEM(%)",
            "VCPUS", "NETS", "NETTX(k)", "NETRX(k)", "VBDS", "VBD_RD", "VBD_WR", "VBD_RSECT",
            "VBD_WSECT"]


def top_frames(out):
    """`top -b` output: a list of frames, each {name: {column: value}}."""
    frames, cur = [], None
    for line in out.splitlines():
        words = line.split()
        if words == TOP_COLS:
            cur = {}
            frames.append(cur)
        elif cur is not None and len(words) == len(TOP_COLS):
            row = dict(zip(TOP_COLS, words))
            for k in TOP_COLS[2:]:
                row[k] = float(row[k])
            cur[words[0]] = row
    return frames


def list_names(out):
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^(\S+)\s+(\d+)\s+\d+\s+\d+\s+[rbpscd-]{6}\s+[\d.]+$", out, re.M)}


BLK = ('name = "io"\nkernel = "/boot/pvtest"\nmemory = 16\non_poweroff = "preserve"\n'
       'cmdline = "role=blk devid=51712 wait=1 detach_wait=1 limit_kib=1024"\n')


@test("cli-block-detach-waits-for-the-frontend", timeout=500)
def _():
    """block-detach starts the Closing handshake and returns the prompt only
    when the guest's blkfront has closed (dom0's loop serving it meanwhile);
    a frontend that never answers times out with a message and the disk
    stays until -f; unknown devices are refused as xl does. top's VBD
    counters rise with the guest's I/O."""
    img = os.path.join(FILES_DIR, keeltest.CURRENT.name, "disk.img")
    os.makedirs(os.path.dirname(img), exist_ok=True)
    with open(img, "wb") as f:
        f.write(bytes(8 << 20))
    k = Keel({"io.cfg": BLK}, extra_qemu=[
        "-drive", "if=none,id=kd0,format=raw,file=%s" % img,
        "-device", "virtio-blk-pci,drive=kd0,serial=CLIDISK"])
    try:
        io = k.create("io.cfg")
        k.wait_serial("(d%d) pvtest: blk: waiting for device/vbd/51712" % io, 60)
        before = top_frames(k.ctl("xl", "top", "-b", "-i", "1"))
        if len(before) != 1 or "io" not in before[0]:
            fail("top -b -i 1 did not print one frame with io", str(before))
        if before[0]["io"]["VBDS"] != 0 or before[0]["io"]["VBD_RD"] != 0:
            fail("io has VBD counts before it has a disk", str(before[0]["io"]))

        # hot plug: the guest writes and reads back 1 MiB, then waits for Closing
        k.ctl("xl", "block-attach", "io", "phy:vda,xvda,w")
        k.wait_serial(re.compile(r"\(d%d\) pvtest: blk: \d+ requests at queue depth 1" % io), 180)
        row = top_frames(k.ctl("xl", "top", "-b", "-i", "1"))[0]["io"]
        print("top after I/O: %s" % row)
        # 1 MiB written and read back: at least 2048 sectors each way
        if row["VBDS"] != 1 or row["VBD_RD"] <= 0 or row["VBD_WR"] <= 0 \
                or row["VBD_RSECT"] < 2048 or row["VBD_WSECT"] < 2048:
            fail("top's VBD counters did not rise with the guest's 1 MiB of I/O", str(row))

        k.ctl("xl", "block-detach", "io", "xvdc", status=1, expect=r"Device xvdc not connected")
        k.ctl("xl", "block-detach", "io", "nosuch", status=1,
              expect=r"Device nosuch not connected")
        k.ctl("xl", "block-detach", status=1, expect=r"usage: xl block-detach")
        k.ctl("xl", "block-detach", "-x", "io", "xvda", status=1, expect=r"option -x")
        # the real one: the guest answers Closing, closes, powers off
        start = len(k.log())
        t0 = time.monotonic()
        k.ctl("xl", "block-detach", "io", "xvda")
        took = time.monotonic() - t0
        log = k.log()[start:]
        if "(d%d) pvtest: blk: backend Closing: closing" % io not in log:
            fail("block-detach returned before the guest saw Closing", log[-3000:])
        k.wait_serial("(d%d) pvtest: blk: PASS" % io, 60, start)
        if re.search(r"^51712\s", k.ctl("xl", "block-list", "io"), re.M):
            fail("xvda is still listed after block-detach")
        print("block-detach took %.1f s" % took)

        # a frontend that never answers: io has powered off (preserved);
        # a disk attached now is never connected, so never closed
        k.wait_serial("xl: io (%d): poweroff; on_poweroff=preserve" % io, 60, start)
        k.ctl("xl", "block-attach", "io", "phy:vda,xvdb,r")
        t0 = time.monotonic()
        k.ctl("xl", "block-detach", "io", "51728", status=1,
              expect=r"xvdb|51728 of io did not close within 10 s")
        took = time.monotonic() - t0
        if took < 9:
            fail("block-detach gave up after %.1f s, before its 10 s" % took)
        # dom0 kept serving while it waited: the prompt answers at once
        k.ctl("xl", "list", expect=r"^io\s")
        if not re.search(r"^51728\s", k.ctl("xl", "block-list", "io"), re.M):
            fail("after the time-out the disk should stay attached (as xl's safe remove)")
        k.ctl("xl", "block-detach", "-f", "io", "xvdb")
        if re.search(r"^51728\s", k.ctl("xl", "block-list", "io"), re.M):
            fail("block-detach -f left xvdb listed")
        k.ctl("xl", "destroy", "io")
    finally:
        k.close()


GUEST = ('name = "web"\nkernel = "/boot/pvtest"\nmemory = 4\n'
         'cmdline = "role=guest"\non_poweroff = "destroy"\n')


@test("cli-rename-mem-dmesg", timeout=400)
def _():
    """rename changes the name everywhere the CLI looks (list, domid, the
    on_* messages) and refuses a name in use; mem-max changes the
    hypervisor's limit (list -l) within bounds; mem-set writes the target
    within the maximum and says the guest has no balloon; dmesg shows the
    hypervisor's log and -c clears it."""
    k = Keel({"web.cfg": GUEST, "db.cfg": GUEST.replace('"web"', '"db"')})
    try:
        out = k.ctl("xl", "dmesg", expect=r"^keel: ")
        if "keel: starting dom0" not in out:
            fail("xl dmesg lacks the boot's 'keel: starting dom0'", out[-2000:])
        k.ctl("xl", "dmesg", "-c", expect=r"keel: starting dom0")
        out = k.ctl("xl", "dmesg")
        if "keel: starting dom0" in out:
            fail("xl dmesg still shows the boot's lines after dmesg -c", out[-2000:])
        k.ctl("xl", "dmesg", "-x", status=1, expect=r"option -x is not supported \(-c")

        web = k.create("web.cfg")
        db = k.create("db.cfg")
        k.wait_serial("(d%d) pvtest: guest: up" % web, 60)
        k.ctl("xl", "rename", "web", "www", expect=r"renamed from web to www")
        names = list_names(k.ctl("xl", "list"))
        if names.get("www") != web or "web" in names:
            fail("xl list after rename: %s" % names)
        k.ctl("xl", "domid", "www", expect=r"^%d$" % web)
        # the xenstore names a toolstack reads (/vm/N/name as libxl keeps it)
        for node in ("/vm/%d/name" % web, "/local/domain/%d/name" % web):
            k.ctl("xenstore-read", node, expect=r"^www$")
        k.ctl("xenstore-read", "/vm/%d/nosuch" % web, status=1, expect=r"no such node")
        js = json.loads(k.ctl("xl", "list", "-l", "www"))
        if js[0]["name"] != "www":
            fail("list -l shows %r" % js[0]["name"])
        k.ctl("xl", "rename", "www", "db", status=1, expect=r'name "db" already exists')
        k.ctl("xl", "rename", "www", "a/b", status=1, expect=r"not a domain name")
        k.ctl("xl", "rename", "www", "123", status=1, expect=r"taken for a domain id")
        k.ctl("xl", "rename", "nosuch", "x", status=1, expect=r"no domain 'nosuch'")
        k.ctl("xl", "rename", "www", status=1, expect=r"usage: xl rename DOM NEWNAME")
        k.ctl("xl", "rename", "0", "dom0", status=1, expect=r"Domain-0 keeps its name")

        # memory: 4 MiB now, max 4 MiB (+8 KiB for the console and store pages)
        def max_kb():
            return json.loads(k.ctl("xl", "list", "-l", "www"))[0]["max_memory_kb"]
        if max_kb() != 4 * 1024 + 8:
            fail("www's max before mem-max: %d KiB" % max_kb())
        k.ctl("xl", "mem-max", "www", "2", status=1, expect=r"below what www has")
        k.ctl("xl", "mem-max", "www", "8m")
        if max_kb() != 8 * 1024 + 8:
            fail("mem-max www 8m: the hypervisor's max is %d KiB" % max_kb())
        k.ctl("xl", "mem-max", "www", "12288k")
        if max_kb() != 12 * 1024 + 8:
            fail("mem-max www 12288k: the hypervisor's max is %d KiB" % max_kb())
        k.ctl("xl", "mem-max", "www", "1024g", status=1, expect=r"more than the host")
        k.ctl("xl", "mem-set", "www", "1g", status=1, expect=r"above www's maximum of 12288 KiB")
        k.ctl("xl", "mem-set", "www", "5x", status=1, expect=r"not a memory size")
        k.ctl("xl", "mem-set", "www", "6m", expect=r"www has no balloon driver.*6144 KiB")
        k.ctl("xl", "mem-set", "0", "64", status=1, expect=r"Domain-0's memory is fixed")
        k.ctl("xl", "mem-set", "www", status=1, expect=r"usage: xl mem-set DOM SIZE")

        # the CLI's own record follows the rename: on_poweroff names www
        start = len(k.log())
        k.ctl("xl", "shutdown", "www")
        k.wait_serial("xl: www (%d): poweroff; on_poweroff=destroy" % web, 60, start)
        k.ctl("xl", "destroy", "db")
        # the hypervisor logged those after the clear
        out = k.ctl("xl", "dmesg")
        if "keel: starting dom0" in out or not re.search(r"^keel: ", out, re.M):
            fail("dmesg after -c should show only the later lines", out[-2000:])
        print("domain %d (web -> www), %d (db)" % (web, db))
    finally:
        k.close()


SPIN = 'name = "spin"\nkernel = "/boot/pvtest"\nmemory = 4\ncmdline = "role=spin"\n'
NET = ('name = "%s"\nkernel = "/boot/pvtest"\nmemory = 8\non_poweroff = "preserve"\n'
       'cmdline = "role=net peer=%s count=200"\nvif = [ "mac=%s,bridge=xenbr0" ]\n')
MAC_A, MAC_B = "00:16:3e:00:00:0a", "00:16:3e:00:00:0b"


@test("cli-top-batch-cpu-and-net", timeout=400)
def _():
    """top -b -i N prints N frames a second apart: a spinning pvtest shows
    a CPU share, an idle one about none; two pvtests exchanging frames
    through their vifs show NETTX/NETRX rising; q ends the interactive
    form."""
    k = Keel({"spin.cfg": SPIN, "na.cfg": NET % ("na", MAC_B, MAC_A),
              "nb.cfg": NET % ("nb", MAC_A, MAC_B)})
    try:
        k.ctl("xl", "top", "-b", "-i", "0", status=1, expect=r"-i 0: a number of frames")
        k.ctl("xl", "top", "-b", "extra", status=1, expect=r"too many arguments")
        k.create("spin.cfg")
        t0 = time.monotonic()
        frames = top_frames(k.ctl("xl", "top", "-b", "-i", "2"))
        took = time.monotonic() - t0
        if len(frames) != 2:
            fail("top -b -i 2 printed %d frames" % len(frames))
        if took < 2:
            fail("two frames a second apart came in %.1f s" % took)
        spin = frames[-1]["spin"]
        print("spin: %s" % spin)
        if spin["CPU(%)"] <= 0 or spin["MEM(k)"] < 4096 or spin["VCPUS"] != 1:
            fail("the spinning guest shows no CPU share (or wrong memory/vCPUs)", str(spin))
        if spin["NETS"] != 0 or spin["VBDS"] != 0:
            fail("spin has no devices", str(spin))
        if "Domain-0" not in frames[-1]:
            fail("top does not show Domain-0", str(frames[-1]))
        k.ctl("xl", "destroy", "spin")

        # na alone only says hello (nobody answers); nb's arrival starts
        # the exchange
        na = k.create("na.cfg")
        k.wait_serial("(d%d) net: connected" % na, 60)
        before = top_frames(k.ctl("xl", "top", "-b", "-i", "1"))[0]
        if before["na"]["NETS"] != 1 or before["na"]["NETRX(k)"] != 0:
            fail("na before its peer: one vif, nothing received", str(before["na"]))
        nb = k.create("nb.cfg")
        for d in (na, nb):
            k.wait_serial(re.compile(r"\(d%d\) net: sent 200 received 200" % d), 200)
        after = top_frames(k.ctl("xl", "top", "-b", "-i", "1"))[0]
        print("before: %s\nafter: %s" % (before, after))
        for name in ("na", "nb"):
            a, b = after[name], before.get(name, {"NETTX(k)": 0, "NETRX(k)": 0})
            # 200 frames of 60..1514 bytes each way: well over 100 KiB
            if a["NETS"] != 1 or a["NETTX(k)"] < 100 or a["NETRX(k)"] < 100 \
                    or a["NETTX(k)"] <= b["NETTX(k)"] or a["NETRX(k)"] <= b["NETRX(k)"]:
                fail("%s: NETTX/NETRX did not rise with its 200 frames each way" % name,
                     "before %s\nafter %s" % (b, a))

        # interactive: the screen is redrawn each second until q
        import socket
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(k.sock)
        c.settimeout(0.5)
        got = b""
        c.sendall(b"\r")
        time.sleep(1)
        c.sendall(b"xl top\r")
        end = time.monotonic() + 30
        while got.count(b"\x1b[H\x1b[2J") < 3 and time.monotonic() < end:
            try:
                got += c.recv(65536)
            except socket.timeout:
                pass
        if got.count(b"\x1b[H\x1b[2J") < 3:
            fail("interactive top did not redraw three times in 30 s",
                 got.decode(errors="replace")[-2000:])
        if got.rstrip().endswith(b"dom0>"):
            fail("the prompt came back while top was running")
        mark = len(got)
        c.sendall(b"q")
        end = time.monotonic() + 20
        while b"dom0> " not in got[mark:] and time.monotonic() < end:
            try:
                got += c.recv(65536)
            except socket.timeout:
                pass
        c.close()
        if b"dom0> " not in got[mark:]:
            fail("q did not end top (no prompt)", got.decode(errors="replace")[-2000:])
        k.ctl("status", expect=r"^status 0$")
    finally:
        k.close()
