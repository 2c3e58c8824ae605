"""Grant tables v1 from inside a guest: dom0 runs its grant self-test
(guest/dom0/test/grant_test.c, cmdline test=grant), granting its own pages to
itself (Xen lets a domain map and copy its own grants): query_size,
set/get_version, XENMEM_add_to_physmap of table frames, setup_table,
map/unmap with the in-use flags, read-only grants, copies, Xen's GNTST_*
statuses for every bad input, hostile counts, and the 10,240-handle limit.

Each test boots once and checks its own group of the self-test's lines
(`dom0: test grant-NAME: PASS|FAIL detail`); every group also checks that
the machine powered off normally, so the hypervisor survived the bad
input. grant-vmx-selftest runs the whole self-test once under Bochs
(VT-x with EPT), through the same vendor interface. The two-domain case (one domain maps another's grant) runs in the
domain-control tests with two pvtest domUs."""

import re

from keeltest import (boot, expect_lines_in_order, expect_no_line, expect_status, fail, test,
                      POWEROFF)

T = 120
CFG = ("cmdline console=com1,115200 loglvl=info\n"
       "module dom0 /dom0.elf test=grant\n")

GROUPS = {
    "grant-query-size": ["query-size", "query-size-bad-domain", "query-size-bad-call",
                         "set-version", "get-version"],
    "grant-setup-table": ["add-to-physmap", "setup-table", "setup-table-bad-input"],
    "grant-map-self": ["map-self", "unmap-bad-handle", "batch-statuses", "swap"],
    "grant-map-readonly": ["map-readonly"],
    "grant-bad-ref-status": ["bad-ref-status", "hostile-counts"],
    "grant-copy-self": ["copy-self", "copy-gref", "copy-bad-input", "copy-continuation"],
    "grant-handle-exhaustion": ["handle-exhaustion"],
}
ALL_CHECKS = {c for checks in GROUPS.values() for c in checks}
LINE = re.compile(r"^\(d0\) dom0: test grant-(\S+): (PASS|FAIL) ?(.*)$")


def selftest(checks, loader="uefi", timeout=T):
    r = boot(CFG, loader=loader, timeout=timeout)
    seen = {}
    for line in r.lines:
        m = LINE.match(line)
        if m:
            seen[m.group(1)] = (m.group(2), m.group(3))
    unknown = sorted(set(seen) - ALL_CHECKS)
    if unknown:
        fail("self-test checks no test looks at: %s (add them to GROUPS)" % ", ".join(unknown))
    for c in checks:
        if c not in seen:
            fail("dom0 did not report grant-%s" % c, r.tail())
        verdict, detail = seen[c]
        if verdict != "PASS":
            fail("grant-%s: %s" % (c, detail), r.tail())
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: grant-table self-test",
        r"^\(d0\) dom0: tests done: \d+ passed, \d+ failed",
        r"^keel: domain 0 \(dom0\) shut down: poweroff",
    ])
    expect_no_line(r.log, r"^keel: .*(panic|BUG at)", "a guest's bad input must not hurt the hypervisor")
    expect_status(r, POWEROFF)


def _register(name, checks):
    @test(name, timeout=T + 60)
    def _():
        selftest(checks)


for _name, _checks in GROUPS.items():
    _register(_name, _checks)


# Bochs is slow: the whole self-test in one boot (about two minutes).
@test("grant-vmx-selftest", timeout=600)
def _():
    selftest(sorted(ALL_CHECKS), loader="bochs", timeout=500)
