"""Discard (BLK_DISCARD) in dom0's three storage drivers: virtio-blk
(VIRTIO_BLK_T_DISCARD), NVMe (Dataset Management, Deallocate) and AHCI
(DATA SET MANAGEMENT, TRIM). dom0 runs test=blk-discard
(guest/dom0/test/hw_discard_test.c): it writes pattern 2 over 256 KiB at
1 MiB, discards 128 KiB inside it, and reads zeros back there; then
discards it again among reads in flight (AHCI: TRIM is non-queued and
must not overlap NCQ reads). QEMU's
-drive has discard=unmap, so a discard punches a hole in the raw image:
the host then checks every byte of the image (pattern 1 outside the
write, pattern 2 around the discarded range, zeros in it) and that the
discarded range is a hole in the file (SEEK_HOLE), i.e. the request
reached the file as a discard, not as a write of zeros."""

import array
import os

import keeltest
from keeltest import test, boot, expect, expect_lines_in_order, expect_status, find_lines, POWEROFF

T = 90
DISK_BYTES = 8 << 20
WRITE_OFF, WRITE_BYTES = 1 << 20, 256 << 10
DISCARD_OFF, DISCARD_BYTES = WRITE_OFF + (64 << 10), 128 << 10

# QEMU 7.2: virtio-blk-pci offers VIRTIO_BLK_F_DISCARD by default
# (property discard=on), nvme sets ONCS.DSM, ide-hd sets IDENTIFY word
# 169 (TRIM) while its discard_granularity is not 0 (default 512); the
# -drive's discard=unmap makes the block layer pass discards to the file.
DEVICES = {
    "virtio": "virtio-blk-pci,drive={id},serial={serial}{props}",
    "nvme": "nvme,drive={id},serial={serial}{props}",
    "ahci": "ide-hd,drive={id},bus=ide.2,serial={serial}{props}",
}
DRIVER = {"virtio": "virtio-blk", "nvme": "nvme", "ahci": "ahci"}


# What each device answers a discard that ends past the last sector (the
# block layer passes it on, as it does reads): virtio-blk and AHCI fail it
# (-EIO); QEMU 7.2's NVMe completes a Dataset Management range outside the
# namespace successfully without doing anything (hw/nvme/ctrl.c only
# traces it), which docs/discard.md warns about.
PAST_END_STATUS = {"virtio": "-5", "nvme": "0", "ahci": "-5"}


def cfg(dom0_cmdline):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf %s\n" % dom0_cmdline)


# The disk pattern (tests/hw/test_hw.py and guest/dom0/test/hw_*_test.c
# have the same generator): the little-endian word at byte 4*w.
def pattern(first_word, nwords, seed):
    return array.array("I", ((((w + seed * 0x10000000) * 2654435761) & 0xffffffff) ^
                             ((w >> 13) & 0xffffffff)
                             for w in range(first_word, first_word + nwords)))


def make_disk(name):
    path = os.path.join(keeltest.FILES_DIR, keeltest.CURRENT.name, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(pattern(0, DISK_BYTES // 4, 1).tobytes())
        f.flush()
        os.fsync(f.fileno())
    return path


def disk_args(kind, path, serial, props="", discard="unmap"):
    return ["-drive", "if=none,id=kd0,format=raw,file=%s,discard=%s" % (path, discard),
            "-device", DEVICES[kind].format(id="kd0", serial=serial, props=props)]


def expected_image(discarded):
    img = pattern(0, DISK_BYTES // 4, 1)
    if discarded:
        lo, n = WRITE_OFF // 4, WRITE_BYTES // 4
        img[lo:lo + n] = pattern(lo, n, 2)
        lo, n = DISCARD_OFF // 4, DISCARD_BYTES // 4
        img[lo:lo + n] = array.array("I", bytes(DISCARD_BYTES))
    return img.tobytes()


def check_image(path, want, r):
    with open(path, "rb") as f:
        got = f.read()
    if len(got) != len(want):
        expect(False, "image is %d bytes, expected %d" % (len(got), len(want)), r)
    if got != want:
        first = next(i for i in range(len(want)) if got[i] != want[i])
        last = next(i for i in range(len(want) - 1, -1, -1) if got[i] != want[i])
        expect(False, "image differs at bytes %d..%d: 0x%02x, expected 0x%02x (written %d+%d, "
             "discarded %d+%d)" % (first, last, got[first], want[first], WRITE_OFF,
                                   WRITE_BYTES, DISCARD_OFF, DISCARD_BYTES), r)


def expect_hole(path, r):
    """The discarded range is a hole: QEMU punched it (fallocate
    PUNCH_HOLE), the bytes were not written as zeros."""
    fd = os.open(path, os.O_RDONLY)
    try:
        hole = os.lseek(fd, DISCARD_OFF, os.SEEK_HOLE)
        data = os.lseek(fd, DISCARD_OFF, os.SEEK_DATA)
    finally:
        os.close(fd)
    expect(hole == DISCARD_OFF and data >= DISCARD_OFF + DISCARD_BYTES,
           "no hole at the discarded range: SEEK_HOLE from %d -> %d, SEEK_DATA -> %d "
           "(expected a hole up to %d)" % (DISCARD_OFF, hole, data, DISCARD_OFF + DISCARD_BYTES),
           r)


def discard_test(kind, props="", sector=512):
    serial = "KEELDC%s" % kind[:2].upper()
    path = make_disk("disk.img")
    r = boot(cfg("test=blk-discard blk=%s msi=off" % serial), timeout=T,
             extra=disk_args(kind, path, serial, props))
    drv = DRIVER[kind]
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: disk \S+: %s, .*serial \"%s\"" % (drv, serial),
        r"^\(d0\) dom0: disk \S+: discard in units of [1-9]\d* sectors, at most [1-9]\d* per "
        r"request",
        r"^\(d0\) dom0: blk-discard: \S+ \(%s\): granularity [1-9]\d* sectors, at most [1-9]\d* "
        r"sectors, %d-byte sectors" % (drv, sector),
        r"^\(d0\) dom0: blk-discard: PASS write %d\+%d: 0"
        % (WRITE_OFF // sector, WRITE_BYTES // sector),
        r"^\(d0\) dom0: blk-discard: PASS discard %d\+%d: 0 \([1-9]\d* requests\)"
        % (DISCARD_OFF // sector, DISCARD_BYTES // sector),
        r"^\(d0\) dom0: blk-discard: PASS \S+ \(%s\) discard of 0 sectors refused: -22" % drv,
        r"^\(d0\) dom0: blk-discard: PASS read-back: 0, zeros where discarded",
        r"^\(d0\) dom0: blk-discard: PASS discard among queued reads: 4 reads, 1 discard",
        r"^\(d0\) dom0: blk-discard: PASS \S+ \(%s\): [1-9]\d* discards, 0 errors" % drv,
        r"^\(d0\) dom0: blk-discard: \S+ \(%s\) discard past the end \d+\+\d+ on \d+ sectors: "
        r"status %s" % (drv, PAST_END_STATUS[kind]),
        r"^\(d0\) dom0: blk-discard: PASS \S+ \(%s\) still works after it" % drv,
        r"^\(d0\) dom0: blk-discard: PASS 1 disks tested",
        r"^\(d0\) dom0: hw tests done: PASS",
    ])
    expect_status(r, POWEROFF)
    check_image(path, expected_image(True), r)
    expect_hole(path, r)


@test("pvblk-discard-virtio", timeout=240)
def _():
    """virtio-blk: VIRTIO_BLK_T_DISCARD with one discard_write_zeroes
    segment; limits from the configuration space; the range reads zeros
    in dom0 and is a hole in the host's image, every other byte intact."""
    discard_test("virtio")


@test("pvblk-discard-virtio-4k", timeout=240)
def _():
    """The same with 4096-byte logical sectors: the driver converts its
    sectors to the segment's 512-byte units (a wrong scale would discard
    an eighth of the range, or the wrong bytes)."""
    discard_test("virtio", props=",logical_block_size=4096,physical_block_size=4096",
                 sector=4096)


@test("pvblk-discard-nvme", timeout=240)
def _():
    """NVMe: Dataset Management with the Deallocate attribute (ONCS.DSM),
    one range per command; granularity from NPDG."""
    discard_test("nvme")


@test("pvblk-discard-nvme-4k", timeout=240)
def _():
    """NVMe with 4096-byte logical blocks: the range's length and LBA are
    in the namespace's blocks (NPDG 0: granularity one block)."""
    discard_test("nvme", props=",logical_block_size=4096,physical_block_size=4096", sector=4096)


@test("pvblk-discard-ahci", timeout=240)
def _():
    """AHCI: DATA SET MANAGEMENT with TRIM (IDENTIFY word 169), a
    non-queued DMA command between NCQ commands."""
    discard_test("ahci")


@test("pvblk-discard-refused-without-feature", timeout=240)
def _():
    """A virtio-blk disk without VIRTIO_BLK_F_DISCARD (discard=off on the
    device): bd->discard is false, blk_submit refuses a discard with
    -EINVAL before the device sees it, and the image is unchanged."""
    serial = "KEELDCNO"
    path = make_disk("disk.img")
    r = boot(cfg("test=blk-discard blk=%s msi=off" % serial), timeout=T,
             extra=disk_args("virtio", path, serial, props=",discard=off"))
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: blk-discard: \S+ \(virtio-blk\) has no discard",
        r"^\(d0\) dom0: blk-discard: PASS \S+ \(virtio-blk\) discard without the feature "
        r"refused: -22",
        r"^\(d0\) dom0: blk-discard: PASS 1 disks tested",
        r"^\(d0\) dom0: hw tests done: PASS",
    ])
    expect(not find_lines(r.log, r"granularity"), "dom0 thinks the disk can discard", r)
    disk = find_lines(r.log, r"^\(d0\) dom0: disk (\S+): virtio-blk, .*serial \"%s\"" % serial)
    expect(disk, "no inventory line for the disk", r)
    expect(not find_lines(r.log, r"^\(d0\) dom0: disk %s: discard" % disk[0].group(1)),
           "the inventory lists discard for a disk without it", r)
    expect_status(r, POWEROFF)
    check_image(path, expected_image(False), r)
