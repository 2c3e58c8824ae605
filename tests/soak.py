#!/usr/bin/env python3
"""Keel's soak run (`make soak`; docs/soak.md).

Boots Keel once (QEMU TCG, UEFI) with dom0's `test=domains scenario=soak`
(guest/dom0/test/soak.c): domU create/destroy cycles and hostile domUs making
random hypercalls, with the hypervisor's counts of free frames, domains,
event-channel ports and grant frames/mappings read before and after each
round; every figure must come back. Not part of `make test` (it takes a
long time).

    python3 tests/soak.py                        # 1000 cycles, 10^6 hypercalls
    python3 tests/soak.py --cycles 20 --calls 20000 --rounds 2   # a quick check
    make soak SOAK_ARGS='--cycles 100'

Prints the counts and the outcome, writes build/soak/result.json (with the
date and commit) and keeps the whole serial log in build/soak/serial.log.
Exit status 0 when dom0 reports PASS, every check matched, the hypervisor
never complained and the machine powered off; 1 otherwise.
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import time

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TREE, "tests", "lib"))
import keeltest  # noqa: E402

COUNTS_RE = re.compile(r"dom0: soak: counts (\S+): free pages (\d+), domains (\d+), event "
                       r"channels (\d+), grant frames (\d+), grant mappings (\d+)")
ROUND_RE = re.compile(r"dom0: soak: round (\d+): (\d+) random hypercalls \(seed (\d+)\) in (\d+) ms")
PASS_RE = re.compile(r"dom0: domains: soak: PASS (.*)")


def commit():
    try:
        out = subprocess.run(["git", "-C", TREE, "describe", "--always", "--dirty"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True).stdout.strip()
        return out or "unknown"
    except OSError:
        return "unknown"


def soak_cfg(extra):
    """keel.cfg for a soak with dom0 arguments `extra` ("cycles=8 ...")."""
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=soak %s\n"
            "module pvtest /pvtest.elf\n" % extra)


def check(r, extra, seconds, started, built_from=None):
    """What a soak run must show; returns the result record (its
    `problems` list is empty when it passed)."""
    problems = []
    counts = {m.group(1): [int(x) for x in m.groups()[1:]] for m in COUNTS_RE.finditer(r.log)}
    for when, c in counts.items():
        print("soak: counts %-16s free pages %d, domains %d, event channels %d, grant frames %d, "
              "grant mappings %d" % (when, *c))
    rounds = [m.groups() for m in ROUND_RE.finditer(r.log)]
    calls = sum(int(g[1]) for g in rounds)
    bad = [l for l in r.lines if "MISMATCH" in l]
    if bad:
        problems.append("%d check(s) mismatched, first: %s" % (len(bad), bad[0]))
    hv = [l for l in r.lines if re.match(r"^keel: .*(PANIC|FATAL|BUG at)", l)]
    if hv:
        problems.append("the hypervisor complained: " + hv[0])
    if "before" not in counts or "at-the-end" not in counts:
        problems.append("dom0 did not print the counts before and at the end")
    elif counts["before"] != counts["at-the-end"]:
        problems.append("counts differ: before %s, at the end %s" % (counts["before"],
                                                                    counts["at-the-end"]))
    want = dict(kv.split("=", 1) for kv in extra.split())
    if calls != int(want.get("calls", calls)):
        problems.append("%d random hypercalls reported, %s asked for" % (calls, want["calls"]))
    m = PASS_RE.search(r.log)
    if not m:
        problems.append("no `dom0: domains: soak: PASS` line")
    if r.status != keeltest.POWEROFF:
        problems.append("machine stopped with %s" % keeltest.STATUS_NAMES.get(r.status, r.status))

    result = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": built_from or commit(),
        "args": extra,
        "seconds": round(seconds),
        "hostile_rounds": len(rounds),
        "random_hypercalls": calls,
        "counts": counts,
        "pass": not problems,
        "problems": problems,
        "dom0": m.group(1) if m else None,
    }
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--exits", type=int, default=0,
                    help="exit-level fuzzing steps for the hostile domU (passed on as exits=)")
    ap.add_argument("--timeout", type=int, default=4 * 3600, help="seconds for the whole boot")
    ap.add_argument("--loader", choices=("uefi", "bios", "bochs"), default="uefi",
                    help="uefi/bios: QEMU TCG with AMD SVM; bochs: Intel VT-x (much slower)")
    args = ap.parse_args()

    work = os.path.join(keeltest.BUILD, "soak")
    os.makedirs(work, exist_ok=True)
    extra = "cycles=%d calls=%d rounds=%d seed=%d" % (args.cycles, args.calls, args.rounds,
                                                      args.seed)
    if args.exits:
        extra += " exits=%d" % args.exits
    cfg = soak_cfg(extra)
    started = datetime.datetime.now(datetime.timezone.utc)
    built_from = commit()  # the images were just built from this tree
    print("soak: %s on %s (commit %s), up to %d s; log: build/soak/run.log"
          % (extra, args.loader, built_from, args.timeout), flush=True)
    t0 = time.monotonic()
    with open(os.path.join(work, "run.log"), "w") as log, contextlib.redirect_stdout(log):
        try:
            r = keeltest.boot(cfg, loader=args.loader, timeout=args.timeout)
        except keeltest.TestFailure as e:
            print("soak: FAIL %s" % e.message, file=sys.stderr)
            return 1
    seconds = time.monotonic() - t0
    with open(os.path.join(work, "serial.log"), "w") as f:
        f.write(r.log)

    result = check(r, extra, seconds, started, built_from)
    result["loader"] = args.loader
    problems, m = result["problems"], PASS_RE.search(r.log)
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    if problems:
        print("soak: FAIL after %.0f s:" % seconds)
        for p in problems:
            print("  " + p)
        print(r.tail(40))
        return 1
    print("soak: PASS in %.0f s: %s" % (seconds, m.group(1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
