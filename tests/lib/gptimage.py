"""A GPT written by the host (UEFI 2.10, section 5.3): protective MBR,
primary and backup headers and entry arrays, for tests that hand dom0 a
partitioned disk (tests/storage/, tests/pvblk/)."""

import struct
import uuid
import zlib

SECTOR = 512
LINUX_DATA = uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8477de4")
ESP = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")


def write_gpt(img, parts, ss=SECTOR):
    """Protective MBR, primary and backup headers and entry arrays (128
    entries of 128 bytes) over bytearray img. parts: (first LBA, last LBA,
    name, unique GUID, entry number[, type GUID]); the type is Linux data
    unless given."""
    n = len(img) // ss
    asec = 128 * 128 // ss
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\2\0", 0xee, b"\xff\xff\xff", 1,
                               min(n - 1, 0xffffffff))
    mbr[510:512] = b"\x55\xaa"
    img[0:512] = mbr
    ents = bytearray(128 * 128)
    for first, last, name, guid, number, *typ in parts:
        e = ((typ[0] if typ else LINUX_DATA).bytes_le + guid.bytes_le + struct.pack("<QQQ", first, last, 0)
             + name.encode("utf-16-le").ljust(72, b"\0"))
        ents[(number - 1) * 128:number * 128] = e
    ecrc = zlib.crc32(ents)
    for lba, alt, elba in ((1, n - 1, 2), (n - 1, 1, n - 1 - asec)):
        h = bytearray(struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, lba, alt,
                                  2 + asec, n - 2 - asec, b"\x5a" * 16, elba, 128, 128, ecrc))
        h[16:20] = struct.pack("<I", zlib.crc32(h))
        img[lba * ss:(lba + 1) * ss] = h.ljust(ss, b"\0")
        img[elba * ss:elba * ss + len(ents)] = ents
