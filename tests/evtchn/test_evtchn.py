"""Event channels (2-level ABI), shared_info, the callback vector, blocking
and HVM params, checked from inside dom0 on QEMU TCG (SVM).

dom0's self-test (guest/dom0/test/evtchn_test.c, cmdline test=evtchn) does
everything one domain can do on its own: it places shared_info, sends IPIs
to itself, binds VIRQs, loops an interdomain channel back into itself and
pings over it, sleeps in HLT until a VIRQ_TIMER wakes it, and issues every
bad input with the error Xen returns for it. Each check prints one line

    dom0: test evtchn-<name>: PASS|FAIL <detail>

and one boot asserts every check, each with the detail it must report
(DETAILS below), listing every check that failed; the two-domain ping
test belongs to the domain-control tests.
"""

import re

from keeltest import (test, boot, expect_lines_in_order, expect_no_line, expect_status,
                      fail, PANIC, POWEROFF)

T = 120



def cfg(test_value):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=%s\n" % test_value)


# What each check must show beyond PASS (regex on its detail), and what
# it covers: the checks are named in the failure message.
DETAILS = {
    # XENMEM_add_to_physmap puts shared_info over a page of dom0's RAM (the
    # pvclock shows through); bad idx/gpfn/domain/space get Xen's errors.
    "shared-info-map": r"evtchn_init 0 at gpfn 0x[0-9a-f]+, time version \d+ mul 0x[0-9a-f]*[1-9a-f]",
    # XENMEM_memory_map returns the start_info map.
    "memory-map": r"^rc 0, (\d+) entries \(start_info \1\)",
    # An IPI to itself arrives as the callback vector.
    "ipi-self": r"handler ran 1 times",
    # While masked it stays pending without an upcall; unmask delivers it.
    "mask-unmask": r"pending while masked 1, silent 1, unmask 0, delivered 1",
    # 1000 round trips over an interdomain channel looped back into dom0.
    "loopback-ping": r"bind left local pending 1, 1000/1000 round trips",
    "status": r"ipi, interdomain, unbound, closed",
    "virq-bind": r"TIMER, DEBUG, DOM_EXC",
    "poll": r"pending masked port 0, bad port -22, 129 ports -22, bad array -14, bad arg -14",
    "block": r"upcall pending 1, block 0, handled after sti 1",
    "upcall-after-hlt": r"held while IF=0 1, handled at hlt 1",
    "hlt-timer-wake": r"timer 0, slept \d+ us",
    "register-vcpu-info": r"register 0, marked 1, time copied 1, ipi through new area 1$",
    "hvm-params": r"^callback 0x2000000000000f3, console evtchn 42,",
    "vcpu-op": r"is_up 1, vCPU 1 -2, vCPU ~0 -2, runstate 0",
    "bad-input-errors": r"\d+ calls, 0 wrong",
    # Interdomain sends on every port (low, past one selector word, the
    # last one), both directions, each delivered exactly once.
    "many-ports": r"^(\d+) pairs on ports \d+\.\.4095, (\d+) of \2 sends arrived exactly once",
}
CHECKS = list(DETAILS)
LINE = re.compile(r"^\(d0\) dom0: test evtchn-(\S+): (PASS|FAIL) ?(.*)$")


def selftest(loader="uefi", timeout=T):
    """Boots dom0 with test=evtchn once and asserts every check: its PASS
    line and the detail it must report. Every failing check is listed in
    one failure, not only the first."""
    r = boot(cfg("evtchn"), loader=loader, timeout=timeout)
    seen = {}
    for line in r.lines:
        m = LINE.match(line)
        if m:
            seen[m.group(1)] = (m.group(2), m.group(3))
    problems = []
    for name in sorted(set(seen) - set(CHECKS)):
        problems.append("evtchn-%s: reported but no test asserts it (add it to DETAILS)" % name)
    for name in CHECKS:
        if name not in seen:
            problems.append("evtchn-%s: not reported" % name)
            continue
        verdict, detail = seen[name]
        if verdict != "PASS":
            problems.append("evtchn-%s: FAIL %s" % (name, detail))
        elif not re.search(DETAILS[name], detail):
            problems.append("evtchn-%s: detail %r does not match /%s/" % (name, detail,
                                                                          DETAILS[name]))
    m = re.search(r"many-ports: PASS (\d+) pairs", r.log)
    if m and int(m.group(1)) < 2000:
        problems.append("evtchn-many-ports: only %s loopback pairs (the port space holds 2047)"
                        % m.group(1))
    if problems:
        fail("%d of %d event-channel checks wrong: %s" % (len(problems), len(CHECKS),
                                                        "; ".join(problems)), r.tail(40))
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: event-channel self-test \(evtchn\)",
        r"^\(d0\) dom0: evtchn tests done: %d passed, 0 failed" % len(CHECKS),
        r"^keel: domain 0 \(dom0\) shut down: poweroff",
        r"^keel: machine stop: poweroff"])
    expect_no_line(r.log, r"^keel: .*(killed at|PANIC|FATAL)", "the hypervisor or dom0 died")
    expect_status(r, POWEROFF)
    return r


@test("evtchn-selftest-every-check", timeout=T + 60)
def _():
    """One boot of dom0's event-channel self-test on QEMU (SVM), every check
    asserted with the detail it must show (see DETAILS): shared_info and
    the memory map, IPIs, masking, the loopback ping, status, VIRQs,
    polling, blocking, HLT wake-ups, vcpu_info registration, HVM params,
    VCPUOPs, every bad input's error, and sends on every port."""
    selftest()


@test("evtchn-vmx-all-checks-pass", timeout=T + 420)
def _():
    """The same self-test under VT-x (Bochs, corei7_skylake_x): injection of
    the callback vector, the interrupt window and HLT wake-up through the
    VMX back end."""
    r = selftest(loader="bochs", timeout=T + 300)
    expect_lines_in_order(r.log, [r"^keel: virtualization: VMX \("])


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
