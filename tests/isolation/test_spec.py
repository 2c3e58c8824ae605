"""Speculative-execution hygiene (docs/speculation.md): the hypervisor says
at boot which mitigations it uses and why, and CPUID and MSRs agree for
guests.

dom0's self-test (guest/dom0/test/spec_test.c, cmdline `test=spec`) reads CPUID
leaf 7 (subleaves 0 and 2) and 0x80000008 and, for every bit it finds that
names an MSR, uses that MSR the way Linux does: no #GP, values read back.
Its list comes from the manuals, not from the hypervisor's table
(kernel/spec_msr.c), so the two are checked against each other.

QEMU TCG's qemu64 reports none of these bits (TCG refuses +spec-ctrl,
+ssbd, +ibpb, ...), so on SVM the test checks that nothing is advertised
that cannot be used, that the mitigation line is there and that the
mechanism (RSB filling on every exit) does not disturb the guest. Bochs's
corei7_skylake_x does report SPEC_CTRL/STIBP/SSBD/L1D_FLUSH/ARCH_CAPABILITIES
and friends: there every one must work. Real-CPU fixtures are in
tests/unit/test_spec.c.
"""

import re

from keeltest import boot, expect_lines_in_order, expect_no_line, expect_status, fail, test, POWEROFF

T = 240

MITIGATION_LINE = r"^keel: speculation: (.*)$"
GUEST_LINE = r"^keel: speculation: guests get (.*)$"


def cfg(keel_args=""):
    return ("cmdline console=com1,115200 loglvl=info %s\n"
            "module dom0 /dom0.elf test=spec\n" % keel_args)


def spec_selftest(loader, want_features, run_args=(), keel_args=""):
    """Boots dom0's spec self-test; every advertised feature works, and at
    least the `want_features` names are advertised (the host has them and
    Keel implements them: hiding them all would also avoid the #GP)."""
    r = boot(cfg(keel_args), loader=loader, timeout=T, run_args=run_args)
    expect_lines_in_order(r.log, [
        r"^keel: speculation: host ",
        r"^keel: speculation: mitigations: ",
        r"^keel: speculation: guests get ",
        r"^\(d0\) dom0: speculation-control self-test \(spec\)",
        r"^\(d0\) dom0: spec: cpuid 7\.0 ",
        r"^\(d0\) dom0: spec: \d+ features advertised",
        r"^\(d0\) dom0: tests done: \d+ passed, 0 failed",
        r"^keel: machine stop: poweroff",
    ])
    expect_no_line(r.log, r"dom0: test spec-.*: FAIL", "an advertised feature's MSR does not work")
    expect_no_line(r.log, r"unexpected exception", "the guest took a fault it did not expect")
    m = re.search(GUEST_LINE, r.log, re.M)
    got = set(m.group(1).split()) - {"nothing"}
    missing = set(want_features) - got
    if missing:
        fail("the hypervisor hides %s, which this host has and Keel implements" %
             " ".join(sorted(missing)), r.tail(60))
    n = int(re.search(r"dom0: spec: (\d+) features advertised", r.log).group(1))
    if want_features and n == 0:
        fail("dom0 found no speculation feature in CPUID", r.tail(60))
    expect_status(r, POWEROFF)
    return r


@test("isolation-spec-svm", timeout=T + 60)
def _():
    r = spec_selftest("uefi", [])
    # qemu64 under TCG: no IBPB, no SPEC_CTRL, not an Intel part; RSB
    # filling is on for every CPU (it needs no feature bit).
    expect_lines_in_order(r.log, [r"^keel: speculation: mitigations: .*rsb-fill-on-exit"])


@test("isolation-spec-vmx", timeout=T + 60)
def _():
    # Bochs 2.7's corei7_skylake_x reports none of these bits;
    # corei7_icelake_u reports SPEC_CTRL, STIBP, SSBD, L1D_FLUSH and
    # ARCH_CAPABILITIES (and the MSRs behind them).
    spec_selftest("bochs", ["spec-ctrl", "stibp", "ssbd", "flush-l1d", "arch-capabilities"],
                  run_args=["--bochs-cpu", "corei7_icelake_u"])


# spec=verw,l1d-flush turns on what the test hosts do not need, so that the
# VERW in both entry stubs (it changes ZF: the VMX stub must not use it
# between the compare and VMLAUNCH/VMRESUME) and the L1D flush before
# entry run on every entry of a whole boot.
@test("isolation-spec-svm-forced", timeout=T + 60)
def _():
    r = spec_selftest("uefi", [], keel_args="spec=verw,l1d-flush")
    expect_lines_in_order(r.log, [
        r"^keel: speculation: mitigations: rsb-fill-on-exit .*verw-on-entry \(forced: spec=verw\)"
        r".*; off: .*l1d-flush-on-entry \(spec=l1d-flush, but no L1D_FLUSH\)"])


@test("isolation-spec-vmx-forced", timeout=T + 60)
def _():
    r = spec_selftest("bochs", ["spec-ctrl", "stibp", "ssbd", "flush-l1d", "arch-capabilities"],
                      run_args=["--bochs-cpu", "corei7_icelake_u"], keel_args="spec=verw,l1d-flush")
    expect_lines_in_order(r.log, [
        r"^keel: speculation: mitigations: .*l1d-flush-on-entry \(forced: spec=l1d-flush\), "
        r"verw-on-entry \(forced: spec=verw\); off: "])


def domu_cfg():
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=spec\n"
            "module pvtest /pvtest.elf\n")


def spec_domu(loader, ibpb, run_args=()):
    """dom0 starts a pvtest domU with role=spec: the same checks from a
    domU, whose IA32_SPEC_CTRL value (every offered bit) must survive 50
    yields while dom0 keeps another; the hypervisor issues IBPB when it
    switches between them, where the CPU has IBPB."""
    r = boot(domu_cfg(), loader=loader, timeout=T, run_args=run_args)
    m = re.search(r"^keel: domain (\d+) \(spec\) created by dom0", r.log, re.M)
    if not m:
        fail("dom0 did not create the spec domU", r.tail(60))
    du = r"\(d%s\)" % m.group(1)
    expect_lines_in_order(r.log, [
        r"^keel: speculation: mitigations: ",
        r"^%s pvtest: spec: cpuid 7\.0 " % du,
        r"^%s pvtest: spec: \d+ features advertised" % du,
        r"^%s pvtest: spec: PASS " % du,
        r"^keel: domain %s \(spec\) shut down: poweroff" % m.group(1),
        r"^keel: domain \d+ \(spec2\) created by dom0",
        r"pvtest: spec: PASS ",
        r"^keel: domain \d+ \(spec2\) shut down: poweroff",
        r"^\(d0\) dom0: domains: spec: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_no_line(r.log, r"pvtest: spec: check .*: FAIL", "an advertised feature failed in the domU")
    expect_no_line(r.log, r"MISMATCH", "a dom0 check got the wrong value")
    if ibpb:
        expect_lines_in_order(r.log, [
            r"^keel: speculation: mitigations: .*ibpb-on-domain-switch \(",
            r"^keel: speculation: IBPB on switching from domain \d+ to domain \d+"])
    else:
        expect_lines_in_order(r.log, [r"; off: .*ibpb-on-domain-switch \(no IBPB\)"])
        expect_no_line(r.log, r"speculation: IBPB on switching", "IBPB issued without IBPB")
    expect_status(r, POWEROFF)
    return r


@test("isolation-spec-domu-svm", timeout=T + 60)
def _():
    spec_domu("uefi", ibpb=False)


@test("isolation-spec-domu-vmx", timeout=T + 60)
def _():
    """On Ice Lake (Bochs): also, the first domU leaves IA32_SPEC_CTRL 0x7
    set at poweroff and the next domain's vCPU starts at 0 (the reset
    value), and the IBPB is issued per CPU's last domain."""
    r = spec_domu("bochs", ibpb=True, run_args=["--bochs-cpu", "corei7_icelake_u"])
    expect_lines_in_order(r.log, [r"pvtest: spec: IA32_SPEC_CTRL 0x0 at start",
                                  r"pvtest: spec: PASS \d+ checks of 6 features; "
                                  r"IA32_SPEC_CTRL 0x7 kept over 50 yields; left set at poweroff",
                                  r"pvtest: spec: IA32_SPEC_CTRL 0x0 at start",
                                  r"pvtest: spec: PASS \d+ checks of 6 features; "
                                  r"IA32_SPEC_CTRL 0x7 kept over 5 yields$",
                                  r"dom0: domains: check dom0-spec-ctrl-kept: 1 \(want 1\)"])
