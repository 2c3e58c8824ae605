#!/usr/bin/env python3
"""Network probes for tests/hw/test_hw.py, run inside the test's network
namespace (`ip netns exec NS python3 nethelper.py ...`), with the Linux
stack of that namespace:

  ping IP COUNT TIMEOUT
      ICMP echo requests through a raw socket (the kernel resolves IP with
      ARP first); prints `ping: N/COUNT replies, rtt avg X ms` and exits 0
      when every request got its reply.
  burst IFACE DSTMAC COUNT
      COUNT frames of EtherType 0x88b5 (payload "KEEL", seq, total, last=0)
      as fast as the interface takes them, then the end frame (last=1);
      prints `burst: sent N frames (R retries); IFACE tx_packets +T,
      tx_dropped +D` (the interface's own counters over the burst) and
      exits 0 only when every frame was sent and the interface passed on
      at least N + 1 frames (the end frame too).
"""

import os
import socket
import struct
import sys
import time

ETH_P_BURST = 0x88B5


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ping(ip, count, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(0.2)
    ident = os.getpid() & 0xFFFF
    got, rtts = 0, []
    for seq in range(count):
        payload = b"keel-hw-test-%04d" % seq
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload
        t0 = time.monotonic()
        s.sendto(pkt, (ip, 0))
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            try:
                data, addr = s.recvfrom(2048)
            except socket.timeout:
                continue
            ihl = (data[0] & 0xF) * 4
            icmp = data[ihl:]
            if addr[0] != ip or len(icmp) < 8:
                continue
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if typ == 0 and rid == ident and rseq == seq and icmp[8:] == payload:
                got += 1
                rtts.append((time.monotonic() - t0) * 1000)
                break
    avg = sum(rtts) / len(rtts) if rtts else 0
    print("ping: %d/%d replies, rtt avg %.1f ms" % (got, count, avg), flush=True)
    return 0 if got == count else 1


def tap_counter(iface, name):
    with open("/sys/class/net/%s/statistics/%s" % (iface, name)) as f:
        return int(f.read())


def burst(iface, dstmac, count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    dst = bytes(int(x, 16) for x in dstmac.split(":"))
    src = s.getsockname()[4][:6]
    retries, sent = 0, 0
    tx0, drop0 = tap_counter(iface, "tx_packets"), tap_counter(iface, "tx_dropped")

    def frame(seq, last):
        body = b"KEEL" + struct.pack("!IIB", seq, count, last)
        body += bytes((seq + i) & 0xFF for i in range(64))  # some payload
        return dst + src + struct.pack("!H", ETH_P_BURST) + body

    for seq in range(count):
        f = frame(seq, 0)
        for _ in range(5000):
            try:
                if s.send(f) == len(f):
                    sent += 1
                break
            except OSError:  # ENOBUFS: the queue is full; let it drain
                retries += 1
                time.sleep(0.001)
    time.sleep(0.5)  # the end marker after everything else has been read
    end = frame(count, 1)
    end_sent = s.send(end) == len(end)
    time.sleep(0.2)
    tx = tap_counter(iface, "tx_packets") - tx0
    dropped = tap_counter(iface, "tx_dropped") - drop0
    print("burst: sent %d frames (%d retries)%s; %s tx_packets +%d, tx_dropped +%d"
          % (sent, retries, "" if end_sent else ", end frame NOT sent", iface, tx, dropped),
          flush=True)
    # tx_dropped may count the kernel's own frames (IPv6 neighbour
    # discovery and the like) that the tap could not pass on; tx_packets
    # counts what it did pass on, which must include every frame sent.
    ok = sent == count and end_sent and tx >= count + 1
    return 0 if ok else 1


def main(argv):
    if argv[:1] == ["ping"] and len(argv) == 4:
        return ping(argv[1], int(argv[2]), float(argv[3]))
    if argv[:1] == ["burst"] and len(argv) == 4:
        return burst(argv[1], argv[2], int(argv[3]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
