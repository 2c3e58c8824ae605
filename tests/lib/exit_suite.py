"""The dom0 boot and exit-kind checks, shared by the SVM tests (QEMU TCG) and
the VMX tests (Bochs): the same guest, the same expectations, one back end
each. dom0's self-test (guest/dom0/test/exit_test.c, cmdline test=...) drives
every exit kind from inside the guest and prints one line per check;
these functions check those lines and what the hypervisor reported.
"""

import re

from keeltest import (boot, expect_count, expect_lines_in_order, expect_no_line,
                      expect_status, fail, CRASH, POWEROFF)

# Every check of test=exits (guest/dom0/README.md), in the order printed.
EXIT_CHECKS = [
    "cpuid-signature", "cpuid-version", "cpuid-leaf1", "cpuid-ext", "xen-version",
    "msr-apic-base", "msr-unknown-gp", "msr-hypercall-page",
    "io-unemulated", "io-scratch",
    "hcall-unknown", "hcall-bad-pointer", "hcall-crossing", "hcall-vmmcall", "hcall-vmcall",
]

# Checks only one back end can make. cr4-refused-counted: a reserved CR4
# bit exits under VT-x and the VMX back end refuses it with #GP without
# returning to the hypervisor's exit table; the domain's cr_access counter
# must count it all the same (SVM lets the guest own CR4: no exit).
BACKEND_CHECKS = {"svm": [], "vmx": ["cr4-refused-counted"]}


def exit_checks(backend):
    return EXIT_CHECKS + BACKEND_CHECKS[backend]

BACKEND_LINE = {"svm": r"^keel: virtualization: SVM \(", "vmx": r"^keel: virtualization: VMX \("}


def cfg(dom0_cmdline=""):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf %s\n" % dom0_cmdline)


def dom0_boots_and_powers_off(backend, loader, timeout):
    """dom0 boots through PVH, prints its banner and memory map, powers off;
    the hypervisor reports the shutdown and the machine powers off."""
    r = boot(cfg(), loader=loader, timeout=timeout)
    expect_lines_in_order(r.log, [
        BACKEND_LINE[backend],
        r"^keel: domain 0: PVH kernel 0x[0-9a-f]+-0x[0-9a-f]+, entry 0x[0-9a-f]+",
        r"^keel: starting dom0",
        r"^\(d0\) dom0: Keel control domain",
        r"^\(d0\) dom0: start_info version 1 ",
        r"^\(d0\) dom0: memory map: \d+ entries",
        r"^\(d0\) dom0: mem \[0x0+1000-0x[0-9a-f]+\] ram",
        r"^\(d0\) dom0: mem total ram 0x[0-9a-f]+ bytes \(\d+ MiB\)",
        r"^\(d0\) dom0: powering off",
        r"^keel: domain 0 \(dom0\) shut down: poweroff",
        r"^keel: machine stop: poweroff",
    ])
    # The hypervisor's own memory must be reserved in dom0's map: the
    # image at 2 MiB is never RAM to dom0.
    for line in r.lines:
        m = re.match(r"^\(d0\) dom0: mem \[0x([0-9a-f]+)-0x([0-9a-f]+)\] ram", line)
        if m and int(m.group(1), 16) <= 0x200000 <= int(m.group(2), 16):
            fail("dom0's memory map gives it the hypervisor's image at 2 MiB as RAM: " + line,
                 r.tail())
    expect_status(r, POWEROFF)
    return r


def exit_kinds_from_guest(backend, loader, timeout):
    """Every exit kind, checked from inside the guest (test=exits)."""
    r = boot(cfg("test=exits"), loader=loader, timeout=timeout)
    expect_lines_in_order(r.log, [BACKEND_LINE[backend], r"^\(d0\) dom0: exit self-test \(exits\)"] +
                          [r"^\(d0\) dom0: test %s: PASS" % c for c in exit_checks(backend)] +
                          [r"^\(d0\) dom0: tests done: %d passed, 0 failed" % len(exit_checks(backend)),
                           r"^keel: machine stop: poweroff"])
    expect_no_line(r.log, r": FAIL", "a self-test check failed")
    expect_status(r, POWEROFF)
    return r


def fatal_step(backend, loader, timeout, step, announce, keel_lines, status):
    """test=<step>: the checks, then a last step that must end dom0 in the
    way `keel_lines` describe; the hypervisor survives to report it."""
    r = boot(cfg("test=" + step), loader=loader, timeout=timeout)
    expect_lines_in_order(r.log, [BACKEND_LINE[backend],
                                  r"^\(d0\) dom0: tests done: %d passed, 0 failed"
                                  % len(exit_checks(backend)),
                                  announce] + keel_lines)
    expect_no_line(r.log, r"dom0: test %s: FAIL" % step, "the fatal step did not end dom0")
    expect_no_line(r.log, r"^keel: (FATAL|PANIC)", "the hypervisor itself failed")
    expect_status(r, status)
    return r


FATAL_STEPS = {
    # name: (step, announce, hypervisor lines, status)
    "npf-kills-domain": (
        "npf", r"^\(d0\) dom0: touching unmapped gpa (0x[0-9a-f]+)",
        [r"^keel: domain 0 \(dom0\) vCPU 0 killed at RIP 0x[0-9a-f]+: read access to unmapped "
         r"guest-physical 0x100000000$",
         r"^keel: hypervisor unaffected; domain 0 stopped",
         r"^keel: machine stop: crash"], CRASH),
    "triple-fault-kills-domain": (
        "tripfault", r"^\(d0\) dom0: loading an empty IDT and executing int3",
        [r"^keel: domain 0 \(dom0\) vCPU 0 killed at RIP 0x[0-9a-f]+: triple fault",
         r"^keel: hypervisor unaffected; domain 0 stopped",
         r"^keel: machine stop: crash"], CRASH),
    "ud-reflected-to-guest": (
        "ud", r"^\(d0\) dom0: executing ud2",
        [r"^keel: d0v0: #UD at RIP 0x[0-9a-f]+ \(not a hypercall\) reflected to the guest",
         r"^\(d0\) dom0: unexpected exception #UD \(vector 6\)",
         r"^keel: domain 0 \(dom0\) shut down: crash",
         r"^keel: machine stop: crash"], CRASH),
    "hlt-cli-is-poweroff": (
        "hlt", r"^\(d0\) dom0: cli; hlt",
        [r"^keel: domain 0 \(dom0\) shut down: poweroff", r"^keel: machine stop: poweroff"],
        POWEROFF),
    "shutdown-crash-reported": (
        "crash", r"^\(d0\) dom0: requesting SCHEDOP_shutdown\(SHUTDOWN_crash\)",
        [r"^keel: domain 0 \(dom0\) shut down: crash", r"^keel: machine stop: crash"], CRASH),
}
