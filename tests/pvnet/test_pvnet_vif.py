"""Guest vifs through dom0's netback and bridge (docs/pvnet.md): dom0's
scenario `pvnet` (guest/dom0/test/domains_net.c) launches pvtest domUs
with vifs (guest/dom0/domain/launch_vif.c); their netfronts
(guest/lib/netfront.c) exchange numbered frames through netback
(guest/dom0/netback/) and xenbr0."""

import re

from keeltest import (boot, expect_domains_sound, expect_lines_in_order, expect_status, fail, test,
                      POWEROFF)

T = 400


def cfg(extra=""):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf test=domains scenario=pvnet %s\n"
            "module pvtest /pvtest.elf\n" % extra)


def run(extra="", timeout=T):
    r = boot(cfg(extra), loader="uefi", timeout=timeout)
    expect_domains_sound(r)
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: domains: pvnet: PASS",
        r"^keel: machine stop: poweroff",
    ])
    expect_status(r, POWEROFF)
    return r


def check_pair_counts(r):
    """Each good guest got all of the peer's frames, in order and intact,
    and dom0's vif counters match what the guests' netfronts counted."""
    guests = {}
    for m in re.finditer(r"^\(d(\d+)\) net: sent (\d+) received (\d+) in-order (\d+) bad (\d+) "
                         r"tx-frames (\d+) rx-frames (\d+)", r.log, re.M):
        d, sent, recv, inorder, bad, txf, rxf = map(int, m.groups())
        guests[d] = (sent, recv, bad, txf, rxf)
        if sent != 400 or recv != 400 or inorder != 400 or bad:
            fail("d%d: sent %d received %d in-order %d bad %d" % (d, sent, recv, inorder, bad),
                 r.tail(80))
    if len(guests) < 2:
        fail("expected two role=net guests reporting, saw %d" % len(guests), r.tail(80))
    vifs = {}
    for m in re.finditer(r"^\(d0\) dom0: pvnet: vif(\d+)\.0: state \d+ tx (\d+) packets \d+ bytes "
                         r"rx (\d+) packets", r.log, re.M):
        vifs[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    for d, (sent, recv, bad, txf, rxf) in guests.items():
        if d not in vifs:
            fail("no counters from dom0 for vif%d.0" % d, r.tail(80))
        tx, rx = vifs[d]
        # Frames the guest sent all reached netback (tx); netback put at
        # least every frame the guest received into its ring (rx).
        if tx != txf:
            fail("vif%d.0: netback counted %d tx packets, the guest sent %d" % (d, tx, txf),
                 r.tail(80))
        if rx < rxf:
            fail("vif%d.0: netback counted %d rx packets, the guest received %d" % (d, rx, rxf),
                 r.tail(80))
    return guests


@test("pvnet-two-domus-exchange-frames-through-bridge", timeout=T + 60)
def _():
    """Two pvtest domUs with one vif each exchange 400 numbered frames
    (60..1514 bytes, every byte checked) through netback and xenbr0;
    nothing is lost, dom0's per-vif counters match the guests' own, and
    after destroy no vif, ring mapping, channel, bridge port, xenstore
    node or page is left."""
    r = run()
    check_pair_counts(r)


@test("pvnet-vif-hot-attach-detach", timeout=T + 60)
def _():
    """Vifs attached to launched (paused) domains and detached from them
    after use: the pair exchanges its frames, a second attach is -EEXIST,
    detach takes the vif out of netback at once (a second is -ENOENT),
    and everything is back after destroy."""
    r = run("pvnet_mode=hotplug")
    check_pair_counts(r)
    expect_lines_in_order(r.log, [r"^\(d0\) dom0: domains: check hot-detach-vifs-gone: 0 \(want 0\)"])


@test("hostile-netfront-each-class-disconnected-pair-passes", timeout=T + 120)
def _():
    """A hostile netfront sends each class of bad tx input (short and
    oversized packets, an offset crossing the page, an id out of range, a
    grant ref it does not own, 20 slots, a GSO extra-info, a req_prod
    1000 ahead) and floods: each bad class takes its vif to Closing with
    one line naming the rule, the flood does not; the good pair next to
    it exchanges all its frames."""
    r = run("pvnet_mode=hostile", timeout=T + 60)
    check_pair_counts(r)
    rules = {
        "size": r"shorter than an Ethernet header",
        "bigsize": r"longer than the MTU",
        "offset": r"cross its page",
        "id": r"id out of range",
        "gref": r"grant ref not usable",
        "slots": r"more than 18 data slots",
        "extra": r"GSO extra-info",
        "prod": r"req_prod more than the ring's size",
    }
    for cls, rule in rules.items():
        m = re.search(r"^\(d\d+\) net-hostile: %s: backend state (\d+)" % cls, r.log, re.M)
        if not m or m.group(1) != "5":
            fail("class %s: backend did not go to Closing (%s)" % (cls, m and m.group(1)),
                 r.tail(80))
        if not re.search(r"^\(d0\) dom0: netback: vif\d+\.0: .*%s.*: disconnected" % rule, r.log,
                         re.M):
            fail("no netback line naming rule '%s' for class %s" % (rule, cls), r.tail(80))
    m = re.search(r"^\(d\d+\) net-hostile: flood: (\d+) frames, backend state (\d+)", r.log, re.M)
    if not m or m.group(2) != "4":
        fail("flood: backend not Connected afterwards", r.tail(80))


@test("teardown-net-many-rounds-counts-back", timeout=T * 3)
def _():
    """The pair launched, connected, used and destroyed 5 times: after
    each round the vifs, mappings, channels, bridge ports, xenstore nodes
    and the hypervisor's free pages are back to their starting values."""
    r = run("pvnet_rounds=5", timeout=T * 3 - 60)
    n = len(re.findall(r"^\(d0\) dom0: domains: check round-\d+-free-pages-back: .*\(want", r.log,
                       re.M))
    if n != 5:
        fail("expected 5 rounds checked, saw %d" % n, r.tail(80))


@test("pvnet-hot-detach-handshake", timeout=T + 60)
def _():
    """Hot unplug of a connected vif with the xenbus handshake: dom0 sets
    the backend Closing, the guest's netfront closes (Closing, Closed),
    netback follows to Closed and only then is the vif removed, well
    inside the 5 s bound; a guest whose frontend never answers has its
    vif removed after the 5 s bound (-ETIMEDOUT, one line). Nothing of
    either vif is left in netback or the store."""
    r = run("pvnet_mode=detach")
    m = re.search(r"^\(d0\) dom0: pvnet: detach: vif(\d+)\.0 detached while connected: (-?\d+) "
                  r"in (\d+) ms", r.log, re.M)
    if not m or m.group(2) != "0" or int(m.group(3)) >= 5000:
        fail("the connected vif's detach did not complete by handshake: %s"
             % (m and m.group(0)), r.tail(80))
    expect_lines_in_order(r.log, [
        r"^\(d%s\) inet: backend Closing: closing" % m.group(1),
        r"^\(d%s\) pvtest: inet: PASS" % m.group(1),
    ])
    expect_lines_in_order(r.log, [
        r"^\(d0\) dom0: launch: vif\d+\.0: frontend did not close in 5000 ms: removed anyway",
        r"^\(d0\) dom0: pvnet: detach: vif\d+\.0 of a silent frontend: -110 after \d+ ms",
        r"^\(d0\) dom0: domains: check detach-silent-netback-vif-gone: -2 \(want -2\)",
    ])


# netback's rx queue bounds (guest/dom0/netback/netback.h), and the phases
# of guest/dom0/test/domains_netslow.c: (frames, bytes each).
RXQ_FRAMES = 256
RXQ_BYTES = 256 * 1024
SLOWRX_PHASES = [(100, 1514), (300, 60), (200, 1514)]


@test("pvnet-slow-frontend-rx-queued-exactly-to-the-bound", timeout=T + 60)
def _():
    """A frontend that has posted no rx buffer yet (role=net-slowrx) is
    sent a burst by another domU: netback queues exactly what its bounds
    allow (256 frames, 256 KiB) and drops and counts exactly the rest,
    the sender's vif goes on meanwhile, and once the slow frontend posts
    its buffers it receives every queued frame, in order, byte-checked:
    100 full frames all arrive; 300 small ones, 256 arrive and 44 are
    counted dropped; 200 full ones, as many as fit in 256 KiB."""
    r = run("pvnet_mode=slowrx")
    got = {int(m.group(1)): int(m.group(2)) for m in re.finditer(
        r"^\(d\d+\) net-slowrx: phase (\d+): received (\d+) frames, bad 0$", r.log, re.M)}
    dom0 = {int(m.group(1)): tuple(int(x) for x in m.groups()[1:]) for m in re.finditer(
        r"^\(d0\) dom0: pvnet: slowrx: phase (\d+): (\d+) frames of (\d+) bytes: queued (\d+) "
        r"\(\d+ bytes\) dropped (\d+),", r.log, re.M)}
    for k, (n, size) in enumerate(SLOWRX_PHASES, 1):
        want = min(n, RXQ_FRAMES, RXQ_BYTES // size)
        if dom0.get(k) != (n, size, want, n - want):
            fail("phase %d: dom0 saw %r, want %d frames of %d queued %d dropped %d"
                 % (k, dom0.get(k), n, size, want, n - want), r.tail(80))
        if got.get(k) != want:
            fail("phase %d: the slow frontend received %r frames, want %d" % (k, got.get(k), want),
                 r.tail(80))
    expect_lines_in_order(r.log, [r"^\(d\d+\) pvtest: net-slowrx: PASS",
                                  r"^\(d0\) dom0: domains: pvnet: PASS"])
    expect_lines_in_order(r.log, [r"^\(d\d+\) pvtest: net-burst: PASS"])
