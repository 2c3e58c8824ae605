"""A private network namespace with a tap device for QEMU, for the network
tests (tests/hw/, tests/pvnet/): addressed 10.99.0.1/24 (dom0 is
10.99.0.2), removed with its tap on exit. Test traffic stays inside it."""

import os
import subprocess

from keeltest import fail


class NetNs:
    """`prefix-tag-PID`, with tap device `tap` inside it."""

    def __init__(self, tag, prefix="keelhw", tap="ktap0"):
        self.name = "%s-%s-%d" % (prefix, tag, os.getpid())
        self.tap = tap

    def run(self, *cmd, check=True):
        p = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=120)
        print("== $ %s\n%s" % (" ".join(cmd), p.stdout), end="", flush=True)
        if check and p.returncode != 0:
            fail("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stdout.strip()))
        return p

    def __enter__(self):
        if os.geteuid() != 0:
            fail("network tests need root (ip netns, tap devices)")
        self.run("ip", "netns", "add", self.name)
        try:
            ns = ["ip", "-n", self.name]
            self.run(*ns, "link", "set", "lo", "up")
            self.run(*ns, "tuntap", "add", "dev", self.tap, "mode", "tap")
            # Room for the whole burst while dom0 catches up.
            self.run(*ns, "link", "set", self.tap, "txqueuelen", "4096")
            self.run(*ns, "addr", "add", "10.99.0.1/24", "dev", self.tap)
            self.run(*ns, "link", "set", self.tap, "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.run("ip", "netns", "del", self.name, check=False)

    def exec(self, *cmd):
        return self.run("ip", "netns", "exec", self.name, *cmd, check=False)
