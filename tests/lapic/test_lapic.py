"""The virtual local APIC of domUs (docs/lapic.md, arch/x86/vlapic*.c),
driven for real by pvtest (guest/pvtest/lapic.c) on both back ends:
registers in xAPIC and x2APIC mode, self-IPIs with the priority rules,
the timer's one-shot, periodic and TSC-deadline modes firing within bounds
while the vCPU halts; and a hostile domU's random accesses, which must
#GP where the SDM says and hurt neither the hypervisor nor other domains."""

from keeltest import boot, expect_lines_in_order, expect_no_line, expect_status, test, POWEROFF


def cfg(scenario, extra=""):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=%s %s\n"
            "module pvtest /pvtest.elf\n" % (scenario, extra))


def lapic(loader, timeout):
    r = boot(cfg("lapic"), loader=loader, timeout=timeout)
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must not fault")
    expect_no_line(r.log, r"pvtest: lapic: FAIL", "every LAPIC check must hold")
    expect_lines_in_order(r.log, [
        r"pvtest: lapic: xAPIC: CPUID APIC/x2APIC/TSC-deadline, base 0xfee00900, ID 0, "
        r"version 0x50014, TPR = CR8 << 4",
        r"pvtest: lapic: x2APIC: mode on, ID 0 version 0x50014 LDR 1, #GP on read-only",
        r"pvtest: lapic: IPIs: self IPI taken at once \(in ISR in its handler, EOI clears it\), "
        r"held in IRR with IF=0",
        r"pvtest: lapic: IPIs: held by TPR 0x50, let in at CR8 0; illegal vector in ESR",
        r"pvtest: lapic: timer one-shot 3 ms fired after \d+ us \(halted\)",
        r"pvtest: lapic: timer periodic 4 ms: 5 fires in \d+ us",
        r"pvtest: lapic: timer TSC-deadline 3 ms fired after \d+ us",
        r"pvtest: lapic: timer masked LVT: nothing delivered in 30 ms",
        r"pvtest: lapic: PASS",
        r"^keel: domain \d+ \(lapic\) shut down: poweroff",
        r"^\(d0\) dom0: domains: lapic: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("lapic-svm-registers-ipis-timers", timeout=300)
def _():
    """SVM (QEMU TCG): x2APIC MSRs and the xAPIC page, self-IPIs held by
    IF, the TPR (V_TPR) and ISR, EOI, the three timer modes."""
    r = lapic("uefi", 240)
    expect_lines_in_order(r.log, [r"^keel: virtualization: SVM"])


@test("lapic-vmx-registers-ipis-timers", timeout=900)
def _():
    """The same on VT-x (Bochs): the TPR is the TPR shadow's VTPR, its
    window the TPR threshold."""
    r = lapic("bochs", 840)
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \("])


def hostile(loader, timeout, rounds):
    r = boot(cfg("lapic-hostile", "rounds=%d seed=7" % rounds), loader=loader, timeout=timeout)
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must not fault")
    expect_no_line(r.log, r"^keel: domain \d+ \((lapic-hostile|timer)\) vCPU \d+ killed",
                   "LAPIC accesses, however wrong, are the guest's own business")
    expect_lines_in_order(r.log, [
        r"pvtest: lapic-hostile: all 256 x2APIC MSRs follow the SDM's read rules",
        r"pvtest: lapic-hostile: %d random accesses \(\d+ MSR, \d+ #GP, \d+ xAPIC page\) "
        r"survived" % rounds,
        r"pvtest: lapic-hostile: PASS",
    ])
    expect_lines_in_order(r.log, [
        r"pvtest: timer: PASS",
        r"^\(d0\) dom0: domains: lapic-hostile: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("lapic-svm-hostile-msr-mmio-storm", timeout=400)
def _():
    """SVM: random x2APIC MSR, IA32_APIC_BASE, TSC-deadline and xAPIC-page
    accesses next to a timer domU."""
    hostile("uefi", 340, 20000)


@test("lapic-vmx-hostile-msr-mmio-storm", timeout=900)
def _():
    """VT-x (Bochs): the same storm, fewer rounds (Bochs is slow)."""
    hostile("bochs", 840, 3000)


def smp(loader, timeout):
    r = boot(cfg("lapic-smp"), loader=loader, timeout=timeout)
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must not fault")
    expect_no_line(r.log, r"pvtest: lapic-smp: FAIL", "every SMP check must hold")
    expect_lines_in_order(r.log, [
        r"^keel: domain \d+ \(lapic-smp\) created by dom0: 2 vCPUs",
        r"^keel: d\d+v1: started by SIPI at 0x90000 \(real mode\)",
        r"pvtest: lapic-smp: INIT/SIPI started vCPU 1 in real mode at 0x90000 \(x2APIC ID 2\); "
        r"its IPI 0x44 reached vCPU 0",
        r"pvtest: lapic-smp: vCPU 0 -> 1 IPIs by physical and logical destination and "
        r"all-but-self arrived; none came back to the sender",
        r"pvtest: lapic-smp: PASS",
        r"^keel: domain \d+ \(lapic-smp\) shut down: poweroff",
        r"^\(d0\) dom0: domains: lapic-smp: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("lapic-svm-smp-init-sipi-ipis", timeout=300)
def _():
    """SVM: a 2-vCPU domU starts vCPU 1 with INIT and a start-up IPI (real
    mode at vector << 12; a SIPI without INIT starts nothing), then IPIs
    go between the vCPUs by physical and logical (x2APIC cluster)
    destination and the all-but-self shorthand."""
    smp("uefi", 240)


@test("lapic-vmx-smp-init-sipi-ipis", timeout=900)
def _():
    """The same on VT-x (Bochs): vCPU 1 starts in real mode as an
    unrestricted guest."""
    smp("bochs", 840)
