"""The platform Keel gives a PVH domU, as Linux needs it (docs/linux-guest.md),
checked from inside a pvtest domU on both back ends: the memory map (RAM below
1 MiB, the ACPI page and legacy hole reserved), the ACPI tables (RSDP, XSDT,
hardware-reduced FADT, DSDT, FACS, a MADT with one local APIC per vCPU, UID =
vCPU id), the per-vCPU MTRRs (#GP on a reserved type), string port I/O (REP
OUTSB to 0xE9, REP INSD, backwards REP INSB) and the power-off of a domain
whose last vCPU halts with interrupts off."""
from keeltest import boot, expect_lines_in_order, expect_no_line, expect_status, test, POWEROFF


def platform(loader, timeout):
    r = boot("cmdline console=com1,115200 loglvl=info\n"
             "module dom0 /dom0.elf test=domains scenario=platform\n"
             "module pvtest /pvtest.elf\n", loader=loader, timeout=timeout)
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must not fault")
    expect_no_line(r.log, r"pvtest: platform: FAIL", "the guest's checks must pass")
    expect_lines_in_order(r.log, [
        r"pvtest: platform: memmap \d+ entries, RAM from 0, ACPI page reserved",
        r"pvtest: platform: ACPI RSDP 0x9f000 XSDT FACP DSDT FACS APIC, 1 local APIC\(s\)",
        r"pvtest: platform: MTRR cap 0x508 def 0x806, variable range kept, reserved type #GP",
        r"pvtest: platform: rep outsb reached port 0xe9",
        r"pvtest: platform: rep insd and backwards rep insb moved the port's data",
        r"pvtest: platform: PASS; halting with interrupts off",
        r"^keel: d\d+v0: HLT with interrupts off: vCPU offline, no vCPU left: domain powered off",
        r"^keel: domain \d+ \(platform\) shut down: poweroff",
        r"^\(d0\) dom0: domains: platform: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("pvh-platform-acpi-mtrr-stringio-hltoff-svm", timeout=300)
def _():
    """SVM (QEMU): the platform checks above; string I/O comes as IOIO
    exits with the string bit, decoded and moved by kernel/io.c."""
    r = platform("uefi", 240)
    expect_lines_in_order(r.log, [r"^keel: virtualization: SVM"])


@test("pvh-platform-acpi-mtrr-stringio-hltoff-vmx", timeout=600)
def _():
    """The same on VT-x (Bochs)."""
    r = platform("bochs", 540)
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \("])
