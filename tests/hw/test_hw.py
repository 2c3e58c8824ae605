"""dom0 owns the real hardware: the hypervisor passes PCI devices through
(config space filtered, BARs 1:1), and dom0's drivers (drivers/) drive the
disks and NICs QEMU emulates. The storage tests check every byte of the
image file afterwards; the network tests talk to dom0 from the Linux stack
of a private network namespace."""

import array
import os
import re
import subprocess
import sys
import threading
import time

import keeltest
from netns import NetNs
from keeltest import (test, boot, expect, expect_lines_in_order, expect_status, fail,
                      find_lines, POWEROFF)

T = 90
SERIAL = "KEELTEST"
DISK_BYTES = 8 << 20
SECTOR = 512
HERE = os.path.dirname(os.path.abspath(__file__))

# How each storage driver's device is attached (the AHCI disk goes on port
# 2 of q35's built-in controller; the ESP Keel boots from is on another).
DISK_DEVICES = {
    "virtio": "virtio-blk-pci,drive={id},serial={serial}",
    "nvme": "nvme,drive={id},serial={serial}",
    "ahci": "ide-hd,drive={id},bus=ide.{port},serial={serial}",
}


def cfg(dom0_cmdline):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf %s\n" % dom0_cmdline)


# ---- the disk pattern (guest/dom0/test/hw_blk_test.c has the same generator) ----

def pattern_word(w, seed):
    return (((w + seed * 0x10000000) * 2654435761) & 0xffffffff) ^ ((w >> 13) & 0xffffffff)


def pattern(first_word, nwords, seed):
    return array.array("I", (pattern_word(w, seed) for w in range(first_word, first_word + nwords)))


def make_disk(name):
    path = os.path.join(keeltest.FILES_DIR, keeltest.CURRENT.name, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(pattern(0, DISK_BYTES // 4, 1).tobytes())
    return path


def disk_args(kind, path, serial=SERIAL, ident="kd0", port=2):
    return ["-drive", "if=none,id=%s,format=raw,file=%s" % (ident, path),
            "-device", DISK_DEVICES[kind].format(id=ident, serial=serial, port=port)]


def check_image(path, log):
    """Every byte of the image: pattern 1, except the sectors dom0 says it
    wrote (`blk-test: write S+C`), which must hold pattern 2."""
    expected = pattern(0, DISK_BYTES // 4, 1)
    writes = [(int(m.group(1)), int(m.group(2)))
              for m in find_lines(log, r"dom0: blk-test: write (\d+)\+(\d+)")]
    expect(len(writes) >= 5, "dom0 reported only %d writes" % len(writes))
    for s, c in writes:
        lo, n = s * SECTOR // 4, c * SECTOR // 4
        expected[lo:lo + n] = pattern(lo, n, 2)
    with open(path, "rb") as f:
        got = f.read()
    want = expected.tobytes()
    if len(got) != len(want):
        fail("image is %d bytes, expected %d" % (len(got), len(want)))
    if got != want:
        bad = [i for i in range(0, len(want), SECTOR) if got[i:i + SECTOR] != want[i:i + SECTOR]]
        first = next(i for i in range(len(want)) if got[i] != want[i])
        fail("image differs in %d sectors (first %s); first differing byte at offset %d: "
             "0x%02x, expected 0x%02x" % (len(bad), [b // SECTOR for b in bad[:8]], first,
                                          got[first], want[first]),
             "writes dom0 reported: %s" % writes)
    return writes


def blk_pattern(kind, msi=False):
    """msi=False: dom0 runs with msi=off (the device on its INTx line);
    True: dom0 prefers MSI and the device must be on its MSI; "msix": the
    device must be on entry 0 of its MSI-X table."""
    path = make_disk("disk.img")
    r = boot(cfg("test=blk blk=%s%s" % (SERIAL, "" if msi else " msi=off")), timeout=T,
             extra=disk_args(kind, path))
    if msi == "msix":
        irq = (r"MSI-X [0-9a-f]{2}:[0-9a-f]{2}\.\d entry 0, pirq (\d+), port \d+",
               r"^keel: pirq (\d+): MSI-X entry 0 of [0-9a-f]{2}:[0-9a-f]{2}\.\d -> vector "
               r"0x[0-9a-f]+, edge")
        # The table is trapped (dom0 cannot rewrite address/data) and
        # MSI-X was enabled by the hypervisor, not refused.
        expect_lines_in_order(r.log, [r"^keel: pci \S+: MSI-X table of \d+ entries at 0x[0-9a-f]+ "
                                      r"\(BAR\d\): trapped"])
        expect(not find_lines(r.log, r"dom0 enabling MSI-X refused"), "MSI-X enable refused", r)
    elif msi:
        irq = (r"MSI [0-9a-f]{2}:[0-9a-f]{2}\.\d, pirq (\d+), port \d+",
               r"^keel: pirq (\d+): MSI of [0-9a-f]{2}:[0-9a-f]{2}\.\d -> vector 0x[0-9a-f]+, edge")
    else:
        irq = (r"GSI \d+ level, pirq \d+, port \d+",
               r"^keel: pirq \d+: GSI \d+ -> vector 0x[0-9a-f]+, level")
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: disk \S+: %s, .*serial \"%s\"" % ({"virtio": "virtio-blk"}.get(kind, kind),
                                                         SERIAL),
        r"^\(d0\) dom0: blk-test: PASS initial pattern of 16384 sectors",
        r"^\(d0\) dom0: blk-test: PASS 7 writes, up to [2-9] in flight",
        r"^\(d0\) dom0: blk-test: PASS flush",
        r"^\(d0\) dom0: blk-test: PASS read-back of 7 regions",
        # The request path is interrupt-driven: dom0 slept until the
        # device's INTx (or MSI) arrived as an event on its pirq port.
        r"^\(d0\) dom0: blk-test: \S+: [1-9]\d* interrupts \(%s\), " % irq[0]
        + r"[1-9]\d* waits ended by one",
        r"^\(d0\) dom0: hw tests done: PASS",
    ])
    expect_lines_in_order(r.log, [irq[1]])
    if msi:
        # The pirq dom0 waited on is the one the hypervisor gave the MSI,
        # and the inventory says so.
        got = find_lines(r.log, r"^\(d0\) dom0: blk-test: \S+: [1-9]\d* interrupts \(%s\)" % irq[0])
        mapped = find_lines(r.log, irq[1])
        expect(got[0].group(1) == mapped[0].group(1),
               "dom0 waited on pirq %s, the MSI is pirq %s" % (got[0].group(1), mapped[0].group(1)), r)
        expect(find_lines(r.log, r"^\(d0\) dom0: disk \S+: .*irq %s " % ("MSI-X" if msi == "msix" else "MSI")),
               "inventory: no irq %s" % ("MSI-X" if msi == "msix" else "MSI"), r)
    expect_status(r, POWEROFF)
    check_image(path, r)


@test("blk-virtio-pattern", timeout=180)
def _():
    """virtio-blk: dom0 verifies the host's pattern, writes single-sector,
    multi-sector, page-crossing and >= 128 KiB requests all in flight at
    once, flushes; the image file then holds exactly what it wrote."""
    blk_pattern("virtio")


@test("blk-nvme-pattern", timeout=180)
def _():
    """The same on QEMU's NVMe controller (PRP lists for the large and
    page-crossing requests)."""
    blk_pattern("nvme")


@test("blk-virtio-msix", timeout=180)
def _():
    """The virtio-blk pattern test on MSI-X (dom0's default): the hypervisor
    writes table entry 0 and enables MSI-X (PHYSDEVOP_map_pirq with
    table_base), the configuration and queue vectors are 0, the
    completions arrive on the pirq."""
    blk_pattern("virtio", msi="msix")


@test("blk-nvme-msix", timeout=180)
def _():
    """The NVMe pattern test on MSI-X entry 0 (admin and I/O queues)."""
    blk_pattern("nvme", msi="msix")


@test("blk-ahci-pattern", timeout=180)
def _():
    """The same on an ATA disk behind q35's AHCI controller (NCQ)."""
    blk_pattern("ahci")


@test("blk-ahci-msi", timeout=180)
def _():
    """The AHCI pattern test with the controller on MSI (q35's ICH9 AHCI
    has an MSI capability): PHYSDEVOP_map_pirq MAP_PIRQ_TYPE_MSI, the
    hypervisor writes the message, the interrupts arrive on the pirq."""
    blk_pattern("ahci", msi=True)


@test("blk-read-past-end-error", timeout=180)
def _():
    """On each driver, reads past the last sector come back from the device
    with an error status, the driver survives (AHCI restarts its port) and
    the disk keeps working."""
    extra = []
    serials = []
    for i, kind in enumerate(("virtio", "nvme", "ahci")):
        serial = "KEELPE%d" % i
        serials.append(serial)
        extra += disk_args(kind, make_disk("disk%d.img" % i), serial, "kd%d" % i)
    r = boot(cfg("test=blk-past-end blk=%s" % ",".join(serials)), timeout=T, extra=extra)
    for drv in ("virtio-blk", "nvme", "ahci"):
        expect(len(find_lines(r.log, r"blk-past-end: PASS \S+ \(%s\) read \d+\+\d+ .*status -5"
                              % drv)) == 3,
               "%s: not every read past the end failed with -EIO" % drv, r)
        expect_lines_in_order(r.log, [r"blk-past-end: PASS \S+ \(%s\) still works" % drv])
    expect_lines_in_order(r.log, [r"dom0: blk-past-end: PASS 3 disks tested",
                                  r"dom0: hw tests done: PASS"])
    expect_status(r, POWEROFF)


# ---- network ---------------------------------------------------------------

BURST = 1000


def net_ping(nic, msi=True):
    with NetNs(nic) as ns:
        serial_log = os.path.join(keeltest.LOG_DIR, "%s.serial.log" % keeltest.CURRENT.name)
        results = {}

        def probe():
            # Wait for dom0's responder, then ping it and send the burst.
            deadline = time.monotonic() + T
            mac = None
            while time.monotonic() < deadline and mac is None:
                time.sleep(0.5)
                try:
                    text = keeltest.clean(open(serial_log, "rb").read().decode(errors="replace"))
                except OSError:
                    continue
                m = re.search(r"net-test: ready ip 10\.99\.0\.2 on \S+ \(\S+\) MAC ([0-9a-f:]{17})",
                              text)
                if m:
                    mac = m.group(1)
                elif "hw tests done" in text or "machine stop" in text:
                    return
            if mac is None:
                return
            results["mac"] = mac
            helper = [sys.executable, os.path.join(HERE, "nethelper.py")]
            results["ping"] = ns.exec(*helper, "ping", "10.99.0.2", "5", "5")
            results["neigh"] = ns.exec("ip", "neigh", "show", "10.99.0.2", "dev", ns.tap)
            results["burst"] = ns.exec(*helper, "burst", ns.tap, mac, str(BURST))
            results["link"] = ns.exec("ip", "-s", "link", "show", ns.tap)

        t = threading.Thread(target=probe, daemon=True)
        t.start()
        r = boot(cfg("test=net ip=10.99.0.2%s" % ("" if msi else " msi=off")), timeout=T, run_args=["--netns", ns.name],
                 extra=["-netdev", "tap,id=kn0,ifname=%s,script=no,downscript=no" % ns.tap,
                        "-device", "%s,netdev=kn0" % nic])
        t.join(10)
        expect("mac" in results, "dom0 never said `net-test: ready`", r)
        ping = results["ping"]
        expect(ping.returncode == 0, "ICMP echo from the namespace: %s" % ping.stdout.strip(), r)
        neigh = results["neigh"].stdout
        expect(results["mac"] in neigh.lower(),
               "the namespace's ARP entry for 10.99.0.2 is %r, expected MAC %s"
               % (neigh.strip(), results["mac"]), r)
        # What the Linux side passed on through the tap (its own counters),
        # against what the sender sent: every frame. (tx_dropped is shown,
        # not asserted: it also counts the kernel's own stray frames.)
        b = re.search(r"burst: sent (\d+) frames \(\d+ retries\); \S+ tx_packets \+(\d+), "
                      r"tx_dropped \+(\d+)", results["burst"].stdout)
        expect(b is not None, "the burst sender did not report: %s"
               % results["burst"].stdout.strip(), r)
        sent, tx, dropped = (int(g) for g in b.groups())
        print("burst: sent %d, tap tx %d, tap dropped %d" % (sent, tx, dropped))
        expect(sent == BURST and tx >= BURST + 1 and results["burst"].returncode == 0,
               "the host side did not pass on the whole burst: %s\n%s"
               % (results["burst"].stdout.strip(), results["link"].stdout), r)
        expect_lines_in_order(r.log, [
            r"^\(d0\) dom0: nic eth0: %s, MAC %s, link up" % ({"virtio-net-pci": "virtio-net"}
                                                            .get(nic, nic), results["mac"]),
            r"^\(d0\) dom0: net-test: answered [1-9]\d* ARP requests and \d+ echo requests",
            r"^\(d0\) dom0: net-test: eth0: [1-9]\d* interrupts \(%s, pirq \d+, "
            r"port \d+\), [1-9]\d* sleeps ended by one"
            # virtio-net has MSI-X (dom0's default), the 82540EM only INTx.
            % (r"MSI-X \S+ entry 0" if msi and nic == "virtio-net-pci" else r"GSI \d+ level"),
        ])
        # The namespace sent 5 echo requests and got every reply (the ping
        # helper's status); dom0 answered at least those 5.
        e = find_lines(r.log, r"net-test: answered \d+ ARP requests and (\d+) echo requests")
        expect(int(e[0].group(1)) >= 5, "dom0 answered %s echo requests, the namespace sent 5"
               % e[0].group(1), r)
        m = find_lines(r.log, r"net-test: (PASS|FAIL) burst: received (\d+) of (\d+) frames")
        expect(m, "no burst report from dom0", r)
        if m[0].group(1) != "PASS" or int(m[0].group(2)) != sent or int(m[0].group(3)) != sent:
            fail("dom0 received %s of %s burst frames; the namespace sent %d"
                 % (m[0].group(2), m[0].group(3), sent),
                 "tap statistics (TX dropped = lost on the host side):\n"
                 + results["link"].stdout + r.tail())
        expect_lines_in_order(r.log, [r"dom0: hw tests done: PASS"])
        expect_status(r, POWEROFF)


@test("net-virtio-ping", timeout=180)
def _():
    """virtio-net: dom0 answers ARP and ICMP echo from Linux in a network
    namespace and receives a burst of 1000 frames without losing one."""
    net_ping("virtio-net-pci")


@test("net-virtio-ping-intx", timeout=180)
def _():
    """virtio-net with msi=off: the same on its INTx line."""
    net_ping("virtio-net-pci", msi=False)


@test("net-e1000-ping", timeout=180)
def _():
    """The same with QEMU's e1000 (82540EM)."""
    net_ping("e1000")


# ---- ownership, inventory, failure paths -------------------------------------

@test("hw-inventory", timeout=180)
def _():
    """dom0's boot inventory lists every PCI function with its driver, every
    disk with size and model, every NIC with MAC and link; the hypervisor
    passes the functions through and keeps its own devices."""
    extra = (disk_args("virtio", make_disk("a.img"), "INVVIRTIO", "kd0")
             + disk_args("nvme", make_disk("b.img"), "INVNVME", "kd1")
             + disk_args("ahci", make_disk("c.img"), "INVAHCI", "kd2")
             + ["-netdev", "hubport,id=kn0,hubid=0", "-device", "virtio-net-pci,netdev=kn0",
                "-netdev", "hubport,id=kn1,hubid=0", "-device", "e1000,netdev=kn1,mac=52:54:00:00:00:e1"])
    r = boot(cfg(""), timeout=T, extra=extra)
    expect_lines_in_order(r.log, [
        r"^keel: ACPI: MCFG: segment 0 buses 00-ff ECAM at 0xb0000000",
        r"^keel: pci 00:1f.2 8086:2922 class 010601 INTx BAR4 io 0x[0-9a-f]+\+0x20 "
        r"BAR5 mem 0x[0-9a-f]+\+0x1000",
        r"^keel: dom0: \d+ PCI functions passed through",
        r"^\(d0\) dom0: pci: \d+ functions, config space through ECAM at 0xb0000000",
    ])
    for pat in [r"1af4:1001 class 010000 storage/SCSI: driver virtio-blk - vda",
                r"1b36:0010 class 010802 storage/NVMe: driver nvme - nvme0n1",
                r"8086:2922 class 010601 storage/SATA: driver ahci - 32 slots, NCQ, sd",
                r"1af4:1000 class 020000 network/Ethernet: driver virtio-net - eth",
                r"8086:100e class 020000 network/Ethernet: driver e1000 - eth",
                r"8086:29c0 class 060000 bridge/host: no driver",
                r"disk vda: virtio-blk, 8192 KiB, .*serial \"INVVIRTIO\"",
                r"disk vda: 16384 sectors of 512 bytes, queue depth \d+, max request \d+ sectors, "
                r"irq MSI-X 00:0\d\.0 entry 0, pirq \d+, port \d+",
                r"disk nvme0n1: nvme, 8192 KiB, model \"QEMU NVMe Ctrl\", serial \"INVNVME\"",
                r"disk sd[a-z]: ahci, 8192 KiB, model \"QEMU HARDDISK\", serial \"INVAHCI\"",
                r"nic eth\d: virtio-net, MAC 52:54:00:12:34:56, link up",
                r"nic eth\d: e1000, MAC 52:54:00:00:00:e1, link up",
                r"inventory: \d+ PCI functions, 4 disks, 2 NICs"]:
        expect(find_lines(r.log, r"^\(d0\) dom0: (pci \S+ )?" + pat), "no inventory line /%s/" % pat, r)
    expect_status(r, POWEROFF)


@test("hw-absent-device-reported", timeout=180)
def _():
    """A disk the command line asks for that is not there is reported and
    skipped; an NVMe controller without a namespace fails its probe with a
    reason and dom0 goes on with the other devices."""
    r = boot(cfg("test=blk blk=NOSUCHDISK"), timeout=T,
             extra=["-device", "nvme,serial=EMPTYCTRL"]
             + disk_args("virtio", make_disk("disk.img"), "PRESENT"))
    expect_lines_in_order(r.log, [
        r"^\(d0\) pci 00:0\d\.0: nvme: no active namespace",
        r"^\(d0\) dom0: pci 00:0\d\.0 1b36:0010 class 010802 storage/NVMe: no driver - "
        r"no active namespace",
        r"^\(d0\) dom0: disk vda: virtio-blk, .*serial \"PRESENT\"",
        r"^\(d0\) dom0: blk-test: configured disk serial=NOSUCHDISK absent: skipped",
        r"^\(d0\) dom0: hw tests done: PASS",
    ])
    expect_status(r, POWEROFF)


@test("pci-bar-move-refused", timeout=120)
def _():
    """dom0 reprogramming a BAR over its own RAM is refused by the
    hypervisor (one log line; the register reads back unchanged) while BAR
    sizing through the emulated registers still works."""
    r = boot(cfg("test=pci-bar"), timeout=T)
    expect_lines_in_order(r.log, [
        r"^keel: pci \S+ BAR\d: dom0 moved it from 0x[0-9a-f]+ to 0x1000000 \(size 0x[0-9a-f]+\), "
        r"over RAM: refused",
        r"^\(d0\) dom0: pci-bar: PASS",
        r"^\(d0\) dom0: hw tests done: PASS",
    ])
    expect_status(r, POWEROFF)


@test("pirq-bad-input-refused", timeout=120)
def _():
    """physdev_op and EVTCHNOP_bind_pirq refuse bad input with Xen's errors
    (unknown GSI, the hypervisor's timer line, pirq != GSI, MSI of a
    function without the capability, MSI-X, another domain, bad pointer,
    bad wiring, unmapped or doubly bound pirq, unmap while bound) and the
    good sequence map/bind/eoi/close/unmap works; the AHCI controller's MSI
    (mapped by its driver) maps again to the same pirq and is edge."""
    r = boot(cfg("test=pirq"), timeout=T)
    expect(not find_lines(r.log, r"dom0: pirq: FAIL"), "a pirq check failed", r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: pirq: PASS map GSI 9999 = -22",
        r"^\(d0\) dom0: pirq: PASS map GSI 2 \(the timer, Keel's\) = -1",
        r"^\(d0\) dom0: pirq: PASS map MSI of a function without MSI = -19",
        r"^\(d0\) dom0: pirq: PASS map MSI-X of a function without MSI-X = -19",
        r"^keel: pirq 7: GSI 7 -> vector 0x37, edge, active high",
        r"^\(d0\) dom0: pirq: PASS bind again = -17",
        r"^\(d0\) dom0: pirq: PASS unmap while bound = -16",
        r"^\(d0\) dom0: pirq: PASS eoi after unmap = -22",
        r"^\(d0\) dom0: pirq: PASS the same MSI pirq = \d+",
        r"^\(d0\) dom0: pirq: PASS unmap bound MSI = -16",
        r"^\(d0\) dom0: pirq: PASS 0 checks failed",
        r"^\(d0\) dom0: hw tests done: PASS",
    ])
    expect_status(r, POWEROFF)


@test("pirq-msix-table-filter", timeout=120)
def _():
    """With a virtio-blk disk on MSI-X entry 0: mapping the entry again gives
    the same pirq, an entry beyond the table and a wrong table_base are
    refused, and dom0's accesses to the trapped table are filtered (its
    address/data writes dropped, the per-entry mask passed through, the
    config-space enable bit kept by the hypervisor)."""
    r = boot(cfg("test=pirq"), timeout=T, extra=disk_args("virtio", make_disk("disk.img")))
    expect(not find_lines(r.log, r"dom0: pirq: FAIL"), "a pirq check failed", r)
    expect_lines_in_order(r.log, [
        r"^keel: pci \S+: MSI-X table of \d+ entries at 0x[0-9a-f]+ \(BAR1\): trapped",
        r"^keel: pirq (\d+): MSI-X entry 0 of \S+ -> vector 0x[0-9a-f]+, edge",
        r"^\(d0\) dom0: pirq: PASS the same MSI-X pirq = \d+",
        r"^\(d0\) dom0: pirq: PASS map MSI-X entry beyond the table = -22",
        r"^\(d0\) dom0: pirq: PASS map MSI-X with a wrong table_base = -22",
        r"^\(d0\) dom0: pirq: PASS unmap bound MSI-X = -16",
        r"^\(d0\) dom0: pirq: PASS MSI-X address write dropped = 1",
        r"^\(d0\) dom0: pirq: PASS MSI-X data write dropped = 1",
        r"^\(d0\) dom0: pirq: PASS MSI-X qword: data dropped, mask set = 1",
        r"^\(d0\) dom0: pirq: PASS MSI-X mask cleared = 0",
        r"^\(d0\) dom0: pirq: PASS MSI-X enable held by the hypervisor = 1",
        r"^\(d0\) dom0: pirq: PASS 0 checks failed",
    ])
    expect_status(r, POWEROFF)
