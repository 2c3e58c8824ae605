"""Helpers for Keel's integration tests (tests/*/test_*.py).

A test file registers tests with the decorator and uses boot() and the
expect_* helpers; tests/run.py discovers, selects and runs them:

    from keeltest import test, boot, expect_status, expect_lines_in_order

    @test("boot-uefi-banner")
    def _():
        r = boot("cmdline loglvl=info\\nmodule dom0 /dom0.elf\\n")
        expect_lines_in_order(r, [r"^keel: Keel \\S+ \\(uefi\\)$"])
        expect_status(r, POWEROFF)

A failing helper raises TestFailure(message, details): the runner prints the
message on the FAIL line and the details (what was expected, what the serial
log said) under it. Every test also has build/test-logs/NAME.log (its output,
the scripts/run commands and each serial log).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# KEEL_BUILD: another build directory (for trying the harness on other images)
BUILD = os.path.abspath(os.environ.get("KEEL_BUILD", os.path.join(TREE, "build")))
RUN = os.path.join(TREE, "scripts", "run")
LOG_DIR = os.path.join(BUILD, "test-logs")
FILES_DIR = os.path.join(BUILD, "test-files")

# scripts/run's exit statuses (docs/design.md, "Exit codes")
POWEROFF, REBOOT, CRASH, PANIC, TRIPLE_FAULT, TIMEOUT, LAUNCHER_ERROR = 0, 10, 11, 12, 13, 124, 2
STATUS_NAMES = {POWEROFF: "poweroff", REBOOT: "reboot", CRASH: "dom0 crash",
                PANIC: "panic", TRIPLE_FAULT: "triple fault", TIMEOUT: "time-out",
                LAUNCHER_ERROR: "launcher error", None: "stopped by the test"}

TESTS = {}      # name -> Test, filled by @test as files are imported
CURRENT = None  # the Test being run (set by tests/run.py in the child)


class Test:
    def __init__(self, name, func, timeout, path, bench=False):
        self.name, self.func, self.timeout, self.path = name, func, timeout, path
        self.bench = bench


def test(name, timeout=300, bench=False):
    """Register the decorated function as integration test `name`
    (`subsystem-what`). `timeout`: the runner kills it after this long.
    `bench`: a measurement `make bench` runs, too long for `make test`:
    it runs only when a pattern names it in full (tests/run.py)."""
    def register(func):
        if name in TESTS:
            raise ValueError("test '%s' defined twice (%s and %s)"
                             % (name, TESTS[name].path, func.__code__.co_filename))
        TESTS[name] = Test(name, func, timeout, func.__code__.co_filename, bench)
        return func
    return register


class TestFailure(Exception):
    def __init__(self, message, details=""):
        super().__init__(message)
        self.message, self.details = message, details


def fail(message, details=""):
    raise TestFailure(message, details)


# ---- files --------------------------------------------------------------

def build_file(rel):
    """Path of build/REL; fails the test clearly when it was not built."""
    p = os.path.join(BUILD, rel)
    if not os.path.isfile(p):
        fail("build/%s does not exist (did `make` fail?)" % rel)
    return p


def test_file(rel, data):
    """Write `data` (bytes) to build/test-files/<test>/REL; returns the path."""
    p = os.path.join(FILES_DIR, CURRENT.name if CURRENT else "_", rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def elf_section(path, want):
    """(addr, size) of section `want` of the ELF64 file at `path`, or None."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    def sh(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    strtab = sh(shstrndx)[4]
    for i in range(shnum):
        nm, _, _, addr, _, size = sh(i)
        end = data.index(b"\0", strtab + nm)
        if data[strtab + nm:end].decode() == want:
            return addr, size
    return None


# ---- booting ------------------------------------------------------------

ANSI_RE = re.compile(r"\x1b(\[[0-9;=?]*[A-Za-z@]|[()][A-Z0-9]|[=>78cDEHM])")


def clean(text):
    """Serial text as lines a test can match: no terminal escapes (OVMF and
    GRUB draw with them), no carriage returns."""
    text = ANSI_RE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch == "\n" or ch == "\t" or ch >= " ")


class Result:
    """One boot: .status (scripts/run's exit status, None if the test stopped
    it), .log (cleaned serial text), .lines, .raw (bytes), .seconds."""

    def __init__(self, status, raw, seconds, what):
        self.status, self.raw, self.seconds, self.what = status, raw, seconds, what
        self.log = clean(raw.decode("utf-8", errors="replace"))
        self.lines = self.log.split("\n")

    def keel_lines(self):
        return [l for l in self.lines if l.startswith("keel: ")]

    def tail(self, n=30):
        lines = [l for l in self.lines]
        while lines and not lines[-1].strip():
            lines.pop()
        shown = lines[-n:]
        head = "serial log (%s), last %d of %d lines:" % (self.what, len(shown), len(lines))
        return head + "\n" + "\n".join("  | " + l for l in shown)


_boots = 0


def _is_cfg_text(cfg):
    if "\n" in cfg:
        return True
    if os.path.isfile(cfg):
        return False
    if cfg.endswith(".cfg"):
        fail("cfg file %s does not exist" % cfg)
    return True


def _cfg_module_paths(text):
    out = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 3 and words[0] == "module":
            out.append(words[2].replace("\\", "/").lstrip("/"))
    return out


def boot(cfg, modules=None, loader="uefi", timeout=90, mem=None, smp=None, extra=(),
         stop_on=None, stop_after=2.0, run_args=()):
    """Boot Keel with scripts/run and return a Result.

    cfg: keel.cfg text, or the path of a cfg file.
    modules: {path on the boot medium: bytes or a host file path}; module
      paths the cfg names that are not in here come from build/.
    loader: 'uefi' (QEMU+OVMF), 'bios' (QEMU+SeaBIOS+GRUB2) or 'bochs'.
    timeout: seconds until scripts/run stops the emulator (status 124).
    stop_on: a regex; when a serial line matches, wait stop_after seconds
      (to catch anything that follows), then stop the run: status None.
    extra: arguments for QEMU (after --); run_args: more scripts/run options.
    """
    global _boots
    _boots += 1
    name = CURRENT.name if CURRENT else "adhoc"
    tag = "" if _boots == 1 else "-%d" % _boots
    os.makedirs(LOG_DIR, exist_ok=True)
    serial = os.path.join(LOG_DIR, "%s.serial%s.log" % (name, tag))
    if os.path.exists(serial):
        os.unlink(serial)  # stop_on must not see the last run's output

    # A private root: links to build/'s images, the test's module files.
    root = os.path.join(FILES_DIR, name, "root%s" % tag)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    if _is_cfg_text(cfg):
        text = cfg
    else:
        with open(cfg) as f:
            text = f.read()
    cfg_path = os.path.join(root, "keel.cfg")
    with open(cfg_path, "w") as f:
        f.write(text)
    modules = {k.replace("\\", "/").lstrip("/"): v for k, v in (modules or {}).items()}
    wanted = ["keel.efi", "keel.elf"] + _cfg_module_paths(text)
    for rel in wanted:
        dst = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if rel in modules:
            src = modules[rel]
            if isinstance(src, (bytes, bytearray)):
                with open(dst, "wb") as f:
                    f.write(src)
            else:
                os.symlink(os.path.abspath(src), dst)
        elif os.path.exists(os.path.join(BUILD, rel)):
            os.symlink(os.path.join(BUILD, rel), dst)
        elif rel in ("keel.efi", "keel.elf"):
            fail("build/%s does not exist (did `make` fail?)" % rel)
        # else: scripts/mkimage names the missing module

    cmd = [sys.executable, RUN, "--cfg", cfg_path, "--root", root, "--serial-log", serial,
           "--timeout", str(timeout)]
    cmd += {"uefi": [], "bios": ["--bios"], "bochs": ["--bochs"]}[loader]
    if mem:
        cmd += ["--mem", str(mem)]
    if smp:
        cmd += ["--smp", str(smp)]
    cmd += list(run_args)
    if extra:
        cmd += ["--"] + list(extra)
    what = "%s boot%s" % (loader, tag)
    print("== %s: %s" % (what, " ".join(cmd)), flush=True)
    print("== cfg:\n" + "".join("   %2d  %s\n" % (i, l) for i, l in
                                 enumerate(text.splitlines(), 1)), end="", flush=True)

    return run_machine(cmd, serial, what, timeout, stop_on, stop_after)


# ---- assertions ---------------------------------------------------------


def run_machine(cmd, serial, what, timeout, stop_on=None, stop_after=2.0):
    """Runs a scripts/run command line whose serial console goes to
    `serial`, and returns its Result. stop_on/stop_after as for boot();
    fails the test if scripts/run outlives its own time-out by a minute or
    could not start the machine."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=TREE, start_new_session=True)
    stop_re = re.compile(stop_on, re.M) if stop_on else None
    stopped_at = None
    status = None
    while True:
        try:
            status = proc.wait(0.2)
            break
        except subprocess.TimeoutExpired:
            pass
        if stop_re is not None and stopped_at is None and os.path.exists(serial):
            with open(serial, "rb") as f:
                if stop_re.search(clean(f.read().decode("utf-8", errors="replace"))):
                    stopped_at = time.monotonic()
        if stopped_at is not None and time.monotonic() - stopped_at >= stop_after:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            status = None
            break
        if time.monotonic() - t0 > timeout + 60:  # scripts/run should have stopped it
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            fail("scripts/run did not stop after its --timeout %s" % timeout)
    seconds = time.monotonic() - t0
    try:
        with open(serial, "rb") as f:
            raw = f.read()
    except OSError:
        raw = b""
    r = Result(status, raw, seconds, what)
    print("== %s: status %s (%s) after %.1fs; serial log %s:" % (
        what, status, STATUS_NAMES.get(status, "?"), seconds, serial))
    print("\n".join("  | " + l for l in r.lines), flush=True)
    if status == LAUNCHER_ERROR:
        fail("scripts/run failed to start the machine (status 2): see the test log",
             r.tail())
    return r

def _lines(log):
    if isinstance(log, Result):
        return log.lines
    return clean(log).split("\n")


def _tail(log):
    if isinstance(log, Result):
        return log.tail()
    lines = _lines(log)
    return "log, last lines:\n" + "\n".join("  | " + l for l in lines[-30:])


def expect_lines_in_order(log, patterns):
    """Each regex must match a line (re.search) after the line the previous
    one matched. Returns the list of match objects."""
    lines = _lines(log)
    pos = 0
    found = []
    for pat in patterns:
        rx = re.compile(pat)
        for i in range(pos, len(lines)):
            m = rx.search(lines[i])
            if m:
                found.append(m)
                pos = i + 1
                break
        else:
            done = "\n".join("  matched /%s/ at line %d: %s" % (p, n, l) for p, (n, l) in zip(
                patterns, _match_positions(lines, patterns)))
            where = ("after line %d (%r)" % (pos, lines[pos - 1])) if pos else "anywhere"
            earlier = ""
            for i in range(0, pos):
                if rx.search(lines[i]):
                    earlier = "\n  (it does occur earlier, at line %d: %r)" % (i + 1, lines[i])
                    break
            fail("no line matching /%s/ %s" % (pat, where),
                 ("expected, in order:\n%s\n%s%s\n" % (
                     "\n".join("  /%s/" % p for p in patterns), done or "  (nothing matched)",
                     earlier)) + _tail(log))
    return found


def _match_positions(lines, patterns):
    pos, out = 0, []
    for pat in patterns:
        rx = re.compile(pat)
        for i in range(pos, len(lines)):
            if rx.search(lines[i]):
                out.append((i + 1, lines[i]))
                pos = i + 1
                break
        else:
            break
    return out


def find_lines(log, pattern):
    """All match objects of `pattern` over the lines of log."""
    rx = re.compile(pattern)
    return [m for m in (rx.search(l) for l in _lines(log)) if m]


def expect_count(log, pattern, count):
    ms = find_lines(log, pattern)
    if len(ms) != count:
        fail("%d lines match /%s/, expected %d" % (len(ms), pattern, count),
             "".join("  | %s\n" % m.string for m in ms) + _tail(log))
    return ms


def expect_no_line(log, pattern, why=""):
    ms = find_lines(log, pattern)
    if ms:
        fail("unexpected line matching /%s/%s: %r" % (pattern, " (" + why + ")" if why else "",
                                                      ms[0].string), _tail(log))


def expect_last_keel_line(log, pattern):
    """The last `keel: ` line matches pattern (e.g. the machine-stop line)."""
    kl = [l for l in _lines(log) if l.startswith("keel: ")]
    if not kl or not re.search(pattern, kl[-1]):
        fail("last 'keel:' line is %r, expected /%s/" % (kl[-1] if kl else None, pattern),
             _tail(log))



def expect_domains_sound(r, tail=60):
    """What every dom0 `test=domains` scenario must show whatever it
    tests: no check printed MISMATCH, the hypervisor logged no panic,
    fatal error or BUG, and dom0's count of the hypervisor's free pages
    is the same after its domUs are gone as before it made them."""
    bad = [l for l in r.lines if "MISMATCH" in l]
    if bad:
        fail("%d check(s) got the wrong value, first: %s" % (len(bad), bad[0]), r.tail(tail))
    expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at)",
                   "nothing a domain does may hurt the hypervisor")
    m = re.search(r"dom0: domains: hypervisor free pages: (\d+) before the domUs, (\d+) after",
                  r.log)
    if not m:
        fail("dom0 did not report the free-page count around the domUs", r.tail(tail))
    if m.group(1) != m.group(2):
        fail("the hypervisor lost %d pages: %s free before the domUs, %s after destroying them"
             % (int(m.group(1)) - int(m.group(2)), m.group(1), m.group(2)), r.tail(tail))


def expect_status(result, *statuses):
    """scripts/run's status is one of `statuses` (POWEROFF, PANIC, ...)."""
    if result.status not in statuses:
        fail("scripts/run status %s (%s), expected %s" % (
            result.status, STATUS_NAMES.get(result.status, "?"),
            " or ".join("%s (%s)" % (s, STATUS_NAMES.get(s, "?")) for s in statuses)),
            result.tail())


def expect(cond, message, result=None):
    if not cond:
        fail(message, result.tail() if result is not None else "")
