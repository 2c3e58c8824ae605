"""PV net throughput for `make bench` (docs/PERFORMANCE.md, "PV net"):
dom0's scenario pvnet_mode=bench (guest/dom0/test/domains_netbench.c)
streams 1514-byte frames three ways in one boot: dom0 straight out of its
virtio-net NIC, a pvtest domU (role=net-burst) through netback and xenbr0
out of that NIC, and that domU to another (role=net-sink). The NIC's
netdev is QEMU's user network (restrict=on), which drops the frames (an
ethertype it does not handle) as it takes them, so the NIC's transmit
path is the whole of the native path. (A hub port with no peer does not
do: QEMU holds the queue for a receiver that never comes.) Wall clock under TCG: the figures vary with the
host's load; tests/bench.py runs this three times and reports the spread.

The test prints one line per path, `pvnet bench: PATH F frames in T us
(R frames/s)`, and one per domU path, `pvnet bench: PATH exits per frame
X (sender), Y (dom0)`; it checks that each path moved every frame (the
domU-to-domU path may lose some to netback's rx queue bound: counted,
printed, not a failure) and that the domains finished cleanly."""

import re

from keeltest import (boot, expect, expect_domains_sound, expect_lines_in_order, expect_status,
                      fail, test, POWEROFF)

T = 400
FRAMES = 2000


def cfg(frames):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=pvnet pvnet_mode=bench "
            "pvnet_frames=%d\n"
            "module pvtest /pvtest.elf\n" % frames)


def one(log, rx, what, r):
    m = re.search(rx, log, re.M)
    if not m:
        fail("no %s line (/%s/)" % (what, rx), r.tail(60))
    return m


@test("pvnet-bench-stream", timeout=T + 60)
def _():
    """1514-byte frames, dom0 native vs domU -> bridge -> NIC vs domU ->
    domU: frames/s of each and the sender's VM exits per frame; every
    frame left the NIC on the first two paths, and the sink received
    what it counted, in order, nothing malformed."""
    r = boot(cfg(FRAMES), loader="uefi", timeout=T,
             extra=["-netdev", "user,id=kn0,restrict=on",
                    "-device", "virtio-net-pci,netdev=kn0"])
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: pvnet-bench: native: ",
        r"^\(d\d+\) pvtest: net-burst: PASS",
        r"^\(d\d+\) pvtest: net-sink: PASS",
        r"^\(d0\) dom0: domains: pvnet: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    log = r.log
    nat = one(log, r"^\(d0\) dom0: pvnet-bench: native: (\d+) frames of 1514 bytes out of \S+ "
                   r"\(\S+\) in (\d+) us, left (\d+)", "native", r)
    n, us, left = (int(x) for x in nat.groups())
    expect(n == FRAMES and left == FRAMES, "native: %d of %d frames left the NIC" % (left, n), r)
    rates = {"native": (n, us)}
    expect(len(re.findall(r"^\(d\d+\) pvtest: net-burst: PASS", log, re.M)) == 2,
           "expected two net-burst PASS lines", r)
    sent = [(int(a), int(b)) for a, b in re.findall(
        r"^\(d\d+\) net-burst: phase 1: sent (\d+) frames of 1514 bytes in (\d+) us", log, re.M)]
    expect(len(sent) == 2, "expected two net-burst phase lines, saw %r" % sent, r)
    out = one(log, r"^\(d0\) dom0: pvnet-bench: nic: (\d+) frames left", "nic count", r)
    expect(int(out.group(1)) == FRAMES,
           "nic: %s of %d frames left the NIC" % (out.group(1), FRAMES), r)
    rates["nic"] = (int(out.group(1)), sent[0][1])
    sink = one(log, r"^\(d\d+\) net-sink: received (\d+) frames (\d+) bytes lost (\d+) bad 0 "
                    r"in (\d+) us$", "net-sink", r)
    got, nbytes, lost, sus = (int(x) for x in sink.groups())
    expect(got + lost == FRAMES and nbytes == got * 1514,
           "domu: the sink received %d and counted %d lost of %d" % (got, lost, FRAMES), r)
    # The sink's span runs from its first frame to its last: got - 1 gaps.
    rates["domu"] = (got - 1, sus)
    for path, (frames, t) in rates.items():
        expect(t > 0, "%s: no time measured" % path, r)
        print("pvnet bench: %s %d frames in %d us (%.0f frames/s)"
              % (path, frames, t, frames * 1e6 / t))
    print("pvnet bench: domu lost %d of %d frames" % (lost, FRAMES))
    for path in ("nic", "domu"):
        per = {}
        for who in ("sender", "dom0"):
            m = one(log, r"^\(d0\) dom0: pvnet-bench: %s: %s d\d+ exits \d+ per-frame "
                         r"(\d+\.\d+) \((.*)\)$" % (path, who), "%s %s exits" % (path, who), r)
            per[who] = m.group(1)
            print("pvnet bench: %s %s exits: %s" % (path, who, m.group(2)))
        print("pvnet bench: %s exits per frame %s (sender), %s (dom0)"
              % (path, per["sender"], per["dom0"]))
