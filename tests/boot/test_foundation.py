"""Foundation: both loaders reach the hypervisor, which reports what it was
given; boot errors and faults are reported precisely and stop the machine
with the documented status (docs/design.md, "Exit codes").

Message formats asserted here:
    keel: Keel <version> (<uefi|multiboot2>)
    keel: memory: N ranges, X MiB usable
    keel: module N: <name> 0x<base>+0x<len> '<cmdline>'
    keel: cmdline: unknown option 'foo'
    keel: module 'dom0': <why>
    keel: FATAL: #PF (vector 14) error 0x<code>   then RIP=, CR2=, stack trace:
    keel: machine stop: <poweroff|reboot|crash|panic>   (Keel's last line)
    keel.cfg:N: <why>                                  (the UEFI loader)
"""

import os
import re

from keeltest import (test, boot, build_file, elf_section, expect, expect_count,
                      expect_last_keel_line, expect_lines_in_order, expect_no_line,
                      expect_status, fail, POWEROFF, PANIC)

MEM_MIB = 512  # scripts/run's default --mem
HEX = r"0x[0-9a-fA-F]+"

# A second module with a known size (not a page multiple) and a cmdline, so
# the module list can be checked byte for byte.
EXTRA = bytes((i * 7 + 3) & 0xFF for i in range(5000))

GOOD_CFG = """\
# foundation test: dom0 plus one extra module
cmdline console=com1,115200 loglvl=info
module dom0 /dom0.elf
module extra /test/extra.bin role=ping
"""


def module_line(name, cmdline):
    return r"^keel: module (\d+): %s (%s)\+(%s) '%s'$" % (
        re.escape(name), HEX, HEX, re.escape(cmdline))


def check_banner_boot(r, loader):
    dom0_len = os.path.getsize(build_file("dom0.elf"))
    ms = expect_lines_in_order(r, [
        r"^keel: Keel \S+ \(%s\)$" % loader,
        r"^keel: memory: (\d+) ranges, (\d+) MiB usable$",
        module_line("dom0", ""),
        module_line("extra", "role=ping"),
    ])
    ranges, usable = int(ms[1].group(1)), int(ms[1].group(2))
    expect(ranges >= 2, "memory map has %d ranges; a PC has at least 2" % ranges, r)
    expect(MEM_MIB * 3 // 4 <= usable <= MEM_MIB,
           "%d MiB usable with -m %dM: expected %d..%d" % (usable, MEM_MIB, MEM_MIB * 3 // 4,
                                                           MEM_MIB), r)
    for m, name, size in ((ms[2], "dom0", dom0_len), (ms[3], "extra", len(EXTRA))):
        base, length = int(m.group(2), 16), int(m.group(3), 16)
        expect(length == size, "module %s: length 0x%x, the file has 0x%x bytes"
               % (name, length, size), r)
        expect(base % 4096 == 0, "module %s: base 0x%x is not page-aligned" % (name, base), r)
        expect(base >= 0x100000, "module %s: base 0x%x below 1 MiB" % (name, base), r)
    n0, n1 = int(ms[2].group(1)), int(ms[3].group(1))
    expect(n1 == n0 + 1, "modules numbered %d and %d: expected consecutive, cfg order" % (n0, n1),
           r)
    b0, l0, b1, l1 = (int(ms[2].group(2), 16), int(ms[2].group(3), 16),
                      int(ms[3].group(2), 16), int(ms[3].group(3), 16))
    expect(b0 + l0 <= b1 or b1 + l1 <= b0, "modules dom0 and extra overlap", r)
    expect_last_keel_line(r, r"^keel: machine stop: poweroff$")
    expect_status(r, POWEROFF)


@test("boot-uefi-banner")
def _():
    """OVMF -> keel.efi -> Keel: banner, memory summary, modules, clean stop."""
    r = boot(GOOD_CFG, modules={"/test/extra.bin": EXTRA}, loader="uefi")
    check_banner_boot(r, "uefi")


@test("boot-grub-banner")
def _():
    """SeaBIOS -> GRUB2 (multiboot2) -> Keel: the same report."""
    r = boot(GOOD_CFG, modules={"/test/extra.bin": EXTRA}, loader="bios")
    check_banner_boot(r, "multiboot2")


@test("boot-bochs-banner")
def _():
    """Bochs (Intel CPU) -> GRUB2 -> Keel reaches the banner and stops."""
    r = boot(GOOD_CFG, modules={"/test/extra.bin": EXTRA}, loader="bochs", timeout=120)
    expect_lines_in_order(r, [r"^keel: Keel \S+ \(multiboot2\)$",
                              r"^keel: memory: \d+ ranges, \d+ MiB usable$",
                              module_line("dom0", ""),
                              module_line("extra", "role=ping")])
    expect_last_keel_line(r, r"^keel: machine stop: poweroff$")
    expect_status(r, POWEROFF)


@test("boot-bad-cfg-line")
def _():
    """A keel.cfg typo: the loader names file, line and directive; the
    hypervisor is never entered."""
    cfg = ("# line 1: comment\n"
           "cmdline console=com1,115200 loglvl=info\n"
           "modul dom0 /dom0.elf\n"
           "module dom0 /dom0.elf\n")
    # The UEFI loader returns an error to the firmware, whose boot manager
    # reports it and falls back to its next option; scripts/run stops the
    # machine there with status 12 (boot error), well before the time-out.
    r = boot(cfg, loader="uefi", timeout=60)
    # The loader may prefix its lines (e.g. "keel-efi: ") and explain more.
    expect_lines_in_order(r, [r"^(keel[-\w]*: )?keel\.cfg:3: unknown directive 'modul'",
                              r"^keel-efi: boot failed \(Load Error\); returning to the firmware$",
                              r"^BdsDxe: failed to start .*: Load Error$"])
    expect_count(r, r"keel\.cfg:\d+:", 1)
    expect_no_line(r, r"^keel: ", "the hypervisor must not be entered")
    expect_status(r, PANIC)


def truncated_elf(path):
    """The ELF at `path` cut in the middle of its last PT_LOAD segment's file
    bytes: headers intact (the loader gets past them), a segment short."""
    import struct
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        fail("build/dom0.elf is not an ELF64 file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data,
                                                                 phoff + i * phentsize)
        if p_type == 1 and p_filesz:
            loads.append((p_offset, p_filesz))
    if not loads:
        fail("build/dom0.elf has no PT_LOAD segment with file bytes")
    off, size = max(loads)
    keep = max(off + size // 2, phoff + phnum * phentsize)
    if keep >= off + size:
        fail("build/dom0.elf: last segment too small to truncate")
    return data[:keep]


def check_dom0_rejected(r):
    expect_lines_in_order(r, [r"^keel: Keel \S+ \(uefi\)$",
                              r"^keel: module 'dom0': \S"])
    expect_count(r, r"^keel: module 'dom0': ", 1)
    expect_no_line(r, r"^\(d0\) ", "dom0 must not run")
    expect_last_keel_line(r, r"^keel: machine stop: panic$")
    expect_status(r, PANIC)


@test("boot-corrupt-module")
def _():
    """dom0 is a truncated ELF: one line naming module 'dom0', panic stop."""
    bad = truncated_elf(build_file("dom0.elf"))
    r = boot("cmdline console=com1,115200 loglvl=info\nmodule dom0 /dom0.elf\n",
             modules={"/dom0.elf": bad})
    check_dom0_rejected(r)


@test("boot-corrupt-module-magic")
def _():
    """dom0 is not an ELF at all (random-looking bytes): same report."""
    junk = bytes((i * 131 + 17) & 0xFF for i in range(8192))
    r = boot("cmdline console=com1,115200 loglvl=info\nmodule dom0 /dom0.elf\n",
             modules={"/dom0.elf": junk})
    check_dom0_rejected(r)


@test("boot-bad-cmdline")
def _():
    """An unknown hypervisor option: one line naming it, then a panic stop."""
    r = boot("cmdline console=com1,115200 loglvl=info foo=bar\nmodule dom0 /dom0.elf\n")
    expect_count(r, r"^keel: cmdline: unknown option 'foo'$", 1)
    expect_count(r, r"unknown option", 1)
    expect_no_line(r, r"^\(d0\) ", "dom0 must not run")
    expect_last_keel_line(r, r"^keel: machine stop: panic$")
    expect_status(r, PANIC)


@test("boot-fault-report")
def _():
    """test_fault=pagefault: the fault report names #PF, error code, the
    registers, CR2 and a stack trace inside keel.elf, then a panic stop."""
    text = elf_section(build_file("keel.elf"), ".text")
    if text is None:
        fail("build/keel.elf has no .text section")
    lo, hi = text[0], text[0] + text[1]
    r = boot("cmdline console=com1,115200 loglvl=info test_fault=pagefault\n"
             "module dom0 /dom0.elf\n")
    ms = expect_lines_in_order(r, [r"^keel: Keel \S+ \(uefi\)$",
                                   r"^keel: FATAL: #PF \(vector 14\) error (%s)" % HEX])
    fatal_at = r.lines.index(ms[1].string)
    after = r.lines[fatal_at + 1:]
    # RIP=[CS:]ADDR, e.g. RIP=0008:0000000000209417
    rip = [re.search(r"RIP=(?:[0-9a-fA-F]{4}:)?(?:0x)?([0-9a-fA-F]+)", l) for l in after]
    rip = [m for m in rip if m]
    cr2 = [m for m in (re.search(r"CR2=(?:0x)?([0-9a-fA-F]+)", l) for l in after) if m]
    expect(rip, "no RIP= after the FATAL line", r)
    expect(cr2, "no CR2= after the FATAL line", r)
    v = int(rip[0].group(1), 16)
    expect(lo <= v < hi, "RIP=0x%x is outside keel.elf's .text 0x%x-0x%x" % (v, lo, hi), r)
    # stack trace: a header line, then frames; at least one frame in .text
    st = [i for i, l in enumerate(after) if "stack trace:" in l]
    expect(st, "no 'stack trace:' line after the FATAL line", r)
    frames = []
    for l in after[st[0] + 1:]:
        if "machine stop" in l:
            break
        frames += [int(x, 16) for x in re.findall(r"\b(?:0x)?([0-9a-fA-F]{6,16})\b", l)]
    expect(any(lo <= f < hi for f in frames),
           "no stack-trace frame inside .text 0x%x-0x%x (addresses seen: %s)"
           % (lo, hi, ", ".join("0x%x" % f for f in frames[:10]) or "none"), r)
    expect_count(r, r"FATAL", 1)
    expect_last_keel_line(r, r"^keel: machine stop: panic$")
    expect_status(r, PANIC)
