"""AMD-V core on QEMU TCG (-cpu qemu64,+svm,+npt): dom0 runs under SVM with
nested paging on both boot paths, every exit kind works from inside the
guest, and a guest's fatal mistakes end only that guest."""

from keeltest import test, boot, expect_lines_in_order, expect_status, PANIC, REBOOT
import exit_suite as S

T = 90


@test("svm-dom0-boot-uefi")
def _():
    S.dom0_boots_and_powers_off("svm", "uefi", T)


@test("svm-dom0-boot-grub")
def _():
    S.dom0_boots_and_powers_off("svm", "bios", T)


@test("svm-exit-kinds")
def _():
    S.exit_kinds_from_guest("svm", "uefi", T)


def _fatal(name):
    step, announce, lines, status = S.FATAL_STEPS[name]

    @test("svm-exit-" + name)
    def _():
        S.fatal_step("svm", "uefi", T, step, announce, lines, status)


for _name in S.FATAL_STEPS:
    _fatal(_name)


@test("svm-dom0-reboot-reboots-machine")
def _():
    """dom0 asking for a reboot reboots the machine (status 10), not a power-off."""
    r = boot(S.cfg("reboot"), loader="uefi", timeout=T)
    expect_lines_in_order(r.log, [r"^\(d0\) dom0: rebooting",
                                  r"^keel: domain 0 \(dom0\) shut down: reboot",
                                  r"^keel: machine stop: reboot"])
    expect_status(r, REBOOT)


@test("svm-missing-reported")
def _():
    """A CPU without SVM (and without VMX): one line, then a clean stop."""
    r = boot(S.cfg(), loader="uefi", timeout=T, extra=["-cpu", "qemu64,-svm"])
    expect_lines_in_order(r.log, [
        r"^keel: no hardware virtualization: CPU has neither SVM nor VMX",
        r"^keel: machine stop: panic"])
    expect_status(r, PANIC)


@test("svm-npt-missing-reported")
def _():
    """SVM without nested paging: Keel needs NPT and says so."""
    r = boot(S.cfg(), loader="uefi", timeout=T, extra=["-cpu", "qemu64,+svm,-npt"])
    expect_lines_in_order(r.log, [
        r"^keel: .*SVM without nested paging \(NPT\)",
        r"^keel: machine stop: panic"])
    expect_status(r, PANIC)
