"""dom0's serial console for the linux-* tests: boots Keel with
scripts/run on pipes with the given boot modules (/boot/NAME at dom0's
prompt) and types commands as an admin would."""
import os
import select
import shutil
import subprocess
import sys
import time

import keeltest
from keeltest import fail, RUN, BUILD, FILES_DIR, clean


class Console:
    def __init__(self, modules, mem="1G", cmdline="console=com1,115200 loglvl=info",
                 timeout=600):
        """modules: {name: bytes or host path}, each `module NAME /NAME`."""
        name = keeltest.CURRENT.name if keeltest.CURRENT else "linux"
        root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        cfg = ["cmdline " + cmdline, "module dom0 /dom0.elf shell"]
        for f in ("keel.efi", "keel.elf", "dom0.elf"):
            os.symlink(os.path.join(BUILD, f), os.path.join(root, f))
        for mod, src in modules.items():
            dst = os.path.join(root, mod)
            if isinstance(src, (bytes, bytearray)):
                with open(dst, "wb") as f:
                    f.write(src)
            else:
                os.symlink(os.path.abspath(src), dst)
            cfg.append("module %s /%s" % (mod, mod))
        with open(os.path.join(root, "keel.cfg"), "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = os.path.join(keeltest.LOG_DIR, "%s.console.log" % name)
        os.makedirs(keeltest.LOG_DIR, exist_ok=True)
        open(self.log, "wb").close()
        self.proc = subprocess.Popen(
            [sys.executable, RUN, "--cfg", os.path.join(root, "keel.cfg"), "--root", root,
             "--mem", mem, "--timeout", str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.buf = b""
        self.wait_for("dom0> ", 180)

    def text(self, start=0):
        return clean(self.buf[start:].decode("utf-8", "replace"))

    def wait_for(self, needle, timeout, start=0):
        end = time.monotonic() + timeout
        while needle not in self.text(start):
            left = end - time.monotonic()
            if left <= 0:
                fail("no %r on the console within %ds" % (needle, timeout),
                     "console so far:\n" + self.text()[-4000:])
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    fail("the console closed while waiting for %r" % needle, self.text()[-4000:])
                self.buf += chunk
                with open(self.log, "ab") as f:
                    f.write(chunk)

    def cmd(self, line, timeout=60):
        """Types line, waits for the next prompt; returns what followed."""
        start = len(self.buf)
        self.proc.stdin.write(line.encode() + b"\r")
        self.proc.stdin.flush()
        self.wait_for("dom0> ", timeout, start + 1)
        return self.text(start)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"poweroff\r")
                self.proc.stdin.flush()
                self.proc.wait(20)
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
