#!/usr/bin/env python3
"""Where an exit path's instructions go (docs/PERFORMANCE.md, "Profiling").

Reads a QEMU log taken with `-d in_asm,exec,nochain -dfilter HV,GUEST`
(HV: build/keel.elf's text, GUEST: the dom0 code around the instruction
that exits) and buckets the hypervisor's executed TBs by function
(`nm build/keel.elf`), for the hypervisor stretches that follow a guest
TB containing the address AFTER (the exiting instruction, from objdump of
build/dom0.elf). Prints instructions per exit by function.

    tests/bench/tb_profile.py LOG --after 0x1003594 [--elf build/keel.elf]
"""
import argparse
import bisect
import re
import subprocess
import sys
from collections import Counter

IN_RE = re.compile(r"^0x([0-9a-f]+):")
TRACE_RE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")


def symbols(elf):
    out = subprocess.run(["nm", "-n", elf], stdout=subprocess.PIPE, check=True).stdout.decode()
    addrs, names = [], []
    for l in out.splitlines():
        p = l.split()
        if len(p) == 3 and p[1] in "tTwW":
            addrs.append(int(p[0], 16))
            names.append(p[2])
    return addrs, names


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log")
    ap.add_argument("--after", required=True, help="guest address of the exiting instruction")
    ap.add_argument("--elf", default="build/keel.elf")
    ap.add_argument("--hv", default="0x200000-0x300000", help="hypervisor text range")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    after = int(a.after, 0)
    hv_lo, hv_hi = (int(x, 0) for x in a.hv.split("-"))
    addrs, names = symbols(a.elf)

    size = {}    # TB start pc -> (instructions, last pc) of its latest translation
    cur = None   # the IN: block being read: [start, count, last]
    in_seg = False
    segs = []
    seg = Counter()
    with open(a.log, errors="replace") as f:
        for l in f:
            if l.startswith("IN:"):
                cur = [None, 0, None]
                continue
            m = IN_RE.match(l)
            if m and cur is not None:
                pc = int(m.group(1), 16)
                if cur[0] is None:
                    cur[0] = pc
                cur[1] += 1
                cur[2] = pc
                size[cur[0]] = (cur[1], cur[2])
                continue
            m = TRACE_RE.match(l)
            if not m:
                continue
            cur = None
            pc = int(m.group(1), 16)
            n, last = size.get(pc, (1, pc))
            if hv_lo <= pc < hv_hi:
                if in_seg:
                    i = bisect.bisect_right(addrs, pc) - 1
                    seg[names[i] if i >= 0 else "?"] += n
            else:
                if in_seg and seg:
                    segs.append(seg)
                seg = Counter()
                in_seg = pc <= after <= last
    if not segs:
        sys.exit("no hypervisor stretch after a guest TB holding %#x" % after)
    tot = sorted(sum(s.values()) for s in segs)
    med = tot[len(tot) // 2]
    typical = [s for s in segs if sum(s.values()) == med] or segs
    agg = Counter()
    for s in typical:
        agg.update(s)
    print("%d exits after %#x; hypervisor instructions per exit: min %d, median %d, max %d"
          % (len(segs), after, tot[0], med, tot[-1]))
    print("breakdown of the median exit (%d of them), by function:" % len(typical))
    for name, n in agg.most_common(a.top):
        print("  %6.0f  %s" % (n / len(typical), name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
