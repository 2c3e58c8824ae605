#!/usr/bin/env python3
"""Keel's performance figures (`make bench`; docs/PERFORMANCE.md).

Boots Keel under QEMU TCG with `-icount shift=0,sleep=off` (scripts/run
--icount), where the guest's RDTSC counts instructions, with dom0's command
line `bench` (guest/dom0/test/bench.c). dom0 prints one line per figure; this
script runs the boot twice (in parallel), parses the lines, prints a table,
says whether the two runs agreed exactly, adds the image sizes and writes
build/bench.json.

    python3 tests/bench.py                    # what `make bench` runs
    python3 tests/bench.py --compare OLD.json # also: deltas against an earlier run
    python3 tests/bench.py --iters 100000 --runs 1

It asserts nothing about the values: it fails (exit status 1) only when a
boot fails (launcher error, panic, time-out, dom0 crash, no `bench done`
line) or a figure could not be measured (`FAIL` from dom0).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("KEEL_BUILD", os.path.join(TREE, "build")))
RUN = os.path.join(TREE, "scripts", "run")
MKIMAGE = os.path.join(TREE, "scripts", "mkimage")
WORK = os.path.join(BUILD, "bench")
DEFAULT_ITERS = 20000
STATUS = {0: "poweroff", 2: "launcher error", 10: "reboot", 11: "dom0 crash",
          12: "hypervisor panic / boot error", 13: "triple fault", 124: "time-out"}

# `(d0) dom0: bench NAME: VALUE UNIT (DETAIL)`; the detail is optional.
# pvtest domUs (guest/pvtest/bench.c) print theirs as `(dN) pvtest: bench ...`.
FIG_RE = re.compile(r"^\(d[0-9]+\) (?:dom0|pvtest): bench ([a-z0-9-]+): ([0-9]+(?:\.[0-9]+)?) (\S+)"
                    r"(?: \((.*)\))?$")
FAIL_RE = re.compile(r"^\(d[0-9]+\) (?:dom0|pvtest): bench ([a-z0-9-]+): FAIL (.*)$")
EXITS_RE = re.compile(r"^\(d0\) dom0: bench-exits ([a-z0-9-]+): (.*)$")
TOTAL_RE = re.compile(r"^\(d0\) dom0: bench exit-counts: (.*)$")
DONE_RE = re.compile(r"^\(d0\) dom0: bench done$")
ANSI_RE = re.compile(r"\x1b(\[[0-9;=?]*[A-Za-z@]|[()][A-Z0-9]|[=>78cDEHM])")


class BenchError(Exception):
    pass


def say(msg=""):
    print(msg, flush=True)


# ---- image sizes ----------------------------------------------------------

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_NOBITS = 8


def elf_sizes(path):
    """Berkeley-style sizes from the section headers, as `size` prints
    them: text = allocated read-only sections (code and rodata), data =
    allocated writable sections with contents, bss = allocated NOBITS."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise BenchError("%s is not an ELF64 file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    text = dat = bss = 0
    for i in range(shnum):
        _, sh_type, flags, _, _, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if not flags & SHF_ALLOC:
            continue
        if sh_type == SHT_NOBITS:
            bss += size
        elif flags & SHF_WRITE:
            dat += size
        else:
            text += size
    return {"text": text, "data": dat, "bss": bss, "total": text + dat + bss,
            "file": len(data)}


def image_sizes():
    out = {}
    for name in ("keel.elf", "dom0.elf"):
        p = os.path.join(BUILD, name)
        if os.path.isfile(p):
            out[name] = elf_sizes(p)
    p = os.path.join(BUILD, "keel.efi")
    if os.path.isfile(p):
        out["keel.efi"] = {"file": os.path.getsize(p)}
    return out


# ---- running ----------------------------------------------------------------

def need(rel):
    p = os.path.join(BUILD, rel)
    if not os.path.isfile(p):
        raise BenchError("build/%s does not exist (did `make` fail?)" % rel)
    return p


def prepare(iters, loader):
    """The boot root (keel.cfg + links) and, for the BIOS path, one ISO that
    every run boots, so that the runs boot byte-identical media."""
    files = ["keel.elf", "dom0.elf", "pvtest.elf"] + (["keel.efi"] if loader == "uefi" else [])
    paths = [need(rel) for rel in files]
    shutil.rmtree(WORK, ignore_errors=True)
    root = os.path.join(WORK, "root")
    os.makedirs(root)
    for rel, p in zip(files, paths):
        os.symlink(p, os.path.join(root, rel))
    cfg = os.path.join(root, "keel.cfg")
    with open(cfg, "w") as f:
        f.write("# written by tests/bench.py\n"
                "cmdline console=com1,115200 loglvl=info\n"
                "module dom0 /dom0.elf bench bench_iters=%d\n"
                "module pvtest /pvtest.elf\n" % iters)
    if loader == "uefi":
        return cfg, root, None
    iso = os.path.join(WORK, "bench.iso")
    cmd = [sys.executable, MKIMAGE, "--cfg", cfg, "--root", root, "--iso", iso, "--no-uefi",
           "--default-opt", "debugexit=0xf4", "-q"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise BenchError("scripts/mkimage failed:\n" + r.stdout.decode(errors="replace"))
    return cfg, root, iso


def start_run(n, cfg, root, iso, timeout, loader):
    serial = os.path.join(WORK, "serial-%d.log" % n)
    log = open(os.path.join(WORK, "run-%d.log" % n), "wb")
    cmd = [sys.executable, RUN, "--icount", "--serial-log", serial, "--timeout", str(timeout)]
    if loader == "bios":
        cmd += ["--bios", "--iso", iso]
    else:
        cmd += ["--cfg", cfg, "--root", root]
    proc = subprocess.Popen(cmd, cwd=TREE, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    return {"n": n, "proc": proc, "serial": serial, "log": log, "cmd": cmd,
            "t0": time.monotonic()}


def serial_lines(path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    text = ANSI_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def tail(lines, n=25):
    lines = [l for l in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join("  | " + l for l in lines[-n:]) or "  (empty serial log)"


def parse_counts(text):
    out = {}
    for word in text.split():
        if "=" in word:
            k, v = word.split("=", 1)
            out[k] = int(v)
    return out


def parse(lines):
    figs, exits, fails, total, done = {}, {}, [], None, False
    for l in lines:
        l = l.rstrip()
        m = FAIL_RE.match(l)
        if m:
            fails.append("%s: %s" % (m.group(1), m.group(2)))
            continue
        m = FIG_RE.match(l)
        if m:
            name, val, unit, detail = m.groups()
            fig = {"value": float(val) if "." in val else int(val), "unit": unit,
                   "detail": detail or ""}
            a = re.search(r"\bavg ([0-9.]+)", detail or "")
            if a:
                fig["avg"] = float(a.group(1))
            figs[name] = fig
            continue
        m = EXITS_RE.match(l)
        if m:
            exits[m.group(1)] = parse_counts(m.group(2))
            continue
        m = TOTAL_RE.match(l)
        if m:
            total = parse_counts(m.group(1))
            continue
        if DONE_RE.match(l):
            done = True
    for name, c in exits.items():
        if name in figs:
            figs[name]["exits"] = c
    return {"figures": figs, "exit_counts": total, "fails": fails, "done": done}


def finish_run(run, timeout):
    try:
        status = run["proc"].wait(timeout + 60)
    except subprocess.TimeoutExpired:
        run["proc"].kill()
        run["proc"].wait()
        status = None
    run["log"].close()
    run["seconds"] = time.monotonic() - run["t0"]
    lines = serial_lines(run["serial"])
    res = parse(lines)
    res["status"] = status
    res["seconds"] = round(run["seconds"], 1)
    res["serial_log"] = os.path.relpath(run["serial"], TREE)
    why = None
    if status != 0:
        why = "scripts/run exited with status %s (%s)" % (status, STATUS.get(status, "?"))
    elif not res["done"]:
        why = "dom0 powered off without printing `dom0: bench done`"
    elif res["fails"]:
        why = "dom0 could not measure: " + "; ".join(res["fails"])
    if why:
        with open(os.path.join(WORK, "run-%d.log" % run["n"]), errors="replace") as f:
            launcher = f.read().strip()
        said = ""
        if launcher:
            said = "  scripts/run said:\n" + "\n".join(
                "    " + l for l in launcher.splitlines()[-10:]) + "\n"
        raise BenchError("bench run %d failed after %.1fs: %s\n  command: %s\n%s"
                         "  serial log %s, last lines:\n%s" % (
                             run["n"], run["seconds"], why, " ".join(run["cmd"]), said,
                             os.path.relpath(run["serial"], TREE), tail(lines)))
    return res


# ---- reporting ----------------------------------------------------------------

def fmt_val(v):
    if isinstance(v, float):
        return "%.2f" % v
    return "{:,}".format(v)


def exits_summary(fig):
    c = fig.get("exits")
    if not c:
        return ""
    return ", ".join("%s %s" % (k, "{:,}".format(v))
                     for k, v in sorted(c.items(), key=lambda kv: -kv[1]))


def print_table(rows, headers, right=(1, 3)):
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    say(("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths))).rstrip())
    say("  " + "  ".join("-" * w for w in widths))
    for r in rows:
        cells = []
        for i, (c, w) in enumerate(zip(r, widths)):
            c = str(c)
            cells.append(c.rjust(w) if i in right else c.ljust(w))
        say("  " + "  ".join(cells).rstrip())


# Figures that include the firmware's and GRUB's disk reads: QEMU completes
# those asynchronously, at host-timing-dependent instruction counts, so
# they differ between runs even under -icount (docs/PERFORMANCE.md).
VARIES = {"boot-dom0-entry"}


def compare_runs(runs):
    """Differences between the runs' figures (value, avg, exit counts):
    (differences, expected differences in VARIES)."""
    diffs, expected = [], []
    first = runs[0]
    for k, r in enumerate(runs[1:], 2):
        names = set(first["figures"]) | set(r["figures"])
        for name in sorted(names):
            a, b = first["figures"].get(name), r["figures"].get(name)
            if a is None or b is None:
                diffs.append("%s: only in run %d" % (name, 1 if b is None else k))
                continue
            for key in ("value", "avg", "exits"):
                if a.get(key) != b.get(key):
                    (expected if name in VARIES else diffs).append("%s %s: run 1 %s, run %d %s" % (name, key, a.get(key), k,
                                                                 b.get(key)))
        if first["exit_counts"] != r["exit_counts"]:
            diffs.append("exit-counts: run 1 %s, run %d %s" % (first["exit_counts"], k,
                                                              r["exit_counts"]))
    return diffs, expected


def print_compare(old_path, figs):
    try:
        with open(old_path) as f:
            old = json.load(f)
    except (OSError, ValueError) as e:
        raise BenchError("--compare %s: %s" % (old_path, e))
    say("\nCompared with %s (%s, commit %s):" % (old_path, old.get("date", "?"),
                                                 old.get("commit", "?")[:12]))
    rows = []
    names = list(figs) + [n for n in old.get("figures", {}) if n not in figs]
    for name in names:
        a = old.get("figures", {}).get(name, {}).get("value")
        b = figs.get(name, {}).get("value")
        if a is None or b is None:
            rows.append([name, fmt_val(a) if a is not None else "-",
                         fmt_val(b) if b is not None else "-", "", ""])
            continue
        d = b - a
        pct = ("%+.1f%%" % (100.0 * d / a)) if a else ""
        rows.append([name, fmt_val(a), fmt_val(b),
                     ("%+.2f" % d) if isinstance(d, float) else "{:+,}".format(d), pct])
    for img in ("keel.elf", "dom0.elf"):
        for part in ("text", "data", "bss"):
            a = old.get("sizes", {}).get(img, {}).get(part)
            b = SIZES.get(img, {}).get(part)
            if a is not None and b is not None and a != b:
                rows.append(["%s %s" % (img, part), "{:,}".format(a), "{:,}".format(b),
                             "{:+,}".format(b - a), "%+.1f%%" % (100.0 * (b - a) / a) if a else ""])
    widths = [max(len(str(r[i])) for r in rows + [["figure", "before", "after", "delta", ""]])
              for i in range(5)]
    hdr = ["figure", "before", "after", "delta", ""]
    say(("  " + "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                          for i, (h, w) in enumerate(zip(hdr, widths)))).rstrip())
    for r in rows:
        say("  " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))


SIZES = {}

# ---- targets (issue 16; docs/PERFORMANCE.md) ----------------------------------

# The figures dom0's `bench` must print; a run without one of them fails.
EXPECTED = ("loop-baseline", "cpuid-exit", "hypercall-page", "hypercall-direct",
            "pio-unemulated", "pio-testport", "msr-read", "evtchn-loopback",
            "boot-dom0-entry", "boot-first-line", "boot-hv-to-dom0",
            "domain-create", "domain-destroy", "domain-mem", "vcpu-mem",
            "create-first-insn", "create-first-line", "domain-destroy-domu",
            "pingpong-domu", "pingpong-dom0")

# The summary table: (key, what, target, Xen 4.17 on this platform). key is
# a figure name, or None for what cannot be measured yet (the reason in
# place of a value). target: ("<=", N), ("<=", N, "KiB"), ("report",) or
# ("floor",).
TARGETS = [
    ("cpuid-exit", "CPUID exit round trip (dom0 PVH, no NRIP save)", ("<=", 800), 6500),
    (None, "CPUID round trip, instruction length known",
     ("<=", 400), None, "not measurable here (QEMU's SVM has no NRIP save)"),
    ("hypercall-direct", "null hypercall xen_version, direct VMMCALL", ("<=", 500), 6630),
    ("pio-unemulated", "intercepted port read (inb 0x99)", ("<=", 400), None),
    ("evtchn-loopback", "evtchn send to self, upcall delivered", ("<=", 1500), None),
    ("pingpong-domu", "evtchn ping-pong domU <-> domU, round trip", ("<=", 6000), None),
    ("pingpong-dom0", "evtchn ping-pong domU <-> dom0, round trip", ("<=", 6000), None),
    ("boot-hv-to-dom0", "boot: hypervisor -> dom0's first instruction", ("<=", 5000000), None),
    ("boot-hv-to-dom0-line", "boot: hypervisor -> dom0's first console line", ("report",),
     9000000000),
    ("create-first-insn", "create -> guest's first instruction (4 MiB pvtest)",
     ("<=", 2000000), None),
    ("domain-create", "create hypercall alone (1 vCPU, no RAM)", ("report",), None),
    ("create-first-line", "create -> guest ready (pvtest's first line)", ("report",), None),
    ("domain-destroy-domu", "destroy done (4 MiB pvtest, powered off)", ("<=", 1000000), None),
    ("domain-destroy", "destroy hypercall (1 vCPU, no RAM)", ("report",), None),
    ("domain-mem", "hypervisor memory per domain, 1 vCPU, no RAM", ("<=", 65536), None),
    ("vcpu-mem", "hypervisor memory per extra vCPU", ("report",), None),
    ("hv-loc", "hypervisor lines of code (boot arch kernel include lib uart)",
     ("<=", 15000), None),
    ("ring-suppressed", "host ring, notification suppression (median of 3)", ("report",), None),
    ("ring-always", "host ring, notify every message (median of 3)", ("report",), None),
    ("ring-mutex", "host mutex+condvar queue, the floor (median of 3)", ("floor",), None),
    ("pvblk-seq-read-ratio", "PV block seq reads (128 KiB, 8 in flight), domU/dom0",
     (">=", 0.90), None),
    ("pvblk-seq64k-read-ratio", "PV block seq 64 KiB reads QD32, domU/dom0", (">=", 0.90),
     None),
    ("pvblk-rand4k-read-ratio", "PV block rand 4 KiB reads QD32, domU/dom0", (">=", 0.80),
     None),
    ("pvblk-rand4k-write-ratio", "PV block rand 4 KiB writes QD32, domU/dom0", (">=", 0.80),
     None),
    ("pvblk-qd1-seq64k-read-ratio", "PV block seq 64 KiB reads QD1, domU/dom0", ("report",),
     None),
    ("pvblk-qd1-rand4k-read-ratio", "PV block rand 4 KiB reads QD1, domU/dom0", ("report",),
     None),
    ("pvblk-qd1-rand4k-write-ratio", "PV block rand 4 KiB writes QD1, domU/dom0", ("report",),
     None),
    ("pvblk-exits-per-req", "PV block VM exits per request QD32 (domU + dom0)", ("<=", 0.2),
     None),
    ("pvblk-notify-per-req", "PV block event notifications per request QD32", ("<=", 0.2),
     None),
    ("pvnet-nic-ratio", "PV net 1514 B frames/s, domU->bridge->NIC / dom0->NIC",
     (">=", 0.80), None),
    ("pvnet-domu-ratio", "PV net 1514 B frames/s, domU->domU / dom0->NIC", (">=", 0.80), None),
    ("pvnet-exits-per-frame", "PV net: sender domU's VM exits per frame in a stream",
     ("<=", 0.1), None),
    ("pvnet-dom0-exits-per-frame", "PV net: dom0's VM exits per frame (netback, bridge)",
     ("report",), None),
    ("linux-cpu-ratio", "Linux domU md5sum loop: run time alone / next to a busy domU",
     (">=", 0.98), None),
    ("linux-boot-create-to-shell", "Linux domU: xl create -> /init starts its shell",
     ("report",), None),
    ("linux-boot-kernel-to-shell", "Linux domU: kernel's clock starts -> /init's shell",
     ("report",), None),
    ("linux-dd-read-ratio", "Linux domU dd bs=1M of xvda / dom0 blkread, same disk",
     ("report",), None),
    ("linux-dd-direct-read-ratio", "the same, dd iflag=direct (no page cache)", ("report",),
     None),
    ("linux-dd-direct-read-ratio-128k", "dd iflag=direct / dom0 blkread in 128 KiB requests",
     ("report",), None),
    (None, "Linux domU CPU-bound work vs dom0", (">=", 0.98), None,
     "not comparable: Keel's dom0 is a C program, no Linux, no md5sum"),
]

# The hypervisor proper: what keel.elf is built from (drivers/uart is the
# one driver it links; lib/ its string and format code).
LOC_DIRS = ("boot", "arch", "kernel", "include", "lib", "drivers/uart")
LOC_EXT = (".c", ".h", ".S", ".s", ".ld")


def code_lines(text):
    """Lines that hold code: not blank, not only a comment (C /* */ and //,
    assembler # lines that are not preprocessor directives)."""
    n, in_block = 0, False
    for line in text.split("\n"):
        code, i = "", 0
        while i < len(line):
            if in_block:
                j = line.find("*/", i)
                if j < 0:
                    i = len(line)
                else:
                    in_block, i = False, j + 2
            elif line.startswith("/*", i):
                in_block, i = True, i + 2
            elif line.startswith("//", i):
                break
            else:
                code += line[i]
                i += 1
        if code.strip():
            n += 1
    return n


def hv_loc():
    total, per = 0, {}
    for d in LOC_DIRS:
        n = 0
        for base, _, files in os.walk(os.path.join(TREE, d)):
            for f in files:
                if f.endswith(LOC_EXT):
                    with open(os.path.join(base, f), errors="replace") as fh:
                        n += code_lines(fh.read())
        per[d] = n
        total += n
    return total, per


RING_BENCH = os.path.join(BUILD, "ring_bench")
RING_RE = re.compile(r"^ring ([a-z]+): median ([0-9]+) req/s, spread ([0-9]+)\.\.([0-9]+)$")


def ring_figures(secs):
    """Runs build/ring_bench (tests/bench/ring_bench.c; no icount: wall
    clock, 3 runs per mode) and returns its figures."""
    if not os.path.isfile(RING_BENCH):
        raise BenchError("build/ring_bench does not exist (did `make` fail?)")
    r = subprocess.run([RING_BENCH, str(secs), "3"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = r.stdout.decode(errors="replace")
    figs = {}
    for l in out.splitlines():
        m = RING_RE.match(l.strip())
        if m:
            figs["ring-" + m.group(1)] = {
                "value": int(m.group(2)), "unit": "req/s",
                "detail": "3 runs, spread %s..%s" % (m.group(3), m.group(4)),
                "spread": [int(m.group(3)), int(m.group(4))]}
    for mode in ("suppressed", "always", "mutex"):
        if "ring-" + mode not in figs:
            raise BenchError("ring_bench printed no `ring %s: median` line:\n%s" % (mode, out))
    return figs


PVBLK_TEST = "pvblk-bench-read-throughput"
PVBLK_RE = re.compile(r"(native|PV) read (\d+) bytes in (\d+) us")


def log_path(name):
    return os.path.join(BUILD, "test-logs", name + ".log")


def test_logs(name, runs, timeout):
    """Runs the integration test `name` (tests/run.py) `runs` times, one
    after another, and returns each run's log text; BenchError names the
    run that failed."""
    texts = []
    log = log_path(name)
    for k in range(runs):
        r = subprocess.run([sys.executable, os.path.join(TREE, "tests", "run.py"), "--match",
                            name], cwd=TREE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        if r.returncode != 0:
            raise BenchError("%s failed (run %d of %d):\n%s" % (
                name, k + 1, runs, r.stdout.decode(errors="replace")[-2000:]))
        with open(log, errors="replace") as f:
            texts.append(f.read())
    return texts


def pvblk_figures(runs):
    """Runs the test pvblk-bench-read-throughput (tests/pvblk/test_pvblk.py:
    24 MiB read three times by dom0 from a virtio-blk disk, then by a
    pvtest domU through blkback; wall clock under TCG, not icount) `runs`
    times and returns the domU / dom0-native throughput ratio: the median
    of the runs, with every run's ratio as the spread."""
    ratios, detail = [], []
    texts = test_logs(PVBLK_TEST, runs, 900)
    for text in texts:
        rate = {}
        for m in PVBLK_RE.finditer(text):
            rate[m.group(1)] = int(m.group(2)) / max(int(m.group(3)), 1)
        if "native" not in rate or "PV" not in rate:
            raise BenchError("%s printed no native/PV read lines (%s)" % (PVBLK_TEST,
                                                                          log_path(PVBLK_TEST)))
        ratios.append(rate["PV"] / rate["native"])
        detail.append("%.0f/%.0f MiB/s" % (rate["PV"] * 1e6 / 2 ** 20,
                                          rate["native"] * 1e6 / 2 ** 20))
    srt = sorted(ratios)
    figs = {"pvblk-seq-read-ratio": {
        "value": round(srt[len(srt) // 2], 3), "unit": "ratio",
        "detail": "%d runs of %s, domU/dom0 %s; wall clock, spread %.3f..%.3f" % (
            runs, PVBLK_TEST, ", ".join(detail), srt[0], srt[-1]),
        "spread": [round(srt[0], 3), round(srt[-1], 3)]}}
    figs.update(pvblk_qd32_figures(texts))
    return figs


PVBLK_QD32_RE = re.compile(r"(native|PV) ((?:qd1-)?(?:seq64k-read|rand4k-read|rand4k-write)) "
                           r"(\d+) bytes "
                           r"in (\d+) us")
PVBLK_PHASE_RE = re.compile(r"qd32 phase: (\d+) requests, domU exits (\d+), dom0 exits (\d+), "
                            r"backend notifications (\d+)")
PVBLK_FE_RE = re.compile(r"pvtest: blk: bench: qd32 (\d+) requests, (\d+) notifies")


def median_fig(vals, unit, what):
    srt = sorted(vals)
    return {"value": round(srt[len(srt) // 2], 3), "unit": unit,
            "detail": "%d runs of %s; %s; spread %.3f..%.3f" % (
                len(vals), PVBLK_TEST, what, srt[0], srt[-1]),
            "spread": [round(srt[0], 3), round(srt[-1], 3)]}


def pvblk_qd32_figures(texts):
    """The queue-depth-32 PV block figures of each run's log (the same
    test; guest/dom0/test/pvblk_bench.c and guest/pvtest/blk.c): domU /
    dom0-native throughput for sequential 64 KiB reads and random 4 KiB
    reads and writes, and VM exits (domU's and dom0's) and event
    notifications (both ways) per request over the domU's QD32 phase;
    and the same ratios at queue depth 1 (qd1-)."""
    ratios = {"seq64k-read": [], "rand4k-read": [], "rand4k-write": [],
              "qd1-seq64k-read": [], "qd1-rand4k-read": [], "qd1-rand4k-write": []}
    exits, notes, split = [], [], []
    for text in texts:
        us = {}
        for m in PVBLK_QD32_RE.finditer(text):
            us[(m.group(1), m.group(2))] = int(m.group(4))
        for w in ratios:
            if ("native", w) not in us or ("PV", w) not in us:
                raise BenchError("%s printed no native/PV %s lines" % (PVBLK_TEST, w))
            # Same bytes on both sides: the ratio of throughputs is that of times.
            ratios[w].append(us[("native", w)] / max(us[("PV", w)], 1))
        ph, fe = PVBLK_PHASE_RE.search(text), PVBLK_FE_RE.search(text)
        if not ph or not fe:
            raise BenchError("%s printed no qd32 phase counts" % PVBLK_TEST)
        req = max(int(ph.group(1)), 1)
        exits.append((int(ph.group(2)) + int(ph.group(3))) / req)
        notes.append((int(fe.group(2)) + int(ph.group(4))) / req)
        split.append("domU %.3f + dom0 %.3f exits, fe %.3f + be %.3f notifications" % (
            int(ph.group(2)) / req, int(ph.group(3)) / req, int(fe.group(2)) / req,
            int(ph.group(4)) / req))
    figs = {}
    for w, vals in ratios.items():
        figs["pvblk-%s-ratio" % w] = median_fig(vals, "ratio", "domU/dom0 wall clock")
    figs["pvblk-exits-per-req"] = median_fig(exits, "exits/req", "; ".join(split))
    figs["pvblk-notify-per-req"] = median_fig(notes, "notes/req", "frontend + backend sends")
    return figs


PVNET_TEST = "pvnet-bench-stream"
PVNET_RATE_RE = re.compile(r"^pvnet bench: (native|nic|domu) (\d+) frames in (\d+) us", re.M)
PVNET_EXITS_RE = re.compile(r"^pvnet bench: (nic|domu) exits per frame ([0-9.]+) \(sender\), "
                            r"([0-9.]+) \(dom0\)", re.M)


def median(xs):
    return sorted(xs)[len(xs) // 2]


def pvnet_figures(runs):
    """Runs the test pvnet-bench-stream (tests/pvnet/test_pvnet_bench.py:
    2000 frames of 1514 bytes by dom0 out of its virtio-net NIC, by a
    pvtest domU through netback and xenbr0 out of that NIC, and from that
    domU to another; wall clock under TCG) `runs` times and returns the
    domU / dom0-native frames/s ratios and the exits per frame: medians,
    with every run's values as the spread."""
    nic, domu, exits, dom0x, detail = [], [], [], [], []
    for text in test_logs(PVNET_TEST, runs, 900):
        rate = {m.group(1): int(m.group(2)) * 1e6 / max(int(m.group(3)), 1)
                for m in PVNET_RATE_RE.finditer(text)}
        ex = {m.group(1): (float(m.group(2)), float(m.group(3)))
              for m in PVNET_EXITS_RE.finditer(text)}
        if set(rate) != {"native", "nic", "domu"} or set(ex) != {"nic", "domu"}:
            raise BenchError("%s printed no native/nic/domu figures (%s)"
                             % (PVNET_TEST, log_path(PVNET_TEST)))
        nic.append(rate["nic"] / rate["native"])
        domu.append(rate["domu"] / rate["native"])
        exits.append(max(ex["nic"][0], ex["domu"][0]))
        dom0x.append(max(ex["nic"][1], ex["domu"][1]))
        detail.append("%.0f/%.0f/%.0f" % (rate["nic"], rate["domu"], rate["native"]))
    how = "%d runs of %s, frames/s nic/domu/native %s; wall clock" % (
        runs, PVNET_TEST, ", ".join(detail))

    def fig(xs, unit, what):
        return {"value": round(median(xs), 3), "unit": unit,
                "detail": "%s, spread %.3f..%.3f" % (what, min(xs), max(xs)),
                "spread": [round(min(xs), 3), round(max(xs), 3)]}
    return {"pvnet-nic-ratio": fig(nic, "ratio", how),
            "pvnet-domu-ratio": fig(domu, "ratio", how),
            "pvnet-exits-per-frame": fig(exits, "exits", "the sender's, the larger of its "
                                         "two streams; %d runs" % runs),
            "pvnet-dom0-exits-per-frame": fig(dom0x, "exits", "dom0's during the stream, the "
                                              "larger of the two; %d runs" % runs)}


LINUX_TEST = "linux-bench-cpu-alone-and-busy"
LINUX_RE = re.compile(r"^linux bench: run ratio ([0-9.]+) wall ratio ([0-9.]+)", re.M)
LINUX_RUN_RE = re.compile(r"^linux bench: (alone|busy) run (\d+) cs wall (\d+) cs", re.M)


def linux_figures(runs):
    """Runs the test linux-bench-cpu-alone-and-busy (tests/linux/
    test_linux_bench.py: a fixed md5sum loop in a Linux PVH domU alone,
    then next to a spinning pvtest domU, under -icount) `runs` times and
    returns the ratio of the guest's running times (wall - steal), alone
    / busy: the median, the runs' values as the spread."""
    ratios, detail = [], []
    for text in test_logs(LINUX_TEST, runs, 1900):
        m = LINUX_RE.search(text)
        t = {g.group(1): (int(g.group(2)), int(g.group(3))) for g in LINUX_RUN_RE.finditer(text)}
        if not m or set(t) != {"alone", "busy"}:
            raise BenchError("%s printed no run ratio (%s)" % (LINUX_TEST, log_path(LINUX_TEST)))
        ratios.append(float(m.group(1)))
        detail.append("run %d/%d cs, wall %d/%d cs" % (t["alone"][0], t["busy"][0],
                                                      t["alone"][1], t["busy"][1]))
    return {"linux-cpu-ratio": {
        "value": round(median(ratios), 3), "unit": "ratio",
        "detail": "%d run(s) of %s under -icount, alone/busy %s; spread %.3f..%.3f" % (
            runs, LINUX_TEST, "; ".join(detail), min(ratios), max(ratios)),
        "spread": [round(min(ratios), 3), round(max(ratios), 3)]}}


LINUX_BOOT_TEST = "linux-bench-boot-and-dd"
LINUX_BOOT_RE = re.compile(r"^linux bench: boot create-to-shell (\d+) insns kernel-to-shell (\d+) "
                           r"insns first-insn (\d+) insns kernel-to-init (\d+) insns", re.M)
LINUX_DD_RE = re.compile(r"^linux bench: dd ratio ([0-9.]+) direct ratio ([0-9.]+) guest (\d+) "
                         r"bytes (\d+) ns direct (\d+) ns dom0 (\d+) bytes (\d+) ns (\d+) "
                         r"requests", re.M)


def linux_boot_parse(texts):
    """The figures from the logs of `linux-bench-boot-and-dd` runs (their
    `linux bench:` lines): create -> shell and kernel -> shell in
    instructions (the -icount boot: every run's the same, the first
    reported, the others as the spread), the dd ratio (wall clock: the
    median)."""
    boots, dds = [], []
    for k, text in enumerate(texts, 1):
        b, d = LINUX_BOOT_RE.search(text), LINUX_DD_RE.search(text)
        if not b or not d:
            raise BenchError("%s run %d printed no boot or dd line" % (LINUX_BOOT_TEST, k))
        boots.append(tuple(int(x) for x in b.groups()))
        dds.append((float(d.group(1)), float(d.group(2))) +
                   tuple(int(x) for x in d.groups()[2:]))
    n = len(texts)

    def insns(i, what):
        xs = [b[i] for b in boots]
        return {"value": xs[0], "unit": "insns",
                "detail": "%s; %d run(s) of %s under -icount%s" % (
                    what, n, LINUX_BOOT_TEST,
                    "" if len(set(xs)) == 1 else ", spread %d..%d" % (min(xs), max(xs))),
                "spread": [min(xs), max(xs)]}

    def ratio(i, what):
        xs = [d[i] for d in dds]
        return {"value": round(median(xs), 3), "unit": "ratio",
                "detail": "%s; %d run(s), wall clock: guest %s ns, dom0 %s ns for %d bytes; "
                          "spread %.3f..%.3f" % (what, n, "/".join(str(d[i + 3]) for d in dds),
                                                 "/".join(str(d[6]) for d in dds), dds[0][2],
                                                 min(xs), max(xs)),
                "spread": [round(min(xs), 3), round(max(xs), 3)]}
    return {
        "linux-boot-create-to-shell": insns(
            0, "create hypercall -> Linux's first instruction %d (the hypervisor's line) + "
               "Linux's clock -> /init's shell marker %d; Linux's steps before its clock "
               "starts are not counted" % (boots[0][2], boots[0][1])),
        "linux-boot-kernel-to-shell": insns(
            1, "Linux's printk clock (from setup_arch's Xen clock init) to /init's marker "
               "after loading xen-blkfront; /init itself started at %d" % boots[0][3]),
        "linux-dd-read-ratio": ratio(0, "dd bs=1M through Linux's page cache"),
        "linux-dd-direct-read-ratio": ratio(1, "dd bs=1M iflag=direct"),
        "linux-dd-direct-read-ratio-128k": ratio128(texts)}


LINUX_DD128_RE = re.compile(r"^linux bench: dom0 blkread 128k (\d+) ns (\d+) requests "
                            r"direct ratio ([0-9.]+)", re.M)


def ratio128(texts):
    """dd iflag=direct against dom0's blkread in 128 KiB requests, the
    largest Linux's blkfront sends by default: the PV path's own cost,
    without the request-size difference (median of the runs)."""
    xs = []
    for k, text in enumerate(texts, 1):
        m = LINUX_DD128_RE.search(text)
        if not m:
            raise BenchError("%s run %d printed no blkread 128k line" % (LINUX_BOOT_TEST, k))
        xs.append(float(m.group(3)))
    return {"value": round(median(xs), 3), "unit": "ratio",
            "detail": "%d run(s) of %s, wall clock; spread %.3f..%.3f" % (
                len(xs), LINUX_BOOT_TEST, min(xs), max(xs)),
            "spread": [round(min(xs), 3), round(max(xs), 3)]}


def linux_boot_figures(runs):
    """Runs the test linux-bench-boot-and-dd (tests/linux/
    test_linux_bench.py: a Linux domU's boot timeline under -icount, then
    its dd of xvda against dom0's blkread of the same disk, wall clock)
    `runs` times; linux_boot_parse's figures."""
    return linux_boot_parse(test_logs(LINUX_BOOT_TEST, runs, 1900))


def derived(figs):
    """Figures computed from dom0's: hypervisor to dom0's first line."""
    if "boot-hv-to-dom0" in figs and "boot-first-line" in figs:
        figs["boot-hv-to-dom0-line"] = {
            "value": figs["boot-hv-to-dom0"]["value"] + figs["boot-first-line"]["value"],
            "unit": "insns", "detail": "boot-hv-to-dom0 + boot-first-line"}


def met(target, value):
    if target[0] == "<=":
        return "yes" if value <= target[1] else "NO"
    if target[0] == ">=":
        return "yes" if value >= target[1] else "NO"
    return ""


def fmt_target(t):
    if t[0] in ("<=", ">="):
        v = t[1]
        return "%s %s" % (t[0], fmt_val(v) if isinstance(v, float) else "{:,}".format(v))
    return t[0]


def print_summary(figs):
    rows = []
    for entry in TARGETS:
        key, what, target, xen = entry[:4]
        f = figs.get(key) if key else None
        xs = "{:,}".format(xen) if isinstance(xen, int) else ""
        if key == "boot-hv-to-dom0-line" and xen:
            xs = "~9e9 (to Linux init)"
        if f is None:
            rows.append([what, "-", "", fmt_target(target), "", xs,
                         entry[4] if len(entry) > 4 else "MISSING"])
            continue
        rows.append([what, fmt_val(f["value"]), f["unit"], fmt_target(target),
                     met(target, f["value"]), xs, ""])
    print_table(rows, ["figure", "value", "unit", "target", "met", "Xen 4.17", "note"],
                right=(1,))


def git_commit():
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=TREE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=10)
        return r.stdout.decode().strip() if r.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def qemu_version():
    try:
        r = subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=10)
        return r.stdout.decode().split("\n")[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int,
                    default=int(os.environ.get("KEEL_BENCH_ITERS", DEFAULT_ITERS)),
                    help="iterations per figure (multiple of 100; default %d, or "
                         "$KEEL_BENCH_ITERS)" % DEFAULT_ITERS)
    ap.add_argument("--runs", type=int, default=2, help="boots to compare (default 2)")
    ap.add_argument("--sequential", action="store_true",
                    help="one boot after the other (default: all at once)")
    ap.add_argument("--loader", choices=("bios", "uefi"), default="bios",
                    help="bios: SeaBIOS + GRUB2 ISO (default); uefi: OVMF, which under "
                         "-icount takes about 4 minutes to reach Keel")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per boot (default 150, uefi 600)")
    ap.add_argument("--json", default=None,
                    help="where to write the results (default build/bench.json; "
                         "with --smoke build/bench-smoke.json)")
    ap.add_argument("--compare", metavar="OLD.json",
                    help="print deltas against an earlier bench.json")
    ap.add_argument("--smoke", action="store_true",
                    help="a quick check that every figure is produced and parses (make test): "
                         "1 run, 100 iterations, ring 0.05 s; no values are judged")
    ap.add_argument("--ring-secs", type=float, default=0.5,
                    help="seconds per ring_bench run (default 0.5)")
    ap.add_argument("--pvblk-runs", type=int, default=3,
                    help="runs of the PV block read test (default 3; 0 skips it; "
                         "--smoke: 0)")
    ap.add_argument("--pvnet-runs", type=int, default=3,
                    help="runs of the PV net stream test (default 3, about 15 s each; 0 skips "
                         "it; --smoke: 0)")
    ap.add_argument("--linux-runs", type=int, default=1,
                    help="runs of each Linux domU test: the CPU test and the boot and dd "
                         "test (default 1: the CPU work and the boot run under -icount and "
                         "repeat; the dd ratio is wall clock; about 2.5 minutes each; 0 skips "
                         "them; --smoke: 0)")
    ap.add_argument("--compare-only", action="store_true",
                    help="run nothing: compare the --json file with --compare OLD.json")
    a = ap.parse_args()
    if a.json is None:
        a.json = os.path.join(BUILD, "bench-smoke.json" if a.smoke else "bench.json")
    if a.compare_only:
        if not a.compare:
            ap.error("--compare-only needs --compare OLD.json")
        try:
            with open(a.json) as f:
                new = json.load(f)
            SIZES.update(new.get("sizes", {}))
            say("%s (%s, commit %s)" % (a.json, new.get("date", "?"), new.get("commit", "?")[:12]))
            print_compare(a.compare, new.get("figures", {}))
        except (OSError, ValueError, BenchError) as e:
            sys.stderr.write("bench: %s\n" % e)
            return 1
        return 0
    if a.smoke:
        a.iters, a.runs, a.ring_secs, a.pvblk_runs = 100, 1, 0.05, 0
        a.pvnet_runs = a.linux_runs = 0
    if a.iters < 100:
        ap.error("--iters must be at least 100")
    a.iters -= a.iters % 100
    timeout = a.timeout or (600 if a.loader == "uefi" else 150)
    t_start = time.monotonic()

    try:
        SIZES.update(image_sizes())
        cfg, root, iso = prepare(a.iters, a.loader)
        say("bench: %d boot(s) of Keel (%s, QEMU TCG -icount shift=0,sleep=off), dom0 "
            "cmdline `bench bench_iters=%d`; serial logs in %s/" % (
                a.runs, a.loader, a.iters, os.path.relpath(WORK, TREE)))
        runs = []
        if a.sequential:
            for n in range(1, a.runs + 1):
                runs.append(finish_run(start_run(n, cfg, root, iso, timeout, a.loader),
                                       timeout))
        else:
            started = [start_run(n, cfg, root, iso, timeout, a.loader)
                       for n in range(1, a.runs + 1)]
            err = None
            for r in started:
                try:
                    runs.append(finish_run(r, timeout))
                except BenchError as e:
                    err = err or e
            if err:
                raise err
        for k, r in enumerate(runs, 1):
            missing = [n for n in EXPECTED if n not in r["figures"]]
            if missing:
                raise BenchError("run %d: dom0 printed no (parsable) figure for: %s" % (
                    k, ", ".join(missing)))
            derived(r["figures"])
        loc, loc_per = hv_loc()
        ring = ring_figures(a.ring_secs)
        if a.pvblk_runs > 0:
            say("bench: running %s %d times (wall clock, about a minute each)" % (
                PVBLK_TEST, a.pvblk_runs))
            ring.update(pvblk_figures(a.pvblk_runs))
        if a.pvnet_runs > 0:
            say("bench: running %s %d times (wall clock)" % (PVNET_TEST, a.pvnet_runs))
            ring.update(pvnet_figures(a.pvnet_runs))
        if a.linux_runs > 0:
            say("bench: running %s %d time(s) (Linux domU, -icount, about 2.5 minutes each)"
                % (LINUX_TEST, a.linux_runs))
            ring.update(linux_figures(a.linux_runs))
            say("bench: running %s %d time(s) (Linux domU boot under -icount, then dd, "
                "about 2.5 minutes each)" % (LINUX_BOOT_TEST, a.linux_runs))
            ring.update(linux_boot_figures(a.linux_runs))
    except BenchError as e:
        sys.stderr.write("bench: FAILED: %s\n" % e)
        return 1

    figs = dict(runs[0]["figures"])
    figs["hv-loc"] = {"value": loc, "unit": "lines", "detail": ", ".join(
        "%s %d" % kv for kv in loc_per.items())}
    figs.update(ring)
    say("")
    rows = []
    for name, f in figs.items():
        rows.append([name, fmt_val(f["value"]), f["unit"],
                     fmt_val(f["avg"]) if "avg" in f else "",
                     exits_summary(f)])
    say("Figures (run 1; insns = guest-visible instructions under -icount):")
    print_table(rows, ["figure", "value", "unit", "avg",
                       "dom0's exits during the figure (%s iterations)" % "{:,}".format(a.iters)])

    if runs[0]["exit_counts"]:
        c = runs[0]["exit_counts"]
        say("\ndom0's VM exits by reason, whole run (KEEL_DOMCTL_get_exit_counts):")
        say("  " + ", ".join("%s %s" % (k, "{:,}".format(v)) for k, v in
                             sorted(c.items(), key=lambda kv: -kv[1])))
    else:
        say("\n(no per-reason exit counters: KEEL_DOMCTL_get_exit_counts not available)")

    say("\nImage sizes (bytes; text includes rodata, as `size` counts it):")
    srows = []
    for img, s in SIZES.items():
        srows.append([img, "{:,}".format(s["text"]) if "text" in s else "",
                      "{:,}".format(s["data"]) if "data" in s else "",
                      "{:,}".format(s["bss"]) if "bss" in s else "",
                      "{:,}".format(s["total"]) if "total" in s else "",
                      "{:,}".format(s["file"])])
    hdr = ["image", "text", "data", "bss", "total", "file"]
    widths = [max(len(r[i]) for r in srows + [hdr]) for i in range(len(hdr))]
    say("  " + "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                         for i, (h, w) in enumerate(zip(hdr, widths))))
    for r in srows:
        say("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))

    say("\nSummary against issue 16's targets (docs/PERFORMANCE.md):")
    print_summary(figs)

    diffs, expected = compare_runs(runs) if len(runs) > 1 else ([], [])
    if len(runs) > 1:
        if diffs:
            say("\nRepeatability: the %d runs DIFFER:" % len(runs))
            for d in diffs:
                say("  " + d)
        else:
            say("\nRepeatability: the %d runs gave identical figures (values, averages, "
                "exit counts)%s." % (len(runs), ", except the firmware-dependent "
                                     + ", ".join(sorted(VARIES)) if expected else ""))
        for d in expected:
            say("  (expected) " + d)

    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "smoke": a.smoke,
        "targets": {e[0]: {"target": list(e[2]), "xen": e[3],
                           "met": met(e[2], figs[e[0]]["value"])}
                    for e in TARGETS if e[0] and e[0] in figs},
        "not_measured": {e[1]: e[4] for e in TARGETS if not e[0]},
        "commit": git_commit(),
        "qemu": qemu_version(),
        "loader": a.loader,
        "iters": a.iters,
        "batch": 100,
        "figures": figs,
        "exit_counts": runs[0]["exit_counts"],
        "sizes": SIZES,
        "runs": [{k: r[k] for k in ("status", "seconds", "serial_log", "figures",
                                    "exit_counts")} for r in runs],
        "repeatable": (not diffs) if len(runs) > 1 else None,
        "differences": diffs,
        "expected_differences": expected,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    if a.compare:
        try:
            print_compare(a.compare, figs)
        except BenchError as e:
            sys.stderr.write("bench: %s\n" % e)
            return 1
    shown = os.path.relpath(a.json, TREE)
    say("\nWrote %s (%.0fs; boots took %s s)." % (
        shown if not shown.startswith("..") else os.path.abspath(a.json), time.monotonic() - t_start,
        ", ".join("%.0f" % r["seconds"] for r in runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
