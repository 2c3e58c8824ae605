"""Layout: code that runs in domains (guest/ and dom0's drivers) reaches
nothing of the hypervisor's. It includes only the shared headers
(include/lib/, the freestanding library's and the shared hardware facts;
include/hw/, the PCI/ACPI core both images compile from hw/; include/public/,
the guest ABI) and its own, and each guest links its own
objects plus the two archives built with the guest flags:
build/guest/libguest.a (guest/lib) and build/lib/guest/lib.a (lib/).
README.md "Layout" describes the folders.
"""

import os
import re
import subprocess

from keeltest import test, fail

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Top-level include folders guest code may name in #include <...>.
SHARED_INCLUDE_DIRS = ("lib", "hw", "public")
# Folders of hypervisor code and headers: nothing in a guest may resolve there.
HYPERVISOR_DIRS = ("kernel", "arch", os.path.join("include", "keel"), "boot")


def guest_source_dirs():
    """guest/ and the driver folders dom0 links, as guest/guest.mk lists them
    (DOM0_DRIVERS), so that a new dom0 driver folder is covered too."""
    with open(os.path.join(TREE, "guest", "guest.mk")) as f:
        mk = f.read()
    m = re.search(r"^DOM0_DRIVERS\s*:=\s*\$\(wildcard ([^)]*)\)", mk, re.M)
    if not m:
        fail("guest/guest.mk: no DOM0_DRIVERS := $(wildcard ...) line")
    dirs = ["guest", "hw"] + sorted({os.path.dirname(g) for g in m.group(1).split()})
    if not any(d.startswith("drivers/") for d in dirs):
        fail("guest/guest.mk: DOM0_DRIVERS names no drivers/ folder", m.group(0))
    return dirs


def sources(dirs):
    for d in dirs:
        for root, _, files in os.walk(os.path.join(TREE, d)):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    yield os.path.join(root, name)


def inside(path, folder):
    folder = os.path.join(TREE, folder) + os.sep
    return os.path.realpath(path).startswith(folder)


@test("layout-guests-and-drivers-include-only-shared-headers", timeout=60)
def guests_include_only_shared():
    dirs = guest_source_dirs()
    bad, seen = [], 0
    for path in sources(dirs):
        rel = os.path.relpath(path, TREE)
        with open(path) as f:
            for no, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
                if not m:
                    continue
                seen += 1
                kind, name = m.groups()
                if kind == "<":
                    top = name.split("/")[0] if "/" in name else None
                    if top is not None and top not in SHARED_INCLUDE_DIRS:
                        bad.append("%s:%d: <%s> (only <lib/...>, <public/...> "
                                   "and compiler headers)" % (rel, no, name))
                    continue
                target = os.path.join(os.path.dirname(path), name)
                for h in HYPERVISOR_DIRS:
                    if inside(target, h):
                        bad.append('%s:%d: "%s" resolves into %s/' % (rel, no, name, h))
    if seen < 100:
        fail("only %d #include lines found in %s: the scan is broken" % (seen, ", ".join(dirs)))
    if bad:
        fail("%d include(s) of hypervisor headers from guest code" % len(bad), "\n".join(bad))


@test("layout-guests-link-libguest-and-lib-built-with-guest-flags", timeout=120)
def guests_link_archives():
    images = ["build/dom0.elf", "build/pvtest.elf", "build/pvtest-simd.elf"]
    # -n -B: the commands make would run to build the guests from scratch.
    p = subprocess.run(["make", "-n", "-B"] + images, cwd=TREE, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=100)
    if p.returncode != 0:
        fail("make -n -B %s failed (%d)" % (" ".join(images), p.returncode), p.stdout[-3000:])
    cmds = p.stdout.splitlines()
    for img in images:
        link = [c for c in cmds if re.search(r"\bld\b.*-o %s( |$)" % re.escape(img), c)]
        if len(link) != 1:
            fail("%d link commands for %s in make -n" % (len(link), img), p.stdout[-3000:])
        words = link[0].split()
        for archive in ("build/guest/libguest.a", "build/lib/guest/lib.a"):
            if archive not in words:
                fail("%s is not linked with %s" % (img, archive), link[0])
        if words.index("build/guest/libguest.a") > words.index("build/lib/guest/lib.a"):
            fail("%s links lib.a before libguest.a, which uses it" % img, link[0])
        for w in words:
            if w.endswith((".o", ".a")) and not w.startswith(("build/guest/", "build/lib/guest/")):
                fail("%s links %s, not built with the guest flags" % (img, w), link[0])
    # Everything compiled on the way comes from guest code, lib/ or hw/.
    for c in cmds:
        m = re.search(r"\s-c\s+-o\s+\S+\s+(\S+\.c)\b", c)
        if m and not m.group(1).startswith(tuple(d + "/" for d in guest_source_dirs()) + ("lib/", "hw/")):
            fail("building the guests compiles %s" % m.group(1), c)
