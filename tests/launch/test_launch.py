"""The domain launcher and xenstored as a dom0 service (docs/launcher.md,
docs/xenstore.md "In dom0"): dom0's scenarios `launch` and `xenstore`
(guest/dom0/test/domains_launch.c) launch pvtest domUs through
guest/dom0/domain/launch.h, check their xenstore entries in-process,
destroy them and check that no node, ring, domain or page of theirs is
left."""

import re

from keeltest import (boot, expect_domains_sound, expect_lines_in_order, expect_status, fail, test,
                      POWEROFF)

T = 240


def cfg(scenario, extra=""):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=%s %s\n"
            "module pvtest /pvtest.elf\n" % (scenario, extra))


def run(scenario, extra="", loader="uefi", timeout=T):
    r = boot(cfg(scenario, extra), loader=loader, timeout=timeout)
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: %s: PASS" % scenario,
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("launch-failures-undone-and-entries-written", timeout=T + 60)
def _():
    """Launch failures (memory beyond the free pages, a bad image,
    too many, unreadable or oversized modules, and a forced failure before each step) leave no domain, no
    xenstore node, no ring and every free page back, with a line naming
    the failed step; two launched domUs get /local/domain/N with Xen's
    nodes and permissions, @introduceDomain/@releaseDomain reach an
    in-process watch, and after destroy nothing of theirs is left."""
    r = run("launch")
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: launch: launch-more-memory-than-free: launch failing: memory failed: -12",
        r"^\(d0\) dom0: domains: check launch-more-memory-than-free-free-pages-back",
        r"^\(d0\) dom0: launch: launch-bad-image: launch failing: build failed: -8",
        r"^\(d0\) dom0: launch: launch-fail-before-8: launch failing: unpause failed: -4",
        r"^\(d0\) dom0: domains: check failure-release-events: 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check introduce-events: 2 \(want 2\)",
        r"^\(d0\) dom0: domains: check node d\d+/console/type = 'xenconsoled'",
        r"^\(d\d+\) pvtest: work: PASS",
        r"^\(d0\) dom0: domains: check release-events: 2 \(want 2\)",
        r"^\(d0\) dom0: domains: check after-destroy-nodes-back",
    ])
    n = len(re.findall(r"^\(d0\) dom0: launch: launch-fail-before-\d+: .* failed: -4$", r.log, re.M))
    if n != 8:
        fail("expected a forced failure before each of the 8 steps, saw %d" % n, r.tail(80))


@test("xenstore-two-domus-through-rings", timeout=T + 60)
def _():
    """Two pvtest role=xs domUs, launched through the launcher, use dom0's
    xenstored through their rings (own entries, data/ writes, watches,
    transactions with a conflicting pair, EACCES on others' nodes) and
    report no failure; afterwards the store holds nothing of theirs and
    every page is back."""
    r = run("xenstore")
    for m in re.finditer(r"^\(d0\) dom0: launch: d(\d+): xs: (\d+) passed (\d+) failed", r.log, re.M):
        if int(m.group(2)) == 0:
            fail("d%s passed no xenstore check" % m.group(1), r.tail(80))


@test("xenstore-hostile-domu-dropped-good-one-passes", timeout=T + 60)
def _():
    """A role=xs-hostile domU next to a role=xs one: the good one passes,
    dom0 and xenstored survive (dom0 still writes its store afterwards)."""
    r = run("xenstore", "xs_role=xs-hostile")
    expect_lines_in_order(r.log, [
        r"^\(d\d+\) .*xs-hostile: sent \d+",
        r"^\(d0\) dom0: domains: check store-answers-dom0: 0 \(want 0\)",
    ])


@test("xenstore-ring-service-dom0-plays-guest", timeout=T + 60)
def _():
    """dom0's xenstored over a real ring page and event channel, with dom0
    writing the requests a paused domU would: relative reads of its own
    entries, its data/ writes, EACCES on dom0's and its own read-only
    nodes, ENOSYS for an unknown type, a watch whose event dom0's own
    write pushes into the ring, then a corrupted index drops the
    connection (one line) while the store keeps answering; destroy leaves
    nothing behind."""
    r = run("xsring")
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: check ring read own name: type 2 'ringside': 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check ring read dom0's name: type 16 'EACCES': 1 \(want 1\)",
        r"^\(d0\) dom0: domains: check ring watch event on dom0's write: 1 \(want 1\)",
        r"^\(d0\) dom0: xenstored: d\d+: ring broken \(error 2\): connection dropped",
        r"^\(d0\) dom0: domains: check store-answers-dom0-after-drop: 0 \(want 0\)",
        r"^\(d0\) dom0: domains: check after-destroy-nodes-back",
    ])
    n = len(re.findall(r"dom0: xenstored: .*connection dropped", r.log))
    if n != 1:
        fail("expected exactly one dropped-connection line, saw %d" % n, r.tail(60))


@test("xenstore-vmx-ring-service-dom0-plays-guest", timeout=480)
def _():
    """The ring scenario under Bochs (VT-x with EPT): the launcher's
    foreign mappings, channels and undo through the VMX back end."""
    r = run("xsring", loader="bochs", timeout=420)
    expect_lines_in_order(r.log, [
        r"^keel: virtualization: VMX \(",
        r"^\(d0\) dom0: domains: check ring watch event on dom0's write: 1 \(want 1\)",
        r"^\(d0\) dom0: xenstored: d\d+: ring broken \(error 2\): connection dropped",
        r"^\(d0\) dom0: domains: xsring: PASS",
    ])


@test("launch-module-reaches-guest", timeout=T + 60)
def _():
    """A pvtest role=modules domU launched with two modules (an odd-sized
    pseudo-random one and one with a command line) finds both in its
    start info's modlist, in RAM, with the size and FNV-1a sum dom0
    computed over its own copy; destroy gives every page back."""
    r = run("modules")
    want = dict((int(m.group(1)), (int(m.group(2)), m.group(3))) for m in re.finditer(
        r"^\(d0\) dom0: launch: module (\d+) size (\d+) sum ([0-9a-f]+)$", r.log, re.M))
    got = dict((int(m.group(1)), (int(m.group(2)), m.group(3), m.group(4))) for m in re.finditer(
        r"^\(d\d+\) pvtest: modules: module (\d+) size (\d+) sum ([0-9a-f]+) cmdline \"(.*)\"$",
        r.log, re.M))
    if len(want) != 2 or sorted(got) != sorted(want):
        fail("modules dom0 sent %s, guest saw %s" % (want, got), r.tail(60))
    for i in want:
        if got[i][:2] != want[i]:
            fail("module %d: dom0 size/sum %s, guest %s" % (i, want[i], got[i][:2]), r.tail(60))
    if got[1][2] != "second module" or got[0][2] != "":
        fail("module command lines: %r, %r" % (got[0][2], got[1][2]), r.tail(60))
    expect_lines_in_order(r.log, [
        r"^\(d\d+\) pvtest: modules: PASS 2 modules",
        r"^\(d0\) dom0: domains: check modules-after-destroy-free-pages-back",
    ])
