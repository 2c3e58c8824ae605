#!/usr/bin/env python3
"""Keel's test runner.

    python3 tests/run.py [--list] [--match PATTERN] [-j N] [-v]

Tests:
  unit         every build/unit/test_* binary: `BIN --list` names its cases,
               `BIN NAME` runs one (exit 0 = pass). See tests/unit/unit.h.
  integration  tests/*/test_*.py files registering tests with
               @test("name") from tests/lib/keeltest.py; each runs in its own
               process (python3 tests/run.py --run-one FILE NAME).

PATTERN selects by name: a glob (fnmatch) when it has * ? or [, else a
substring; several patterns may be given separated by commas. Tests
registered with bench=True (make bench's long measurements, such as
linux-bench-cpu-alone-and-busy) run only when a pattern is their full name.
Output: one line per test (`PASS name (1.2s)` / `FAIL name: reason` plus
details), then exactly one `N passed, N failed` line. Logs of each test:
build/test-logs/NAME.log. Exit status: 0 when all selected tests pass,
1 when any fails, 2 on usage errors or when no test matches.
"""

import argparse
import concurrent.futures
import fnmatch
import glob
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(TREE, "tests", "lib"))
import keeltest  # noqa: E402

LOG_DIR = keeltest.LOG_DIR
UNIT_TIMEOUT = 60
DETAIL_LINES = 60


class Case:
    def __init__(self, name, kind, timeout, argv=None, path=None, bench=False):
        self.name, self.kind, self.timeout = name, kind, timeout
        self.argv, self.path, self.bench = argv, path, bench


def import_test_file(path):
    modname = "keeltests_" + os.path.relpath(path, TREE).replace("/", "_")[:-3]
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def discover(errors):
    cases = {}

    def add(case):
        if case.name in cases:
            errors.append("test name '%s' used twice (%s and %s)" % (
                case.name, cases[case.name].path, case.path))
            return
        cases[case.name] = case

    for binary in sorted(glob.glob(os.path.join(keeltest.BUILD, "unit", "test_*"))):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            continue
        try:
            p = subprocess.run([binary, "--list"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30, universal_newlines=True)
        except (OSError, subprocess.TimeoutExpired) as e:
            errors.append("%s --list: %s" % (binary, e))
            continue
        if p.returncode != 0:
            errors.append("%s --list failed (%d): %s" % (binary, p.returncode, p.stdout.strip()))
            continue
        for name in p.stdout.split():
            add(Case(name, "unit", UNIT_TIMEOUT, argv=[binary, name], path=binary))

    for path in sorted(glob.glob(os.path.join(TREE, "tests", "*", "test_*.py"))):
        before = set(keeltest.TESTS)
        try:
            import_test_file(path)
        except Exception:
            errors.append("cannot load %s:\n%s" % (os.path.relpath(path, TREE),
                                                  traceback.format_exc()))
            continue
        for name in sorted(set(keeltest.TESTS) - before):
            t = keeltest.TESTS[name]
            add(Case(name, "integration", t.timeout, path=path, bench=t.bench))
    return cases


def selected(name, patterns, bench=False):
    """A bench-only test (@test(..., bench=True): make bench's long
    measurements) runs only when a pattern is its full name."""
    if bench:
        return name in (patterns or ())
    if not patterns:
        return True
    for pat in patterns:
        if any(c in pat for c in "*?["):
            if fnmatch.fnmatchcase(name, pat):
                return True
        elif pat in name:
            return True
    return False


def tail_of(path, n):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


running = set()  # Popen objects, for Ctrl-C
running_lock = threading.Lock()


def run_case(case):
    """Run one test; returns (ok, seconds, reason, details)."""
    os.makedirs(LOG_DIR, exist_ok=True)
    log_path = os.path.join(LOG_DIR, case.name + ".log")
    result_path = os.path.join(LOG_DIR, case.name + ".result.json")
    if os.path.exists(result_path):
        os.unlink(result_path)
    if case.kind == "unit":
        argv = case.argv
    else:
        argv = [sys.executable, os.path.abspath(__file__), "--run-one", case.path, case.name,
                "--result", result_path]
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        log.write(("$ %s\n" % " ".join(argv)).encode())
        log.flush()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=TREE, start_new_session=True)
        with running_lock:
            running.add(proc)
        try:
            rc = proc.wait(case.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc)
            rc, timed_out = None, True
        finally:
            with running_lock:
                running.discard(proc)
    seconds = time.monotonic() - t0
    log_rel = os.path.relpath(log_path, TREE)
    if timed_out:
        return False, seconds, "timed out after %ss" % case.timeout, \
            "log %s ends:\n%s" % (log_rel, tail_of(log_path, 30))
    if case.kind == "unit":
        if rc == 0:
            return True, seconds, "", ""
        return False, seconds, "exit status %d" % rc, \
            "log %s ends:\n%s" % (log_rel, tail_of(log_path, 30))
    try:
        with open(result_path) as f:
            res = json.load(f)
    except (OSError, ValueError):
        return False, seconds, "test process exited (%d) without a result" % rc, \
            "log %s ends:\n%s" % (log_rel, tail_of(log_path, 30))
    details = res.get("details", "")
    if not res["ok"]:
        details = (details + "\n" if details else "") + "full log: " + log_rel
    return res["ok"], seconds, res.get("reason", ""), details


def kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue


def run_one(path, name, result_path):
    """Child side: run integration test NAME from PATH, write the result."""
    import_test_file(path)
    t = keeltest.TESTS.get(name)
    res = {"ok": False, "reason": "", "details": ""}
    if t is None:
        res["reason"] = "no test '%s' in %s" % (name, path)
    else:
        keeltest.CURRENT = t
        print("== test %s (%s)" % (name, os.path.relpath(path, TREE)), flush=True)
        try:
            t.func()
            res["ok"] = True
        except keeltest.TestFailure as e:
            res["reason"], res["details"] = e.message, e.details
        except Exception as e:
            res["reason"] = "%s: %s" % (type(e).__name__, e)
            res["details"] = traceback.format_exc()
    print("== %s: %s" % ("PASS" if res["ok"] else "FAIL", res["reason"]), flush=True)
    if res["details"]:
        print(res["details"], flush=True)
    with open(result_path, "w") as f:
        json.dump(res, f)
    return 0 if res["ok"] else 1


def main():
    ap = argparse.ArgumentParser(description="Run Keel's tests.")
    ap.add_argument("--list", action="store_true", help="print the test names")
    ap.add_argument("--match", action="append", default=[], metavar="PATTERN",
                    help="select tests: glob or substring; comma-separated or repeated")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="tests run in parallel (2)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print details of passes too")
    ap.add_argument("--run-one", nargs=2, metavar=("FILE", "NAME"), help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.run_one:
        return run_one(a.run_one[0], a.run_one[1], a.result)

    patterns = [p for m in a.match for p in m.split(",") if p]
    errors = []
    cases = discover(errors)
    for e in errors:
        print("run.py: " + e, file=sys.stderr)
    chosen = [c for n, c in sorted(cases.items()) if selected(n, patterns, c.bench)]
    if a.list:
        for c in chosen:
            print(c.name)
        return 1 if errors else 0
    if not chosen:
        print("run.py: no tests %s (of %d discovered)" % (
            "match '%s'" % ",".join(patterns) if patterns else "found", len(cases)),
            file=sys.stderr)
        print("0 passed, 0 failed")
        return 2

    # Unit tests first (fast), then integration tests, longest-expected last.
    chosen.sort(key=lambda c: (c.kind != "unit", c.name))
    out_lock = threading.Lock()
    counts = {"pass": 0, "fail": 0}

    def job(case):
        ok, seconds, reason, details = run_case(case)
        with out_lock:
            if ok:
                counts["pass"] += 1
                print("PASS %s (%.1fs)" % (case.name, seconds), flush=True)
            else:
                counts["fail"] += 1
                print("FAIL %s: %s (%.1fs)" % (case.name, reason, seconds), flush=True)
            if details and (not ok or a.verbose):
                lines = details.rstrip("\n").split("\n")
                if len(lines) > DETAIL_LINES:
                    lines = ["..."] + lines[-DETAIL_LINES:]
                print("\n".join("    " + l for l in lines), flush=True)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs))
    futures = [pool.submit(job, c) for c in chosen]
    try:
        for f in concurrent.futures.as_completed(futures):
            f.result()
    except KeyboardInterrupt:
        for f in futures:
            f.cancel()
        with running_lock:
            procs = list(running)
        for p in procs:
            kill_group(p)
        pool.shutdown(wait=False)
        print("interrupted")
        print("%d passed, %d failed" % (counts["pass"], counts["fail"] + len(errors)))
        return 130
    pool.shutdown()
    # A test file that cannot be loaded counts as a failure.
    failed = counts["fail"] + len(errors)
    print("%d passed, %d failed" % (counts["pass"], failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
