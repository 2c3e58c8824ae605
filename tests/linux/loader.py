"""Host-side inputs for the linux-loader-* tests (tests/linux/
test_loader.py): kernel files in every format dom0's loader reads
(guest/dom0/image/, docs/images.md), made here with the host's own
compressors, and the facts the tests check dom0's result against,
computed here independently of Keel's decoders."""
import os
import shutil
import struct
import subprocess


def need(tool):
    if not shutil.which(tool):
        raise RuntimeError("%s is not installed (scripts/install-deps installs it)" % tool)


def compress(data, argv):
    """data through `argv` (a compressor writing to stdout)."""
    need(argv[0])
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, check=True).stdout


def xz(data, *opts):
    return compress(data, ["xz", "-c", "-T1"] + list(opts))


def gzip(data):
    return compress(data, ["gzip", "-9", "-c", "-n"])


def lz4_legacy(data):
    return compress(data, ["lz4", "-l", "-9", "-c"])


def zstd(data):
    return compress(data, ["zstd", "-19", "-c", "-q"])


def bzip2(data):
    return compress(data, ["bzip2", "-9", "-c"])


def setup_header(vmlinuz):
    """(setup bytes, payload offset, payload length) of a bzImage."""
    sects = vmlinuz[0x1F1] or 4
    pm = (sects + 1) * 512
    off, length = struct.unpack_from("<II", vmlinuz, 0x248)
    return vmlinuz[:pm], pm + off, length


def payload(vmlinuz):
    _, off, length = setup_header(vmlinuz)
    return vmlinuz[off:off + length]


def rewrap(vmlinuz, new_payload):
    """The bzImage's setup part with `new_payload` (and Linux's appended
    decompressed size) as its payload: what a kernel built with another
    CONFIG_KERNEL_* compressor looks like to a loader."""
    setup, _, _ = setup_header(vmlinuz)
    setup = bytearray(setup)
    struct.pack_into("<II", setup, 0x248, 0, len(new_payload))
    return bytes(setup) + new_payload


def unxz(data):
    """The host's xz decoding of a bzImage payload (stream + size)."""
    need("xz")
    return subprocess.run(["xz", "-dc", "--single-stream"], input=data,
                          stdout=subprocess.PIPE, check=True).stdout


def phys32_entry(elf):
    """XEN_ELFNOTE_PHYS32_ENTRY (18) of an ELF64, from its PT_NOTEs."""
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if ptype != 4:
            continue
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz]
            desc = pos + 12 + ((namesz + 3) & ~3)
            if name == b"Xen\0" and ntype == 18:
                return struct.unpack_from("<I", elf, desc)[0]
            pos = desc + ((descsz + 3) & ~3)
    return None


def xz_check_offset(stream):
    """Where the last block's integrity check lies in a one-block .xz
    stream: just before the index (the footer's backward size says where
    the index starts)."""
    backward, = struct.unpack_from("<I", stream, len(stream) - 8)
    index = len(stream) - 12 - (backward + 1) * 4
    return index - 4
