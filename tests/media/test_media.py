"""Boot media (docs/boot-media.md): the USB disk image, the hybrid ISO and the
PXE/TFTP root that `make usb|iso|pxe` build, booted in QEMU the way a server
boots them -- under OVMF (UEFI: Keel's own loader) and SeaBIOS (GRUB2,
multiboot2) -- plus what the loaders say when a module is missing.

Each test builds its medium with scripts/mkimage (the code behind
`make usb|iso|pxe`) into build/test-files/TEST/ from the cfg below, with
debugexit=0xf4 added as scripts/run does, and boots it with scripts/run
--disk/--iso/--pxe. Lines asserted here:
    keel-efi: boot device <device path>
    keel-efi: network boot: station A.B.C.D, TFTP server A.B.C.D (...)
    keel-efi: <what>: loading '<path>'[ from tftp://SERVER/NAME], N bytes
    keel-efi:   <name>: P% (x of y KiB)                    (files >= 2 MiB)
    keel-efi: <what>: cannot open|get the size of|read '<path>' ...
    keel-grub: <what>: loading '<path>', N bytes
    keel-grub: <what>: cannot load '<path>'; boot stopped
    keel: Keel <version> (uefi|multiboot2) ... (d0) dom0: Keel control domain
    keel: machine stop: poweroff
"""

import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

import keeltest
from keeltest import (test, fail, build_file, expect, expect_count,
                      expect_last_keel_line, expect_lines_in_order, expect_no_line,
                      expect_status, POWEROFF, PANIC)

MKIMAGE = os.path.join(keeltest.TREE, "scripts", "mkimage")
WRITE_USB = os.path.join(keeltest.TREE, "scripts", "write-usb")

# dom0 powers off by itself (no `shell`); a second module in a
# subdirectory, with a cmdline and a size that is not a page multiple,
# proves the paths and the bytes survive every medium.
CFG = """\
# tests/media: dom0 plus one extra module in a subdirectory
cmdline console=com1,115200 loglvl=info
module dom0 /dom0.elf
module extra /guests/extra.bin role=ping
"""
EXTRA = bytes((i * 13 + 5) & 0xFF for i in range(5000))
EXTRA_LINE = 4  # keel.cfg line of module 'extra'
BOOT_TIMEOUT = 120  # per boot; a boot takes 5-20 s on an idle machine

ESP_OFFSET = 4096 * 512  # scripts/mkimage --usb: partition 2 (the ESP) at LBA 4096


def name():
    return keeltest.CURRENT.name if keeltest.CURRENT else "adhoc"


def workdir():
    d = os.path.join(keeltest.FILES_DIR, name())
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def run_tool(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    print("== %s: %s (status %d)\n%s" % (what, " ".join(cmd), p.returncode, p.stdout), end="",
          flush=True)
    return p


def medium(kind, cfg=CFG, files=None, default_opts=("debugexit=0xf4",)):
    """Build a medium (kind: usb, iso, pxe) from `cfg` into the test's
    directory; module files from build/ plus `files` {path: bytes}."""
    d = workdir()
    root = os.path.join(d, "root")
    os.makedirs(root)
    # copies, not links: others may rebuild build/ while the test runs,
    # and the sizes asserted must be those of the files on the medium
    for f in ("keel.efi", "keel.elf", "dom0.elf"):
        shutil.copyfile(build_file(f), os.path.join(root, f))
        SIZES[f] = os.path.getsize(os.path.join(root, f))
    files = dict({"guests/extra.bin": EXTRA}, **(files or {}))
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    cfg_path = os.path.join(d, "keel.cfg")
    with open(cfg_path, "w") as f:
        f.write(cfg)
    out = os.path.join(d, {"usb": "keel-usb.img", "iso": "keel.iso", "pxe": "pxe"}[kind])
    cmd = [sys.executable, MKIMAGE, "--cfg", cfg_path, "--root", root, "--" + kind, out]
    for opt in default_opts:
        cmd += ["--default-opt", opt]
    t0 = time.monotonic()
    p = run_tool(cmd, "mkimage --%s" % kind)
    if p.returncode != 0:
        fail("scripts/mkimage --%s failed (status %d)" % (kind, p.returncode), p.stdout)
    print("== built in %.1fs" % (time.monotonic() - t0), flush=True)
    return out


_boots = 0
SIZES = {}  # file -> size, of the copies medium() put on the medium


def boot_medium(args, what, timeout=BOOT_TIMEOUT):
    """Boot with scripts/run ARGS (e.g. --disk IMG --usb); a Result."""
    global _boots
    _boots += 1
    os.makedirs(keeltest.LOG_DIR, exist_ok=True)
    tag = "" if _boots == 1 else "-%d" % _boots
    serial = os.path.join(keeltest.LOG_DIR, "%s.serial%s.log" % (name(), tag))
    if os.path.exists(serial):
        os.unlink(serial)
    cmd = [sys.executable, keeltest.RUN, "--serial-log", serial, "--timeout", str(timeout)] + args
    print("== %s: %s" % (what, " ".join(cmd)), flush=True)
    return keeltest.run_machine(cmd, serial, what, timeout)


# ---- what a good boot looks like ------------------------------------------------

def loaded(prefix, what, path, size, tftp=False):
    """The line a loader prints before it loads a file (size None: any)."""
    return r"^%s: %s: loading '%s'%s, %s bytes$" % (
        prefix, re.escape(what), re.escape(path), r" from tftp://\S+" if tftp else "",
        r"\d+" if size is None else size)


def expect_keel_runs_dom0(r, loader):
    """Keel started by `loader` with both modules, dom0 up, clean power-off."""
    expect_lines_in_order(r, [
        r"^keel: Keel \S+ \(%s\)$" % loader,
        r"^keel: module \d+: dom0 0x[0-9a-f]+\+0x%x ''$" % SIZES["dom0.elf"],
        r"^keel: module \d+: extra 0x[0-9a-f]+\+0x%x 'role=ping'$" % len(EXTRA),
        r"^\(d0\) dom0: Keel control domain$",
    ])
    expect_last_keel_line(r, r"^keel: machine stop: poweroff$")
    expect_status(r, POWEROFF)


def expect_uefi_boot(r, device_re, tftp=False):
    """Keel's UEFI loader: the boot device, each file named with its size
    before it loads, the ACPI RSDP found, then Keel and dom0."""
    expect_lines_in_order(r, [
        r"^keel-efi: Keel UEFI loader$",
        r"^keel-efi: boot device .*%s" % device_re,
        loaded("keel-efi", "keel.cfg", "/keel.cfg", None, tftp),
        loaded("keel-efi", "module 'dom0' (keel.cfg:3)", "/dom0.elf",
               SIZES["dom0.elf"], tftp),
        loaded("keel-efi", "module 'extra' (keel.cfg:%d)" % EXTRA_LINE, "/guests/extra.bin",
               len(EXTRA), tftp),
        r"^keel-efi: ACPI RSDP 0x0*[1-9A-Fa-f][0-9A-Fa-f]*$",
        r"^keel-efi: boot_info at 0x[0-9A-Fa-f]+; exiting boot services$",
    ])
    expect_keel_runs_dom0(r, "uefi")


def expect_grub_boot(r, root_re):
    """GRUB2 from the medium's grub.cfg: the device, each file named with its
    size before it loads, then Keel (multiboot2) and dom0."""
    expect_lines_in_order(r, [
        r"^keel-grub: Keel from \(%s\): keel.elf and 2 module\(s\), multiboot2$" % root_re,
        loaded("keel-grub", "keel.elf", "/keel.elf", SIZES["keel.elf"]),
        loaded("keel-grub", "module 'dom0' (keel.cfg:3)", "/dom0.elf",
               SIZES["dom0.elf"]),
        loaded("keel-grub", "module 'extra' (keel.cfg:%d)" % EXTRA_LINE, "/guests/extra.bin",
               len(EXTRA)),
        r"^keel-grub: starting Keel$",
    ])
    expect_keel_runs_dom0(r, "multiboot2")


# ---- USB stick --------------------------------------------------------------------

@test("usb-boot-ovmf", timeout=300)
def _():
    """The USB image on an emulated stick (qemu-xhci + usb-storage), OVMF:
    firmware -> \\EFI\\BOOT\\BOOTX64.EFI on the ESP (GPT partition 2)."""
    img = medium("usb")
    r = boot_medium(["--disk", img, "--usb"], "usb stick, OVMF")
    expect_uefi_boot(r, r"/(?i:usb)\(.*/HD\(2,GPT,")


@test("usb-boot-seabios", timeout=300)
def _():
    """The same image under SeaBIOS: MBR boot.img -> GRUB core in the BIOS
    boot partition -> grub.cfg on the ESP -> multiboot2."""
    img = medium("usb")
    r = boot_medium(["--disk", img, "--usb", "--bios"], "usb stick, SeaBIOS")
    expect_grub_boot(r, r"hd\d+,gpt2")


# ---- hybrid ISO ---------------------------------------------------------------------

@test("iso-boot-ovmf", timeout=300)
def _():
    """The hybrid ISO in a CD drive under OVMF: the El Torito EFI image (an
    ESP) -> Keel's loader."""
    iso = medium("iso")
    r = boot_medium(["--iso", iso], "ISO (CD), OVMF")
    expect_uefi_boot(r, r"/CDROM\(")


@test("iso-boot-seabios", timeout=300)
def _():
    """The hybrid ISO in a CD drive under SeaBIOS: El Torito -> GRUB2."""
    iso = medium("iso")
    r = boot_medium(["--iso", iso, "--bios"], "ISO (CD), SeaBIOS")
    expect_grub_boot(r, r"[hc]d\d+")


@test("iso-usb-boot-ovmf", timeout=300)
def _():
    """The hybrid ISO written to a stick, OVMF: its GPT's EFI partition."""
    iso = medium("iso")
    r = boot_medium(["--disk", iso, "--usb"], "ISO on a stick, OVMF")
    expect_uefi_boot(r, r"/(?i:usb)\(.*/HD\(")


@test("iso-usb-boot-seabios", timeout=300)
def _():
    """The hybrid ISO written to a stick, SeaBIOS: the hybrid MBR -> GRUB2."""
    iso = medium("iso")
    r = boot_medium(["--disk", iso, "--usb", "--bios"], "ISO on a stick, SeaBIOS")
    expect_grub_boot(r, r"hd\d+")


# ---- PXE ------------------------------------------------------------------------------

BIG = bytes((i * 7 + (i >> 12)) & 0xFF for i in range(3 << 20))


@test("pxe-boot-uefi", timeout=300)
def _():
    """OVMF's PXE (virtio-net, OVMF's own driver and PXE base code) gets
    BOOTX64.EFI from QEMU's DHCP/TFTP; Keel's loader fetches keel.cfg and
    the modules from the same server with Mtftp(), with progress lines for
    a 3 MiB module."""
    cfg = CFG + "module big /guests/big.bin\n"
    d = medium("pxe", cfg=cfg, files={"guests/big.bin": BIG})
    r = boot_medium(["--pxe", d], "PXE, OVMF")
    expect_lines_in_order(r, [
        r"^keel-efi: network boot: station \d+\.\d+\.\d+\.\d+, TFTP server 10\.0\.2\.2 ",
        loaded("keel-efi", "module 'big' (keel.cfg:5)", "/guests/big.bin", len(BIG), True),
    ] + [r"^keel-efi:   tftp://10\.0\.2\.2/guests/big\.bin: %d%% \(" % p
         for p in range(10, 101, 10)] + [
        r"^keel-efi: module big: /guests/big.bin, %d bytes at 0x" % len(BIG),
    ])
    expect_uefi_boot(r, r"/IPv4\(", tftp=True)


@test("pxe-boot-bios", timeout=300)
def _():
    """SeaBIOS + the NIC's PXE ROM (iPXE) get GRUB's core.0 over TFTP; GRUB
    loads keel.elf and the modules over TFTP through multiboot2."""
    d = medium("pxe")
    r = boot_medium(["--pxe", d, "--bios"], "PXE, SeaBIOS")
    expect_grub_boot(r, r"tftp,10\.0\.2\.2")


@test("pxe-boot-ipxe-uefi", timeout=300)
def _():
    """A UEFI client that runs iPXE (here the NIC's option ROM) gets
    keel.ipxe: iPXE downloads keel.cfg and the modules and starts
    BOOTX64.EFI, which reads them from iPXE's file system."""
    d = medium("pxe")
    r = boot_medium(["--pxe", d, "--ipxe"], "PXE via iPXE, OVMF")
    expect_uefi_boot(r, r"/(?i:mac)\(")


# ---- a missing module ------------------------------------------------------------

def expect_stopped_before_keel(r):
    """The loader stopped: Keel never ran, scripts/run saw the firmware's
    or GRUB's fallback (status 12)."""
    expect_no_line(r, r"^keel: Keel ", "the hypervisor must not be entered")
    expect_no_line(r, r"^\(d0\) ", "dom0 must not run")
    expect_status(r, PANIC)


def usb_without_extra():
    img = medium("usb")
    p = run_tool(["mdel", "-i", "%s@@%d" % (img, ESP_OFFSET), "::/guests/extra.bin"],
                 "remove the module from the ESP")
    if p.returncode != 0:
        fail("mdel failed", p.stdout)
    return img


@test("media-missing-module", timeout=300)
def _():
    """A module named in keel.cfg is not on the stick: Keel's UEFI loader
    names it, frees what it took and returns to the firmware."""
    img = usb_without_extra()
    r = boot_medium(["--disk", img, "--usb"], "usb stick without extra.bin, OVMF")
    expect_lines_in_order(r, [
        r"^keel-efi: module 'dom0' \(keel.cfg:3\): loading '/dom0.elf', \d+ bytes$",
        r"^keel-efi: module 'extra' \(keel.cfg:%d\): cannot open '/guests/extra.bin' "
        r"\(Not Found\)$" % EXTRA_LINE,
        r"^keel-efi: boot failed \(Not Found\); returning to the firmware$",
    ])
    expect_count(r, r"extra\.bin", 1)
    expect_stopped_before_keel(r)


@test("media-missing-module-grub", timeout=300)
def _():
    """The same stick under SeaBIOS: GRUB's grub.cfg names the file, boots
    nothing and stops at GRUB's prompt."""
    img = usb_without_extra()
    r = boot_medium(["--disk", img, "--usb", "--bios"], "usb stick without extra.bin, SeaBIOS")
    expect_lines_in_order(r, [
        r"^keel-grub: module 'extra' \(keel.cfg:%d\): cannot load '/guests/extra.bin'; "
        r"boot stopped$" % EXTRA_LINE,
        r"^keel-grub: nothing was started",
    ])
    expect_no_line(r, r"keel-grub: starting Keel")
    expect_stopped_before_keel(r)


@test("media-missing-module-pxe", timeout=300)
def _():
    """A module missing on the TFTP server: the loader names the file, its
    URL and the server's error, and returns to the firmware."""
    d = medium("pxe")
    os.unlink(os.path.join(d, "guests", "extra.bin"))
    r = boot_medium(["--pxe", d], "PXE without extra.bin, OVMF")
    expect_lines_in_order(r, [
        r"^keel-efi: module 'extra' \(keel.cfg:%d\): cannot get the size of "
        r"'/guests/extra.bin' \(tftp://10\.0\.2\.2/guests/extra\.bin\): TFTP error "
        r"'File not found'$" % EXTRA_LINE,
        r"^keel-efi: boot failed \(TFTP Error\); returning to the firmware$",
    ])
    expect_stopped_before_keel(r)


# ---- the images themselves (no emulator) ---------------------------------------

def gpt_header(data, lba):
    h = data[lba * 512:lba * 512 + 92]
    sig, rev, size, crc = struct.unpack_from("<8sIII", h)
    expect(sig == b"EFI PART", "LBA %d: no GPT header" % lba)
    expect(zlib.crc32(h[:16] + b"\0\0\0\0" + h[20:]) == crc, "LBA %d: GPT header CRC" % lba)
    my, alt, first, last = struct.unpack_from("<QQQQ", h, 24)
    entries_lba, n, esize, ecrc = struct.unpack_from("<QIII", h, 72)
    table = data[entries_lba * 512:entries_lba * 512 + n * esize]
    expect(zlib.crc32(table) == ecrc, "LBA %d: GPT entries CRC" % lba)
    return my, alt, first, last, table


@test("media-usb-layout")
def _():
    """The USB image's structure, checked without booting: protective MBR
    with GRUB's patched boot.img, both GPT copies, a BIOS boot partition
    holding the core image, a FAT32 ESP (fsck.fat) with the loader,
    keel.cfg, keel.elf, the modules and grub.cfg."""
    img = medium("usb", default_opts=())
    with open(img, "rb") as f:
        data = f.read()
    total = len(data) // 512
    expect(len(data) % 512 == 0, "image size is not a multiple of 512")
    mbr = data[:512]
    expect(mbr[510:512] == b"\x55\xaa", "no boot signature in the MBR")
    status, ptype, start, count = mbr[446], mbr[450], *struct.unpack_from("<II", mbr, 454)
    expect(ptype == 0xEE and start == 1 and count == min(total - 1, 0xFFFFFFFF) and status == 0,
           "MBR entry 1 is not a protective 0xEE entry over the disk (type 0x%x, %d+%d)"
           % (ptype, start, count))
    with open("/usr/lib/grub/i386-pc/boot.img", "rb") as f:
        boot = f.read()
    expect(mbr[0x5a:0x5c] == boot[0x5a:0x5c] and mbr[0x68:0x1b8] == boot[0x68:0x1b8],
           "the MBR's code is not GRUB's boot.img")
    expect(mbr[0x66:0x68] == b"\x90\x90" and mbr[0x64] == 0xff,
           "boot.img not patched like grub-bios-setup (drive check, boot drive)")
    kernel_sector, = struct.unpack_from("<Q", mbr, 0x5c)

    my, alt, first, last, table = gpt_header(data, 1)
    expect(my == 1 and alt == total - 1,
           "primary GPT header: MyLBA %d, AlternateLBA %d" % (my, alt))
    bmy, balt, _, _, btable = gpt_header(data, total - 1)
    expect(bmy == total - 1 and balt == 1 and btable == table, "backup GPT differs")
    parts = []
    for i in range(len(table) // 128):
        e = table[i * 128:(i + 1) * 128]
        if e[:16] != bytes(16):
            parts.append((e[:16], *struct.unpack_from("<QQ", e, 32)))
    bios_type = bytes.fromhex("4861682149646f6e744e656564454649")
    esp_type = bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b")
    expect([p[0] for p in parts] == [bios_type, esp_type],
           "partitions are not [BIOS boot, ESP]: %s" % [p[0].hex() for p in parts])
    expect(kernel_sector == parts[0][1],
           "boot.img loads sector %d, the BIOS boot partition starts at %d"
           % (kernel_sector, parts[0][1]))
    core0 = data[kernel_sector * 512:(kernel_sector + 1) * 512]
    bl_start, bl_len, bl_seg = struct.unpack_from("<QHH", core0, 500)
    expect(bl_start == kernel_sector + 1 and bl_len >= 1 and bl_seg == 0x820,
           "core image blocklist %d+%d @%x" % (bl_start, bl_len, bl_seg))
    expect(parts[1][1] * 512 == ESP_OFFSET and first <= parts[0][1] and parts[1][2] <= last,
           "ESP at LBA %d (expected %d) or partitions outside the usable area"
           % (parts[1][1], ESP_OFFSET // 512))

    esp = os.path.join(os.path.dirname(img), "esp.img")
    with open(esp, "wb") as f:
        f.write(data[parts[1][1] * 512:(parts[1][2] + 1) * 512])
    p = run_tool(["fsck.fat", "-n", esp], "fsck.fat")
    expect(p.returncode == 0, "fsck.fat -n reports problems:\n" + p.stdout)
    p = run_tool(["minfo", "-i", esp, "::"], "minfo")
    expect('disk type="FAT32' in p.stdout, "the ESP is not FAT32")
    p = run_tool(["mdir", "-/", "-b", "-i", esp, "::"], "mdir")
    listing = p.stdout.lower()
    for want in ("::/efi/boot/bootx64.efi", "::/keel.cfg", "::/keel.elf", "::/dom0.elf",
                 "::/guests/extra.bin", "::/boot/grub/grub.cfg"):
        expect(want in listing, "%s missing on the ESP" % want)
    p = run_tool(["mtype", "-i", esp, "::/boot/grub/grub.cfg"], "grub.cfg")
    expect("multiboot2 /keel.elf 'console=com1,115200' 'loglvl=info';" in p.stdout,
           "grub.cfg has no multiboot2 line with keel.cfg's cmdline")
    expect("module2 --nounzip /guests/extra.bin 'extra' 'role=ping'" in p.stdout,
           "grub.cfg has no module2 line for extra")
    expect("serial --unit=0 --speed=115200" in p.stdout, "grub.cfg's serial line")


def grub_cfg_of(cmdline):
    """scripts/mkimage's grub.cfg for a cfg with this cmdline (its function,
    called directly: building media for each case would only add time)."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("keel_mkimage", MKIMAGE)
    mk = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mk)
    return mk.grub_cfg(cmdline, [], 1000)


@test("media-grub-serial")
def _():
    """GRUB's serial console follows keel.cfg's console= option: same port,
    same speed; none for console=none."""
    for cmdline, want in (("console=com2,9600", "serial --unit=1 --speed=9600 "),
                          ("console=0x2f8,57600 loglvl=debug",
                           "serial --port=0x2f8 --speed=57600 "),
                          ("loglvl=info", "serial --unit=0 --speed=115200 "),
                          ("console=com4", "serial --unit=3 --speed=115200 ")):
        cfg = grub_cfg_of(cmdline)
        expect(want in cfg, "console from %r: no %r in grub.cfg:\n%s" % (cmdline, want, cfg))
    cfg = grub_cfg_of("console=none")
    expect("serial" not in cfg and "terminal_output" not in cfg,
           "console=none: grub.cfg still sets up a serial terminal:\n" + cfg)


@test("media-write-usb-refuses")
def _():
    """scripts/write-usb refuses what it must before asking anything: a
    missing image, a target that is not a block device, a partition or the
    disk the system runs from (when / is on a block device here)."""
    img = medium("usb", default_opts=())

    def refused(device, image, pattern):
        p = run_tool([sys.executable, WRITE_USB, "--dry-run", image, device], "write-usb")
        expect(p.returncode == 1 and re.search(pattern, p.stdout),
               "write-usb %s %s: status %d, expected a refusal matching /%s/:\n%s"
               % (image, device, p.returncode, pattern, p.stdout))

    refused("/dev/null", img + ".missing", r"no such image file")
    refused("/dev/null", img, r"refused: /dev/null is not a block device")
    refused(img, img, r"is not a block device")
    st = os.stat("/")
    if not os.major(st.st_dev):
        print("== / is not on a block device here: the system-disk refusal is not exercised")
        return
    sysdir = os.path.realpath("/sys/dev/block/%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev)))
    if os.path.exists(os.path.join(sysdir, "partition")):
        refused("/dev/" + os.path.basename(sysdir), img, r"is a partition")
        sysdir = os.path.dirname(sysdir)
    node = "/dev/" + os.path.basename(sysdir)
    if os.path.exists(node):
        # a disk: the running system is on it; dm/md: a virtual device
        refused(node, img, r"running system|mounted|virtual device")
