"""GPT partitions as dom0 block devices (guest/dom0/storage/, docs/storage.md).

The host writes a GPT (with Python, as UEFI 2.10 section 5.3 lays it out)
over an 8 MiB image holding the usual pattern; dom0 reads the table at
boot, registers one blkdev per partition ("vda2", "nvme0n1p2", "sdb2"),
lists them in its inventory, and test=blk-partition
(guest/dom0/test/hw_partition_test.c) writes through the "data"
partition, discards inside what it wrote, is refused past its end, and
reads back. After QEMU exits the
host checks every byte of the image: pattern 2 exactly where dom0 said
it wrote (the partition's offset added), zeros where it discarded (the
-drive has discard=unmap), the original bytes everywhere
else (the other partitions and the GPT itself included)."""

import array
import os
import struct
import uuid
import zlib

import keeltest
from gptimage import write_gpt, LINUX_DATA
from keeltest import test, boot, expect, expect_lines_in_order, expect_status, fail, find_lines, POWEROFF

T = 90
DISK_BYTES = 8 << 20
SECTOR = 512

DEVICES = {
    "virtio": "virtio-blk-pci,drive={id},serial={serial}",
    "nvme": "nvme,drive={id},serial={serial}",
    # Port 2 of q35's AHCI controller (the ESP Keel boots from is on another).
    "ahci": "ide-hd,drive={id},bus=ide.{port},serial={serial}",
}
DRIVER = {"virtio": "virtio-blk", "nvme": "nvme", "ahci": "ahci"}

# (first LBA, last LBA, name, unique GUID); numbers 1, 2, 4 (entry 3 unused).
PARTS = [
    (2048, 4095, "boot", uuid.UUID("11111111-2222-3333-4444-555555555501"), 1),
    (4096, 14335, "data", uuid.UUID("11111111-2222-3333-4444-555555555502"), 2),
    (14336, 16350, "spare", uuid.UUID("11111111-2222-3333-4444-555555555504"), 4),
]


def cfg(dom0_cmdline):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf %s\n" % dom0_cmdline)


# The disk pattern (tests/hw/test_hw.py and guest/dom0/test/hw_*_test.c
# have the same generator): the little-endian word at byte 4*w.
def pattern(first_word, nwords, seed):
    return array.array("I", ((((w + seed * 0x10000000) * 2654435761) & 0xffffffff) ^
                             ((w >> 13) & 0xffffffff)
                             for w in range(first_word, first_word + nwords)))


def make_gpt_disk(name, corrupt=None):
    img = bytearray(pattern(0, DISK_BYTES // 4, 1).tobytes())
    write_gpt(img, PARTS)
    if corrupt:
        corrupt(img)
    path = os.path.join(keeltest.FILES_DIR, keeltest.CURRENT.name, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(img)
    return path, bytes(img)


def disk_args(kind, path, serial, ident="kd0", port=2):
    # discard=unmap: a discard punches a hole in the file (docs/discard.md).
    return ["-drive", "if=none,id=%s,format=raw,file=%s,discard=unmap" % (ident, path),
            "-device", DEVICES[kind].format(id=ident, serial=serial, port=port)]


def check_image(path, orig, log):
    """The image is orig with pattern 2 where dom0 wrote (and nothing else)."""
    want = bytearray(orig)
    writes = [(int(m.group(1)), int(m.group(2)))
              for m in find_lines(log, r"dom0: blk-partition: write (\d+)\+(\d+)$")]
    expect(len(writes) == 2, "dom0 reported %d writes, expected 2" % len(writes))
    data = PARTS[1]
    for s, c in writes:
        expect(data[0] <= s and s + c - 1 <= data[1],
               "dom0 wrote %d+%d, outside partition 2 (%d..%d)" % (s, c, data[0], data[1]))
        want[s * SECTOR:(s + c) * SECTOR] = pattern(s * SECTOR // 4, c * SECTOR // 4, 2).tobytes()
    expect(writes[0][0] == data[0] and writes[1] == (data[1] - 7, 8),
           "writes %s are not at the partition's first sector and last 8" % writes)
    discards = [(int(m.group(1)), int(m.group(2)))
                for m in find_lines(log, r"dom0: blk-partition: discard (\d+)\+(\d+)$")]
    for s, c in discards:
        expect(s == data[0] + 16 and c == 32, "dom0 discarded %d+%d, expected %d+32"
               % (s, c, data[0] + 16))
        want[s * SECTOR:(s + c) * SECTOR] = bytes(c * SECTOR)
    with open(path, "rb") as f:
        got = f.read()
    if got != bytes(want):
        bad = [i // SECTOR for i in range(0, len(want), SECTOR)
               if got[i:i + SECTOR] != want[i:i + SECTOR]]
        fail("image differs from the expected in %d sectors (first %s)" % (len(bad), bad[:8]),
             "writes dom0 reported: %s" % writes)


def partition_test(kind):
    serial = "KEELGPT"
    path, orig = make_gpt_disk("disk.img")
    r = boot(cfg("test=blk-partition blk=%s" % serial), timeout=T,
             extra=disk_args(kind, path, serial))
    m = find_lines(r.log, r"^\(d0\) dom0: disk (\S+): %s, .*serial \"%s\"" % (DRIVER[kind], serial))
    expect(m, "no inventory line for the %s disk" % kind, r)
    disk = m[0].group(1)
    sep = "p" if disk[-1].isdigit() else ""
    lines = []
    for first, last, name, guid, number in PARTS:
        pname = "%s%s%d" % (disk, sep, number)
        size = last - first + 1
        lines.append(r"^\(d0\) dom0: part %s: %s LBAs %d\.\.%d, %d sectors \(%d KiB\), name \"%s\"$"
                     % (pname, disk, first, last, size, size * SECTOR >> 10, name))
        lines.append(r"^\(d0\) dom0: part %s: partuuid %s type %s$" % (pname, guid, LINUX_DATA))
    lines.append(r"^\(d0\) dom0: inventory: .* [1-9]\d* partitions$")
    expect_lines_in_order(r.log, lines)
    data = "%s%s2" % (disk, sep)
    expect(not find_lines(r.log, r"dom0: blk-partition: FAIL"), "a partition check failed", r)
    expect_lines_in_order(r.log, [
        r"dom0: blk-partition: disk %s \(%s\) has 3 partitions" % (disk, DRIVER[kind]),
        r"dom0: blk-partition: PASS lookup %s = 0 %s" % (data, data),
        r"dom0: blk-partition: PASS lookup %s:2 = 0 %s" % (disk, data),
        r"dom0: blk-partition: PASS lookup %s:name=data = 0 %s" % (disk, data),
        r"dom0: blk-partition: PASS lookup partuuid=%s = 0 %s" % (PARTS[1][3], data),
        r"dom0: blk-partition: PASS lookup %s:99 = -2" % disk,
        r"dom0: blk-partition: PASS write %s sector 0\+64: 0" % data,
        r"dom0: blk-partition: PASS read 10236\+8 on 10240 sectors: -22",
        r"dom0: blk-partition: PASS write 10239\+2 on 10240 sectors: -22",
        r"dom0: blk-partition: PASS discard 10236\+8 on 10240 sectors: -22",
        r"dom0: blk-partition: PASS refused requests reached the disk: 0",
        r"dom0: blk-partition: PASS discard %s sector 16\+32: 0" % data,
        r"dom0: blk-partition: discard %d\+32$" % (PARTS[1][0] + 16),
        r"dom0: blk-partition: PASS read-back %s 10232\+8 \(0\) = %s 14328\+8 \(0\)" % (data, disk),
        r"dom0: blk-partition: PASS on %s: 2 reads, 2 writes, 1 discards, 0 errors, 0 in flight" % data,
        r"dom0: hw tests done: PASS",
    ])
    expect_status(r, POWEROFF)
    check_image(path, orig, r.log)


@test("pvblk-partition-virtio", timeout=180)
def _():
    """virtio-blk: dom0 lists the host's GPT partitions with their sizes,
    names and GUIDs, finds the data partition by every lookup form, writes
    through it at the right offset, is refused past its end without the
    disk seeing the request; the image holds exactly those writes."""
    partition_test("virtio")


@test("pvblk-partition-nvme", timeout=180)
def _():
    """The same on NVMe (partition names nvme0n1pN)."""
    partition_test("nvme")


@test("pvblk-partition-ahci", timeout=180)
def _():
    """The same on an ATA disk behind q35's AHCI controller."""
    partition_test("ahci")


def corrupt_primary_crc(img):
    img[SECTOR + 60] ^= 0xff  # a byte of the disk GUID: the header CRC no longer matches


def overlap_both(img):
    """Partition 4 made to overlap partition 2, consistently in both
    copies (CRCs recomputed): a table that lies, not a damaged one."""
    parts = list(PARTS)
    first, last, name, guid, number = parts[2]
    parts[2] = (14000, last, name, guid, number)
    write_gpt(img, parts)


@test("pvblk-gpt-backup-and-refusal", timeout=180)
def _():
    """A disk whose primary GPT header is damaged is read from its backup
    (one line saying what was wrong and where); a disk whose table is
    consistent but has overlapping partitions is refused with a line
    naming the entries, and none of its partitions is registered."""
    p1, orig1 = make_gpt_disk("backup.img", corrupt_primary_crc)
    p2, orig2 = make_gpt_disk("overlap.img", overlap_both)
    r = boot(cfg("test=blk-partition blk=KEELBACKUP"), timeout=T,
             extra=disk_args("virtio", p1, "KEELBACKUP", "kd0")
             + disk_args("nvme", p2, "KEELOVERLAP", "kd1"))
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: vda: GPT: primary header at LBA 1: header CRC32 0x[0-9a-f]{8}, computed "
        r"0x[0-9a-f]{8}; using the backup$",
    ])
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: nvme0n1: GPT refused: primary entries 2 and 4 overlap \(LBAs "
        r"4096\.\.14335, 14000\.\.16350\); backup entries 2 and 4 overlap",
    ])
    expect(not find_lines(r.log, r"dom0: part nvme0n1p"), "a partition of the refused disk "
           "was registered", r)
    expect(len(find_lines(r.log, r"^\(d0\) dom0: part vda\d: vda LBAs")) == 3,
           "vda's 3 partitions are not all listed", r)
    expect(not find_lines(r.log, r"dom0: blk-partition: FAIL"), "a partition check failed", r)
    expect_lines_in_order(r.log, [r"dom0: hw tests done: PASS"])
    expect_status(r, POWEROFF)
    check_image(p1, orig1, r.log)
    with open(p2, "rb") as f:
        expect(f.read() == orig2, "the refused disk's image changed")
