"""The PV block path (docs/pvblk.md): dom0's blkback exports a disk QEMU
emulates (virtio-blk, NVMe, AHCI) to a pvtest role=blk domU launched with
it through the launcher (dom0 scenario `pvblk`,
guest/dom0/test/domains_pvblk.c); the domU's blkfront writes a pattern
over the whole disk and reads it back, and after QEMU exits the host checks
every byte of the image, and that a second disk on the same controller,
never exported, is byte-identical."""

import array
import os

import keeltest
from keeltest import (boot, expect, expect_domains_sound, expect_lines_in_order, expect_status,
                      fail, find_lines, test, POWEROFF)

T = 600
SERIAL = "PVBLK"
OTHER = "PVOTHER"
DISK_BYTES = 8 << 20
SECTOR = 512

DISK_DEVICES = {
    "virtio": "virtio-blk-pci,drive={id},serial={serial}",
    "nvme": "nvme,drive={id},serial={serial}",
    "ahci": "ide-hd,drive={id},bus=ide.{port},serial={serial}",
}


def pattern_word(w, seed):
    """tests/hw/test_hw.py's generator (and guest/pvtest/blk.c's)."""
    return (((w + seed * 0x10000000) * 2654435761) & 0xffffffff) ^ ((w >> 13) & 0xffffffff)


def pattern_bytes(seed):
    return array.array("I", (pattern_word(w, seed) for w in range(DISK_BYTES // 4))).tobytes()


def make_disk(name, seed=1):
    path = os.path.join(keeltest.FILES_DIR, keeltest.CURRENT.name, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(pattern_bytes(seed))
    return path


def disk_args(kind, path, serial, ident, port):
    return ["-drive", "if=none,id=%s,format=raw,file=%s" % (ident, path),
            "-device", DISK_DEVICES[kind].format(id=ident, serial=serial, port=port)]


def cfg(mode, data=None, extra_cmdline=""):
    """data: blkback's data path (blkback_data=copy|map; None: the default).
    The grant-map path is for requests without persistent grants: with
    map the domU does not offer them (pvblk_persistent=0)."""
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=pvblk blk=%s blk2=%s pvblk_mode=%s%s%s\n"
            "module pvtest /pvtest.elf\n"
            % (SERIAL, OTHER, mode,
               " blkback_data=%s pvblk_persistent=0" % data if data == "map"
               else " blkback_data=" + data if data else "", extra_cmdline))


def compare(path, want, what, log):
    with open(path, "rb") as f:
        got = f.read()
    if len(got) != len(want):
        fail("%s: image is %d bytes, expected %d" % (what, len(got), len(want)))
    if got != want:
        bad = [i // SECTOR for i in range(0, len(want), SECTOR)
               if got[i:i + SECTOR] != want[i:i + SECTOR]]
        fail("%s: image differs in %d sectors (first %s)" % (what, len(bad), bad[:8]),
             log.tail(40) if hasattr(log, "tail") else "")


def pvblk(kind, mode="rw", data=None, extra_cmdline=""):
    exported = make_disk("exported.img", 1)
    other = make_disk("other.img", 1)
    extra = (disk_args(kind, exported, SERIAL, "kd0", 2)
             + disk_args(kind, other, OTHER, "kd1", 3))
    r = boot(cfg(mode, data, extra_cmdline), timeout=T, extra=extra)
    expect_domains_sound(r)
    lines = [
        r"^\(d0\) dom0: pvblk: exporting \S+ \(%s," % {"virtio": "virtio-blk"}.get(kind, kind),
    ]
    if mode == "hot":
        lines += [r"^\(d\d+\) pvtest: blk: waiting for device/vbd/51712",
                  r"^\(d\d+\) pvtest: blk: device/vbd/51712 appeared"]
    lines += [
        r"^\(d\d+\) pvtest: blk: connected: %d sectors, sector-size 512, info %d"
        % (DISK_BYTES // SECTOR, 4 if mode == "ro" else 0),
        r"^\(d\d+\) pvtest: blk: PASS \d+ requests",
        r"^\(d0\) dom0: domains: pvblk: PASS",
        r"^keel: machine stop: poweroff",
    ]
    expect_lines_in_order(r.log, lines)
    if mode == "detach":
        expect_lines_in_order(r.log, [
            r"^\(d\d+\) pvtest: blk: connected: ",
            r"^\(d\d+\) pvtest: blk: backend Closing: closing",
            r"^\(d0\) dom0: domains: check detach-while-connected: 0 \(want 0\)",
            r"^\(d0\) dom0: domains: check detach-backend-freed: 0 \(want 0\)",
        ])
    if mode == "hostile":
        # Every hostile domU broke the protocol over persistent grants
        # (pvtest's blkfront offers them): the refused grants are judged
        # by the per-request path all the same.
        n = len(find_lines(r.log, r"^\(d\d+\) dom0: blkback: d\d+/51712: connected to .*, "
                                  r"persistent grants$"))
        expect(n >= len(HOSTILE), "only %d connections used persistent grants" % n, r)
        for kind, rule in HOSTILE:
            expect_lines_in_order(r.log, [
                r"^\(d\d+\) pvtest: Keel PV test domain, cmdline \"role=blk-hostile devid=51712 "
                r"kind=%s\"" % kind,
                r"^\(d0\) dom0: blkback: d\d+/51712: protocol violation: (?:%s)" % rule,
                r"^\(d\d+\) pvtest: blk-hostile: PASS %s$" % kind,
                r"^\(d0\) dom0: pvblk: hostile %s: " % kind,
            ])
    expect_status(r, POWEROFF)
    if data == "map":
        # The data went by grant map (DMA into the guest's pages), and
        # no page stayed mapped (dom0 also checks the last).
        g = find_lines(r.log, r"blkback: (\d+) chunks by grant map, (\d+) by grant copy, "
                              r"(\d+) pages mapped")
        expect(g and int(g[0].group(1)) > 0, "no request went by grant map", r)
        expect(g and int(g[0].group(3)) == 0, "grant mappings left behind", r)
    m = find_lines(r.log, r"pvtest: blk: PASS (\d+) requests, (\d+) bytes, up to (\d+) in flight")
    if mode not in ("ro", "detach"):
        # The whole disk went through, with many requests in flight.
        expect(int(m[0].group(2)) >= 2 * DISK_BYTES, "only %s bytes moved" % m[0].group(2), r)
        expect(int(m[0].group(3)) >= 8, "only %s requests in flight at once" % m[0].group(3), r)
    want = pattern_bytes(1 if mode == "ro" else 2)
    if mode == "detach":
        want = pattern_bytes(2)[:1 << 20] + pattern_bytes(1)[1 << 20:]
    compare(exported, want, "exported disk", r)
    compare(other, pattern_bytes(1), "the disk not exported (hostile domUs' disk)", r)
    return r


# Each hostile kind and the rule blkback must name (blk_check.c's names).
HOSTILE = [
    ("op", "operation not advertised"),
    ("nseg0", "read/write without segments"),
    ("nseg12", "segment count over the limit"),
    ("sect", "segment first_sect/last_sect out of the page"),
    ("lastsect", "segment first_sect/last_sect out of the page"),
    ("end", "sectors beyond the end of the disk"),
    ("gref-reserved", "reserved grant reference"),
    ("gref-bad", "reserved grant reference|bad grant"),
    ("indirect-op", "indirect_op not read or write"),
    ("indirect-nseg", "segment count over the limit"),
    ("indirect-gref", "reserved grant reference|bad grant"),
    ("id", "request id already in flight"),
    ("indices", "req_prod beyond the ring"),
    ("gref-ro-read", "reserved grant reference"),
    ("gref-not-owned", "reserved grant reference"),
    ("gref-ended", "reserved grant reference"),
]


@test("hostile-blkfront-each-rule-closes-device", timeout=T + 300)
def _():
    """One hostile frontend per kind of bad input (bad op, segment counts 0
    and 12, first/last sector, sectors past the end, reserved and unknown
    grant refs, bad indirect op/count/page, a duplicate id in flight,
    req_prod beyond the ring): each device goes Closing with one line
    naming the rule, the hostile disk is byte-identical afterwards (never
    touched), and a good domU's pattern test on another disk passes
    alongside."""
    pvblk("virtio", "hostile")


@test("pvblk-detach-while-connected", timeout=T + 120)
def _():
    """dom0 detaches a disk from a running domU that is connected to it:
    online=0 and Closing in the backend, the domU's frontend closes, the
    backend reaches Closed, both directories go and the backend frees the
    device; the domU then powers off normally."""
    pvblk("virtio", "detach")


def bench(data=None):
    exported = make_disk("exported.img", 1)
    r = boot(cfg("bench", data), timeout=T,
             extra=disk_args("virtio", exported, SERIAL, "kd0", 2)
             + disk_args("virtio", make_disk("other.img", 1), OTHER, "kd1", 3))
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: pvblk: bench: native read 25165824 bytes in [1-9]\d* us",
        r"^\(d\d+\) pvtest: blk: bench: PV read 25165824 bytes in [1-9]\d* us",
        r"^\(d0\) dom0: domains: pvblk: PASS",
    ])
    expect_status(r, POWEROFF)
    for m in find_lines(r.log, r"(native|PV) read \d+ bytes in \d+ us \((\d+) MiB/s\)"):
        print("pvblk bench: %s read %s MiB/s" % (m.group(1), m.group(2)))
    for w in ("seq64k-read", "rand4k-read", "rand4k-write",
              "qd1-seq64k-read", "qd1-rand4k-read", "qd1-rand4k-write"):
        expect_lines_in_order(r.log, [r"^\(d0\) dom0: pvblk: bench: native %s \d+ bytes in [1-9]" % w,
                                      r"^\(d\d+\) pvtest: blk: bench: PV %s \d+ bytes in [1-9]" % w])
    expect_lines_in_order(r.log, [r"^\(d0\) dom0: pvblk: bench: qd32 phase: [1-9]\d* requests"])
    compare(exported, pattern_bytes(1), "exported disk", r)


@test("pvblk-bench-read-throughput", timeout=T + 120)
def _():
    """PV throughput next to dom0-native on the same virtio-blk disk, with
    blkback's default data path: three whole-disk reads, 128 KiB requests,
    8 in flight, each side; then at queue depth 32 sequential 64 KiB reads
    and random 4 KiB reads and writes (the writes put the disk's own bytes
    back), with dom0 counting exits and notifications over the domU's
    phase. Prints the figures (tests/bench.py reads them). The domU checks
    what it read against the host's pattern; the image is unchanged."""
    bench()


@test("pvblk-map-bench-read-throughput", timeout=T + 120)
def _():
    """pvblk-bench-read-throughput with blkback moving data by grant map
    (blkback_data=map): the figures of the other data path."""
    bench("map")


@test("teardown-blk-create-use-destroy-cycles", timeout=T + 300)
def _():
    """Six launches of a domU with a disk, each writing and reading back
    512 KiB through blkback, then destroyed: after the first, every cycle
    leaves the hypervisor's free pages, dom0's free pool pages, the
    store's node count and bytes and blkback's device count as they
    were; the image holds the pattern in its first 512 KiB only."""
    exported = make_disk("exported.img", 1)
    r = boot(cfg("teardown"), timeout=T,
             extra=disk_args("virtio", exported, SERIAL, "kd0", 2)
             + disk_args("virtio", make_disk("other.img", 1), OTHER, "kd1", 3))
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: pvblk: teardown cycle 0: ",
        r"^\(d0\) dom0: pvblk: teardown cycle 5: ",
        r"^\(d0\) dom0: domains: pvblk: PASS",
        r"^keel: machine stop: poweroff",
    ])
    # 512 KiB written and read back each (plus what a discard or flush
    # counts, which depends on the request sizes the ring allows).
    moved = [int(m.group(1)) for m in
             find_lines(r.log, r"^\(d\d+\) pvtest: blk: PASS \d+ requests, (\d+) bytes")]
    n = len([b for b in moved if b >= 1048576])
    expect(n == 6, "expected 6 domUs to move at least 1 MiB each (512 KiB written, read back), "
           "saw %s" % moved, r)
    expect_status(r, POWEROFF)
    want = bytearray(pattern_bytes(1))
    want[:512 << 10] = pattern_bytes(2)[:512 << 10]
    compare(exported, bytes(want), "exported disk", r)


@test("pvblk-virtio-pattern", timeout=T + 120)
def _():
    """virtio-blk exported read-write: the domU writes pattern 2 over the
    whole disk at queue depth 1 and 32 with 512 B..1 MiB I/Os (indirect
    requests beyond 11 pages), flushes, reads it back; the host finds
    every byte of the image written and the other disk untouched; destroy
    leaves no node, page or backend device behind."""
    pvblk("virtio")


@test("pvblk-nvme-pattern", timeout=T + 120)
def _():
    """The pattern test on an NVMe namespace."""
    pvblk("nvme")


@test("pvblk-ahci-pattern", timeout=T + 120)
def _():
    """The pattern test on an AHCI (SATA) disk."""
    pvblk("ahci")


@test("pvblk-readonly-refuses-writes", timeout=T + 120)
def _():
    """Exported with mode "r": info says VDISK_READONLY, the domU reads the
    host's pattern back, its write is answered BLKIF_RSP_ERROR, and the
    image is byte-identical afterwards."""
    pvblk("virtio", "ro")


@test("pvblk-hot-attach-detach", timeout=T + 120)
def _():
    """A disk attached to a running domU (it waits for device/vbd/51712),
    used, closed by the domU, detached by dom0 (online=0, Closing, the
    backend's Closed): both directories gone and the backend device freed."""
    pvblk("virtio", "hot")


# The grant-map data path (blkback_data=map, docs/pvblk.md): the device
# DMAs straight into the guest's granted pages.
@test("pvblk-map-virtio-pattern", timeout=T + 120)
def _():
    """pvblk-virtio-pattern with blkback moving data by grant map: the
    pattern over the whole disk at queue depths 1 and 32, byte-exact on
    the host, at least one request by map and no mapping left."""
    pvblk("virtio", data="map")


@test("pvblk-map-nvme-pattern", timeout=T + 120)
def _():
    """pvblk-nvme-pattern by grant map (PRP lists of the guest's frames)."""
    pvblk("nvme", data="map")


@test("pvblk-map-ahci-pattern", timeout=T + 120)
def _():
    """pvblk-ahci-pattern by grant map (PRD entries of the guest's frames)."""
    pvblk("ahci", data="map")


@test("pvblk-map-readonly-refuses-writes", timeout=T + 120)
def _():
    """The read-only export by grant map: reads pass, writes and discards
    are refused and the image is unchanged."""
    pvblk("virtio", "ro", data="map")


@test("hostile-blkfront-map-each-rule-closes-device", timeout=T + 300)
def _():
    """hostile-blkfront-each-rule-closes-device by grant map: the refused
    maps (a read into a read-only grant, a grant of a frame the frontend
    does not own, a grant ended before the backend maps it, unknown refs)
    close the device with one line, nothing stays mapped, and the good
    domU's pattern test passes alongside."""
    pvblk("virtio", "hostile", data="map")


# Persistent grants (feature-persistent, docs/pvblk.md "Persistent
# grants"): pvtest's blkfront and blkback both offer it by default, so
# the pattern tests above run with it; these check it was in use and
# push on its edges.
def expect_persistent(r, peak_max=1056):
    """blkback connected with persistent grants, data moved through them,
    the table stayed within its bound and nothing stayed mapped."""
    expect(find_lines(r.log, r"^\(d0\) dom0: blkback: d\d+/51712: connected to .*, "
                             r"persistent grants$"),
           "blkback did not connect with persistent grants", r)
    g = find_lines(r.log, r"blkback: persistent grants: (\d+) chunks, peak (\d+) mappings, "
                          r"(\d+) requests per request")
    expect(g and int(g[0].group(1)) > 0, "no chunk moved through persistent grants", r)
    expect(g and int(g[0].group(2)) <= peak_max,
           "persistent mappings peaked at %s, bound %d" % (g and g[0].group(2), peak_max), r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: check pvblk-no-persistent-mappings-left: 0 \(want 0\)"])
    return g[0]


@test("pvblk-persistent-virtio-pattern", timeout=T + 120)
def _():
    """The pattern test (pattern 2 over the whole disk, QD 1 and 32, 512 B
    to 1 MiB I/Os, read back; every byte checked in the image) with
    persistent grants negotiated: blkback says so when it connects, the
    data moved through persistent mappings, at most 1056 of them, none
    left after destroy (and every hypervisor page back)."""
    expect_persistent(pvblk("virtio"))


@test("pvblk-persistent-nvme-pattern", timeout=T + 120)
def _():
    """The same on NVMe."""
    expect_persistent(pvblk("nvme"))


@test("pvblk-persistent-table-full-falls-back", timeout=T + 120)
def _():
    """blkback_persistent=64: the table of persistent mappings fills at 64
    (one line says so) and requests with new grants go per request
    (grant copy); the pattern test still writes and reads every byte
    right, the count never passes 64 and nothing stays mapped."""
    r = pvblk("virtio", extra_cmdline=" blkback_persistent=64")
    g = expect_persistent(r, peak_max=64)
    expect(int(g.group(2)) == 64, "the table never filled (peak %s)" % g.group(2), r)
    expect(int(g.group(3)) > 0, "no request went per request", r)
    expect(find_lines(r.log, r"blkback: d\d+/51712: persistent grants: table full \(\d+ of 64"),
           "no line saying the table is full", r)


@test("pvblk-persistent-frontend-without-the-feature", timeout=T + 120)
def _():
    """A frontend that does not offer feature-persistent (pvtest
    persistent=0, as older Linux or a frontend that turned it off) gets
    grants per request: blkback says so, no chunk goes through a
    persistent mapping, and the pattern test passes byte for byte."""
    r = pvblk("virtio", extra_cmdline=" pvblk_persistent=0")
    expect(find_lines(r.log, r"^\(d0\) dom0: blkback: d\d+/51712: connected to .*, "
                             r"grants per request$"),
           "blkback did not fall back to grants per request", r)
    g = find_lines(r.log, r"blkback: persistent grants: (\d+) chunks")
    expect(g and int(g[0].group(1)) == 0, "chunks went through persistent grants", r)


@test("pvblk-persistent-hostile-frontend", timeout=T + 120)
def _():
    """pvtest role=blk-pg-hostile (guest/pvtest/blk_pg_hostile.c)
    over persistent grants: a write through a read-only grant (per
    request) then a read through the same gref granted read-write (lands
    in the page); a mapped gref cannot be revoked and, re-pointed at
    another page behind blkback's back, still reads and writes the page
    blkback mapped; one gref in two segments; closing with 16 requests
    in flight, after which every grant can be revoked. No violation; the
    host finds pattern 3 at exactly the sectors written (0..7, 8..15 and
    16..23 from the mapped page, 24..39 twice the same page) and the
    rest of the disk untouched; nothing stays mapped after destroy."""
    exported = make_disk("exported.img", 1)
    other = make_disk("other.img", 1)
    r = boot(cfg("persist-hostile"), timeout=T,
             extra=disk_args("virtio", exported, SERIAL, "kd0", 2)
             + disk_args("virtio", other, OTHER, "kd1", 3))
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: blkback: d\d+/51712: connected to .*, persistent grants$",
        r"^\(d\d+\) pvtest: blk-pg-hostile: ro-then-rw ok",
        r"^\(d\d+\) pvtest: blk-pg-hostile: repoint ok",
        r"^\(d\d+\) pvtest: blk-pg-hostile: dup ok",
        r"^\(d\d+\) pvtest: blk-pg-hostile: mid-request ok",
        r"^\(d\d+\) pvtest: blk-pg-hostile: PASS",
        r"^\(d0\) dom0: domains: check pvblk-no-violations: 0 \(want 0\)",
        r"^\(d0\) dom0: domains: check pvblk-no-persistent-mappings-left: 0 \(want 0\)",
        r"^\(d0\) dom0: domains: pvblk: PASS",
    ])
    expect_status(r, POWEROFF)
    p3 = pattern_bytes(3)
    want = bytearray(pattern_bytes(1))
    want[0:4096] = p3[0:4096]          # ro-then-rw
    want[4096:8192] = p3[4096:8192]    # repoint: written from page A
    want[8192:12288] = p3[4096:8192]   # repoint: still page A's bytes
    want[12288:16384] = p3[12288:16384]  # dup: the page twice
    want[16384:20480] = p3[12288:16384]
    compare(exported, bytes(want), "exported disk", r)
    compare(other, pattern_bytes(1), "the disk not exported", r)
