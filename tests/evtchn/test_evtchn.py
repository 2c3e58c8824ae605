"""Event channels (2-level ABI), shared_info, the callback vector, blocking
and HVM params, checked from inside dom0 on QEMU TCG (SVM).

dom0's self-test (guest/dom0/evtchn_test.c, cmdline test=evtchn) does
everything one domain can do on its own: it places shared_info, sends IPIs
to itself, binds VIRQs, loops an interdomain channel back into itself and
pings over it, sleeps in HLT until a VIRQ_TIMER wakes it, and issues every
bad input with the error Xen returns for it. Each check prints one line

    dom0: test evtchn-<name>: PASS|FAIL <detail>

and each test below boots dom0 with test=evtchn and asserts on its own
check (plus the hypervisor surviving); the two-domain ping test belongs to
the domain-control tests.
"""

from keeltest import (test, boot, expect_lines_in_order, expect_no_line, expect_status,
                      fail, PANIC, POWEROFF)

T = 120

# Every check of test=evtchn, in the order printed.
CHECKS = [
    "shared-info-map", "memory-map", "ipi-self", "mask-unmask", "loopback-ping", "status",
    "virq-bind", "poll", "block", "upcall-after-hlt", "hlt-timer-wake",
    "register-vcpu-info", "hvm-params", "vcpu-op", "bad-input-errors",
]


def cfg(test_value):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=%s\n" % test_value)


def run_checks(*names, loader="uefi"):
    """Boots dom0 with test=evtchn; the named checks must pass, the whole
    self-test must finish, and dom0 must power off cleanly."""
    r = boot(cfg("evtchn"), loader=loader, timeout=T)
    patterns = [r"^\(d0\) dom0: event-channel self-test \(evtchn\)"]
    patterns += [r"^\(d0\) dom0: test evtchn-%s: PASS" % n for n in names]
    patterns += [r"^\(d0\) dom0: evtchn tests done: \d+ passed, \d+ failed",
                 r"^keel: domain 0 \(dom0\) shut down: poweroff",
                 r"^keel: machine stop: poweroff"]
    expect_lines_in_order(r.log, patterns)
    for n in names:
        expect_no_line(r.log, r"dom0: test evtchn-%s: FAIL" % n, "check %s failed" % n)
    expect_no_line(r.log, r"^keel: .*(killed at|PANIC|FATAL)", "the hypervisor or dom0 died")
    expect_status(r, POWEROFF)
    return r


@test("evtchn-all-checks-pass", timeout=T + 60)
def _():
    """Every check of the self-test, in order, none failing."""
    r = run_checks(*CHECKS)
    expect_lines_in_order(r.log, [r"^\(d0\) dom0: evtchn tests done: %d passed, 0 failed"
                                  % len(CHECKS)])


@test("evtchn-vmx-all-checks-pass", timeout=T + 120)
def _():
    """The same self-test under VT-x (Bochs, corei7_skylake_x): injection of
    the callback vector, the interrupt window and HLT wake-up through the
    VMX back end."""
    r = run_checks(*CHECKS, loader="bochs")
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \(",
                                  r"^\(d0\) dom0: evtchn tests done: %d passed, 0 failed"
                                  % len(CHECKS)])


@test("evtchn-shared-info-placed", timeout=T + 60)
def _():
    """XENMEM_add_to_physmap puts shared_info over a page of dom0's RAM (the
    pvclock shows through); idx != 0, gpfn ~0 or too high, unknown domain
    and unknown spaces get Xen's errors; XENMEM_memory_map returns the
    start_info map."""
    run_checks("shared-info-map", "memory-map")


@test("evtchn-loopback-ping", timeout=T + 60)
def _():
    """alloc_unbound + bind_interdomain to dom0's own port (the local end
    starts pending, as in Xen), then 1000 round trips through the callback
    vector, waiting in HLT for each."""
    r = run_checks("loopback-ping")
    expect_lines_in_order(r.log, [r"test evtchn-loopback-ping: PASS .*1000/1000 round trips"])


@test("evtchn-ipi-mask-unmask", timeout=T + 60)
def _():
    """An IPI to itself arrives as the callback vector; while masked it stays
    pending without an upcall, and EVTCHNOP_unmask delivers it."""
    run_checks("ipi-self", "mask-unmask", "status")


@test("evtchn-virq-bind", timeout=T + 60)
def _():
    """VIRQ_TIMER, VIRQ_DEBUG and VIRQ_DOM_EXC bind; binding again is
    -EEXIST; global VIRQs only on vCPU 0; bad VIRQ or vCPU numbers;
    closing frees the VIRQ for a new binding."""
    run_checks("virq-bind")


@test("evtchn-upcall-after-hlt", timeout=T + 60)
def _():
    """An event raised while interrupts are off is delivered at the HLT after
    STI (the vCPU does not sleep on it); SCHEDOP_block returns at once with
    an upcall pending; a vCPU sleeping in HLT is woken by its VIRQ_TIMER."""
    r = run_checks("block", "upcall-after-hlt", "hlt-timer-wake")
    expect_lines_in_order(r.log, [r"test evtchn-hlt-timer-wake: PASS .*slept \d+ us"])


@test("evtchn-poll", timeout=T + 60)
def _():
    """SCHEDOP_poll returns at once for a pending masked port; too many
    ports, a bad port and bad pointers get Xen's errors."""
    run_checks("poll")


@test("evtchn-register-vcpu-info", timeout=T + 60)
def _():
    """VCPUOP_register_vcpu_info moves vcpu_info into dom0's RAM (pending_sel
    = ~0 and upcall_pending set, time copied), events arrive there; a second
    registration is -EBUSY; crossing, misaligned or non-RAM areas fail."""
    run_checks("register-vcpu-info", "vcpu-op")


@test("evtchn-hvm-params", timeout=T + 60)
def _():
    """HVM params: the callback value reads back, CONSOLE_EVTCHN may be set by
    the guest itself, STORE_PFN may only be read; read-only, deprecated and
    out-of-range indices, bad domains and pointers get Xen's errors;
    set_evtchn_upcall_vector and pagetable_dying validate their inputs."""
    run_checks("hvm-params")


@test("evtchn-bad-input-errors", timeout=T + 60)
def _():
    """Every bad event-channel input (ports out of range, reserved or free;
    double close; unknown domains; binding a bound port or one offered to
    another domain; missing vCPUs; FIFO-only and unknown operations; bad
    pointers) returns Xen's errno and leaves no port behind."""
    r = run_checks("bad-input-errors")
    m = [l for l in r.lines if "test evtchn-bad-input-errors: PASS" in l]
    if not m or " 0 wrong" not in m[0]:
        fail("bad-input check did not report 0 wrong", r.tail())


@test("evtchn-hlt-without-event-sleeps", timeout=T + 60)
def _():
    """HLT with interrupts on and nothing that could wake the vCPU puts it to
    sleep (it does not return): with every vCPU asleep and no timer armed,
    the scheduler reports that nothing can wake them and stops."""
    r = boot(cfg("evtchn-sleep"), timeout=T)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: evtchn tests done: \d+ passed, 0 failed",
        r"^\(d0\) dom0: halting with interrupts on and nothing to wake us",
        r"^keel: every vCPU is blocked and nothing can wake them",
    ])
    expect_no_line(r.log, r"dom0: woke up from a halt", "HLT returned with nothing to end it")
    expect_status(r, PANIC)
