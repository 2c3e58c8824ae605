"""The libFuzzer harnesses (tests/fuzz/fuzz_*.c, docs/fuzzing.md).

As tests (tests/run.py): one test `fuzz-NAME` per harness, which runs
build/fuzz/fuzz_NAME for a few seconds from its committed seeds (in a
scratch corpus, so the cost stays the same run after run); any crash,
leak, hang or broken invariant fails it with the fuzzer's report.

As a script (`make fuzz`):
    python3 tests/fuzz/test_fuzz.py [--seconds N] [--only NAME,NAME]
runs each harness for N seconds (default 60), one after the other, on
its seeds and on what earlier runs found, and prints one line per harness.

Corpora: tests/fuzz/corpus/NAME/ holds small committed seeds (read only);
build/fuzz/corpus/NAME/ collects what the fuzzer finds; crashing inputs
go to build/fuzz/crashes/NAME/ (reproduce: build/fuzz/fuzz_NAME FILE).
"""

import glob
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TREE, "tests", "lib"))
import keeltest  # noqa: E402
from keeltest import test, fail  # noqa: E402

TEST_SECONDS = 3  # per harness under `make test`; all of them stay well under a minute


def harnesses():
    """Harness names (fuzz_NAME.c -> NAME), sorted."""
    return sorted(os.path.basename(p)[len("fuzz_"):-2]
                  for p in glob.glob(os.path.join(HERE, "fuzz_*.c")))


def run_fuzzer(name, seconds, log=sys.stdout, scratch=False):
    """Runs harness `name` for `seconds`; returns (ok, report lines).
    scratch: start from the committed seeds only, in an emptied work
    directory (the tests: their cost must not grow with the corpus)."""
    binary = os.path.join(keeltest.BUILD, "fuzz", "fuzz_" + name)
    if not os.access(binary, os.X_OK):
        return False, ["build/fuzz/fuzz_%s does not exist (did `make` fail? is clang installed?)"
                       % name]
    work = os.path.join(keeltest.BUILD, "fuzz", "test-corpus" if scratch else "corpus", name)
    if scratch:
        shutil.rmtree(work, ignore_errors=True)
    crashes = os.path.join(keeltest.BUILD, "fuzz", "crashes", name)
    seeds = os.path.join(HERE, "corpus", name)
    os.makedirs(work, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    cmd = [binary, "-max_total_time=%d" % seconds, "-timeout=10", "-rss_limit_mb=2048",
           "-print_final_stats=1", "-artifact_prefix=" + crashes + "/", work]
    if os.path.isdir(seeds):
        cmd.append(seeds)
    print("$ " + " ".join(cmd), file=log, flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, errors="replace", cwd=TREE,
                       timeout=seconds + 120)
    lines = p.stdout.splitlines()
    print(p.stdout, file=log, flush=True)
    if p.returncode != 0:
        keep = [l for l in lines if not l.startswith("#")]
        why = [l for l in keep if "runtime error" in l or "invariant" in l or "ERROR:" in l]
        first = why[0].strip() if why else "exited with %d" % p.returncode
        return False, ["fuzz_%s: %s (input saved in build/fuzz/crashes/%s/)" % (name, first, name)] \
            + keep[-40:]
    stats = [l for l in lines if l.startswith("stat::number_of_executed_units")]
    return True, stats


def register(name):
    @test("fuzz-" + name.replace("_", "-"), timeout=TEST_SECONDS + 120)
    def _():
        ok, report = run_fuzzer(name, TEST_SECONDS, scratch=True)
        if not ok:
            fail(report[0], "\n".join(report[1:]))


for _name in harnesses():
    register(_name)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="run the libFuzzer harnesses")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--only", default="", help="comma-separated harness names")
    args = ap.parse_args()
    names = harnesses()
    if args.only:
        want = [n.strip().replace("-", "_") for n in args.only.split(",") if n.strip()]
        unknown = [n for n in want if n not in names]
        if unknown:
            print("no harness named %s (have: %s)" % (", ".join(unknown), ", ".join(names)))
            return 2
        names = want
    failed = 0
    logdir = os.path.join(keeltest.BUILD, "fuzz", "logs")
    os.makedirs(logdir, exist_ok=True)
    for name in names:
        t0 = time.monotonic()
        with open(os.path.join(logdir, name + ".log"), "w") as log:
            ok, report = run_fuzzer(name, args.seconds, log)
        took = time.monotonic() - t0
        if ok:
            runs = report[0].split(":")[-1].strip() if report else "?"
            print("PASS fuzz-%s (%.0fs, %s inputs)" % (name, took, runs), flush=True)
        else:
            failed += 1
            print("FAIL fuzz-%s: %s" % (name, report[0]))
            print("\n".join("  " + l for l in report[1:]), flush=True)
    print("%d passed, %d failed (logs: build/fuzz/logs/)" % (len(names) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
