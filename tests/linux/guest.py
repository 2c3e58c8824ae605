"""Boots Keel with Debian's kernel (its bzImage as the package ships it)
and an initramfs as boot modules, and drives dom0's CLI (`xl create`,
`xl console`) to start it as a PVH domU."""
import os
import select
import time
import shutil
import subprocess
import sys

import keeltest
from keeltest import fail, clean, RUN, BUILD, FILES_DIR

sys.path.insert(0, os.path.dirname(__file__))
import debian  # noqa: E402



class Console:
    """dom0's serial console on pipes (as tests/cli/test_cli.py drives it;
    that module registers tests, so it is not imported here)."""

    def text(self, start=0):
        return clean(self.buf[start:].decode("utf-8", "replace"))

    def wait_for(self, needle, timeout, start=0):
        end = time.monotonic() + timeout
        while True:
            t = self.text(start)
            if (needle in t) if isinstance(needle, str) else needle.search(t):
                return
            left = end - time.monotonic()
            if left <= 0:
                fail("no %r on the console within %ds" % (needle, timeout),
                     "console so far:\n" + self.text()[-6000:])
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    fail("the console closed while waiting for %r" % needle, self.text()[-6000:])
                self.buf += chunk

    def cmd(self, line, timeout=30, expect=None):
        """Types line, waits for the next prompt; returns what came."""
        start = len(self.buf)
        self.type(line)
        self.wait_for("dom0> ", timeout, start + 1)
        out = self.text(start)
        if expect and expect not in out:
            fail("'%s' did not print %r" % (line, expect), "output:\n" + out)
        return out


    def close(self):
        name = keeltest.CURRENT.name if keeltest.CURRENT else "linux"
        with open(os.path.join(BUILD, "test-logs", name + ".console.log"), "w") as f:
            f.write(self.text())
        if self.proc.poll() is None:
            try:
                self.type("poweroff")
                self.proc.wait(20)
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

class LinuxConsole(Console):
    """dom0's console with Debian's kernel (/boot/vmlinuz), an initramfs
    (/boot/initrd) and config files (/boot/NAME) as boot modules."""

    def __init__(self, configs, initrd, kernel, files=None, mem="1G", dom0_mem="384M", timeout=900,
                 dom0_args="shell", extra_qemu=(), run_args=()):
        self.buf = b""
        name = keeltest.CURRENT.name if keeltest.CURRENT else "linux"
        root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        cfg = ["cmdline console=com1,115200 loglvl=info dom0_mem=%s" % dom0_mem, "module dom0 /dom0.elf %s" % dom0_args,
               "module vmlinuz /vmlinuz", "module initrd /initrd"]
        for f in ("keel.efi", "keel.elf", "dom0.elf"):
            os.symlink(os.path.join(BUILD, f), os.path.join(root, f))
        os.symlink(kernel, os.path.join(root, "vmlinuz"))
        os.symlink(initrd, os.path.join(root, "initrd"))
        for mod, text in configs.items():
            with open(os.path.join(root, mod), "w") as f:
                f.write(text)
            cfg.append("module %s /%s" % (mod, mod))
        for mod, path in (files or {}).items():
            os.symlink(path, os.path.join(root, mod))
            cfg.append("module %s /%s" % (mod, mod))
        with open(os.path.join(root, "keel.cfg"), "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.proc = subprocess.Popen(
            [sys.executable, RUN, "--cfg", os.path.join(root, "keel.cfg"), "--root", root,
             "--mem", mem, "--timeout", str(timeout)] + list(run_args) +
            (["--"] + list(extra_qemu) if extra_qemu else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for("dom0> ", 120)

    def type(self, line):
        self.proc.stdin.write(line.encode() + b"\r")
        self.proc.stdin.flush()
