#!/usr/bin/env python3
"""Traffic for tests/pvnet/test_pvnet_bridge.py, run inside the test's
network namespace (`ip netns exec NS python3 bridgehelper.py ...`), with
that namespace's own Linux stack:

  udp IP PORT COUNT RATE
      COUNT UDP datagrams to IP:PORT at RATE per second (paced, not a
      burst: a sustained modest rate), each "KEEL" + u32 sequence + 60
      bytes of pattern; then one datagram "END" to PORT + 1, the marker
      that ends the receiver's side (dom0's test=bridge, or udprecv).
      Prints `udp: sent N of COUNT datagrams (B payload bytes) in S s`
      and exits 0 when every send succeeded.
  bad IFACE DSTMAC SRCIP DSTIP N
      Hostile frames through IFACE (AF_PACKET), N of each kind: with a
      group source MAC, with an all-zero source MAC (both: no station has
      one), and to DSTMAC/DSTIP: an ICMP echo request with a bad IPv4
      header checksum, one with a bad ICMP checksum, one whose IPv4 total
      length runs past the frame, one with IHL 4, a UDP datagram to port
      5001 with a bad checksum. Prints `bad: sent K frames`.
  udprecv IP PORT SECONDS
      Counts datagrams to IP:PORT until one arrives on PORT + 1 or
      SECONDS pass; prints `udprecv: N datagrams (B payload bytes), D
      duplicates, end seen|time-out` and exits 0 when the end was seen.
"""

import select
import socket
import struct
import sys
import time


def udp(ip, port, count, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, nbytes = 0, 0
    t0 = time.monotonic()
    for seq in range(count):
        # Paced against the start time, so a late wake-up catches up
        # instead of slowing the whole stream.
        due = t0 + seq / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        payload = b"KEEL" + struct.pack("!I", seq) + bytes((seq + i) & 0xFF for i in range(60))
        for _ in range(100):
            try:
                if s.sendto(payload, (ip, port)) == len(payload):
                    sent += 1
                    nbytes += len(payload)
                break
            except OSError:  # ENOBUFS: let the queue drain
                time.sleep(0.001)
    elapsed = time.monotonic() - t0
    time.sleep(0.5)  # the marker after the stream has been read
    s.sendto(b"END", (ip, port + 1))
    print("udp: sent %d of %d datagrams (%d payload bytes) in %.1f s"
          % (sent, count, nbytes, elapsed), flush=True)
    return 0 if sent == count else 1


def udprecv(ip, port, seconds):
    data_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data_s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    data_s.bind((ip, port))
    end_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end_s.bind((ip, port + 1))
    print("udprecv: listening on %s:%d" % (ip, port), flush=True)
    seen, nbytes, dups, ended = set(), 0, 0, False
    deadline = time.monotonic() + seconds
    while not ended and time.monotonic() < deadline:
        r, _, _ = select.select([data_s, end_s], [], [], 0.2)
        for s in r:
            data = s.recv(2048)
            if s is end_s:
                ended = True
            elif len(data) >= 8 and data[:4] == b"KEEL":
                seq = struct.unpack("!I", data[4:8])[0]
                if seq in seen:
                    dups += 1
                else:
                    seen.add(seq)
                    nbytes += len(data)
    # Datagrams that were queued behind the end marker.
    while True:
        r, _, _ = select.select([data_s], [], [], 0.1)
        if not r:
            break
        data = data_s.recv(2048)
        if len(data) >= 8 and data[:4] == b"KEEL":
            seq = struct.unpack("!I", data[4:8])[0]
            if seq not in seen:
                seen.add(seq)
                nbytes += len(data)
    print("udprecv: %d datagrams (%d payload bytes), %d duplicates, %s"
          % (len(seen), nbytes, dups, "end seen" if ended else "time-out"), flush=True)
    return 0 if ended else 1


def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, total=None, ihl=5, good_csum=True):
    total = 20 + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 0x1234, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    c = ip_checksum(h)
    if not good_csum:
        c ^= 0x5555
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def bad(iface, dstmac, srcip, dstip, n):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    dst = bytes(int(x, 16) for x in dstmac.split(":"))
    me = s.getsockname()[4][:6]
    eth_ip = dst + me + struct.pack("!H", 0x0800)
    icmp_body = struct.pack("!BBHHH", 8, 0, 0, 0x4b45, 1) + b"hostile-frame"
    icmp_good = icmp_body[:2] + struct.pack("!H", ip_checksum(icmp_body)) + icmp_body[4:]
    icmp_bad = icmp_body[:2] + struct.pack("!H", ip_checksum(icmp_body) ^ 0x0101) + icmp_body[4:]
    udp_payload = b"KEEL" + bytes(20)
    udp_bad = struct.pack("!HHHH", 40000, 5001, 8 + len(udp_payload), 0x1234) + udp_payload
    frames = [
        dst + bytes([0x01, 0, 0x5E, 0, 0, 1]) + struct.pack("!H", 0x88B5) + bytes(46),
        dst + bytes(6) + struct.pack("!H", 0x88B5) + bytes(46),
        eth_ip + ipv4(srcip, dstip, 1, icmp_good, good_csum=False),
        eth_ip + ipv4(srcip, dstip, 1, icmp_bad),
        eth_ip + ipv4(srcip, dstip, 1, icmp_good, total=1000),
        eth_ip + ipv4(srcip, dstip, 1, icmp_good, ihl=4),
        eth_ip + ipv4(srcip, dstip, 17, udp_bad),
    ]
    sent = 0
    for f in frames:
        for _ in range(n):
            if s.send(f) == len(f):
                sent += 1
            time.sleep(0.002)
    print("bad: sent %d frames" % sent, flush=True)
    return 0 if sent == n * len(frames) else 1


def main(argv):
    if argv[:1] == ["bad"] and len(argv) == 6:
        return bad(argv[1], argv[2], argv[3], argv[4], int(argv[5]))
    if argv[:1] == ["udprecv"] and len(argv) == 4:
        return udprecv(argv[1], int(argv[2]), float(argv[3]))
    if argv[:1] == ["udp"] and len(argv) == 5:
        return udp(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
