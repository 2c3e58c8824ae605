"""`make bench` keeps working (tests/bench.py --smoke; docs/PERFORMANCE.md).

No timing thresholds: the values are not judged. The test fails when a
boot fails, when a figure is missing or does not parse, or when the table
or build/bench-smoke.json lacks a figure the issue's table measures.
"""
import json
import os
import subprocess
import sys

from keeltest import test, fail, TREE, BUILD

BENCH = os.path.join(TREE, "tests", "bench.py")


@test("bench-smoke", timeout=400)
def _():
    out = os.path.join(BUILD, "bench-smoke.json")
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([sys.executable, BENCH, "--smoke", "--json", out], cwd=TREE,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=380)
    text = r.stdout.decode(errors="replace")
    print(text)
    if r.returncode != 0:
        fail("tests/bench.py --smoke exited with %d" % r.returncode, text[-3000:])
    with open(out) as f:
        res = json.load(f)
    figs = res.get("figures", {})
    want = ["cpuid-exit", "hypercall-direct", "pio-unemulated", "evtchn-loopback",
            "boot-hv-to-dom0", "boot-hv-to-dom0-line", "hv-loc",
            "domain-create", "domain-destroy", "domain-mem", "vcpu-mem",
            "ring-suppressed", "ring-always", "ring-mutex",
            "create-first-insn", "create-first-line", "domain-destroy-domu",
            "pingpong-domu", "pingpong-dom0"]
    for name in want:
        v = figs.get(name, {}).get("value")
        if not isinstance(v, (int, float)) or v <= 0:
            fail("figure %s missing or not a positive number: %r" % (name, figs.get(name)),
                 text[-3000:])
        if name not in res.get("targets", {}):
            fail("figure %s has no target in bench.json" % name)
    if "Summary against issue 16's targets" not in text:
        fail("no summary table printed", text[-3000:])
    # the compare mode reads the file it wrote
    c = subprocess.run([sys.executable, BENCH, "--compare-only", "--json", out,
                        "--compare", out], cwd=TREE, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    ctext = c.stdout.decode(errors="replace")
    if c.returncode != 0 or "cpuid-exit" not in ctext or "+0" not in ctext:
        fail("bench.py --compare-only failed or printed no deltas", ctext)
