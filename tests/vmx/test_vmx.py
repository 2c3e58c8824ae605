"""Intel VT-x core on Bochs (corei7_skylake_x: VMX with EPT, VPID and
unrestricted guest): the same dom0 and the same exit-kind checks as the SVM
tests, through the same vendor interface. Bochs is slow, so this is the
essential set; each boot takes 10-30 s."""

from keeltest import test
import exit_suite as S

T = 240


@test("vmx-dom0-boot", timeout=T + 60)
def _():
    S.dom0_boots_and_powers_off("vmx", "bochs", T)


@test("vmx-exit-kinds", timeout=T + 60)
def _():
    S.exit_kinds_from_guest("vmx", "bochs", T)


def _fatal(name):
    step, announce, lines, status = S.FATAL_STEPS[name]

    @test("vmx-exit-" + name, timeout=T + 60)
    def _():
        S.fatal_step("vmx", "bochs", T, step, announce, lines, status)


for _name in ("npf-kills-domain", "triple-fault-kills-domain", "ud-reflected-to-guest",
              "hlt-cli-is-poweroff"):
    _fatal(_name)
