"""Boots Keel with Debian's kernel (its bzImage as the package ships it)
and an initramfs as boot modules, and drives dom0's CLI (`xl create`,
`xl console`) to start it as a PVH domU."""
import os
import shutil
import subprocess
import sys

import keeltest
from keeltest import RUN, BUILD, FILES_DIR

sys.path.insert(0, os.path.dirname(__file__))
import debian  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_cli import Console  # noqa: E402

class LinuxConsole(Console):
    """dom0's console with Debian's kernel (/boot/vmlinuz), an initramfs
    (/boot/initrd) and config files (/boot/NAME) as boot modules."""

    def __init__(self, configs, initrd, kernel, files=None, mem="1G", dom0_mem="384M", timeout=900):
        self.buf = b""
        name = keeltest.CURRENT.name if keeltest.CURRENT else "linux"
        root = os.path.join(FILES_DIR, name, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        cfg = ["cmdline console=com1,115200 loglvl=info dom0_mem=%s" % dom0_mem, "module dom0 /dom0.elf shell",
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
             "--mem", mem, "--timeout", str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for("dom0> ", 120)

    def type(self, line):
        self.proc.stdin.write(line.encode() + b"\r")
        self.proc.stdin.flush()
