"""The launcher's kernel loader (guest/dom0/image/, docs/images.md),
driven through dom0's CLI as an admin would: `xl create` of configs
whose `kernel` is a plain ELF, a compressed ELF, a bzImage (Debian 12's
own vmlinuz, and pvtest wrapped the way Linux wraps itself), and files
it must refuse with a message naming the cause. Compressed inputs are
made here by the host's xz, gzip, lz4 and zstd; what dom0 reports is
checked against facts the host computes itself."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debian  # noqa: E402
import loader  # noqa: E402
from dom0con import Console  # noqa: E402
from keeltest import test, fail, BUILD  # noqa: E402


def cfg(name, kernel, mem=8, cmdline="role=guest", extra=""):
    return ('name = "%s"\ntype = "pvh"\nkernel = "/boot/%s"\nmemory = %d\nvcpus = 1\n'
            'cmdline = "%s"\n%s' % (name, kernel, mem, cmdline, extra)).encode()


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def create(con, name, expect_ok=True, cfgname=None):
    """xl create of /boot/<cfgname or name>.cfg; without its own cfg, the
    shared one with name and kernel given on the command line (keel.cfg
    holds at most 16 modules)."""
    if cfgname:
        line = "xl create /boot/%s.cfg" % cfgname
    else:
        line = 'xl create /boot/one.cfg name="%s" kernel="/boot/k-%s"' % (name, name)
    out = con.cmd(line, timeout=300)
    m = re.search(r"created %s as domain (\d+)" % name, out)
    if expect_ok and not m:
        fail("xl create %s failed" % name, out)
    if not expect_ok and m:
        fail("xl create %s should have been refused" % name, out)
    return (int(m.group(1)) if m else None), out


@test("linux-loader-formats-and-refusals", timeout=900)
def _():
    elf = open(os.path.join(BUILD, "pvtest.elf"), "rb").read()
    vmlinuz = open(debian.fetch()["vmlinuz"], "rb").read()
    initrd = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(300 * 1024 + 123))
    bad_xz = bytearray(loader.xz(elf, "--check=crc32"))
    bad_xz[loader.xz_check_offset(bad_xz)] ^= 0x55
    kernels = {
        # name: (file bytes, the format dom0 reports decompressing)
        "elf": (elf, None),
        "xz": (loader.xz(elf, "--check=crc64"), "xz"),
        "xzbcj": (loader.xz(elf, "--x86", "--lzma2=preset=6", "--check=crc32"), "xz"),
        "gz": (loader.gzip(elf), "gzip"),
        "lz4": (loader.lz4_legacy(elf), "lz4"),
        "zst": (loader.zstd(elf), "zstd"),
    }
    refusals = {
        # name: (file bytes, dom0's exact reason)
        "corrupt": (bytes(bad_xz), "xz: block 0: CRC32 mismatch (data corrupt)"),
        "trunc": (vmlinuz[:0x240],
                  "bzImage: setup header truncated (file is 0x240 bytes, needs 0x264)"),
        "bz2": (loader.rewrap(vmlinuz, loader.bzip2(elf) + len(elf).to_bytes(4, "little")),
                "bzImage payload: bzip2-compressed, which Keel does not decompress"),
        "notelf": (loader.xz(b"\x00" * 5000), "kernel image: decompressed xz data (5000 bytes) is not an ELF"),
    }
    mods = {"initrd": initrd, "one.cfg": cfg("one", "k-elf")}
    for name, (data, _) in list(kernels.items()) + list(refusals.items()):
        mods["k-" + name] = data
    # pvtest wrapped as Linux wraps itself (setup sectors + xz/BCJ payload +
    # size), with a ramdisk: the guest sums the first PVH module.
    wrapped = loader.rewrap(vmlinuz, loader.xz(elf, "--x86", "--lzma2", "--check=crc32")
                            + len(elf).to_bytes(4, "little"))
    mods["k-bz"] = wrapped
    mods["bz.cfg"] = cfg("bz", "k-bz", cmdline="role=modules count=1",
                         extra='ramdisk = "/boot/initrd"\n')
    con = Console(mods, mem="512M")
    try:
        for name, (data, fmt) in kernels.items():
            dom, out = create(con, name)
            if fmt and ("image: %s payload: %d bytes of ELF" % (fmt, len(elf))) not in out:
                fail("%s: dom0 did not report unpacking %d bytes of ELF from %s" % (name, len(elf), fmt), out)
            con.wait_for("(d%d) pvtest: guest: up" % dom, 60)
            con.cmd("xl destroy %s" % name)
        dom, out = create(con, "bz", cfgname="bz")
        if "image: bzImage, xz payload: %d bytes of ELF" % len(elf) not in out:
            fail("bz: dom0 did not unpack the bzImage's xz payload", out)
        con.wait_for('(d%d) pvtest: modules: module 0 size %d sum %x cmdline ""'
                     % (dom, len(initrd), fnv1a(initrd)), 60)
        con.wait_for("(d%d) pvtest: modules: PASS 1 modules" % dom, 30)
        con.cmd("xl destroy bz")
        for name, (data, why) in refusals.items():
            _, out = create(con, name, expect_ok=False)
            if "launch %s: build failed" % name not in out or why not in out:
                fail("%s: refusal does not say %r" % (name, why), out)
        if "corrupt" in con.cmd("xl list"):
            fail("a refused domain is still listed")
    finally:
        con.close()


@test("linux-loader-debian-bzimage", timeout=900)
def _():
    """Debian 12's vmlinuz as it ships (bzImage, xz payload with the x86
    BCJ filter, 60+ MiB of ELF: past the old 32 MiB limit) loads through
    `xl create -p`, and the hypervisor starts vCPU 0 at the PHYS32 entry
    the host reads from the same ELF; the host-decompressed vmlinux
    loads as a plain ELF the same way."""
    vmlinuz = open(debian.fetch()["vmlinuz"], "rb").read()
    vmlinux = loader.unxz(loader.payload(vmlinuz)[:-4])
    entry = loader.phys32_entry(vmlinux)
    if entry is None:
        fail("the host finds no PHYS32 entry note in Debian's vmlinux")
    con = Console({"vmlinuz": vmlinuz, "vmlinux": vmlinux,
                   "linux.cfg": ('name = "linux"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\n'
                                 'memory = 160\nvcpus = 1\ncmdline = "console=hvc0"\n').encode()},
                  mem="1G", cmdline="console=com1,115200 loglvl=info dom0_mem=512M")
    try:
        out = con.cmd("xl create -p /boot/linux.cfg", timeout=600)
        m = re.search(r"created linux as domain (\d+) \(paused\)", out)
        if not m:
            fail("xl create -p of Debian's vmlinuz failed", out)
        dom = int(m.group(1))
        if "image: bzImage, xz payload: %d bytes of ELF" % len(vmlinux) not in out:
            fail("dom0 did not unpack %d bytes from the bzImage" % len(vmlinux), out)
        want = "domain %d: PVH kernel 0x1000000-" % dom
        line = [l for l in con.text().splitlines() if want in l]
        if not line or ("entry 0x%x," % entry) not in line[0]:
            fail("the builder's line does not show entry 0x%x" % entry, "\n".join(line) or out)
        con.cmd("xl destroy linux")
        if "linux" in con.cmd("xl list"):
            fail("linux still listed after xl destroy")
        # The same kernel as a plain ELF of more than 32 MiB (the old
        # hypervisor-copy limit) loads too, as is.
        out = con.cmd('xl create -p /boot/linux.cfg name="plain" kernel="/boot/vmlinux"',
                      timeout=600)
        m = re.search(r"created plain as domain (\d+) \(paused\)", out)
        if not m or "image:" in out:
            fail("xl create -p of the plain %d-byte vmlinux failed or was unpacked" % len(vmlinux),
                 out)
        want = "domain %s: PVH kernel 0x1000000-" % m.group(1)
        line = [l for l in con.text().splitlines() if want in l]
        if not line or ("entry 0x%x," % entry) not in line[0]:
            fail("plain vmlinux: the builder's line does not show entry 0x%x" % entry,
                 "\n".join(line) or out)
        con.cmd("xl destroy plain")
    finally:
        con.close()


@test("linux-loader-unpack-keeps-a-reserve", timeout=600)
def _():
    """The unpack leaves 16 MiB of dom0's page pool (with 512 MiB, an
    eighth of the pool is more) to the services that run meanwhile. A
    first boot reads the pool's free pages at the prompt; a second, with
    files of the same sizes, offers a bzImage whose trailer claims all but
    8 MiB of that (refused for memory, naming the reserve) and one
    claiming all but 24 MiB (gets its buffer, then fails: the payload is
    64 bytes)."""
    vmlinuz = open(debian.fetch()["vmlinuz"], "rb").read()

    def kernel(size):
        return loader.rewrap(vmlinuz, loader.xz(b"k" * 64) + size.to_bytes(4, "little"))

    def boot(tight, roomy):
        return Console({"one.cfg": cfg("one", "k-tight"), "k-tight": kernel(tight),
                        "k-roomy": kernel(roomy)}, mem="512M",
                       cmdline="console=com1,115200 loglvl=info dom0_mem=256M")

    con = boot(1 << 20, 1 << 20)
    try:
        m = re.search(r"pool (\d+)", con.cmd("counts"))
        if not m:
            fail("dom0's counts show no pool figure")
        free = int(m.group(1)) * 4096
    finally:
        con.close()
    tight, roomy = free - (8 << 20), free - (24 << 20)
    con = boot(tight, roomy)
    try:
        _, out = create(con, "tight", expect_ok=False)
        out = out.replace("\n(d0) ", "")  # a line longer than dom0's console line wraps
        if ("no memory for %d MiB of decompressed kernel" % (tight >> 20) not in out
                or "16 MiB kept for dom0's services" not in out):
            fail("a kernel claiming all but 8 MiB of dom0's free pool was not refused "
                 "for the reserve", out)
        # xenstored starts with the first create: compare from here on.
        before = re.search(r"pool (\d+)", con.cmd("counts")).group(1)
        _, out = create(con, "roomy", expect_ok=False)
        if "no memory" in out or "launch roomy: build failed" not in out:
            fail("a kernel claiming all but 24 MiB of dom0's free pool did not get its "
                 "buffer (or was not refused for its short payload)", out)
        if "pool %s," % before not in con.cmd("counts"):
            fail("dom0's pool did not come back after the 24-MiB-short kernel's refusal", con.text()[-2000:])
    finally:
        con.close()
