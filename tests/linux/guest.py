"""Boots Keel with Debian's kernel as a boot module and drives dom0's CLI
(`xl create`, `xl console`) to start it as a PVH domU.

vmlinux(): until the launcher takes the distribution's bzImage itself,
the test unpacks it on the host as extract-vmlinux does: the XZ payload
the setup header points at (setup_sects, payload_offset, payload_length:
Documentation/x86/boot.rst) decompressed into the ELF vmlinux. Runs of
zero bytes of at least 256 KiB inside a PT_LOAD are cut out of the file
(the segment is split and the hole left to memsz), so the ELF fits the
domain builder's image limit; the guest's memory holds the same bytes.
"""
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys

import keeltest
from keeltest import fail, RUN, BUILD, FILES_DIR

sys.path.insert(0, os.path.dirname(__file__))
import debian  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_cli import Console  # noqa: E402

ZERO_RUN = 256 << 10


def _payload(bz):
    setup_sects = bz[0x1f1] or 4
    off = (setup_sects + 1) * 512 + struct.unpack_from("<I", bz, 0x248)[0]
    length = struct.unpack_from("<I", bz, 0x24c)[0]
    data = bz[off:off + length]
    if not data.startswith(b"\xfd7zXZ\x00"):
        fail("the bzImage payload is not XZ", data[:8].hex())
    dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    return dec.decompress(data)


def _split(seg, vaddr, paddr, flags):
    """[(file bytes, vaddr, paddr, memsz)] with long page-aligned zero runs cut."""
    out, start = [], 0
    for m in re.finditer(rb"\0{%d,}" % ZERO_RUN, seg):
        s = (m.start() + 0xfff) & ~0xfff
        e = m.end() & ~0xfff
        if e - s < ZERO_RUN:
            continue
        out.append([seg[start:s], vaddr + start, paddr + start, s - start])
        start = e
    out.append([seg[start:], vaddr + start, paddr + start, len(seg) - start])
    # The cut zeros belong to the piece before them (memsz > filesz).
    for i in range(len(out) - 1):
        out[i][3] = out[i + 1][2] - out[i][2]
    return out


def compact_elf(elf):
    """An ELF64 with the same PT_LOAD contents and PT_NOTEs, no sections."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phnum, = struct.unpack_from("<H", elf, 0x38)
    loads, notes = [], []
    for i in range(phnum):
        t, fl, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", elf, phoff + 56 * i)
        if t == 1:
            for data, v, p, m in _split(elf[off:off + fs], va, pa, fl):
                loads.append((fl, data, v, p, m))
            loads[-1] = loads[-1][:4] + (loads[-1][4] + ms - fs,)
        elif t == 4:
            notes.append((fl, elf[off:off + fs], va, pa))
    loads = [l for l in loads if l[4]]  # a cut run at a segment's end leaves an empty piece
    n = len(loads) + len(notes)
    out = bytearray(elf[:64])
    # e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum, no sections
    struct.pack_into("<QQIHHHHHH", out, 0x20, 64, 0, 0, 64, 56, n, 0, 0, 0)
    table = bytearray()
    body = bytearray()
    base = 64 + 56 * n
    for fl, data, v, p, m in loads:
        off = base + len(body)
        table += struct.pack("<IIQQQQQQ", 1, fl, off, v, p, len(data), m, 0x1000 if off % 0x1000 == v % 0x1000 else 1)
        body += data
    for fl, data, v, p in notes:
        off = base + len(body)
        table += struct.pack("<IIQQQQQQ", 4, fl, off, v, p, len(data), len(data), 4)
        body += data
    return bytes(out + table + body)


def vmlinux(info):
    """build/linux/vmlinux-VERSION.elf (made once)."""
    path = os.path.join(debian.CACHE, "vmlinux-%s.elf" % info["version"])
    if not os.path.exists(path):
        elf = compact_elf(_payload(open(info["vmlinuz"], "rb").read()))
        with open(path + ".tmp", "wb") as f:
            f.write(elf)
        os.rename(path + ".tmp", path)
    return path


class LinuxConsole(Console):
    """dom0's console with Debian's kernel (/boot/vmlinux), an initramfs
    (/boot/initrd) and config files (/boot/NAME) as boot modules."""

    def __init__(self, configs, initrd, kernel, files=None, mem="1G", dom0_mem="256M", timeout=900):
        self.buf = b""
        name = keeltest.CURRENT.name if keeltest.CURRENT else "linux"
        root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        cfg = ["cmdline console=com1,115200 loglvl=info dom0_mem=%s" % dom0_mem, "module dom0 /dom0.elf shell",
               "module vmlinux /vmlinux", "module initrd /initrd"]
        for f in ("keel.efi", "keel.elf", "dom0.elf"):
            os.symlink(os.path.join(BUILD, f), os.path.join(root, f))
        os.symlink(kernel, os.path.join(root, "vmlinux"))
        os.symlink(initrd, os.path.join(root, "initrd"))
        for mod, text in configs.items():
            with open(os.path.join(root, mod), "w") as f:
                f.write(text)
            cfg.append("module %s /%s" % (mod, mod))
        for mod, path in (files or {}).items():
            os.symlink(path, os.path.join(root, mod))
            cfg.append("module %s /%s" % (mod, mod))
        with open(os.path.join(root, "keel.cfg"), "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.proc = subprocess.Popen(
            [sys.executable, RUN, "--cfg", os.path.join(root, "keel.cfg"), "--root", root,
             "--mem", mem, "--timeout", str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for("dom0> ", 120)

    def type(self, line):
        self.proc.stdin.write(line.encode() + b"\r")
        self.proc.stdin.flush()
