"""FPU/SIMD state isolation (docs/fpu.md): dom0 (`test=domains
scenario=fpu`, guest/dom0/test/domains.c) keeps a pattern of its own in every
x87/MMX/XMM/YMM register, MXCSR and FCW while two pvtest-simd domUs
(role=simd, guest/pvtest/simd/simd.c) check that they start with clean
registers, that XSETBV refuses bad XCR0 values and keeps good ones, that
their own patterns survive yields and preemption, and that an SSE2
checksum preempted many times equals the scalar one. dom0 then checks its
registers are untouched.

Hosts: QEMU TCG as given by scripts/run (qemu64: no XSAVE, so Keel uses
FXSAVE and offers no AVX), QEMU with XSAVE+AVX added to the CPU model (the
XSAVE path under SVM), and Bochs corei7_skylake_x (VMX, XSAVE, AVX)."""

import re

from keeltest import (boot, expect_lines_in_order, expect_no_line, expect_status, fail, test,
                      POWEROFF)

T = 200
# scripts/run's CPU model plus XSAVE and AVX/AVX2 (QEMU 7.2 TCG emulates
# them); a later -cpu replaces the first.
QEMU_XSAVE_AVX = ("-cpu", "qemu64,+svm,+npt,+pdpe1gb,+xsave,+xsaveopt,+avx,+avx2")


def run_fpu(loader="uefi", extra=(), timeout=T, rounds=20):
    cfg = ("cmdline console=com1,115200 loglvl=info\n"
           "module dom0 /dom0.elf test=domains scenario=fpu rounds=%d\n"
           "module pvtest /pvtest-simd.elf\n" % rounds)
    r = boot(cfg, loader=loader, timeout=timeout, extra=extra)
    bad = [l for l in r.lines if "MISMATCH" in l]
    if bad:
        fail("%d check(s) got the wrong value, first: %s" % (len(bad), bad[0]), r.tail(80))
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must stay healthy")
    expect_no_line(r.log, r"^keel: domain \d+ \(simd\d\) vCPU \d+ killed",
                   "neither simd domU may die")
    m = re.search(r"dom0: domains: hypervisor free pages: (\d+) before the domUs, (\d+) after",
                  r.log)
    if not m or m.group(1) != m.group(2):
        fail("the free-page count is not back where it was (save areas leaked?)", r.tail(60))
    return r


def expect_isolated(r, ymm, xsave, pkru=False):
    """The lines every host must show; ymm/xsave/pkru: whether the YMM
    halves, the XSETBV checks and PKRU are part of it on this host."""
    with_ymm = r" \(with YMM\)" if ymm else "$"
    for tag in (1, 2):
        m = re.search(r"^keel: domain (\d+) \(simd%d\) created by dom0" % tag, r.log, re.M)
        if not m:
            fail("the hypervisor did not report creating simd%d" % tag, r.tail(60))
        d = r"^\(d%s\) pvtest: simd: " % m.group(1)
        lines = [d + r"check fresh-fcw: 0x37f \(want 0x37f\)$",
                 d + r"check fresh-mxcsr: 0x1f80 \(want 0x1f80\)$",
                 d + r"check fresh-registers-zero: 0x0 \(want 0x0\)$"]
        if pkru:
            lines += [d + r"check fresh-pkru: 0x0 \(want 0x0\)$"]
        if xsave:
            lines += [d + r"check xsetbv-xcr1-gp: 0xd \(want 0xd\)$",
                      d + r"check xsetbv-avx-without-sse-gp: 0xd \(want 0xd\)$",
                      d + r"check xsetbv-unoffered-bit-gp: 0xd \(want 0xd\)$",
                      d + r"check xsetbv-without-osxsave-ud: 0x6 \(want 0x6\)$",
                      d + r"check xcr0-x87-sse: 0x3 \(want 0x3\)$"]
        if ymm:
            lines += [d + r"check xcr0-x87-sse-avx: 0x7 \(want 0x7\)$"]
        if ymm and tag == 1:
            lines += [d + r"AVX off in XCR0 over 5 yields: YMM upper halves back as our own "
                      r"\d+ times, zero \d+ times$"]
        lines += [d + r"20 rounds \(MMX, XMM%s, MXCSR, FCW%s\), 0 with wrong values$"
                  % (", YMM" if ymm else "", ", PKRU" if pkru else ""),
                  d + r"check sse2-checksum-equals-scalar: ",
                  d + r"PASS tag %d: \d+ checks; clean start, 20 rounds intact%s" % (tag, with_ymm)]
        expect_lines_in_order(r.log, lines)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: check dom0-registers-kept: 0 \(want 0\)$",
        r"^\(d0\) dom0: domains: fpu: PASS dom0 and two domUs kept their own FPU/SIMD state "
        r"\(MMX, XMM, %sMXCSR, FCW%s\)" % ("YMM, " if ymm else "", ", PKRU" if pkru else ""),
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)


@test("fpu-isolation-svm-fxsave", timeout=T + 60)
def _():
    """SVM on QEMU's qemu64 (no XSAVE): Keel switches x87/MMX/SSE/MXCSR
    with FXSAVE; the guests are offered neither XSAVE nor AVX."""
    r = run_fpu()
    expect_lines_in_order(r.log, [
        r"^keel: fpu: no XSAVE: FXSAVE, guest state switched: x87 SSE, 512-byte areas",
        r"^keel: virtualization: SVM",
        r"pvtest: simd: CPUID offers no XSAVE: XSETBV checks skipped",
    ])
    expect_isolated(r, ymm=False, xsave=False)


@test("fpu-isolation-svm-xsave-avx", timeout=T + 60)
def _():
    """SVM on QEMU with XSAVE and AVX: Keel switches x87/SSE/AVX with
    XSAVE under the host's XCR0 and loads each guest's own XCR0 while it
    runs; XSETBV is validated; YMM upper halves stay with their domain."""
    r = run_fpu(extra=QEMU_XSAVE_AVX)
    expect_lines_in_order(r.log, [
        r"^keel: fpu: XSAVE, guest state switched: x87 SSE AVX \(XCR0 0x7\), 832-byte areas",
        r"^keel: virtualization: SVM",
    ])
    expect_isolated(r, ymm=True, xsave=True)


@test("fpu-isolation-svm-pkru", timeout=T + 60)
def _():
    """SVM on QEMU's `max` model, which has PKU: Keel switches PKRU too
    (XCR0 0x207); the guests set CR4.PKE themselves, and each one's PKRU
    stays its own."""
    r = run_fpu(extra=("-cpu", "max"))
    expect_lines_in_order(r.log, [
        r"^keel: fpu: XSAVE, guest state switched: x87 SSE AVX PKRU \(XCR0 0x207\), "
        r"2696-byte areas",
        r"^keel: virtualization: SVM",
        r"^\(d0\) dom0: domains: SSE, XSAVE, AVX, PKU enabled in dom0",
    ])
    expect_isolated(r, ymm=True, xsave=True, pkru=True)


@test("fpu-isolation-vmx", timeout=600)
def _():
    """The same under Bochs (VT-x, corei7_skylake_x: XSAVE and AVX)."""
    r = run_fpu(loader="bochs", timeout=540)
    expect_lines_in_order(r.log, [
        r"^keel: fpu: XSAVE, guest state switched: x87 SSE AVX",
        r"^keel: virtualization: VMX \(",
    ])
    expect_isolated(r, ymm=True, xsave=True)
    # VT-x always exits on XSETBV: Keel's own checks answered the guests
    # (enable, 7 refused values, 2 accepted, tag 1's AVX toggles).
    counts = [int(n) for n in re.findall(r"dom0: domains: d\d+ xsetbv exits: (\d+)", r.log)]
    if len(counts) != 2 or min(counts) < 10:
        fail("each simd domU should have made at least 10 XSETBV exits, got %s" % counts,
             r.tail(40))
