"""A Keel booted with its dom0 console on a socket, driven from the host
through scripts/keelctl as an admin's scripts would (docs/cli.md): each
command's output and exit status come back; the serial log (everything
the console printed, guests' lines too) is there to wait on."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

import keeltest
from keeltest import fail, RUN, BUILD, FILES_DIR

GUEST_FILES = ("keel.efi", "keel.elf", "dom0.elf", "pvtest.elf")


def list_rows(out):
    """{name: (id, mem, vcpus, state)} from `xl list` output."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([rbpscd-]{6})\s+[\d.]+$", line.strip())
        if m:
            rows[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5))
    return rows


class KeelCtl:
    """modules: {name: text} handed to dom0 as /boot/NAME (with pvtest);
    extra_qemu: QEMU arguments (disks, NICs)."""

    def __init__(self, modules, dom0_args="shell", extra_qemu=(), timeout=400):
        name = keeltest.CURRENT.name if keeltest.CURRENT else "clicon"
        self.root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        for f in GUEST_FILES:
            os.symlink(os.path.join(BUILD, f), os.path.join(self.root, f))
        cfg = ["cmdline console=com1,115200 loglvl=info", "module dom0 /dom0.elf %s" % dom0_args,
               "module pvtest /pvtest.elf"]
        for mod, text in modules.items():
            with open(os.path.join(self.root, mod), "w") as f:
                f.write(text)
            cfg.append("module %s /%s" % (mod, mod))
        with open(os.path.join(self.root, "keel.cfg"), "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.sock = "/tmp/keel-test-%d-%s.sock" % (os.getpid(), name)
        self.serial = os.path.join(keeltest.LOG_DIR, name + ".serial.log")
        if os.path.exists(self.serial):
            os.unlink(self.serial)  # a previous run's
        cmd = [sys.executable, RUN, "--cfg", os.path.join(self.root, "keel.cfg"), "--root",
               self.root, "--console-socket", self.sock, "--serial-log", self.serial,
               "--timeout", str(timeout)]
        if extra_qemu:
            cmd += ["--"] + list(extra_qemu)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.keelctl = os.path.join(keeltest.TREE, "scripts", "keelctl")
        self.wait_serial("dom0: console ready", 120)

    def log(self):
        if not os.path.exists(self.serial):
            return ""
        with open(self.serial, errors="replace") as f:
            return keeltest.clean(f.read())

    def wait_serial(self, needle, timeout, start=0):
        """Waits until the serial log from offset start holds needle (a str
        or a compiled pattern); returns the match's text."""
        end = time.monotonic() + timeout
        while True:
            text = self.log()[start:]
            if isinstance(needle, str):
                if needle in text:
                    return needle
            else:
                m = needle.search(text)
                if m:
                    return m.group(0)
            if self.proc.poll() is not None:
                fail("Keel stopped while waiting for %r" % needle, text[-3000:])
            if time.monotonic() > end:
                fail("no %r on the console within %ds" % (needle, timeout), text[-4000:])
            time.sleep(0.3)

    def ctl(self, *args, status=0, expect=None, timeout=120):
        """keelctl ARGS: its output; fails unless it exits with status
        and (if given) prints something matching expect."""
        r = subprocess.run([sys.executable, self.keelctl, "--socket", self.sock] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        print("$ keelctl %s -> %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        if r.returncode != status:
            fail("keelctl %s exited %d, expected %d" % (" ".join(args), r.returncode, status),
                 r.stdout + r.stderr)
        if expect and not re.search(expect, r.stdout, re.M):
            fail("keelctl %s printed no %r" % (" ".join(args), expect), r.stdout)
        return r.stdout

    def create(self, cfg):
        """xl create /boot/CFG: the new domain's id."""
        out = self.ctl("xl", "create", "/boot/" + cfg, expect=r"created \S+ as domain \d+")
        return int(re.search(r"created \S+ as domain (\d+)", out).group(1))

    def rows(self):
        return list_rows(self.ctl("xl", "list"))

    def free_pages(self):
        """The hypervisor's free pages (the shell's `domains`)."""
        out = self.ctl("domains", expect=r"pages free")
        return int(re.search(r"hypervisor: (\d+) pages free", out).group(1))

    def json_list(self):
        out = self.ctl("xl", "list", "-l")
        try:
            return json.loads(out)
        except ValueError:
            fail("xl list -l is not JSON", out)

    def typed(self, steps, timeout=30):
        """Types on the console socket itself (what keelctl cannot: an
        attached guest console). steps: (bytes, needle) pairs; after each
        write, reads the socket until needle shows in what came after it.
        Returns everything read."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        seen = b""
        try:
            for data, needle in steps:
                start = len(seen)
                s.sendall(data)
                end = time.monotonic() + timeout
                while needle not in keeltest.clean(seen[start:].decode("utf-8", "replace")):
                    left = end - time.monotonic()
                    if left <= 0:
                        fail("no %r on the console within %ds" % (needle, timeout),
                             keeltest.clean(seen.decode("utf-8", "replace"))[-4000:])
                    r, _, _ = select.select([s], [], [], min(left, 0.5))
                    if r:
                        chunk = s.recv(65536)
                        if not chunk:
                            fail("the console socket closed", self.log()[-3000:])
                        seen += chunk
        finally:
            s.close()
        return keeltest.clean(seen.decode("utf-8", "replace"))

    def close(self):
        if self.proc.poll() is None:
            try:
                subprocess.run([sys.executable, self.keelctl, "--socket", self.sock, "poweroff"],
                               capture_output=True, timeout=30)
                self.proc.wait(30)
            except Exception:
                pass
        try:  # scripts/run and its QEMU: their own session (process group)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        if os.path.exists(self.sock):
            os.unlink(self.sock)
