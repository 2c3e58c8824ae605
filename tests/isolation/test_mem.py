"""Memory isolation around dom0's mappings of domU pages (asm/p2m.h):
a grant or foreign mapping dom0 holds is never overwritten or dropped
without its page reference, whatever path changes dom0's map (another
mapping, a BAR move, MSI-X re-protection), and a dying domU's grant table
cannot grow. The proof is the domU's reaping and the hypervisor's
free-page count (sysctl physinfo) coming back to its value before the
domU (guest/dom0/test/domains_mem.c, scenario `held`)."""

import re

from keeltest import (boot, expect_domains_sound, expect_lines_in_order, expect_no_line, expect_status, fail, test,
                      POWEROFF)

T = 150


def run_scenario(scenario, extra_qemu=()):
    """Boots dom0's domains scenario (as tests/domains does) and checks
    its PASS line, that no check failed, and that the free-page count
    came back."""
    r = boot("cmdline console=com1,115200 loglvl=info\n"
             "module dom0 /dom0.elf test=domains scenario=%s\n"
             "module pvtest /pvtest.elf\n" % scenario, timeout=T, extra=extra_qemu)
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: %s: PASS" % scenario,
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


@test("isolation-mem-held-mappings-never-lost", timeout=T + 60)
def _():
    """dom0 maps a domU's granted page and foreign pages (one on the
    MSI-X table page, a hole in its map). Every other mapping at those
    places is refused; a BAR moved onto a foreign mapping is refused
    (-EBUSY, one line, the register reads back unchanged); a BAR move
    elsewhere re-protects the MSI-X table page and drops the foreign
    mapping there with its reference. Destroyed while dom0 still maps its
    pages, the domU is a zombie whose grant table add_to_physmap cannot
    grow (-ESRCH, free pages unchanged); when dom0 unmaps the rest it is
    reaped and every page is back."""
    r = run_scenario("held", extra_qemu=("-device", "virtio-rng-pci"))
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: check foreign-over-grant: -16 \(want -16\)",
        r"^\(d0\) dom0: domains: check grant-over-foreign: -1 \(want -1\)",
        r"^keel: domain 0: p2m: a BAR move at 0x[0-9a-f]+ would replace its foreign mapping "
        r"of frame 0x[0-9a-f]+: refused \(-EBUSY\)",
        r"^\(d0\) dom0: domains: check bar-move-onto-foreign-refused: 1 \(want 1\)",
        r"^keel: pci \S+ BAR\d: dom0 moved it from 0x[0-9a-f]+ to 0x[0-9a-f]+",
        r"^\(d0\) dom0: domains: check bar-move-home: 1 \(want 1\)",
        r"^keel: domain \d+ \(holder\) destroyed; \d+ frames still mapped by other domains",
        r"^\(d0\) dom0: domains: check dying-grant-table-grow: -3 \(want -3\)",
        r"^\(d0\) dom0: domains: check free-pages-unchanged-by-refusals",
        r"^keel: domain \d+ \(holder\): last frames released, id free",
        r"^\(d0\) dom0: domains: check reaped: -3 \(want -3\)",
        r"^\(d0\) dom0: domains: held: PASS",
    ])
