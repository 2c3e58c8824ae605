"""The platform Keel gives a PVH domU, as Linux needs it (docs/linux-guest.md),
checked from inside a pvtest domU on both back ends: the memory map (RAM below
1 MiB, the ACPI page and legacy hole reserved), the ACPI tables (RSDP, XSDT,
hardware-reduced FADT, DSDT, FACS, a MADT with one local APIC per vCPU, UID =
vCPU id), the per-vCPU MTRRs (#GP on a reserved type), string port I/O (REP
OUTSB to 0xE9, REP INSD, backwards REP INSB) and the power-off of a domain
whose last vCPU halts with interrupts off. Then string I/O whose memory
operand the guest's page tables refuse (#PF/#GP as a CPU raises them, the
domain lives on) and the secondary vcpu_time_info copy
(VCPUOP_register_vcpu_time_memory_area)."""
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


def one_role(scenario, loader, timeout, lines):
    """dom0 runs pvtest with role `scenario` alone; its lines in order, PASS."""
    r = boot("cmdline console=com1,115200 loglvl=info\n"
             "module dom0 /dom0.elf test=domains scenario=%s\n"
             "module pvtest /pvtest.elf\n" % scenario, loader=loader, timeout=timeout)
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)", "the hypervisor must not fault")
    expect_no_line(r.log, r"pvtest: %s: FAIL" % scenario, "the guest's checks must pass")
    expect_no_line(r.log, r"^keel: domain \d+ \(%s\) .*(crash|killed)" % scenario,
                   "the domain must live on")
    expect_lines_in_order(r.log, lines + [
        r"pvtest: %s: PASS" % scenario,
        r"^keel: domain \d+ \(%s\) shut down: poweroff" % scenario,
        r"^\(d0\) dom0: domains: %s: PASS" % scenario,
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


STRINGIO = [
    r"pvtest: stringio: REP INSB into a read-only page: #PF error 0x3 CR2 0x80001fffff, "
    r"RCX 2 left",
    r"pvtest: stringio: REP OUTSB from an unmapped page: #PF error 0x0 CR2 0x400000000000, "
    r"RCX 3 left",
    r"pvtest: stringio: OUTSB from a non-canonical address: #GP error 0x0 CR2 0x0, RCX 1 left",
]


@test("pvh-platform-stringio-faults-svm", timeout=300)
def _():
    """SVM (QEMU): INS/OUTS on memory the guest's page tables refuse get the
    #PF (error code, CR2, RCX/RDI of the elements done) or #GP(0) a CPU
    raises, injected by kernel/io.c instead of killing the domain."""
    r = one_role("stringio", "uefi", 240, STRINGIO)
    expect_lines_in_order(r.log, [r"^keel: virtualization: SVM"])


@test("pvh-platform-stringio-faults-vmx", timeout=600)
def _():
    """The same on VT-x (Bochs)."""
    r = one_role("stringio", "bochs", 540, STRINGIO)
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \("])


VCPUTIME = [
    r"pvtest: vcputime: copy equal to shared_info's over 50 yields, not rewritten, "
    r"time monotonic by both",
    r"pvtest: vcputime: a damaged record is rewritten before the vCPU runs again",
    r"pvtest: vcputime: unmapped address accepted and harmless; 0 stops the updates",
]


@test("pvh-platform-vcpu-time-area-svm", timeout=300)
def _():
    """SVM (QEMU): VCPUOP_register_vcpu_time_memory_area's copy is written at
    once, equals the shared_info copy at every consistent read, is not
    rewritten while nothing changed it, the time read through either copy
    never goes backwards across switches, and a record the guest damaged
    is rewritten before it runs again (kernel/time.c)."""
    r = one_role("vcputime", "uefi", 240, VCPUTIME)
    expect_lines_in_order(r.log, [r"^keel: virtualization: SVM"])


@test("pvh-platform-vcpu-time-area-vmx", timeout=600)
def _():
    """The same on VT-x (Bochs)."""
    r = one_role("vcputime", "bochs", 540, VCPUTIME)
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \("])
