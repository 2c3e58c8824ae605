"""A GPT partition exported to a domU (issue 13's block test as written):
the host writes a GPT over a patterned image, dom0 exports partition 2 by
number (storage_lookup "DISK:2") through blkback, the pvtest role=blk domU
writes pattern 2 over the whole partition with requests from 512 B to
1 MiB at queue depths 1 and 32 and reads it back; after QEMU exits the
host checks the partition holds pattern 2 and every byte outside it (the
GPT, the other partitions) is unchanged."""

import array
import os
import uuid

import keeltest
from gptimage import write_gpt
from keeltest import (boot, expect, expect_domains_sound, expect_lines_in_order, expect_status,
                      fail, find_lines, test, POWEROFF)

T = 600
DISK_BYTES = 8 << 20
SECTOR = 512
FIRST, LAST = 4096, 14335  # partition 2, "data": 5 MiB in the middle
PARTS = [
    (2048, 4095, "boot", uuid.UUID("11111111-2222-3333-4444-555555555501"), 1),
    (FIRST, LAST, "data", uuid.UUID("11111111-2222-3333-4444-555555555502"), 2),
    (14336, 16350, "spare", uuid.UUID("11111111-2222-3333-4444-555555555504"), 4),
]
DEVICES = {
    "virtio": "virtio-blk-pci,drive={id},serial={serial}",
    "nvme": "nvme,drive={id},serial={serial}",
    "ahci": "ide-hd,drive={id},bus=ide.{port},serial={serial}",
}


def pattern(nwords, seed):
    """The guest's generator (guest/pvtest/blk.c): word w of its disk."""
    return array.array("I", ((((w + seed * 0x10000000) * 2654435761) & 0xffffffff) ^
                             ((w >> 13) & 0xffffffff) for w in range(nwords))).tobytes()


def run(kind):
    img = bytearray(pattern(DISK_BYTES // 4, 1))
    write_gpt(img, PARTS)
    path = os.path.join(keeltest.FILES_DIR, keeltest.CURRENT.name, "gpt.img")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(img)
    cfg = ("cmdline console=com1,115200 loglvl=info\n"
           "module dom0 /dom0.elf test=domains scenario=pvblk blk=PVGPT blk_part=2 "
           "pvblk_mode=rw\nmodule pvtest /pvtest.elf\n")
    extra = ["-drive", "if=none,id=kd0,format=raw,file=%s" % path,
             "-device", DEVICES[kind].format(id="kd0", serial="PVGPT", port=2)]
    r = boot(cfg, timeout=T, extra=extra)
    expect_domains_sound(r)
    nsect = LAST - FIRST + 1
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: pvblk: exporting \S*2 \(\S+, %d sectors of 512\)" % nsect,
        r"^\(d\d+\) pvtest: blk: connected: %d sectors, sector-size 512" % nsect,
        r"^\(d\d+\) pvtest: blk: PASS \d+ requests",
        r"^\(d0\) dom0: domains: pvblk: PASS",
    ])
    expect_status(r, POWEROFF)
    m = find_lines(r.log, r"pvtest: blk: PASS (\d+) requests, (\d+) bytes, up to (\d+) in flight")
    expect(int(m[0].group(3)) >= 8, "only %s requests in flight at once" % m[0].group(3), r)
    with open(path, "rb") as f:
        got = f.read()
    lo, hi = FIRST * SECTOR, (LAST + 1) * SECTOR
    want = bytes(img[:lo]) + pattern((hi - lo) // 4, 2) + bytes(img[hi:])
    if len(got) != len(want):
        fail("image is %d bytes, expected %d" % (len(got), len(want)))
    if got[lo:hi] != want[lo:hi]:
        bad = [i // SECTOR for i in range(lo, hi, SECTOR) if got[i:i + SECTOR] != want[i:i + SECTOR]]
        fail("the partition differs from pattern 2 in %d sectors (first %s)" % (len(bad), bad[:8]))
    if got[:lo] != want[:lo] or got[hi:] != want[hi:]:
        bad = [i // SECTOR for i in list(range(0, lo, SECTOR)) + list(range(hi, len(got), SECTOR))
               if got[i:i + SECTOR] != want[i:i + SECTOR]]
        fail("bytes outside the exported partition changed: %d sectors (first %s)"
             % (len(bad), bad[:8]))
    print("partition 2 (sectors %d-%d) holds the guest's pattern; the other %d sectors are "
          "unchanged" % (FIRST, LAST, DISK_BYTES // SECTOR - nsect))


@test("pvblk-gpt-partition-export-virtio", timeout=T + 60)
def _():
    run("virtio")


@test("pvblk-gpt-partition-export-nvme", timeout=T + 60)
def _():
    run("nvme")


@test("pvblk-gpt-partition-export-ahci", timeout=T + 60)
def _():
    run("ahci")
