"""dom0's bridge xenbr0 and its address on it, end to end in QEMU
(docs/bridge.md): dom0 boots with `test=bridge ip=10.99.0.2/24`, which
starts its normal network service (guest/dom0/bridge/netsvc.c: every NIC
and dom0's own endpoint on the bridge) and runs it from the event loop.
A Linux network namespace behind a tap on dom0's NIC (virtio-net or
e1000) then pings 10.99.0.2, checks that its neighbour table learned
dom0's MAC, and sends a paced UDP stream to port 5001 ended by one
datagram to 5002. Both sides count: the namespace its ping replies and
datagrams sent, dom0 its ARP/echo answers, datagrams received and the
bridge's per-port frame counters, printed in the log."""

import os
import re
import select
import subprocess
import sys
import threading
import time

import keeltest
import netns
from keeltest import (test, boot, expect, expect_lines_in_order, expect_status, fail,
                      find_lines, POWEROFF)

HERE = os.path.dirname(os.path.abspath(__file__))
NETHELPER = os.path.join(os.path.dirname(HERE), "hw", "nethelper.py")
BRIDGEHELPER = os.path.join(HERE, "bridgehelper.py")
T = 180
PINGS = 5
UDP_COUNT = 1000
UDP_RATE = 250  # datagrams per second: 4 s of stream


def cfg(dom0_cmdline):
    return ("cmdline console=com1,115200 loglvl=info\n"
            "module dom0 /dom0.elf %s\n" % dom0_cmdline)


def NetNs(tag):
    """The bridge tests' namespace (tests/lib/netns.py)."""
    return netns.NetNs(tag, prefix="keelbr", tap="kbtap0")


def bridge_ping_udp(nic, driver):
    with NetNs(driver) as ns:
        serial_log = os.path.join(keeltest.LOG_DIR, "%s.serial.log" % keeltest.CURRENT.name)
        results = {}

        def probe():
            deadline = time.monotonic() + T
            mac = None
            while time.monotonic() < deadline and mac is None:
                time.sleep(0.5)
                try:
                    text = keeltest.clean(open(serial_log, "rb").read().decode(errors="replace"))
                except OSError:
                    continue
                m = re.search(r"bridge-test: ready ip 10\.99\.0\.2/24 on xenbr0 MAC "
                              r"([0-9a-f:]{17})", text)
                if m:
                    mac = m.group(1)
                elif "hw tests done" in text or "machine stop" in text:
                    return
            if mac is None:
                return
            results["mac"] = mac
            results["ping"] = ns.exec(sys.executable, NETHELPER, "ping", "10.99.0.2",
                                      str(PINGS), "5")
            results["neigh"] = ns.exec("ip", "neigh", "show", "10.99.0.2", "dev", ns.tap)
            results["udp"] = ns.exec(sys.executable, BRIDGEHELPER, "udp", "10.99.0.2", "5001",
                                     str(UDP_COUNT), str(UDP_RATE))
            results["link"] = ns.exec("ip", "-s", "link", "show", ns.tap)

        t = threading.Thread(target=probe, daemon=True)
        t.start()
        r = boot(cfg("test=bridge ip=10.99.0.2/24"), timeout=T, run_args=["--netns", ns.name],
                 extra=["-netdev", "tap,id=kn0,ifname=%s,script=no,downscript=no" % ns.tap,
                        "-device", "%s,netdev=kn0" % nic])
        t.join(10)
        expect("mac" in results, "dom0 never said `bridge-test: ready`", r)
        # The Linux side: every echo request answered, dom0's MAC learned.
        ping = results["ping"]
        expect(ping.returncode == 0, "ICMP echo from the namespace: %s" % ping.stdout.strip(), r)
        neigh = results["neigh"].stdout
        expect(results["mac"] in neigh.lower(),
               "the namespace's neighbour entry for 10.99.0.2 is %r, expected MAC %s"
               % (neigh.strip(), results["mac"]), r)
        u = re.search(r"udp: sent (\d+) of (\d+) datagrams", results["udp"].stdout)
        expect(u and results["udp"].returncode == 0,
               "the UDP sender failed: %s" % results["udp"].stdout.strip(), r)
        sent = int(u.group(1))
        # dom0's side: its endpoint's and its bridge's counters.
        expect_lines_in_order(r.log, [
            r"^\(d0\) dom0: nic eth0: %s, MAC %s, link up" % (driver, results["mac"]),
            r"^\(d0\) dom0: bridge-test: ready ip 10\.99\.0\.2/24 on xenbr0 MAC %s, 2 ports"
            % results["mac"],
            r"^\(d0\) dom0: bridge xenbr0: port eth0 rx [1-9]",
            r"^\(d0\) dom0: bridge xenbr0: port dom0 rx [1-9]",
            r"^\(d0\) dom0: bridge xenbr0: 2 ports, [1-9]\d* MACs",
            r"^\(d0\) dom0: inet dom0: answered [1-9]\d* ARP requests",
            # The NIC's interrupt drove it, from the event loop (the 1 ms
            # poll timer is only the fallback).
            r"^\(d0\) dom0: bridge-test: eth0 \(%s\): [1-9]\d* interrupts" % driver,
            r"^\(d0\) dom0: bridge-test: PASS: end of stream seen",
        ])
        inet = find_lines(r.log, r"inet dom0: answered (\d+) ARP requests and (\d+) echo "
                                 r"requests; udp port 5001: (\d+) datagrams (\d+) bytes")
        expect(inet, "no endpoint counters from dom0", r)
        arp, echo, dgrams, nbytes = (int(g) for g in inet[0].groups())
        print("namespace: %d pings answered, %d datagrams sent; dom0: %d ARP, %d echo answered, "
              "%d datagrams (%d bytes) received" % (PINGS, sent, arp, echo, dgrams, nbytes))
        expect(echo >= PINGS, "dom0 answered %d echo requests, the namespace sent %d"
               % (echo, PINGS), r)
        if dgrams != sent or nbytes != sent * 68:
            fail("dom0 received %d datagrams (%d bytes); the namespace sent %d (%d bytes)"
                 % (dgrams, nbytes, sent, sent * 68),
                 "tap statistics:\n" + results["link"].stdout + r.tail())
        # Frames through the bridge: everything the endpoint saw came in on
        # eth0 and went out of the dom0 port; every answer the other way.
        ports = {m.group(1): [int(x) for x in m.groups()[1:]] for m in find_lines(
            r.log, r"bridge xenbr0: port (\S+) rx (\d+) frames (\d+) bytes (\d+) errors, "
                   r"tx (\d+) frames (\d+) bytes (\d+) dropped")}
        expect("eth0" in ports and "dom0" in ports, "no per-port counters: %r" % ports, r)
        eth_rx, dom0_tx = ports["eth0"][0], ports["dom0"][3]
        dom0_rx, eth_tx = ports["dom0"][0], ports["eth0"][3]
        expect(eth_rx >= sent + PINGS + 1 and dom0_tx >= sent + PINGS + 1,
               "bridge counted eth0 rx %d, dom0 tx %d frames; the namespace sent at least %d"
               % (eth_rx, dom0_tx, sent + PINGS + 1), r)
        expect(dom0_rx >= arp + echo and eth_tx >= arp + echo,
               "bridge counted dom0 rx %d, eth0 tx %d frames; dom0 answered %d"
               % (dom0_rx, eth_tx, arp + echo), r)
        expect(ports["eth0"][5] == 0, "eth0 dropped %d frames on transmit" % ports["eth0"][5], r)
        expect_lines_in_order(r.log, [r"dom0: hw tests done: PASS"])
        expect_status(r, POWEROFF)


@test("pvnet-bridge-virtio-ping-udp", timeout=T + 60)
def _():
    """virtio-net on xenbr0: the namespace pings dom0's bridge address,
    learns its MAC by ARP and streams 1000 UDP datagrams at 250/s; dom0
    counts all of them and its bridge counts the frames per port."""
    bridge_ping_udp("virtio-net-pci", "virtio-net")


@test("pvnet-bridge-e1000-ping-udp", timeout=T + 60)
def _():
    """The same through an e1000 (82540EM) on xenbr0."""
    bridge_ping_udp("e1000", "e1000")


def port_counters(log):
    """{port: [rx frames, rx bytes, rx errors, tx frames, tx bytes, tx dropped]}"""
    return {m.group(1): [int(x) for x in m.groups()[1:]] for m in find_lines(
        log, r"bridge xenbr0: port (\S+) rx (\d+) frames (\d+) bytes (\d+) errors, "
             r"tx (\d+) frames (\d+) bytes (\d+) dropped")}


@test("pvnet-bridge-forwards-between-nics", timeout=T + 90)
def _():
    """Two NICs on xenbr0, virtio-net and e1000, each behind a tap in its
    own namespace (A 10.99.0.1, B 10.99.0.3): A pings B and streams 1000
    UDP datagrams at 250/s to a receiver in B, all through dom0's bridge;
    B counts every datagram, A every ping reply, and dom0's counters show
    the stream forwarded from one NIC to the other and not flooded to dom0."""
    with NetNs("two") as a:
        b_name = "keelbr-b-%d" % os.getpid()
        a.run("ip", "-n", a.name, "tuntap", "add", "dev", "kbtap1", "mode", "tap")
        a.run("ip", "netns", "add", b_name)
        try:
            serial_log = os.path.join(keeltest.LOG_DIR, "%s.serial.log" % keeltest.CURRENT.name)
            results = {}

            def probe():
                deadline = time.monotonic() + T
                while time.monotonic() < deadline:
                    time.sleep(0.5)
                    try:
                        text = keeltest.clean(open(serial_log, "rb").read().decode(
                            errors="replace"))
                    except OSError:
                        continue
                    if "bridge-test: ready" in text:
                        break
                    if "hw tests done" in text or "machine stop" in text:
                        return
                else:
                    return
                results["ready"] = True
                # QEMU holds kbtap1 open; the device moves to B with it.
                b = ["ip", "-n", b_name]
                a.run("ip", "-n", a.name, "link", "set", "kbtap1", "netns", b_name)
                a.run(*b, "link", "set", "lo", "up")
                a.run(*b, "link", "set", "kbtap1", "txqueuelen", "4096")
                a.run(*b, "addr", "add", "10.99.0.3/24", "dev", "kbtap1")
                a.run(*b, "link", "set", "kbtap1", "up")
                recv = subprocess.Popen(["ip", "netns", "exec", b_name, sys.executable,
                                         BRIDGEHELPER, "udprecv", "10.99.0.3", "6000", "90"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        universal_newlines=True)
                time.sleep(1)
                results["ping_b"] = a.exec(sys.executable, NETHELPER, "ping", "10.99.0.3",
                                           str(PINGS), "5")
                results["udp"] = a.exec(sys.executable, BRIDGEHELPER, "udp", "10.99.0.3",
                                        "6000", str(UDP_COUNT), str(UDP_RATE))
                try:
                    results["recv"] = recv.communicate(timeout=60)[0]
                except subprocess.TimeoutExpired:
                    recv.kill()
                    results["recv"] = recv.communicate()[0]
                print("== udprecv in B:\n" + results["recv"], flush=True)
                results["ping_dom0"] = a.exec(sys.executable, NETHELPER, "ping", "10.99.0.2",
                                              str(PINGS), "5")
                results["links"] = a.exec("ip", "-s", "link", "show", a.tap).stdout + \
                    a.run("ip", "-n", b_name, "-s", "link", "show", "kbtap1", check=False).stdout
                # The end marker for dom0 (no datagrams, then port 5002).
                results["end"] = a.exec(sys.executable, BRIDGEHELPER, "udp", "10.99.0.2",
                                        "5001", "0", "1")

            t = threading.Thread(target=probe, daemon=True)
            t.start()
            r = boot(cfg("test=bridge ip=10.99.0.2/24"), timeout=T,
                     run_args=["--netns", a.name],
                     extra=["-netdev", "tap,id=kn0,ifname=%s,script=no,downscript=no" % a.tap,
                            "-device", "virtio-net-pci,netdev=kn0",
                            "-netdev", "tap,id=kn1,ifname=kbtap1,script=no,downscript=no",
                            "-device", "e1000,netdev=kn1,mac=52:54:00:00:00:e1"])
            t.join(10)
        finally:
            a.run("ip", "netns", "del", b_name, check=False)
        expect("ready" in results, "dom0 never said `bridge-test: ready`", r)
        expect("ping_dom0" in results, "the probe did not finish", r)
        expect(results["ping_b"].returncode == 0,
               "A -> B through the bridge: %s" % results["ping_b"].stdout.strip(), r)
        u = re.search(r"udp: sent (\d+) of", results["udp"].stdout)
        expect(u and results["udp"].returncode == 0,
               "the UDP sender failed: %s" % results["udp"].stdout.strip(), r)
        sent = int(u.group(1))
        got = re.search(r"udprecv: (\d+) datagrams \((\d+) payload bytes\), (\d+) duplicates, "
                        r"end seen", results["recv"])
        expect(got, "B's receiver: %s" % results["recv"].strip(), r)
        print("A sent %d datagrams, B received %s (%s bytes)" % (sent, got.group(1), got.group(2)))
        if int(got.group(1)) != sent or int(got.group(2)) != sent * 68:
            fail("B received %s datagrams; A sent %d" % (got.group(1), sent),
                 results.get("links", "") + r.tail())
        expect(results["ping_dom0"].returncode == 0,
               "A -> dom0: %s" % results["ping_dom0"].stdout.strip(), r)
        nics = {m.group(2): m.group(1) for m in find_lines(r.log, r"dom0: nic (eth\d): (\S+), MAC")}
        expect("virtio-net" in nics and "e1000" in nics, "NICs found: %r" % nics, r)
        expect_lines_in_order(r.log, [
            r"^\(d0\) dom0: bridge-test: ready ip 10\.99\.0\.2/24 on xenbr0 MAC \S+, 3 ports",
            r"^\(d0\) dom0: bridge xenbr0: 3 ports, [3-9] MACs",
            r"^\(d0\) dom0: bridge-test: PASS: end of stream seen",
        ])
        ports = port_counters(r.log)
        v, e = ports[nics["virtio-net"]], ports[nics["e1000"]]
        print("bridge: %s (virtio) rx %d tx %d; %s (e1000) rx %d tx %d; dom0 rx %d tx %d"
              % (nics["virtio-net"], v[0], v[3], nics["e1000"], e[0], e[3],
                 ports["dom0"][0], ports["dom0"][3]))
        expect(v[0] >= sent + 2 * PINGS and e[3] >= sent + PINGS,
               "the stream A -> B is not in the bridge's counters: virtio rx %d, e1000 tx %d"
               % (v[0], e[3]), r)
        expect(e[0] >= PINGS and v[3] >= 2 * PINGS,
               "B's and dom0's replies are not in the bridge's counters: e1000 rx %d, "
               "virtio tx %d" % (e[0], v[3]), r)
        # Known unicast goes to its one port: dom0 saw a few flooded frames
        # (ARP, the first frames before learning), not the stream.
        expect(ports["dom0"][3] < sent // 2,
               "dom0's port was sent %d frames: the stream to B was flooded" % ports["dom0"][3], r)
        f = find_lines(r.log, r"bridge xenbr0: 3 ports, \d+ MACs; forwarded (\d+), flooded (\d+)")
        expect(int(f[0].group(1)) >= sent + PINGS, "forwarded only %s frames" % f[0].group(1), r)
        expect_status(r, POWEROFF)


def _read_until(proc, buf, needle, timeout, start=0):
    """Reads the console into buf[0] until `needle` appears after byte `start`."""
    end = time.monotonic() + timeout
    while needle not in keeltest.clean(buf[0][start:].decode("utf-8", "replace")):
        left = end - time.monotonic()
        if left <= 0:
            fail("no %r on the console within %ds" % (needle, timeout),
                 "console so far:\n" + keeltest.clean(buf[0].decode("utf-8", "replace"))[-3000:])
        r, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                fail("the console closed while waiting for %r" % needle,
                     keeltest.clean(buf[0].decode("utf-8", "replace"))[-3000:])
            buf[0] += chunk


@test("pvnet-bridge-shell-normal-path", timeout=T + 60)
def _():
    """dom0's normal start (`shell ip=10.99.0.2/24`, no self-test): the
    network service comes up before the shell and is served by the
    shell's event loop; the namespace pings dom0, and the shell's
    `bridge` command shows the frames on eth0's and dom0's ports."""
    with NetNs("shell") as ns:
        cfg_path = os.path.join(keeltest.FILES_DIR, keeltest.CURRENT.name, "keel.cfg")
        os.makedirs(os.path.dirname(cfg_path), exist_ok=True)
        with open(cfg_path, "w") as f:
            f.write(cfg("shell ip=10.99.0.2/24"))
        proc = subprocess.Popen(
            [sys.executable, keeltest.RUN, "--cfg", cfg_path, "--timeout", str(T),
             "--netns", ns.name, "--",
             "-netdev", "tap,id=kn0,ifname=%s,script=no,downscript=no" % ns.tap,
             "-device", "virtio-net-pci,netdev=kn0"],
            cwd=keeltest.TREE, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        buf = [b""]
        try:
            _read_until(proc, buf, "dom0> ", 120)
            text = keeltest.clean(buf[0].decode("utf-8", "replace"))
            if "dom0: network: bridge xenbr0 up (0)" not in text:
                fail("dom0 did not start its network service", text[-3000:])
            ping = ns.exec(sys.executable, NETHELPER, "ping", "10.99.0.2", str(PINGS), "5")
            if ping.returncode != 0:
                fail("ICMP echo to dom0 served by the shell's loop: %s" % ping.stdout.strip(),
                     keeltest.clean(buf[0].decode("utf-8", "replace"))[-3000:])
            start = len(buf[0])
            proc.stdin.write(b"bridge\r")
            proc.stdin.flush()
            _read_until(proc, buf, "dom0> ", 30, start)
            out = keeltest.clean(buf[0][start:].decode("utf-8", "replace"))
            print("== bridge command:\n" + out, flush=True)
            eth = re.search(r"port eth0 rx (\d+) frames", out)
            dom0 = re.search(r"port dom0 rx (\d+) frames \d+ bytes \d+ errors, tx (\d+) frames", out)
            inet = re.search(r"answered (\d+) ARP requests and (\d+) echo requests", out)
            if not (eth and dom0 and inet):
                fail("`bridge` printed no port or endpoint counters", out)
            if int(inet.group(2)) < PINGS or int(dom0.group(1)) < PINGS or \
                    int(eth.group(1)) < PINGS + 1:
                fail("the counters miss the %d pings: eth0 rx %s, dom0 rx %s, echo answered %s"
                     % (PINGS, eth.group(1), dom0.group(1), inet.group(2)), out)
            proc.stdin.write(b"poweroff\r")
            proc.stdin.flush()
            _read_until(proc, buf, "keel: machine stop: poweroff", 30, len(buf[0]))
            status = proc.wait(30)
            if status != 0:
                fail("scripts/run status %d after poweroff, expected 0" % status)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()


@test("pvnet-bridge-hostile-frames", timeout=T + 60)
def _():
    """Hostile frames from the namespace through virtio-net: group and
    all-zero source MACs (dropped by the bridge, counted in eth0's
    rx_errors), and ICMP/UDP to dom0 with a bad IPv4 header checksum, a
    bad ICMP checksum, a total length past the frame, IHL 4 and a bad UDP
    checksum (dropped by dom0's endpoint, counted as malformed, none
    answered or counted as data); dom0 still answers the good pings."""
    n = 5
    with NetNs("bad") as ns:
        serial_log = os.path.join(keeltest.LOG_DIR, "%s.serial.log" % keeltest.CURRENT.name)
        results = {}

        def probe():
            deadline = time.monotonic() + T
            mac = None
            while time.monotonic() < deadline and mac is None:
                time.sleep(0.5)
                try:
                    text = keeltest.clean(open(serial_log, "rb").read().decode(errors="replace"))
                except OSError:
                    continue
                m = re.search(r"bridge-test: ready ip \S+ on xenbr0 MAC ([0-9a-f:]{17})", text)
                if m:
                    mac = m.group(1)
                elif "hw tests done" in text or "machine stop" in text:
                    return
            if mac is None:
                return
            results["bad"] = ns.exec(sys.executable, BRIDGEHELPER, "bad", ns.tap, mac,
                                     "10.99.0.1", "10.99.0.2", str(n))
            results["ping"] = ns.exec(sys.executable, NETHELPER, "ping", "10.99.0.2",
                                      str(PINGS), "5")
            results["end"] = ns.exec(sys.executable, BRIDGEHELPER, "udp", "10.99.0.2",
                                     "5001", "0", "1")

        t = threading.Thread(target=probe, daemon=True)
        t.start()
        r = boot(cfg("test=bridge ip=10.99.0.2/24"), timeout=T, run_args=["--netns", ns.name],
                 extra=["-netdev", "tap,id=kn0,ifname=%s,script=no,downscript=no" % ns.tap,
                        "-device", "virtio-net-pci,netdev=kn0"])
        t.join(10)
        expect("end" in results, "the probe did not finish", r)
        expect(results["bad"].returncode == 0 and "bad: sent %d frames" % (7 * n)
               in results["bad"].stdout, "hostile sender: %s" % results["bad"].stdout.strip(), r)
        expect(results["ping"].returncode == 0,
               "good pings after the hostile frames: %s" % results["ping"].stdout.strip(), r)
        expect_lines_in_order(r.log, [r"^\(d0\) dom0: bridge-test: PASS: end of stream seen"])
        ports = port_counters(r.log)
        expect(ports["eth0"][2] == 2 * n,
               "eth0 counted %d rx errors; %d frames had a group or zero source MAC"
               % (ports["eth0"][2], 2 * n), r)
        inet = find_lines(r.log, r"inet dom0: answered \d+ ARP requests and (\d+) echo requests; "
                                 r"udp port 5001: (\d+) datagrams.*; (\d+) frames in, (\d+) malformed")
        expect(inet, "no endpoint counters", r)
        echo, dgrams, _, malformed = (int(g) for g in inet[0].groups())
        expect(malformed == 5 * n, "dom0's endpoint counted %d malformed frames, %d were sent"
               % (malformed, 5 * n), r)
        expect(echo == PINGS, "dom0 answered %d echo requests; only %d were valid"
               % (echo, PINGS), r)
        expect(dgrams == 0, "dom0 counted %d datagrams with a bad checksum" % dgrams, r)
        expect_status(r, POWEROFF)
