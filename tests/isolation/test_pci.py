"""dom0 owns the real devices, but the hypervisor keeps what it relies on
(docs/dom0-devices.md): dom0 (test=pci-hostile, guest/dom0/test/pci_hostile_test.c)
tries to rewrite the host bridge's address decoding, the LPC's decoding of
Keel's UART, a bridge's bus numbers and MSI-X tables, and checks by reading
back (and by effect where QEMU shows one) that nothing changed."""

from keeltest import (test, boot, expect, expect_lines_in_order, expect_status, find_lines,
                      POWEROFF)

T = 120


def cfg(case):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=pci-hostile case=%s\n" % case)


def nic(extra=""):
    # No option ROM: OVMF would run iPXE's driver for every NIC.
    return ["-device", "virtio-net-pci,romfile=%s" % extra]


def run_case(case, extra=(), lines=(), timeout=T):
    r = boot(cfg(case), timeout=timeout, extra=list(extra))
    fails = find_lines(r.log, r"^\(d0\) dom0: test pci-\S+: FAIL.*")
    expect(not fails, "dom0's checks failed: %s" % "; ".join(m.group(0) for m in fails[:6]), r)
    expect_lines_in_order(r.log, list(lines) + [
        r"^\(d0\) dom0: pci-hostile: PASS [1-9]\d* passed, 0 failed",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("isolation-pci-host-bridge-writes-refused", timeout=240)
def _():
    """dom0's writes to the Q35 host bridge (PCIEXBAR, PAM0-6, SMRAM,
    ESMRAMC, command), through ECAM and CF8/CFC, are dropped: each reads
    back unchanged, and the ECAM window still reaches every function (a
    PCIEXBAR write would have turned it off)."""
    run_case("host", lines=[
        r"^keel: pci 00:00\.0: dom0 writing config register 0x[0-9a-f]+ refused: host bridge",
        r"^\(d0\) dom0: test pci-host-60-kept: PASS",
        r"^\(d0\) dom0: test pci-host-9d-kept: PASS",
        r"^\(d0\) dom0: test pci-host-ecam-still-works: PASS",
    ])


@test("isolation-pci-lpc-com-decode-refused", timeout=240)
def _():
    """dom0 turning off the ICH9 LPC's decode of COM1 (LPC_EN/LPC_IOD),
    pointing a generic decode range or the ACPI PM block (PMBASE) at COM1's
    ports: dropped, the registers read back unchanged, and by effect the
    hypervisor's console keeps working meanwhile: the lines dom0 prints with
    its values in place reach the serial log (on QEMU a PM block at 0x3f8
    swallows them)."""
    run_case("lpc", lines=[
        r"^keel: pci 00:1f\.0: dom0 writing config register 0x8[0-3] refused: ISA/LPC bridge",
        r"^\(d0\) dom0: pci-hostile: console line with dom0's LPC writes in place",
        r"^\(d0\) dom0: test pci-lpc-com-decode-kept: PASS",
        r"^\(d0\) dom0: test pci-lpc-gen-decode-kept: PASS",
        r"^\(d0\) dom0: test pci-lpc-pmbase-kept: PASS",
    ])


@test("isolation-pci-bridge-bus-numbers-fixed", timeout=240)
def _():
    """dom0 renumbering a PCIe root port's buses (0x18-0x1a, as a dword and
    as bytes) is refused: the numbers read back as at boot and the NIC
    behind the port still answers at its boot BDF, nothing at the new bus."""
    run_case("bridge", extra=["-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
                              "-device", "virtio-net-pci,bus=rp1,romfile="], lines=[
        r"^keel: pci \S+: dom0 writing config register 0x1[89a] refused: bridge bus numbers are "
        r"fixed after boot",
        r"^\(d0\) dom0: test pci-bridge-busnr-dword-kept: PASS",
        r"^\(d0\) dom0: test pci-bridge-busnr-bytes-kept: PASS",
        r"^\(d0\) dom0: test pci-bridge-function-behind-stays: PASS",
    ])


def bridged_nic():
    return ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
            "-device", "virtio-net-pci,bus=rp1,romfile="]


@test("isolation-pci-bridge-window-kept-off-hypervisor-ranges", timeout=240)
def _():
    """dom0 widening a PCIe root port's memory window up to 0xfeffffff (over
    the IOAPIC, HPET and LAPIC/MSI window, still covering the NIC behind
    it), and moving its I/O window over ports 0-0xfff (COM1 included): dom0
    reads back what it wrote, but the device's window is off meanwhile (the
    NIC behind it stops answering at its MSI-X table; had the write landed,
    it would still answer),
    the hypervisor's console keeps working, and restoring the old window
    makes the NIC answer again."""
    run_case("bridge-window", extra=bridged_nic(), lines=[
        r"^\(d0\) dom0: test pci-bridge-window-function-answers: PASS",
        r"^keel: pci \S+: dom0 setting the bridge's memory window to 0x[0-9a-f]+-0xfeffffff "
        r"refused: over ",
        r"^\(d0\) dom0: test pci-bridge-window-reads-back: PASS",
        r"^\(d0\) dom0: test pci-bridge-window-off-in-device: PASS",
        r"^\(d0\) dom0: test pci-bridge-window-restored: PASS",
        r"^\(d0\) dom0: pci-hostile: console line with dom0's bridge I/O window over port 0x3f8",
        r"^\(d0\) dom0: test pci-bridge-window-all-functions-answer: PASS",
    ])


@test("isolation-pci-bridge-reset-restores-msix", timeout=240)
def _():
    """A function behind a PCIe root port with MSI-X entry 0 mapped, reset
    by dom0 with an FLR, then with a secondary bus reset on the port: each
    time the hypervisor notices the reset and, once the function is ready,
    writes back its BARs and the MSI-X entry and enable (dom0's writes to
    those are dropped, so only Keel can): the table answers at its BAR with
    the hypervisor's message and MSI-X is enabled."""
    run_case("bridge-reset", extra=bridged_nic(), lines=[
        r"^\(d0\) dom0: test pci-bridge-flr-mapped: PASS",
        r"^keel: pci (\S+): reset by dom0 \(function level reset\)",
        r"^keel: pci \S+: after the reset: BARs, MSI-X entries written back",
        r"^\(d0\) dom0: test pci-bridge-flr-msix-written-back: PASS",
        r"^\(d0\) dom0: test pci-bridge-sbr-mapped: PASS",
        r"^keel: pci \S+: reset by dom0 \(secondary bus reset\)",
        r"^keel: pci \S+: after the reset: BARs, MSI-X entries written back",
        r"^\(d0\) dom0: test pci-bridge-sbr-msix-written-back: PASS",
    ])


MANY = 18


@test("isolation-pci-msix-many-tables-trapped", timeout=300)
def _():
    """With 18 MSI-X functions (more than the 16 tables Keel used to track),
    every table is trapped: dom0's write to entry 0's address is dropped
    while its vector-control write lands, and each entry 0 maps."""
    extra = []
    for _ in range(MANY):
        extra += nic()
    r = run_case("msix-many", extra=extra, timeout=200)
    trapped = find_lines(r.log, r"^keel: pci \S+: MSI-X table of \d+ entries at 0x[0-9a-f]+ "
                                r"\(BAR\d\): trapped")
    expect(len(trapped) >= MANY, "only %d MSI-X tables trapped, expected %d" % (len(trapped), MANY), r)
    expect(not find_lines(r.log, r"cannot trap the MSI-X table"), "a table was not trapped", r)
    expect_lines_in_order(r.log, [r"^\(d0\) dom0: test pci-msix-all-trapped: PASS (%d|[2-9]\d) "
                                  r"MSI-X functions" % MANY])


@test("isolation-pci-msix-table-bar-reassigned", timeout=240)
def _():
    """A table BAR unassigned (dom0 writes 0, as firmware leaves a BAR it had
    no room for): map_pirq for MSI-X is refused, so is the MSI-X enable bit.
    Assigned again at a new address: the table is trapped there (address
    writes dropped, vector control live), entry 0 maps, and the BAR cannot
    move while it is mapped."""
    run_case("msix-move", extra=nic(), lines=[
        r"^keel: pci (\S+) BAR1: dom0 unassigned it \(was 0x[0-9a-f]+\)",
        r"^\(d0\) dom0: test pci-msix-map-untrapped-refused: PASS",
        r"^\(d0\) dom0: test pci-msix-enable-untrapped-refused: PASS",
        r"^keel: pci \S+ BAR1: dom0 moved it from 0x0 to 0x[0-9a-f]+",
        r"^keel: pci \S+: MSI-X table of \d+ entries at 0x[0-9a-f]+ \(BAR1\): trapped",
        r"^\(d0\) dom0: test pci-msix-trapped-at-new-place: PASS",
        r"^\(d0\) dom0: test pci-msix-map-at-new-place: PASS",
        r"^keel: pci \S+ BAR1: .*holds the MSI-X table and 1 entries are mapped",
        r"^\(d0\) dom0: test pci-msix-bar-pinned-while-mapped: PASS",
        r"^\(d0\) dom0: test pci-msix-unmap: PASS",
    ])


@test("isolation-pci-msix-table-bar64-reassigned", timeout=240)
def _():
    """The same with a 64-bit table BAR above 4 GiB (QEMU's NVMe BAR0, written
    low dword then high dword): unassigned, MSI-X refused; reassigned, the
    table is trapped at the new address."""
    run_case("msix-move64", extra=["-device", "nvme,serial=KEELNVME"], lines=[
        r"^keel: pci (\S+) BAR0: dom0 unassigned it \(was 0x[0-9a-f]+\)",
        r"^\(d0\) dom0: test pci-msix-map-untrapped-refused: PASS",
        r"^\(d0\) dom0: test pci-msix-enable-untrapped-refused: PASS",
        r"^keel: pci \S+ BAR0: dom0 moved it from 0x0 to 0x[0-9a-f]{9,}",
        r"^keel: pci \S+: MSI-X table of \d+ entries at 0x[0-9a-f]{9,} \(BAR0\): trapped",
        r"^\(d0\) dom0: test pci-msix-trapped-at-new-place: PASS",
        r"^\(d0\) dom0: test pci-msix-map-at-new-place: PASS",
        r"^\(d0\) dom0: test pci-msix-bar-pinned-while-mapped: PASS",
        r"^\(d0\) dom0: test pci-msix-unmap: PASS",
    ])
